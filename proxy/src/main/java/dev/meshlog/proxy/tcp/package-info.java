/** TCP passthrough: outbound listeners per TCP destination port, relays with backpressure, the CONNECT tunnel between proxies, the SNI of a ClientHello for a gateway's TLS passthrough, and the set of relayed connections a stopping proxy ends. */
package dev.meshlog.proxy.tcp;
