/** The README's walkthrough, run against {@code ./meshlog up} as a user runs it. */
package dev.meshlog.e2e.walkthrough;
