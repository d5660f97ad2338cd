/** The Vert.x listeners: outbound and inbound forwarding with routing, retries, timeouts, faults, mirroring, access logs. */
package dev.meshlog.proxy.http;
