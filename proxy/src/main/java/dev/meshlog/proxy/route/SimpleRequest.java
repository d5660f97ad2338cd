package dev.meshlog.proxy.route;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * A {@link RequestFacts} built from plain values: for tests, tools and the admin API.
 *
 * @param method the method
 * @param pathAndQuery path with optional {@code ?query}
 * @param authority the Host
 * @param headers headers by lower-case name
 * @param sourceIp the caller's address
 */
public record SimpleRequest(String method, String pathAndQuery, String authority,
                            Map<String, String> headers, String sourceIp) implements RequestFacts {

  public SimpleRequest {
    Map<String, String> lower = new LinkedHashMap<>();
    headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
    headers = Map.copyOf(lower);
  }

  /** A GET of {@code pathAndQuery} to {@code authority} with the given headers. */
  public static SimpleRequest get(String authority, String pathAndQuery, String... headerPairs) {
    Map<String, String> h = new LinkedHashMap<>();
    for (int i = 0; i + 1 < headerPairs.length; i += 2) {
      h.put(headerPairs[i], headerPairs[i + 1]);
    }
    return new SimpleRequest("GET", pathAndQuery, authority, h, "127.0.0.1");
  }

  @Override
  public String path() {
    int q = pathAndQuery.indexOf('?');
    return q < 0 ? pathAndQuery : pathAndQuery.substring(0, q);
  }

  @Override
  public String query() {
    int q = pathAndQuery.indexOf('?');
    return q < 0 ? null : pathAndQuery.substring(q + 1);
  }

  @Override
  public String scheme() {
    return "http";
  }

  @Override
  public String header(String lowerCaseName) {
    return headers.get(lowerCaseName);
  }

  @Override
  public String queryParam(String name) {
    String q = query();
    if (q == null) {
      return null;
    }
    for (String pair : q.split("&")) {
      int eq = pair.indexOf('=');
      String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      if (k.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }

  @Override
  public String cookie(String name) {
    String c = header("cookie");
    if (c == null) {
      return null;
    }
    for (String part : c.split(";")) {
      String p = part.trim();
      if (p.startsWith(name + "=")) {
        return p.substring(name.length() + 1);
      }
    }
    return null;
  }
}
