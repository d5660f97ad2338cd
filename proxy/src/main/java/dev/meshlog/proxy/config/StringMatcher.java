package dev.meshlog.proxy.config;

import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

import dev.meshlog.schemas.Re2Regex;

/**
 * One string condition of a route match: exact, prefix, full-string regex, or mere presence.
 *
 * @param kind how {@code value} is compared
 * @param value the literal or the regex source
 * @param pattern the compiled regex, for {@link Kind#REGEX} only
 */
public record StringMatcher(Kind kind, String value, Pattern pattern) {

  /** How a {@link StringMatcher} compares. */
  public enum Kind {
    /** The string is present, whatever its value. */
    PRESENT,
    /** The whole string equals the value. */
    EXACT,
    /** The string starts with the value. */
    PREFIX,
    /** The whole string matches the regex. */
    REGEX
  }

  public StringMatcher {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(value, "value");
    if (kind == Kind.REGEX) {
      Objects.requireNonNull(pattern, "pattern");
    }
  }

  /** Matches a string that equals {@code value}. */
  public static StringMatcher exact(String value) {
    return new StringMatcher(Kind.EXACT, value, null);
  }

  /** Matches a string that starts with {@code value}. */
  public static StringMatcher prefix(String value) {
    return new StringMatcher(Kind.PREFIX, value, null);
  }

  /** Matches any present string. */
  public static StringMatcher present() {
    return new StringMatcher(Kind.PRESENT, "", null);
  }

  /**
   * Matches a string the regex (RE2 syntax, as views carry it) matches entirely.
   *
   * @throws java.util.regex.PatternSyntaxException if {@code regex} is not a valid regex
   */
  public static StringMatcher regex(String regex) {
    return new StringMatcher(Kind.REGEX, regex, Re2Regex.compile(regex));
  }

  /** Whether {@code s} satisfies this condition; {@code null} (absent) never does. */
  public boolean matches(String s) {
    return matches(s, false);
  }

  /**
   * Whether {@code s} satisfies this condition.
   *
   * @param ignoreCase compare exact and prefix values case-insensitively (regexes are as written)
   */
  public boolean matches(String s, boolean ignoreCase) {
    if (s == null) {
      return false;
    }
    return switch (kind) {
      case PRESENT -> true;
      case EXACT -> ignoreCase ? s.equalsIgnoreCase(value) : s.equals(value);
      case PREFIX -> ignoreCase
          ? s.regionMatches(true, 0, value, 0, value.length())
          : s.startsWith(value);
      case REGEX -> pattern.matcher(s).matches();
    };
  }

  @Override
  public String toString() {
    return kind.name().toLowerCase(Locale.ROOT) + (kind == Kind.PRESENT ? "" : ":" + value);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof StringMatcher m && m.kind == kind && m.value.equals(value);
  }

  @Override
  public int hashCode() {
    return Objects.hash(kind, value);
  }
}
