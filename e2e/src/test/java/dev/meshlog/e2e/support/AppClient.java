package dev.meshlog.e2e.support;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * The calling app: sends plain HTTP to its sidecar's outbound port the way an app with
 * {@code http_proxy} set does ({@code GET http://reviews:9080/path}).
 */
public final class AppClient {

  private final HttpClient client;

  /** A client whose calls go through the sidecar listening on {@code outboundPort}. */
  public AppClient(int outboundPort) {
    this.client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
        .proxy(ProxySelector.of(new InetSocketAddress("127.0.0.1", outboundPort)))
        .connectTimeout(Duration.ofSeconds(5)).build();
  }

  private HttpRequest request(String url, String requestId) {
    return HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
        .header("x-request-id", requestId).GET().build();
  }

  /** The status of {@code GET url}. */
  public int get(String url, String requestId) {
    try {
      return client.send(request(url, requestId), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (IOException e) {
      throw new UncheckedIOException("GET " + url, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sends {@code count} requests to {@code url}, {@code concurrency} at a time, with request ids
   * {@code idPrefix-0...}; returns their statuses in order.
   */
  public List<Integer> getMany(String url, String idPrefix, int count, int concurrency) {
    List<Integer> statuses = new ArrayList<>(count);
    for (int start = 0; start < count; start += concurrency) {
      List<CompletableFuture<HttpResponse<Void>>> batch = new ArrayList<>();
      for (int i = start; i < Math.min(count, start + concurrency); i++) {
        batch.add(client.sendAsync(request(url, idPrefix + "-" + i),
            HttpResponse.BodyHandlers.discarding()));
      }
      batch.forEach(f -> statuses.add(f.join().statusCode()));
    }
    return statuses;
  }
}
