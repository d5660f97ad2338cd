package dev.meshlog.e2e.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import dev.meshlog.telemetry.TelemetryService;

/** Reads a telemetry pipeline instance's HTTP API as a user's tool would. */
public final class PipelineApi {

  private PipelineApi() {
  }

  /** The body of a 200 answer to {@code path} from {@code instance}'s HTTP API. */
  public static String get(TelemetryService instance, String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(
            "http://127.0.0.1:" + instance.httpPort() + path))
        .timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }
}
