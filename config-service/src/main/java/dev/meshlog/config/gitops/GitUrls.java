package dev.meshlog.config.gitops;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Credentials written into a repository URL ({@code https://user:token@host/repo}): found, and
 * taken out, so that what the bridge records, logs and prints names the repository, never a
 * secret.
 */
public final class GitUrls {

  private GitUrls() {}

  /**
   * {@code repository} without the credentials in its URL: for {@code http} and {@code https} the
   * whole user part goes (the user is a credential there, and the same repository must have one
   * key whoever reads it); for other schemes only a password, the user staying part of the
   * address ({@code ssh://git@host/repo}). Local paths and scp-like addresses
   * ({@code git@host:repo}) are returned as they are.
   */
  public static String withoutCredentials(String repository) {
    Authority authority = authority(repository);
    if (authority == null || authority.userInfo() == null) {
      return repository;
    }
    String keep = "";
    if (!authority.http()) {
      int colon = authority.userInfo().indexOf(':');
      if (colon < 0) {
        return repository;
      }
      keep = authority.userInfo().substring(0, colon) + "@";
    }
    return repository.substring(0, authority.start()) + keep
        + repository.substring(authority.userInfoEnd() + 1);
  }

  /**
   * The user name and password in an {@code http(s)} URL's user part, percent-decoded; empty when
   * it has none, or only a user name.
   */
  public static Optional<GitCredentials> credentials(String repository) {
    Authority authority = authority(repository);
    if (authority == null || authority.userInfo() == null || !authority.http()) {
      return Optional.empty();
    }
    String userInfo = authority.userInfo();
    int colon = userInfo.indexOf(':');
    if (colon < 0) {
      return Optional.empty();
    }
    String user = decode(userInfo.substring(0, colon));
    String password = decode(userInfo.substring(colon + 1));
    if (user.isEmpty() && password.isEmpty()) {
      return Optional.empty();
    }
    // A token alone (https://TOKEN@host or https://:TOKEN@host) has no user: git's own "git".
    return Optional.of(new GitCredentials(user.isEmpty() ? "git" : user, password));
  }

  /** Whether {@code repository} is a URL with a user part (a user, a password, or both). */
  public static boolean hasUserInfo(String repository) {
    Authority authority = authority(repository);
    return authority != null && authority.userInfo() != null;
  }

  /**
   * Where a URL's authority starts (after {@code ://}), where its user part ends (the {@code @}),
   * the user part, and whether the scheme is {@code http(s)}.
   */
  private record Authority(int start, int userInfoEnd, String userInfo, boolean http) {}

  private static Authority authority(String repository) {
    int scheme = repository.indexOf("://");
    if (scheme <= 0) {
      return null;
    }
    String name = repository.substring(0, scheme).toLowerCase(Locale.ROOT);
    boolean http = name.equals("http") || name.equals("https");
    int start = scheme + 3;
    int end = repository.length();
    for (char c : new char[] {'/', '?', '#'}) {
      int at = repository.indexOf(c, start);
      if (at >= 0 && at < end) {
        end = at;
      }
    }
    // The last '@' of the authority: a password may hold an unescaped '@'.
    int at = repository.lastIndexOf('@', end - 1);
    if (at < start) {
      return new Authority(start, -1, null, http);
    }
    return new Authority(start, at, repository.substring(start, at), http);
  }

  private static String decode(String text) {
    try {
      return URLDecoder.decode(text.replace("+", "%2B"), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return text; // not percent-encoded after all: taken as written
    }
  }
}
