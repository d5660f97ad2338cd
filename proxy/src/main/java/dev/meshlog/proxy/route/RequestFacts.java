package dev.meshlog.proxy.route;

/**
 * What routing may look at in a request, independent of the HTTP library, so matching is tested
 * without sockets.
 */
public interface RequestFacts {

  /** The method, e.g. {@code GET}. */
  String method();

  /** The path without the query string, e.g. {@code /reviews/1}. */
  String path();

  /** The raw query string without {@code ?}, or {@code null}. */
  String query();

  /** The Host / :authority as sent, e.g. {@code reviews:9080}. */
  String authority();

  /** {@code http} or {@code https}. */
  String scheme();

  /** The value of a header (all values joined with {@code ,}), or {@code null} when absent. */
  String header(String lowerCaseName);

  /** The first value of a query parameter, or {@code null}. */
  String queryParam(String name);

  /** The value of a cookie, or {@code null}. */
  String cookie(String name);

  /** The caller's IP address. */
  String sourceIp();
}
