/** The Vert.x HTTP listeners (HTTP/1.1 and h2c): outbound, inbound and gateway forwarding with routing, retries, timeouts, faults, mirroring, gRPC trailers, upstream pools and access logs. */
package dev.meshlog.proxy.http;
