package dev.meshlog.proxy.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RequestGuardTest {

  @Test
  void resolvesDotSegmentsAsRfc3986Does() {
    assertThat(RequestGuard.normalizePath("/public/../admin")).isEqualTo("/admin");
    assertThat(RequestGuard.normalizePath("/a/../../b")).isEqualTo("/b");
    assertThat(RequestGuard.normalizePath("/a/./b/")).isEqualTo("/a/b/");
    assertThat(RequestGuard.normalizePath("/a/b/..")).isEqualTo("/a/");
    assertThat(RequestGuard.normalizePath("/.")).isEqualTo("/");
    assertThat(RequestGuard.normalizePath("/..")).isEqualTo("/");
  }

  @Test
  void leavesPathsWithoutDotSegmentsAsTheyAre() {
    String path = "/reviews/1";

    assertThat(RequestGuard.normalizePath(path)).isSameAs(path);
    assertThat(RequestGuard.normalizePath("/.well-known/a..b/c.")).isEqualTo("/.well-known/a..b/c.");
    assertThat(RequestGuard.normalizePath("*")).isEqualTo("*");
  }

  @Test
  void decodesPercentEncodedDotsBeforeResolvingSegmentsAsEnvoyDoes() {
    assertThat(RequestGuard.normalizePath("/a/b/%2E%2E/c")).isEqualTo("/a/c");
    assertThat(RequestGuard.normalizePath("/a/b/%2e%2e/c")).isEqualTo("/a/c");
    assertThat(RequestGuard.normalizePath("/a/b/%2E./c")).isEqualTo("/a/c");
    assertThat(RequestGuard.normalizePath("/a/b/%2E/c")).isEqualTo("/a/b/c");
    assertThat(RequestGuard.normalizePath("/public/%2E%2E/admin")).isEqualTo("/admin");
  }

  @Test
  void decodesUnreservedCharactersAndKeepsOtherEscapesAsTheyAre() {
    assertThat(RequestGuard.normalizePath("/%41b%7e%2D%5f%30")).isEqualTo("/Ab~-_0");
    assertThat(RequestGuard.normalizePath("/a/%2F%2f/c")).isEqualTo("/a/%2F%2f/c");
    assertThat(RequestGuard.normalizePath("/%c0%af")).isEqualTo("/%c0%af");
    assertThat(RequestGuard.normalizePath("/%5c%25")).isEqualTo("/%5c%25");
    assertThat(RequestGuard.normalizePath("/a%20b/%zz/c%2")).isEqualTo("/a%20b/%zz/c%2");
  }

  @Test
  void treatsABackslashAsASlashAsEnvoyDoes() {
    assertThat(RequestGuard.normalizePath("/a/..\\c")).isEqualTo("/c");
    assertThat(RequestGuard.normalizePath("/a\\b")).isEqualTo("/a/b");
  }

  @Test
  void refusesAnEncodedNul() {
    assertThat(RequestGuard.normalizePath("/xyz/.%00../abc")).isNull();
    assertThat(RequestGuard.normalizePath("/xyz/AAAAA%%0000/abc")).isNull();
    assertThat(RequestGuard.normalizeTarget("/a%00?x=1")).isNull();
  }

  @Test
  void leavesDoubleSlashesAsIstiosDefaultDoes() {
    // MERGE_SLASHES is an option of Istio's pathNormalization, not its default (BASE).
    String path = "/a//b";

    assertThat(RequestGuard.normalizePath(path)).isSameAs(path);
    assertThat(RequestGuard.normalizePath("/a//./b")).isEqualTo("/a//b");
  }

  @Test
  void keepsTheQueryOfATargetAsItIs() {
    assertThat(RequestGuard.normalizeTarget("/a/../b?next=/c/../d")).isEqualTo("/b?next=/c/../d");
    String target = "/a?x=/./";

    assertThat(RequestGuard.normalizeTarget(target)).isSameAs(target);
  }
}
