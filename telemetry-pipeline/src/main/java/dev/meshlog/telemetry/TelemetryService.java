package dev.meshlog.telemetry;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

import dev.meshlog.telemetry.query.ClusterQueries;
import dev.meshlog.telemetry.query.TelemetryApi;
import io.vertx.core.Vertx;
import org.apache.kafka.streams.state.HostInfo;

/**
 * One running pipeline instance: the HTTP API first (its port goes into
 * {@code application.server}), then the Streams app, then the API is given the app to query.
 */
public final class TelemetryService implements AutoCloseable {

  /**
   * What an instance runs with.
   *
   * @param bootstrapServers Kafka
   * @param stateDir where the stores live
   * @param httpHost the address the HTTP API binds
   * @param httpPort its port, 0 for any free one
   * @param advertisedHost how other instances reach this one's HTTP API
   * @param commitInterval how often results are committed
   * @param topology what the topology is built with
   * @param streamThreads Kafka Streams threads of this instance
   * @param streamsConfig Kafka Streams and client properties set over the pipeline's own
   *     ({@link StreamsOverrides})
   */
  public record Settings(String bootstrapServers, Path stateDir, String httpHost, int httpPort,
                         String advertisedHost, Duration commitInterval,
                         TelemetryTopology.Settings topology, int streamThreads,
                         Map<String, String> streamsConfig) {

    /** Settings with no {@code streamsConfig} overrides. */
    public Settings(String bootstrapServers, Path stateDir, String httpHost, int httpPort,
                    String advertisedHost, Duration commitInterval, TelemetryTopology.Settings topology,
                    int streamThreads) {
      this(bootstrapServers, stateDir, httpHost, httpPort, advertisedHost, commitInterval, topology,
          streamThreads, Map.of());
    }

    /** Settings with {@link TelemetryApp.Settings#DEFAULT_STREAM_THREADS}. */
    public Settings(String bootstrapServers, Path stateDir, String httpHost, int httpPort,
                    String advertisedHost, Duration commitInterval, TelemetryTopology.Settings topology) {
      this(bootstrapServers, stateDir, httpHost, httpPort, advertisedHost, commitInterval, topology,
          TelemetryApp.Settings.DEFAULT_STREAM_THREADS);
    }

    public Settings {
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(stateDir, "stateDir");
      Objects.requireNonNull(httpHost, "httpHost");
      Objects.requireNonNull(advertisedHost, "advertisedHost");
      Objects.requireNonNull(commitInterval, "commitInterval");
      Objects.requireNonNull(topology, "topology");
      streamsConfig = Map.copyOf(streamsConfig);
    }
  }

  private final Vertx vertx;
  private final TelemetryApi api;
  private final TelemetryApp app;

  private TelemetryService(Vertx vertx, TelemetryApi api, TelemetryApp app) {
    this.vertx = vertx;
    this.api = api;
    this.app = app;
  }

  /** Starts an instance and returns once its HTTP API listens (the Streams app is starting). */
  public static TelemetryService start(Settings settings, Clock clock) throws Exception {
    Vertx vertx = Vertx.vertx();
    try {
      EdgeAggregation aggregation = new EdgeAggregation(settings.topology().relativeAccuracy());
      TelemetryApi api = TelemetryApi.start(vertx, settings.httpHost(), settings.httpPort(), clock,
          aggregation).await(30, TimeUnit.SECONDS);
      HostInfo self = new HostInfo(settings.advertisedHost(), api.port());
      TelemetryApp app = new TelemetryApp(new TelemetryApp.Settings(settings.bootstrapServers(),
          settings.stateDir(), self.host() + ":" + self.port(), settings.commitInterval(),
          settings.topology(), settings.streamThreads(), TelemetryApp.Settings.catchUpFor(settings.commitInterval()),
          settings.streamsConfig()));
      api.attach(new ClusterQueries(vertx, app.streams(), self, Duration.ofSeconds(10)));
      app.start();
      return new TelemetryService(vertx, api, app);
    } catch (Exception | Error e) {
      vertx.close();
      throw e;
    }
  }

  /** The HTTP API's port. */
  public int httpPort() {
    return api.port();
  }

  /** The Streams app. */
  public TelemetryApp app() {
    return app;
  }

  /** Stops the API, then the app. */
  @Override
  public void close() {
    try {
      api.close().await(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closing anyway
    }
    app.close();
    vertx.close();
  }
}
