package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.List;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * HTTP redirects and basic credentials (real HTTP servers on loopback, port 0): a repository
 * that redirects to another host or port must not get that host the password, as git does not
 * (curl sends credentials to the host, port and scheme they were given for only).
 */
class GitRedirectIT {

  private static final String USER = "ci-bot";
  private static final String TOKEN = "glpat-redirect-s3cr3t";

  @TempDir
  Path cacheDir;

  private final List<HttpServer> servers = new ArrayList<>();
  /** Every Authorization header the other server saw. */
  private final List<String> otherSaw = Collections.synchronizedList(new ArrayList<>());

  @AfterEach
  void tearDown() {
    servers.forEach(server -> server.stop(0));
  }

  private HttpServer server(com.sun.net.httpserver.HttpHandler handler) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", handler);
    server.start();
    servers.add(server);
    return server;
  }

  /** The other host: records the Authorization header and asks for basic credentials. */
  private String otherServer(String host) throws IOException {
    HttpServer other = server(exchange -> {
      try (exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        otherSaw.add(authorization == null ? "(none)" : authorization);
        exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"other\"");
        exchange.sendResponseHeaders(401, -1);
      }
    });
    return "http://" + host + ":" + other.getAddress().getPort();
  }

  /** The repository's server: redirects every request there, after asking for credentials if asked. */
  private String redirectingServer(String target, boolean authenticateFirst) throws IOException {
    String expected = "Basic " + Base64.getEncoder().encodeToString(
        (USER + ":" + TOKEN).getBytes(StandardCharsets.UTF_8));
    HttpServer origin = server(exchange -> {
      try (exchange) {
        if (authenticateFirst
            && !expected.equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
          exchange.getResponseHeaders().add("WWW-Authenticate", "Basic realm=\"git\"");
          exchange.sendResponseHeaders(401, -1);
          return;
        }
        redirect(exchange, target);
      }
    });
    return "http://127.0.0.1:" + origin.getAddress().getPort() + "/mesh-config";
  }

  private static void redirect(HttpExchange exchange, String target) throws IOException {
    String uri = exchange.getRequestURI().toString();
    exchange.getResponseHeaders().add("Location", target + uri);
    exchange.sendResponseHeaders(302, -1);
  }

  private List<String> leaked() {
    synchronized (otherSaw) {
      return otherSaw.stream().filter(h -> !h.equals("(none)")).toList();
    }
  }

  private void fetch(String url) {
    try (GitMirror mirror = new GitMirror(url, () -> new GitCredentials(USER, TOKEN), cacheDir)) {
      mirror.fetch("main");
    }
  }

  @Test
  void aRedirectToAnotherHostDoesNotGetThePassword() throws Exception {
    String other = otherServer("localhost");
    String url = redirectingServer(other, false);

    assertThatThrownBy(() -> fetch(url)).isInstanceOf(GitAuthenticationException.class)
        .hasMessageContaining("cannot fetch main of " + url + ": the server redirected to " + other
            + ", which asks for credentials: they were not sent, the password goes only to"
            + " http://127.0.0.1:")
        .hasMessageNotContaining(TOKEN);
    assertThatThrownBy(() -> GitOpsBridge.defaultBranch(url, new GitCredentials(USER, TOKEN)))
        .isInstanceOf(IllegalStateException.class);

    assertThat(otherSaw).as("the other host was reached").isNotEmpty();
    assertThat(leaked()).isEmpty();
  }

  @Test
  void aRedirectToAnotherHostAfterAuthenticatingDoesNotGetThePassword() throws Exception {
    String url = redirectingServer(otherServer("localhost"), true);

    assertThatThrownBy(() -> fetch(url)).isInstanceOf(IllegalStateException.class);

    assertThat(otherSaw).isNotEmpty();
    assertThat(leaked()).isEmpty();
  }

  @Test
  void aRedirectToAnotherPortOfTheSameHostAfterAuthenticatingDoesNotGetThePassword()
      throws Exception {
    String url = redirectingServer(otherServer("127.0.0.1"), true);

    assertThatThrownBy(() -> fetch(url)).isInstanceOf(IllegalStateException.class);

    assertThat(otherSaw).isNotEmpty();
    assertThat(leaked()).isEmpty();
  }
}
