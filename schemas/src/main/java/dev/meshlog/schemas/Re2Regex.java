package dev.meshlog.schemas;

import java.util.Arrays;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * A view's RE2 regex as a {@link java.util.regex.Pattern}: views carry the user's regexes in RE2
 * syntax (Istio's and Envoy's dialect), and the proxy runs them on {@code java.util.regex}.
 *
 * <p>One RE2 construct Java does not spell alike is mapped: the named group {@code (?P<name>…)}
 * becomes Java's {@code (?<name>…)} — or a plain group {@code (…)} when the name is one Java
 * refuses (RE2 allows {@code _} and a leading digit; Java wants a letter, then letters and
 * digits). Either way the group keeps its number, which is how substitutions ({@code \1}) refer
 * to it. A {@code (?P<} inside a character class, after a backslash or inside {@code \Q…\E} is a
 * literal and stays. Everything else is passed as written.
 *
 * <p>This class does not judge RE2 syntax: whether a regex is RE2 at all, and means the same in
 * both dialects, is the config validator's question (it asks re2j, and refuses the constructs
 * that both accept but read differently); what it accepts compiles here.
 */
public final class Re2Regex {

  private Re2Regex() {}

  /**
   * Compiles an RE2 regex for {@code java.util.regex}.
   *
   * @throws PatternSyntaxException if Java cannot compile it, with the user's regex and the index
   *     in it (not in the rewritten one)
   */
  public static Pattern compile(String re2) {
    Rewrite rewrite = rewrite(re2);
    try {
      return Pattern.compile(rewrite.java);
    } catch (PatternSyntaxException e) {
      int index = e.getIndex() < 0 ? e.getIndex() : rewrite.originalIndex(e.getIndex());
      throw new PatternSyntaxException(e.getDescription(), re2, index);
    }
  }

  /** The regex as Java writes it: {@code (?P<name>} rewritten outside classes and escapes. */
  public static String toJava(String re2) {
    return rewrite(re2).java;
  }

  private record Rewrite(String java, int[] removedAt) {
    /** The user's index of a character at {@code javaIndex} of the rewritten regex. */
    int originalIndex(int javaIndex) {
      int index = javaIndex;
      for (int at : removedAt) {
        if (at <= javaIndex) {
          index += 1;
        }
      }
      return index;
    }
  }

  private static Rewrite rewrite(String re2) {
    if (re2.indexOf("(?P<") < 0) {
      return new Rewrite(re2, new int[0]);
    }
    StringBuilder out = new StringBuilder(re2.length());
    // Java indexes (in the rewritten text) after which one or more characters were removed.
    int[] removed = new int[re2.length()];
    int removals = 0;
    boolean inClass = false;
    int i = 0;
    while (i < re2.length()) {
      char c = re2.charAt(i);
      if (c == '\\' && re2.startsWith("\\Q", i)) {
        int end = re2.indexOf("\\E", i + 2);
        int stop = end < 0 ? re2.length() : end + 2;
        out.append(re2, i, stop);
        i = stop;
      } else if (c == '\\') {
        int stop = Math.min(i + 2, re2.length());
        out.append(re2, i, stop);
        i = stop;
      } else if (inClass) {
        if (re2.startsWith("[:", i) && re2.indexOf(":]", i + 2) > 0) {
          int stop = re2.indexOf(":]", i + 2) + 2;
          out.append(re2, i, stop);
          i = stop;
          continue;
        }
        inClass = c != ']';
        out.append(c);
        i++;
      } else if (c == '[') {
        inClass = true;
        out.append(c);
        i++;
        // A ']' first in a class (after an optional '^') is a literal, not its end.
        if (i < re2.length() && re2.charAt(i) == '^') {
          out.append('^');
          i++;
        }
        if (i < re2.length() && re2.charAt(i) == ']') {
          out.append(']');
          i++;
        }
      } else if (re2.startsWith("(?P<", i)) {
        int close = re2.indexOf('>', i + 4);
        String name = close < 0 ? null : re2.substring(i + 4, close);
        if (name != null && isJavaGroupName(name)) {
          out.append("(?<");
          removed[removals++] = out.length() - 1;
          i += 4;
        } else if (name != null) {
          out.append('(');
          // "?P<name>" gone: the user's index of what follows is that much further on.
          for (int k = 0; k < name.length() + 4; k++) {
            removed[removals++] = out.length();
          }
          i = close + 1;
        } else {
          out.append(c);
          i++;
        }
      } else {
        out.append(c);
        i++;
      }
    }
    return new Rewrite(out.toString(), Arrays.copyOf(removed, removals));
  }

  private static boolean isJavaGroupName(String name) {
    if (name.isEmpty() || !isAsciiLetter(name.charAt(0))) {
      return false;
    }
    for (int i = 1; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!isAsciiLetter(c) && (c < '0' || c > '9')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isAsciiLetter(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }
}
