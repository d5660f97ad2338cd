/** TCP passthrough: outbound listeners per TCP destination port, relays with backpressure, and the CONNECT tunnel between proxies. */
package dev.meshlog.proxy.tcp;
