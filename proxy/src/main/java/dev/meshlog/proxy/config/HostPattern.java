package dev.meshlog.proxy.config;

import java.util.Locale;

/** Istio host patterns: a DNS name, {@code *.suffix} (one or more labels) or {@code *}. */
public final class HostPattern {

  private HostPattern() {}

  /** Whether {@code host} (without port) matches {@code pattern}, ignoring case. */
  public static boolean matches(String pattern, String host) {
    String p = pattern.toLowerCase(Locale.ROOT);
    String h = host.toLowerCase(Locale.ROOT);
    if (p.equals("*")) {
      return true;
    }
    if (p.startsWith("*.")) {
      return h.endsWith(p.substring(1)) && h.length() > p.length() - 1;
    }
    return p.equals(h);
  }
}
