package dev.meshlog.proxy.http;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.route.HostResolver;
import dev.meshlog.proxy.upstream.UpstreamTls;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;

/**
 * Sends a copy of a request to a mirror destination, fire-and-forget: its Host gets Envoy's
 * {@code -shadow} suffix, its response is read and dropped, and nothing about it can change the
 * original request's response. It goes in the protocol the mirror destination's port asks for,
 * chosen as for the primary ({@link ProxyExchange#upstreamProtocol}): a gRPC call's copy stays
 * HTTP/2, a port declared HTTP2 or GRPC gets h2c, one declared HTTP gets HTTP/1.1. Its TLS and
 * endpoint port follow the mirror's destination port as the primary's do.
 */
final class Mirror {

  /** How long a mirrored request may stay idle before it is dropped. */
  static final long IDLE_TIMEOUT_MILLIS = 10_000;

  /** The instance ids config-service gives ServiceEntry endpoints (reached directly). */
  private static final String SERVICE_ENTRY = "ServiceEntry/";

  private Mirror() {}

  /**
   * Sends the copy to {@code mirror}'s {@code destinationPort}: under the cluster's policy for
   * that port (its port-level tls, else the host's or subset's), to a ServiceEntry endpoint's
   * {@code directPort} when not 0 (the port's target port), else to the endpoint's own port.
   */
  static void send(ProxyRuntime rt, Dataplane dp, DestinationConfig mirror, HttpVersion protocol,
                   int destinationPort, int directPort, HttpMethod method, String uri,
                   MultiMap headers, Buffer body, String authority) {
    Cluster cluster = dp.cluster(mirror.cluster());
    if (cluster == null) {
      return;
    }
    Upstream u = cluster.pick(new PickContext(null, rt.random().get())).orElse(null);
    if (u == null) {
      return;
    }
    String host = HostResolver.hostOf(authority) + "-shadow";
    int port = HostResolver.portOf(authority, -1);
    headers.remove(HttpHeaders.CONTENT_LENGTH);
    // HTTP/2 carries the Host as :authority; a host header there would be a protocol error.
    boolean h2 = protocol == HttpVersion.HTTP_2;
    if (h2) {
      headers.remove(HttpHeaders.HOST);
    } else {
      headers.set(HttpHeaders.HOST, port < 0 ? host : host + ":" + port);
    }
    TrafficPolicyConfig policy = cluster.policy().forPort(destinationPort);
    int endpointPort = directPort == 0 || !u.endpoint().instanceId().startsWith(SERVICE_ENTRY)
        ? u.endpoint().port() : directPort;
    RequestOptions options = new RequestOptions().setHost(u.endpoint().address())
        .setPort(endpointPort).setProtocolVersion(protocol).setMethod(method)
        .setURI(uri).setHeaders(headers)
        .setIdleTimeout(IDLE_TIMEOUT_MILLIS)
        .setConnectTimeout(policy.limits().connectTimeout().toMillis());
    UpstreamTls.applyTo(options, policy, cluster.key().host(), u.endpoint().address(),
        endpointPort);
    rt.upstreams().client(policy.limits()).request(options)
        .compose(r -> {
          if (h2) {
            r.authority(HostAndPort.create(host, port));
          }
          return r.send(body);
        })
        .onSuccess(resp -> {
          resp.exceptionHandler(t -> { });
          resp.handler(b -> { });
          resp.resume();
        });
  }
}
