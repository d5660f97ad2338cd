/**
 * The proxy's own HTTP/1.1 upstream connection pools on plain Netty channels, one per event
 * loop, used instead of Vert.x's {@code HttpClient} for HTTP/1.1 tries, and the TLS the proxy
 * originates to upstreams whose DestinationRule asks for it ({@code UpstreamTls}), with the
 * certificate files it and the gateway's HTTPS listeners follow on disk.
 */
package dev.meshlog.proxy.upstream;
