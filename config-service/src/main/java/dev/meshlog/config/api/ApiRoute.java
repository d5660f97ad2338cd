package dev.meshlog.config.api;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/**
 * One route of the HTTP API: a method, a path template whose {@code {name}} segments match any
 * one segment, one line on what it answers, and its handler. {@link ApiServer} routes every
 * request through its table of these and serves the same table as the index at {@code GET
 * /api/v1/}, so the index cannot list a route the server lacks, or miss one it has.
 *
 * @param method the HTTP method
 * @param path the path template, e.g. {@code /api/v1/resources/{kind}/{namespace}/{name}}
 * @param summary one line: what the route answers, with its query parameters
 * @param access what a caller's token must grant when the API asks for tokens: {@link
 *     Access#NONE} for {@code /healthz}, {@link Access#READ} for the GET routes, {@link
 *     Access#WRITE} for the routes that record an event (apply, delete, rollback)
 * @param handler answers a request, given the template's segments by name
 */
public record ApiRoute(HttpMethod method, String path, String summary, Access access,
                       Handler handler) {

  /** Answers a request that matched a route. */
  @FunctionalInterface
  public interface Handler {
    /**
     * @param request the request
     * @param params the template's {@code {name}} segments by name
     * @param caller who sends it, as its bearer token says
     */
    void handle(HttpServerRequest request, Map<String, String> params, Caller caller);
  }

  public ApiRoute {
    Objects.requireNonNull(method, "method");
    Objects.requireNonNull(summary, "summary");
    Objects.requireNonNull(access, "access");
    Objects.requireNonNull(handler, "handler");
    if (path == null || !path.startsWith("/")) {
      throw new IllegalArgumentException("path: " + path + " (expected: an absolute path)");
    }
  }

  /** Whether the route answers without a token ({@code /healthz}). */
  public boolean open() {
    return access == Access.NONE;
  }

  /**
   * The template's segments bound to {@code segments} (a request path split at {@code /}, empty
   * segments dropped), if the path matches.
   */
  public Optional<Map<String, String>> match(List<String> segments) {
    List<String> template = segments(path);
    if (template.size() != segments.size()) {
      return Optional.empty();
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 0; i < template.size(); i++) {
      String t = template.get(i);
      if (t.startsWith("{") && t.endsWith("}")) {
        params.put(t.substring(1, t.length() - 1), segments.get(i));
      } else if (!t.equals(segments.get(i))) {
        return Optional.empty();
      }
    }
    return Optional.of(params);
  }

  /** A path's segments: split at {@code /}, empty ones dropped ({@code /api/v1/} is two). */
  public static List<String> segments(String path) {
    List<String> segments = new ArrayList<>();
    Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).forEach(segments::add);
    return segments;
  }
}
