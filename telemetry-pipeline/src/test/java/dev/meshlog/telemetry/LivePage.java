package dev.meshlog.telemetry;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.testkit.HeadlessChromium;

/**
 * A page kept open in a real headless Chromium for as long as a test needs it (where {@link
 * HeadlessChromium} loads a page once), its DOM read with the DevTools protocol's {@code
 * Runtime.evaluate} while the page runs in real time: for what a page does over time, such as
 * recovering when its server goes away and comes back.
 */
final class LivePage implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final Process process;
  private final WebSocket socket;
  private final AtomicInteger ids = new AtomicInteger();
  private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();

  private LivePage(Process process, WebSocket socket) {
    this.process = process;
    this.socket = socket;
  }

  /** Opens {@code url} in a fresh profile under {@code profiles}. */
  static LivePage open(Path profiles, String url) throws Exception {
    Path profile = Files.createTempDirectory(profiles, "chromium");
    Process process = new ProcessBuilder(HeadlessChromium.BINARY.toString(), "--headless", "--no-sandbox",
        "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--no-first-run", "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,900",
        "--remote-debugging-port=0", url)
        .redirectError(ProcessBuilder.Redirect.DISCARD).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try {
      Path portFile = profile.resolve("DevToolsActivePort");
      await().atMost(Duration.ofSeconds(60)).until(() -> Files.exists(portFile)
          && Files.readAllLines(portFile).size() >= 2);
      int port = Integer.parseInt(Files.readAllLines(portFile).get(0).strip());
      HttpClient http = HttpClient.newHttpClient();
      String[] target = new String[1];
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        JsonNode list = JSON.readTree(http.send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + port + "/json/list")).build(), HttpResponse.BodyHandlers.ofString()).body());
        for (JsonNode t : list) {
          if (t.path("type").asText().equals("page")) {
            target[0] = t.path("webSocketDebuggerUrl").asText();
            return true;
          }
        }
        return false;
      });
      LivePage[] page = new LivePage[1];
      WebSocket socket = http.newWebSocketBuilder().buildAsync(URI.create(target[0]), new WebSocket.Listener() {
        private final StringBuilder text = new StringBuilder();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
          text.append(data);
          if (last) {
            String message = text.toString();
            text.setLength(0);
            try {
              JsonNode reply = JSON.readTree(message);
              CompletableFuture<JsonNode> waiting = page[0] == null ? null : page[0].pending.remove(reply.path("id").asInt(-1));
              if (waiting != null) {
                waiting.complete(reply);
              }
            } catch (IOException e) {
              // not a reply of ours
            }
          }
          ws.request(1);
          return null;
        }
      }).get(30, TimeUnit.SECONDS);
      page[0] = new LivePage(process, socket);
      return page[0];
    } catch (Exception | AssertionError e) {
      process.destroyForcibly();
      throw e;
    }
  }

  /** The value of the JavaScript {@code expression} in the page, as a string ("" for null or undefined). */
  String eval(String expression) throws Exception {
    int id = ids.incrementAndGet();
    CompletableFuture<JsonNode> reply = new CompletableFuture<>();
    pending.put(id, reply);
    socket.sendText(JSON.writeValueAsString(Map.of("id", id, "method", "Runtime.evaluate",
        "params", Map.of("expression", "String((" + expression + ") ?? '')", "returnByValue", true))), true)
        .get(10, TimeUnit.SECONDS);
    JsonNode result = reply.get(30, TimeUnit.SECONDS);
    if (result.has("error") || result.path("result").has("exceptionDetails")) {
      throw new IllegalStateException(expression + ": " + result);
    }
    return result.path("result").path("result").path("value").asText();
  }

  @Override
  public void close() {
    socket.abort();
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
