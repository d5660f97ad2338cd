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
  void keepsTheQueryOfATargetAsItIs() {
    assertThat(RequestGuard.normalizeTarget("/a/../b?next=/c/../d")).isEqualTo("/b?next=/c/../d");
    String target = "/a?x=/./";

    assertThat(RequestGuard.normalizeTarget(target)).isSameAs(target);
  }
}
