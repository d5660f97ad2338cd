package dev.meshlog.config.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * A real git smart-HTTP server on loopback (port 0) that asks for HTTP basic authentication:
 * git's own {@code git http-backend} (the CGI program behind Apache's and nginx's git hosting)
 * run per request behind the JDK's HTTP server. Repositories are the directories under a root;
 * {@code url("mesh")} serves {@code root/mesh}. It records every {@code Authorization} header and
 * request line it saw, so tests can look for a leaked secret.
 */
public final class GitHttpServer implements AutoCloseable {

  private static final Path BACKEND = findBackend();

  private final Path root;
  private final String username;
  private final String password;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newFixedThreadPool(2);
  private final List<String> requests = Collections.synchronizedList(new ArrayList<>());
  private final Map<String, String> redirects = new java.util.concurrent.ConcurrentHashMap<>();

  private GitHttpServer(Path root, String username, String password) throws IOException {
    this.root = root;
    this.username = username;
    this.password = password;
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.setExecutor(executor);
    server.start();
  }

  /** Whether {@code git http-backend} is installed (the tests that need it are skipped if not). */
  public static boolean available() {
    return BACKEND != null;
  }

  /** A server of the repositories under {@code root} for {@code username}:{@code password}. */
  public static GitHttpServer start(Path root, String username, String password) throws IOException {
    if (BACKEND == null) {
      throw new IllegalStateException("git http-backend is not installed");
    }
    return new GitHttpServer(root, username, password);
  }

  /** The URL of the repository in {@code root/name}. */
  public String url(String name) {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/" + name;
  }

  /**
   * Answers requests under {@code /from/} with a 301 to the same path under {@code /to/} on this
   * server (after authentication), as GitLab redirects {@code /repo} to {@code /repo.git}.
   */
  public void redirect(String from, String to) {
    redirects.put("/" + from + "/", "/" + to + "/");
  }

  /** Every request line seen, as {@code METHOD URI}. */
  public List<String> requests() {
    synchronized (requests) {
      return List.copyOf(requests);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      requests.add(exchange.getRequestMethod() + " " + exchange.getRequestURI());
      if (!authorized(exchange.getRequestHeaders().getFirst("Authorization"))) {
        exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      String path = exchange.getRequestURI().getRawPath();
      for (Map.Entry<String, String> redirect : redirects.entrySet()) {
        if (path.startsWith(redirect.getKey())) {
          String query = exchange.getRequestURI().getRawQuery();
          exchange.getResponseHeaders().add("Location", url("").replaceAll("/$", "")
              + redirect.getValue() + path.substring(redirect.getKey().length())
              + (query == null ? "" : "?" + query));
          exchange.sendResponseHeaders(301, -1);
          return;
        }
      }
      ProcessBuilder builder = new ProcessBuilder(BACKEND.toString());
      Map<String, String> env = builder.environment();
      env.put("GIT_PROJECT_ROOT", root.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("REQUEST_METHOD", exchange.getRequestMethod());
      env.put("PATH_INFO", exchange.getRequestURI().getPath());
      String query = exchange.getRequestURI().getRawQuery();
      env.put("QUERY_STRING", query == null ? "" : query);
      env.put("REMOTE_USER", username);
      env.put("REMOTE_ADDR", "127.0.0.1");
      putHeader(exchange, env, "Content-Type", "CONTENT_TYPE");
      putHeader(exchange, env, "Content-Encoding", "HTTP_CONTENT_ENCODING");
      putHeader(exchange, env, "Git-Protocol", "HTTP_GIT_PROTOCOL");
      builder.redirectError(ProcessBuilder.Redirect.DISCARD);
      Process process = builder.start();
      try (OutputStream in = process.getOutputStream(); InputStream body = exchange.getRequestBody()) {
        body.transferTo(in); // an upload-pack request is read whole before the answer starts
      }
      try (InputStream out = process.getInputStream()) {
        int status = 200;
        for (String line = readLine(out); line != null && !line.isEmpty(); line = readLine(out)) {
          int colon = line.indexOf(':');
          String name = line.substring(0, colon).strip();
          String value = line.substring(colon + 1).strip();
          if (name.equalsIgnoreCase("Status")) {
            status = Integer.parseInt(value.substring(0, 3));
          } else {
            exchange.getResponseHeaders().add(name, value);
          }
        }
        exchange.sendResponseHeaders(status, 0);
        try (OutputStream response = exchange.getResponseBody()) {
          out.transferTo(response);
        }
      }
      process.waitFor();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private boolean authorized(String header) {
    if (header == null || !header.startsWith("Basic ")) {
      return false;
    }
    byte[] given = Base64.getDecoder().decode(header.substring(6).strip());
    byte[] expected = (username + ":" + password).getBytes(StandardCharsets.UTF_8);
    return MessageDigest.isEqual(given, expected);
  }

  private static void putHeader(HttpExchange exchange, Map<String, String> env, String header,
                                String variable) {
    String value = exchange.getRequestHeaders().getFirst(header);
    if (value != null) {
      env.put(variable, value);
    }
  }

  /** One CGI header line (LF or CRLF), or null at the end. */
  private static String readLine(InputStream in) throws IOException {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int b;
    while ((b = in.read()) != -1 && b != '\n') {
      line.write(b);
    }
    if (b == -1 && line.size() == 0) {
      return null;
    }
    String text = line.toString(StandardCharsets.ISO_8859_1);
    return text.endsWith("\r") ? text.substring(0, text.length() - 1) : text;
  }

  private static Path findBackend() {
    for (String dir : List.of("/usr/lib/git-core", "/usr/libexec/git-core", "/usr/local/libexec/git-core",
        "/opt/homebrew/opt/git/libexec/git-core")) {
      Path backend = Path.of(dir, "git-http-backend");
      if (Files.isExecutable(backend)) {
        return backend;
      }
    }
    return null;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
