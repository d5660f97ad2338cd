package dev.meshlog.proxy.route;

import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.StringMatcher;

/** Path rewrites and redirect locations, as VirtualService {@code rewrite} and {@code redirect}. */
public final class Rewrites {

  private Rewrites() {}

  /**
   * The path and query to forward after {@code rewrite}: a prefix match's prefix is replaced by
   * {@code rewrite.uri}, any other match's whole path; a regex rewrite replaces every match.
   */
  public static String rewritePath(RouteConfig.Rewrite rewrite, MatchConfig match, String path,
                                   String query) {
    String p = path;
    if (rewrite != null && rewrite.uri() != null) {
      StringMatcher uri = match.uri();
      if (uri != null && uri.kind() == StringMatcher.Kind.PREFIX
          && uri.matches(path, match.ignoreUriCase())) {
        p = rewrite.uri() + path.substring(uri.value().length());
        if (p.isEmpty()) {
          p = "/";
        } else if (p.startsWith("//")) {
          p = p.substring(1);
        }
      } else {
        p = rewrite.uri();
      }
    } else if (rewrite != null && rewrite.uriRegex() != null) {
      p = rewrite.uriRegex().matcher(path).replaceAll(rewrite.uriRegexSubstitution());
    }
    return query == null ? p : p + "?" + query;
  }

  /** The Location of a redirect answering a request with the given scheme, authority and path. */
  public static String location(RouteConfig.Redirect redirect, String scheme, String authority,
                                String path, String query) {
    String s = redirect.scheme() != null ? redirect.scheme() : scheme;
    String host = redirect.authority() != null ? HostResolver.hostOf(redirect.authority())
        : HostResolver.hostOf(authority);
    int requestPort = HostResolver.portOf(authority, -1);
    int redirectPort = redirect.authority() == null ? -1
        : HostResolver.portOf(redirect.authority(), -1);
    int port = redirect.port() != null ? redirect.port()
        : redirectPort >= 0 ? redirectPort
        : redirect.scheme() != null && !redirect.scheme().equals(scheme) ? -1
        : requestPort;
    boolean defaultPort = port < 0 || ("http".equals(s) && port == 80)
        || ("https".equals(s) && port == 443);
    String p = redirect.uri() != null ? redirect.uri()
        : query == null ? path : path + "?" + query;
    return s + "://" + host + (defaultPort ? "" : ":" + port) + p;
  }
}
