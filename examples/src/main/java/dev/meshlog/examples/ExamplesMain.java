package dev.meshlog.examples;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * The examples' command line: {@code java -jar meshlog-examples.jar <app> [options]} runs one of
 * productpage, details, reviews, ratings or traffic. Each option has an environment variable
 * (for containers); the command line wins. Prints {@code listening on port N} once serving.
 */
@Command(name = "meshlog-examples",
    description = "Runs one Bookinfo-style example service, or the traffic generator.")
public final class ExamplesMain implements Callable<Integer> {

  @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help.")
  boolean help;

  /** The apps this jar runs. */
  public static final List<String> APPS = List.of("productpage", "details", "reviews", "ratings",
      "traffic");

  @Parameters(index = "0", paramLabel = "APP",
      description = "productpage | details | reviews | ratings | traffic")
  String app;

  @Option(names = "--port", defaultValue = "${env:EXAMPLE_PORT:-9080}",
      description = "Port to listen on; 0 = any free port (env EXAMPLE_PORT; default ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--bind", defaultValue = "${env:EXAMPLE_BIND:-127.0.0.1}",
      description = "Address to listen on (env EXAMPLE_BIND; default ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--version", defaultValue = "${env:EXAMPLE_VERSION:-v1}",
      description = "v1 | v2 | v3; reviews: v1 no ratings, v2 black stars, v3 red stars "
          + "(env EXAMPLE_VERSION; default ${DEFAULT-VALUE}).")
  String version;

  @Option(names = "--sidecar", defaultValue = "${env:MESHLOG_SIDECAR:-127.0.0.1:15001}",
      description = "HOST:PORT of the local sidecar's outbound listener; calls to other services "
          + "go there with Host: <service> (env MESHLOG_SIDECAR; default ${DEFAULT-VALUE}).")
  String sidecar;

  @Option(names = "--target", defaultValue = "${env:TRAFFIC_TARGET:-http://127.0.0.1:8080/productpage}",
      description = "traffic: the URL to call (env TRAFFIC_TARGET; default ${DEFAULT-VALUE}).")
  String target;

  @Option(names = "--rate", defaultValue = "${env:TRAFFIC_RATE:-2}",
      description = "traffic: requests per second, 0 = off (env TRAFFIC_RATE; default ${DEFAULT-VALUE}).")
  double rate;

  @Option(names = "--users", split = ",", defaultValue = "${env:TRAFFIC_USERS}",
      description = "traffic: end-user header values to cycle through, e.g. jason,alice "
          + "(env TRAFFIC_USERS; default: none).")
  List<String> users;

  /** A started example: its port, and how to stop it. */
  public record Running(Vertx vertx, HttpServer server, TrafficGenerator traffic) {
    /** The port it listens on. */
    public int port() {
      return server.actualPort();
    }

    /** Stops the app and its Vert.x instance. */
    public void close() {
      if (traffic != null) {
        traffic.stop();
      }
      vertx.close().await();
    }
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ExamplesMain()).execute(args));
  }

  @Override
  public Integer call() {
    Running running;
    try {
      running = start();
    } catch (IllegalArgumentException e) {
      System.err.println("meshlog-examples: " + e.getMessage());
      return 2;
    } catch (RuntimeException e) {
      System.err.println("meshlog-examples: " + app + " cannot listen on " + bind + ":" + port
          + ": " + e.getMessage());
      return 1;
    }
    System.out.println(app + " " + version + " listening on " + bind + ":" + running.port());
    System.out.println("listening on port " + running.port());
    System.out.flush();
    if (running.traffic() != null) {
      System.out.println("traffic: " + rate + " req/s to " + target
          + (users == null || users.isEmpty() ? "" : " as " + users));
      running.vertx().setPeriodic(5_000, id -> System.out.println("traffic: "
          + running.traffic().stats().encode()));
    }
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      running.close();
      stopped.countDown();
    }, "examples-shutdown"));
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /** Starts the chosen app; throws {@link IllegalArgumentException} for bad options. */
  public Running start() {
    if (!APPS.contains(app)) {
      throw new IllegalArgumentException("app: " + app + " (expected one of: " + APPS + ")");
    }
    AppConfig config = AppConfig.withSidecar(app, version, bind, port, sidecar);
    Vertx vertx = Vertx.vertx();
    try {
      HttpClientAgent client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true),
          new PoolOptions().setHttp1MaxSize(32));
      Downstream downstream = new Downstream(client, config.sidecarHost(), config.sidecarPort());
      TrafficGenerator traffic = null;
      Handler<HttpServerRequest> handler = switch (app) {
        case "productpage" -> new ProductPage(config, downstream);
        case "details" -> new Details(config);
        case "reviews" -> new Reviews(config, downstream);
        case "ratings" -> new Ratings(config);
        default -> null;
      };
      if (handler == null) {
        traffic = new TrafficGenerator(vertx, client, target, rate,
            users == null ? List.of() : users.stream().map(String::trim).filter(u -> !u.isEmpty())
                .toList());
        handler = traffic::handle;
      }
      HttpServer server = ExampleServer.start(vertx, config, handler).await();
      if (traffic != null) {
        traffic.start();
      }
      return new Running(vertx, server, traffic);
    } catch (RuntimeException e) {
      vertx.close();
      throw e;
    }
  }

  /** Parses {@code args} (as the command line would) and starts the app, for tests. */
  public static Running start(String... args) {
    ExamplesMain main = new ExamplesMain();
    new CommandLine(main).parseArgs(args);
    return main.start();
  }

  @Override
  public String toString() {
    return "ExamplesMain" + Arrays.asList(app, version, bind, port, sidecar);
  }
}
