package dev.meshlog.config.resource;

import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.TextNode;

import dev.meshlog.config.model.Durations;
import dev.meshlog.schemas.Re2Regex;

/** The shapes of single values (strings, numbers, hosts, labels, lists, maps) shared by every kind. */
final class Shapes {

  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern DNS_LABEL_ANY_CASE = Pattern.compile("[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?");
  private static final Pattern LABEL_NAME = Pattern.compile("([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]");
  private static final Pattern IPV4 =
      Pattern.compile("((25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)");

  private static final String DNS_LABEL_EXPECTED =
      "lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters";
  private static final String HOST_EXPECTED = "a DNS name such as reviews or reviews.prod.svc.cluster.local";
  private static final String WILDCARD_HOST_EXPECTED = HOST_EXPECTED + ", or one starting with *.";

  private Shapes() {}

  /** Any string. */
  static Shape string() {
    return text("a string", s -> true);
  }

  /** A string that is not empty. */
  static Shape nonEmptyString() {
    return text("a non-empty string", s -> !s.isEmpty());
  }

  /** A string for which {@code valid} holds; otherwise reported with {@code expected}. */
  static Shape text(String expected, Predicate<String> valid) {
    return (value, path, problems) -> {
      if (!value.isTextual() || !valid.test(value.textValue())) {
        problems.invalid(path, value, expected);
      }
    };
  }

  /** {@code true} or {@code false}. */
  static Shape bool() {
    return (value, path, problems) -> {
      if (!value.isBoolean()) {
        problems.invalid(path, value, "true or false");
      }
    };
  }

  /** A whole number in {@code min..max}. */
  static Shape integer(long min, long max) {
    String range = min + ".." + max;
    String shown = max >= Integer.MAX_VALUE ? min + " or more" : range;
    return (value, path, problems) -> {
      if (!value.isIntegralNumber()) {
        problems.invalid(path, value, "an integer, " + shown);
      } else if (!value.canConvertToLong() || value.longValue() < min || value.longValue() > max) {
        problems.invalid(path, value, value.canConvertToLong() && value.longValue() < min ? shown : range);
      }
    };
  }

  /** A whole number of at least {@code min} that fits Istio's 32-bit fields. */
  static Shape atLeast(long min) {
    return integer(min, Integer.MAX_VALUE);
  }

  /** A port number, 1..65535. */
  static Shape port() {
    return integer(1, 65535);
  }

  /** A number (whole or not) in {@code min..max}. */
  static Shape number(double min, double max) {
    String range = format(min) + ".." + format(max);
    return (value, path, problems) -> {
      if (!value.isNumber()) {
        problems.invalid(path, value, "a number, " + range);
      } else if (value.doubleValue() < min || value.doubleValue() > max) {
        problems.invalid(path, value, range);
      }
    };
  }

  /** A duration as Istio writes them: {@code 10s}, {@code 250ms}, {@code 1m30s}. */
  static Shape duration() {
    return text("a duration such as 10s, 250ms or 1m30s", Shapes::isDuration);
  }

  /** One of {@code values}, spelled exactly. */
  static EnumShape oneOf(String... values) {
    return new EnumShape(List.of(values), Set.of());
  }

  /** One of the whole numbers {@code values}. */
  static Shape oneOfNumbers(long... values) {
    List<Long> allowed = Arrays.stream(values).boxed().toList();
    String expected = allowed.stream().map(String::valueOf).collect(Collectors.joining(", "));
    return (value, path, problems) -> {
      if (!value.isIntegralNumber() || !allowed.contains(value.longValue())) {
        problems.add(path, Problems.text(value), Problems.text(value) + " (expected one of: " + expected + ")");
      }
    };
  }

  /**
   * A regular expression that means the same to RE2, as Istio reads it, and to java.util.regex,
   * as the proxy runs it (through {@link Re2Regex}): it compiles in both, and uses none of the
   * constructs both accept but read differently (POSIX classes such as {@code [[:alpha:]]}, which Java reads as a set of
   * characters; the {@code U} flag: ungreedy in RE2, Unicode classes in Java; {@code \v}: a
   * vertical tab in RE2, any vertical whitespace in Java; {@code &&} and {@code [} inside a class:
   * characters in RE2, intersection and nested class in Java).
   */
  static Shape regex() {
    return (value, path, problems) -> {
      if (!value.isTextual()) {
        problems.invalid(path, value, "a regular expression");
        return;
      }
      String regex = value.textValue();
      // RE2 is the contract (re2j judges it); then it must mean the same in Java and compile
      // there as the proxy compiles it.
      try {
        com.google.re2j.Pattern.compile(regex);
      } catch (com.google.re2j.PatternSyntaxException e) {
        problems.invalid(path, value, "RE2 syntax, as Istio takes it; " + e.getDescription()
            + (e.getPattern().isEmpty() ? "" : ": `" + e.getPattern() + "`"));
        return;
      }
      String differs = readDifferently(regex);
      if (differs != null) {
        problems.invalid(path, value, differs);
        return;
      }
      try {
        Re2Regex.compile(regex);
      } catch (PatternSyntaxException e) {
        problems.invalid(path, value,
            "a valid regular expression; " + e.getDescription() + " at index " + e.getIndex());
      }
    };
  }

  /** What each ASCII POSIX class holds, as a bracket's contents both RE2 and Java read alike. */
  static final java.util.Map<String, String> POSIX_SPELLED = java.util.Map.ofEntries(
      java.util.Map.entry("alpha", "A-Za-z"), java.util.Map.entry("digit", "0-9"),
      java.util.Map.entry("alnum", "0-9A-Za-z"), java.util.Map.entry("upper", "A-Z"),
      java.util.Map.entry("lower", "a-z"), java.util.Map.entry("xdigit", "0-9A-Fa-f"),
      java.util.Map.entry("word", "0-9A-Za-z_"), java.util.Map.entry("blank", "\\t "),
      java.util.Map.entry("space", "\\t\\n\\x0B\\f\\r "),
      java.util.Map.entry("cntrl", "\\x00-\\x1F\\x7F"), java.util.Map.entry("print", "\\x20-\\x7E"),
      java.util.Map.entry("graph", "\\x21-\\x7E"), java.util.Map.entry("ascii", "\\x00-\\x7F"),
      java.util.Map.entry("punct", "!-/:-@\\[-`{-~"));

  private static final Pattern POSIX_CLASS = Pattern.compile("\\[:\\^?[a-z]+:\\]");
  private static final Pattern U_FLAG = Pattern.compile("\\(\\?[a-zA-Z]*U[a-zA-Z-]*[:)]");

  /** What to write instead of a construct RE2 and Java both accept and read differently, or null. */
  static String readDifferently(String regex) {
    // Escaped characters (\[, \( or \v) are skipped: only what is left can be such a construct.
    StringBuilder unescaped = new StringBuilder();
    boolean vertical = false;
    for (int i = 0; i < regex.length(); i++) {
      char c = regex.charAt(i);
      if (c == '\\' && i + 1 < regex.length()) {
        vertical |= regex.charAt(i + 1) == 'v';
        unescaped.append("__");
        i++;
      } else {
        unescaped.append(c);
      }
    }
    java.util.regex.Matcher posix = POSIX_CLASS.matcher(unescaped);
    if (posix.find()) {
      String name = posix.group().replaceAll("[\\[\\]:^]", "");
      String spelled = POSIX_SPELLED.get(name);
      // Java's \p{Alpha} is no help: RE2 refuses it. The characters, spelled out, read the same.
      return "no POSIX class such as " + posix.group() + ", which RE2 and Java read differently; "
          + (spelled == null ? "spell its characters out in the brackets"
              : "write " + spelled + " in its place");
    }
    String inClass = classSyntaxJavaReadsOtherwise(unescaped);
    if (inClass != null) {
      return "no " + inClass + " inside a character class, which Java reads as "
          + (inClass.equals("&&") ? "an intersection" : "a nested class")
          + " and RE2 as characters; escape it (" + (inClass.equals("&&") ? "\\&\\&" : "\\[") + ")";
    }
    if (U_FLAG.matcher(unescaped).find()) {
      return "no U flag, which RE2 reads as ungreedy and Java as Unicode classes";
    }
    if (vertical) {
      return "no \\v, which RE2 reads as a vertical tab and Java as any vertical whitespace; write \\x0B";
    }
    return null;
  }

  /**
   * {@code &&} or {@code [} inside a character class of {@code unescaped} (escapes already
   * blanked), which Java reads as an intersection or a nested class and RE2 as characters; or null.
   */
  private static String classSyntaxJavaReadsOtherwise(CharSequence unescaped) {
    boolean inClass = false;
    for (int i = 0; i < unescaped.length(); i++) {
      char c = unescaped.charAt(i);
      if (!inClass) {
        if (c == '[') {
          inClass = true;
          // A ']' first in a class (after an optional '^') is one of its characters.
          if (i + 1 < unescaped.length() && unescaped.charAt(i + 1) == '^') {
            i++;
          }
          if (i + 1 < unescaped.length() && unescaped.charAt(i + 1) == ']') {
            i++;
          }
        }
      } else if (c == ']') {
        inClass = false;
      } else if (c == '[') {
        return "[";
      } else if (c == '&' && i + 1 < unescaped.length() && unescaped.charAt(i + 1) == '&') {
        return "&&";
      }
    }
    return null;
  }

  /** A DNS-1123 label: a Kubernetes name or namespace. */
  static Shape dnsLabel() {
    return text(DNS_LABEL_EXPECTED, Shapes::isDnsLabel);
  }

  /** A service host without wildcard: {@code reviews}, {@code reviews.prod.svc.cluster.local}. */
  static Shape serviceHost() {
    return notAnIpAddress(HOST_EXPECTED, "it names no service; give it a ServiceEntry"
        + " (endpoints: [{address: ...}]) and use that entry's host",
        lowerCase(text(HOST_EXPECTED, s -> isHost(s, false))));
  }

  /** A host that may start with a wildcard: {@code *.example.com}, or {@code *} alone. */
  static Shape wildcardHost() {
    return notAnIpAddress(WILDCARD_HOST_EXPECTED, "Meshlog's proxies route by the name a client"
        + " asks for, and Istio takes an IP address as a host only for a Gateway's traffic, which"
        + " Meshlog routes by name too",
        lowerCase(text(WILDCARD_HOST_EXPECTED, s -> isHost(s, true))));
  }

  /**
   * {@code host}, with its own error for an IP address, which would otherwise read as a DNS name
   * gone wrong: {@code 10.0.0.5 (expected: a DNS name ...; not an IP address: <why>)}.
   */
  private static Shape notAnIpAddress(String expected, String why, Shape host) {
    return (value, path, problems) -> {
      if (value.isTextual() && isIpAddress(value.textValue())) {
        problems.invalid(path, value, expected + "; not an IP address: " + why);
      } else {
        host.check(value, path, problems);
      }
    };
  }

  /**
   * {@code host}, and in lower case: hosts are matched as written (a service's host is its
   * lower-case name), so {@code Reviews} would be a host no service has, and route nothing.
   */
  private static Shape lowerCase(Shape host) {
    return (value, path, problems) -> {
      int before = problems.size();
      host.check(value, path, problems);
      if (problems.size() == before && value.isTextual()
          && !value.textValue().equals(value.textValue().toLowerCase(java.util.Locale.ROOT))) {
        problems.invalid(path, value, "lower case, " + value.textValue().toLowerCase(java.util.Locale.ROOT)
            + " (hosts are matched as written, and services' hosts are lower case)");
      }
    };
  }

  /**
   * Istio's {@code exportTo}, as far as Meshlog has it: {@code ["*"]}, every namespace, which is
   * Istio's default and what Meshlog does with every resource (it has no per-namespace
   * visibility); any other list is not supported.
   */
  static Shape exportToEveryNamespace() {
    return (value, path, problems) -> {
      boolean everyNamespace = value.isArray() && !value.isEmpty();
      for (JsonNode item : value) {
        everyNamespace &= item.isTextual() && item.textValue().equals("*");
      }
      if (!everyNamespace) {
        problems.add(path, Problems.text(value), "not supported (except [\"*\"], every namespace, "
            + "Istio's default: Meshlog has no per-namespace visibility)");
      }
    };
  }

  /** An IPv4 or IPv6 address. */
  static Shape ipAddress() {
    return text("an IP address", Shapes::isIpAddress);
  }

  /** An IP address or a CIDR block: {@code 10.0.0.1}, {@code 10.0.0.0/16}, {@code 2001:db8::/32}. */
  static Shape ipOrCidr() {
    return text("an IP address or CIDR block such as 10.0.0.0/16", Shapes::isIpOrCidr);
  }

  /** An http or https URL. */
  static Shape httpUrl() {
    return text("an http or https URL", Shapes::isHttpUrl);
  }

  /** A port number written as a string, as AuthorizationPolicy does: {@code "8080"}. */
  static Shape portString() {
    return text("a port number 1..65535 as a string, such as \"8080\"", Shapes::isPortNumber);
  }

  /** A map key that is a port number: {@code 8080}. */
  static Shape portKey() {
    return text("a port number 1..65535", Shapes::isPortNumber);
  }

  /**
   * A host qualified by the namespace it is imported from, as Gateway servers and Sidecar egress
   * listeners write them: {@code prod/reviews.prod.svc.cluster.local}, {@code ./*}, {@code * /*}
   * (without the space); the namespace may be left out only when {@code namespaceRequired} is false.
   */
  static Shape namespacedHost(boolean namespaceRequired) {
    String expected = (namespaceRequired ? "namespace/host" : "host or namespace/host")
        + ", where namespace is a name, . or * and host is a DNS name, *.suffix or *";
    return lowerCase(text(expected, s -> {
      int slash = s.indexOf('/');
      if (slash < 0) {
        return !namespaceRequired && isHost(s, true);
      }
      String namespace = s.substring(0, slash);
      boolean namespaceOk = namespace.equals("*") || namespace.equals(".") || isDnsLabel(namespace);
      return namespaceOk && isHost(s.substring(slash + 1), true);
    }));
  }

  /** Kubernetes labels: a map of label names to label values, all strings. */
  static Shape labels() {
    return mapOf(
        text("a label name: letters, digits, '-', '_' and '.', at most 63 characters, "
            + "optionally after a DNS prefix and '/'", Shapes::isLabelKey),
        text("a label value: at most 63 letters, digits, '-', '_' or '.', "
            + "starting and ending with a letter or digit", Shapes::isLabelValue));
  }

  /** Kubernetes labels, at least one. */
  static Shape nonEmptyLabels() {
    return nonEmpty(labels(), "at least one label");
  }

  /** A list whose every item has {@code item}'s shape. */
  static Shape list(Shape item) {
    return (value, path, problems) -> {
      if (!value.isArray()) {
        problems.invalid(path, value, "a list");
        return;
      }
      for (int i = 0; i < value.size(); i++) {
        item.check(value.get(i), Problems.index(path, i), problems);
      }
    };
  }

  /** A list with at least one item, each of {@code item}'s shape. */
  static Shape nonEmptyList(Shape item) {
    return nonEmpty(list(item), "at least one item");
  }

  /** A map from any string to values of {@code value}'s shape. */
  static Shape mapOf(Shape value) {
    return mapOf((key, path, problems) -> { }, value);
  }

  /**
   * A map whose keys (checked as strings) have {@code key}'s shape and whose values have
   * {@code value}'s shape. Entries are addressed as {@code path[key]}.
   */
  static Shape mapOf(Shape key, Shape value) {
    return (node, path, problems) -> {
      if (!node.isObject()) {
        problems.invalid(path, node, "a map");
        return;
      }
      for (Map.Entry<String, JsonNode> entry : node.properties()) {
        String at = Problems.key(path, entry.getKey());
        int before = problems.size();
        key.check(TextNode.valueOf(entry.getKey()), at, problems);
        if (problems.size() == before) {
          value.check(entry.getValue(), at, problems);
        }
      }
    };
  }

  /** {@code shape}, and the list or map must not be empty. */
  static Shape nonEmpty(Shape shape, String expected) {
    return (value, path, problems) -> {
      if (value.isContainerNode() && value.isEmpty()) {
        problems.invalid(path, value, expected);
      } else {
        shape.check(value, path, problems);
      }
    };
  }

  /** {@code shape} applied to each item of a comma-separated string, each item addressed by the whole field. */
  static Shape commaSeparated(Shape item) {
    return (value, path, problems) -> {
      if (!value.isTextual()) {
        problems.invalid(path, value, "a comma-separated list");
        return;
      }
      for (String part : value.textValue().split(",", -1)) {
        item.check(TextNode.valueOf(part.trim()), path, problems);
      }
    };
  }

  static boolean isPortNumber(String s) {
    return s.matches("\\d{1,5}") && Integer.parseInt(s) >= 1 && Integer.parseInt(s) <= 65535;
  }

  static boolean isDnsLabel(String s) {
    return s.length() <= 63 && DNS_LABEL.matcher(s).matches();
  }

  static boolean isHost(String host, boolean wildcard) {
    String name = host;
    if (wildcard && name.equals("*")) {
      return true;
    }
    if (wildcard && name.startsWith("*.")) {
      name = name.substring(2);
    }
    if (name.isEmpty() || name.length() > 253) {
      return false;
    }
    String[] labels = name.split("\\.", -1);
    for (String label : labels) {
      if (label.length() > 63 || !DNS_LABEL_ANY_CASE.matcher(label).matches()) {
        return false;
      }
    }
    // RFC 1123 2.1: the last label is never all digits, so 300.1.1.1 is a bad address, not a name.
    return !labels[labels.length - 1].chars().allMatch(Character::isDigit);
  }

  static boolean isIpAddress(String s) {
    if (IPV4.matcher(s).matches()) {
      return true;
    }
    // A string with a colon is parsed as an IPv6 literal and never looked up in DNS.
    if (!s.contains(":") || s.contains("[") || s.contains("%")) {
      return false;
    }
    try {
      InetAddress.getByName(s);
      return true;
    } catch (UnknownHostException e) {
      return false;
    }
  }

  static boolean isIpOrCidr(String s) {
    int slash = s.indexOf('/');
    if (slash < 0) {
      return isIpAddress(s);
    }
    String address = s.substring(0, slash);
    String bits = s.substring(slash + 1);
    if (!isIpAddress(address) || !bits.matches("\\d{1,3}")) {
      return false;
    }
    int maxBits = address.contains(":") ? 128 : 32;
    return Integer.parseInt(bits) <= maxBits;
  }

  private static boolean isHttpUrl(String s) {
    try {
      URI uri = new URI(s);
      return ("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) && uri.getHost() != null;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private static boolean isDuration(String s) {
    try {
      Durations.parse(s);
      return true;
    } catch (IllegalArgumentException | ArithmeticException e) {
      return false;
    }
  }

  private static boolean isLabelKey(String key) {
    int slash = key.lastIndexOf('/');
    String name = slash < 0 ? key : key.substring(slash + 1);
    if (slash >= 0) {
      String prefix = key.substring(0, slash);
      if (prefix.isEmpty() || prefix.length() > 253) {
        return false;
      }
      for (String label : prefix.split("\\.", -1)) {
        if (!isDnsLabel(label)) {
          return false;
        }
      }
    }
    return name.length() <= 63 && LABEL_NAME.matcher(name).matches();
  }

  private static boolean isLabelValue(String value) {
    return value.isEmpty() || (value.length() <= 63 && LABEL_NAME.matcher(value).matches());
  }

  private static String format(double d) {
    return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
  }

  /**
   * One of a fixed set of values; values Istio has but Meshlog does not support are reported as
   * such rather than as unknown.
   */
  static final class EnumShape implements Shape {
    private final List<String> values;
    private final Set<String> notSupported;

    private EnumShape(List<String> values, Set<String> notSupported) {
      this.values = values;
      this.notSupported = notSupported;
    }

    /** Values Istio accepts here that Meshlog does not. */
    EnumShape notSupported(String... values) {
      Set<String> all = new LinkedHashSet<>(notSupported);
      all.addAll(List.of(values));
      return new EnumShape(this.values, Set.copyOf(all));
    }

    @Override
    public void check(JsonNode value, String path, Problems problems) {
      if (value.isTextual() && values.contains(value.textValue())) {
        return;
      }
      String expected = "(expected one of: " + String.join(", ", values) + ")";
      if (value.isTextual() && notSupported.contains(value.textValue())) {
        problems.add(path, value.textValue(), value.textValue() + " not supported " + expected);
      } else {
        problems.add(path, Problems.text(value), Problems.text(value) + " " + expected);
      }
    }
  }
}
