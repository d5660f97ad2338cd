/**
 * The proxy's own HTTP/1.1 upstream connection pools on plain Netty channels, one per event
 * loop, used instead of Vert.x's {@code HttpClient} for clear-text HTTP/1.1 tries.
 */
package dev.meshlog.proxy.upstream;
