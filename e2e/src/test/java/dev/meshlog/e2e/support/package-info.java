/** Helpers for end-to-end tests: real proxy processes from the built jar. */
package dev.meshlog.e2e.support;
