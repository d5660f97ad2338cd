package dev.meshlog.examples;

import java.time.Duration;
import java.util.List;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;

/**
 * Calls another service through the local sidecar: plain HTTP to the sidecar's outbound
 * listener with {@code Host: <service>}, carrying the caller's trace headers and
 * {@code end-user} along (the mesh can only join spans and route by user if apps pass them on).
 */
public final class Downstream {

  /** Headers copied from the incoming request to every outbound call. */
  public static final List<String> FORWARDED_HEADERS = List.of("traceparent", "tracestate",
      "x-request-id", "x-b3-traceid", "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled",
      "x-b3-flags", "b3", "x-ot-span-context", "end-user");

  /** One answer from a downstream service. */
  public record Answer(int status, String body) {
    /** Whether the call succeeded (2xx). */
    public boolean ok() {
      return status >= 200 && status < 300;
    }
  }

  private final HttpClientAgent client;
  private final String sidecarHost;
  private final int sidecarPort;

  /** A caller that sends everything to the sidecar at {@code sidecarHost:sidecarPort}. */
  public Downstream(HttpClientAgent client, String sidecarHost, int sidecarPort) {
    this.client = client;
    this.sidecarHost = sidecarHost;
    this.sidecarPort = sidecarPort;
  }

  /**
   * GETs {@code path} of {@code service}, forwarding {@link #FORWARDED_HEADERS} from
   * {@code incoming}; fails when there is no answer within {@code timeout}.
   */
  public Future<Answer> get(String service, String path, MultiMap incoming, Duration timeout) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.GET).setHost(sidecarHost)
        .setPort(sidecarPort).setURI(path).setTimeout(timeout.toMillis())
        .putHeader("host", service);
    for (String name : FORWARDED_HEADERS) {
      String value = incoming.get(name);
      if (value != null) {
        options.putHeader(name, value);
      }
    }
    return client.request(options)
        .compose(request -> request.send())
        .compose(response -> response.body()
            .map(body -> new Answer(response.statusCode(), body.toString())));
  }
}
