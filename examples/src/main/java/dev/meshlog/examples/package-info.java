/** Bookinfo-style example services and a traffic generator, run behind Meshlog sidecars. */
package dev.meshlog.examples;
