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
   * Whether {@code repository} is reached over SSH: an {@code ssh://} (or {@code git+ssh://},
   * {@code ssh+git://}) URL, or git's scp-like {@code [user@]host:path}.
   */
  public static boolean isSsh(String repository) {
    int scheme = repository.indexOf("://");
    if (scheme > 0) {
      String name = repository.substring(0, scheme).toLowerCase(Locale.ROOT);
      return name.equals("ssh") || name.equals("git+ssh") || name.equals("ssh+git");
    }
    return scpLike(repository) != null;
  }

  /** The user an SSH URL names ({@code git} of {@code git@host:repo}), if any. */
  public static Optional<String> sshUser(String repository) {
    String[] scp = scpLike(repository);
    if (scp != null) {
      return Optional.ofNullable(scp[0]);
    }
    Authority authority = authority(repository);
    if (authority == null || authority.userInfo() == null || authority.http()) {
      return Optional.empty();
    }
    String userInfo = authority.userInfo();
    int colon = userInfo.indexOf(':');
    String user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
    return user.isEmpty() ? Optional.empty() : Optional.of(user);
  }

  /**
   * The name that identifies {@code repository} as a GitOps source: the scp-like
   * {@code user@host:org/repo} becomes {@code ssh://user@host/org/repo}, and an {@code ssh://}
   * URL loses a default port {@code :22} and has its host in lower case, so every spelling of
   * one repository on a git host is one source (one progress key, one transactional id, as Argo
   * CD takes them for one repository). Anything else is returned as it is.
   *
   * <p>Strictly, git reads {@code host:repo} relative to the login's home directory and
   * {@code ssh://host/repo} from the root; git hosts (GitHub, GitLab, Bitbucket, Gitea) serve
   * both as one repository, and a server with two repositories at {@code ~/repo} and
   * {@code /repo} is not a case worth two keys.
   */
  public static String sourceName(String repository) {
    String[] scp = scpLike(repository);
    if (scp != null) {
      String path = scp[2].startsWith("/") ? scp[2].substring(1) : scp[2];
      return "ssh://" + (scp[0] == null ? "" : scp[0] + "@") + scp[1].toLowerCase(Locale.ROOT)
          + "/" + path;
    }
    if (!isSsh(repository)) {
      return repository;
    }
    Authority authority = authority(repository);
    int hostStart = authority.userInfo() == null ? authority.start() : authority.userInfoEnd() + 1;
    int hostEnd = repository.indexOf('/', hostStart);
    if (hostEnd < 0) {
      hostEnd = repository.length();
    }
    String host = repository.substring(hostStart, hostEnd).toLowerCase(Locale.ROOT);
    if (host.endsWith(":22")) {
      host = host.substring(0, host.length() - 3);
    }
    return "ssh://" + repository.substring(authority.start(), hostStart) + host
        + repository.substring(hostEnd);
  }

  /**
   * The user (or null), host and path of git's scp-like syntax, {@code [user@]host:path}, or
   * null if {@code repository} is not one: it has no {@code ://}, a colon comes before any
   * slash, and what is before the colon is not a one-letter Windows drive.
   */
  private static String[] scpLike(String repository) {
    if (repository.contains("://")) {
      return null;
    }
    int colon = repository.indexOf(':');
    int slash = repository.indexOf('/');
    if (colon <= 0 || (slash >= 0 && slash < colon) || colon == repository.length() - 1) {
      return null;
    }
    String userHost = repository.substring(0, colon);
    if (userHost.length() == 1) {
      return null; // C:\repo or C:/repo
    }
    int at = userHost.lastIndexOf('@');
    String user = at < 0 ? null : userHost.substring(0, at);
    String host = userHost.substring(at + 1);
    if (host.isEmpty() || (user != null && user.isEmpty())) {
      return null;
    }
    return new String[] {user, host, repository.substring(colon + 1)};
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
