package dev.meshlog.config.api;

import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import dev.meshlog.config.client.MeshClient;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.CommonClientConfigs;

/**
 * The HTTP API wired up: a {@link MeshClient} for writes, a {@link ReadModel} for reads and the
 * {@link ApiServer}; {@link #close} stops all three.
 */
public final class ConfigApi implements AutoCloseable {

  /**
   * Settings of the API.
   *
   * @param bootstrapServers the Kafka cluster
   * @param host the address to listen on ({@code 127.0.0.1}, {@code 0.0.0.0})
   * @param port the port (0 = any free one)
   * @param timeout how long writes wait for the control plane's answer
   * @param clientSettings the operator's Kafka client settings ({@code --kafka-config}) for the
   *     API's producer and consumers
   * @param tokens the token file ({@code --api-token-file}) whose tokens every request but
   *     {@code /healthz} must carry one of, read again every {@link TokenFile#refreshInterval()};
   *     {@code null} for an open API
   */
  public record Settings(String bootstrapServers, String host, int port, Duration timeout,
                         Map<String, String> clientSettings, TokenFile tokens) {
    public Settings {
      clientSettings = Map.copyOf(clientSettings);
      Objects.requireNonNull(bootstrapServers, "bootstrapServers");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(timeout, "timeout");
    }

    /** Settings of an open API. */
    public Settings(String bootstrapServers, String host, int port, Duration timeout,
                    Map<String, String> clientSettings) {
      this(bootstrapServers, host, port, timeout, clientSettings, null);
    }

    /** Settings without client settings of the operator's. */
    public Settings(String bootstrapServers, String host, int port, Duration timeout) {
      this(bootstrapServers, host, port, timeout, Map.of());
    }
  }

  private final MeshClient client;
  private final ReadModel readModel;
  private final ApiServer server;
  private final int port;
  private final Vertx vertx;
  /** The timer that reads the token file again, or -1. */
  private final long refreshTimer;

  private ConfigApi(MeshClient client, ReadModel readModel, ApiServer server, int port,
                    Vertx vertx, long refreshTimer) {
    this.client = client;
    this.readModel = readModel;
    this.server = server;
    this.port = port;
    this.vertx = vertx;
    this.refreshTimer = refreshTimer;
  }

  /**
   * Starts the read model and the server; returns once the server listens (reads answer 503
   * until the read model has loaded the log).
   */
  public static ConfigApi start(Vertx vertx, Settings settings, DocumentCheck check, Clock clock)
      throws InterruptedException, ExecutionException, TimeoutException {
    Map<String, Object> kafka = new HashMap<>(settings.clientSettings());
    kafka.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
    MeshClient client = new MeshClient(kafka, settings.timeout());
    ReadModel readModel = new ReadModel(kafka);
    readModel.start();
    TokenFile tokens = settings.tokens();
    ApiServer server = new ApiServer(vertx, client, readModel, check, clock, tokens);
    try {
      int port = server.listen(settings.host(), settings.port()).toCompletionStage()
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      // the file is read on a worker thread: never file I/O on the event loop
      long timer = tokens == null ? -1 : vertx.setPeriodic(
          Math.max(1, tokens.refreshInterval().toMillis()),
          id -> vertx.executeBlocking(tokens::refresh, false));
      return new ConfigApi(client, readModel, server, port, vertx, timer);
    } catch (InterruptedException | ExecutionException | TimeoutException e) {
      readModel.close();
      client.close();
      throw e;
    }
  }

  /** The HTTP server (its route table: {@link ApiServer#routes()}). */
  public ApiServer server() {
    return server;
  }

  /** The port the server listens on. */
  public int port() {
    return port;
  }

  /** The read model behind the reads. */
  public ReadModel readModel() {
    return readModel;
  }

  @Override
  public void close() {
    if (refreshTimer >= 0) {
      vertx.cancelTimer(refreshTimer);
    }
    try {
      server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      // closing anyway
    }
    readModel.close();
    client.close();
  }
}
