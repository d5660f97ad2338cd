package dev.meshlog.proxy.http;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.cluster.Dataplane;
import dev.meshlog.proxy.config.DestinationConfig;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.route.HostResolver;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;

/**
 * Sends a copy of a request to a mirror destination, fire-and-forget: its Host gets Envoy's
 * {@code -shadow} suffix, its response is read and dropped, and nothing about it can change the
 * original request's response.
 */
final class Mirror {

  /** How long a mirrored request may stay idle before it is dropped. */
  static final long IDLE_TIMEOUT_MILLIS = 10_000;

  private Mirror() {}

  static void send(ProxyRuntime rt, Dataplane dp, DestinationConfig mirror, HttpMethod method,
                   String uri, MultiMap headers, Buffer body, String authority) {
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
    headers.set(HttpHeaders.HOST, port < 0 ? host : host + ":" + port);
    headers.remove(HttpHeaders.CONTENT_LENGTH);
    RequestOptions options = new RequestOptions().setHost(u.endpoint().address())
        .setPort(u.endpoint().port()).setProtocolVersion(HttpVersion.HTTP_1_1).setMethod(method)
        .setURI(uri).setHeaders(headers)
        .setIdleTimeout(IDLE_TIMEOUT_MILLIS)
        .setConnectTimeout(cluster.policy().limits().connectTimeout().toMillis());
    rt.upstreams().client(cluster.policy().limits()).request(options)
        .compose(r -> r.send(body))
        .onSuccess(resp -> {
          resp.exceptionHandler(t -> { });
          resp.handler(b -> { });
          resp.resume();
        });
  }
}
