package dev.meshlog.proxy.http;

import java.util.List;

import dev.meshlog.proxy.route.RequestFacts;
import io.vertx.core.MultiMap;
import io.vertx.core.http.Cookie;
import io.vertx.core.http.HttpServerRequest;

/** The {@link RequestFacts} of a Vert.x server request, with the target resolved by the listener. */
final class VertxRequestFacts implements RequestFacts {

  private final HttpServerRequest request;
  private final String path;
  private final String query;
  private final String authority;

  VertxRequestFacts(HttpServerRequest request, String path, String query, String authority) {
    this.request = request;
    this.path = path;
    this.query = query;
    this.authority = authority;
  }

  @Override
  public String method() {
    return request.method().name();
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public String query() {
    return query;
  }

  @Override
  public String authority() {
    return authority;
  }

  @Override
  public String scheme() {
    return "http";
  }

  @Override
  public String header(String lowerCaseName) {
    MultiMap h = request.headers();
    List<String> all = h.getAll(lowerCaseName);
    if (all.isEmpty()) {
      return null;
    }
    return all.size() == 1 ? all.get(0) : String.join(",", all);
  }

  @Override
  public String queryParam(String name) {
    return request.getParam(name);
  }

  @Override
  public String cookie(String name) {
    Cookie c = request.getCookie(name);
    return c == null ? null : c.getValue();
  }

  @Override
  public String sourceIp() {
    return request.remoteAddress() == null ? "" : request.remoteAddress().hostAddress();
  }
}
