package dev.meshlog.compose;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The examples' command line as agreed (issue 6) before their main existed on this branch:
 * {@code <app> [--port N] [--bind ADDR] [--version V] [--sidecar H:P]}, and for {@code traffic}
 * {@code --target URL --rate RPS --users a,b}; each option also as an environment variable.
 * Used for the examples' image only while its jar holds no {@code ExamplesMain}.
 */
final class ExamplesContract implements ProcessModel {

  static final Set<String> APPS = Set.of("productpage", "details", "reviews", "ratings", "traffic");

  /** Option → its environment variable (null: none) and default. */
  private record Option(String env, String defaultValue, boolean trafficOnly) {}

  private static final Map<String, Option> OPTIONS = Map.of(
      "--port", new Option("EXAMPLE_PORT", "9080", false),
      "--bind", new Option("EXAMPLE_BIND", "127.0.0.1", false),
      "--version", new Option("EXAMPLE_VERSION", "v1", false),
      "--sidecar", new Option("MESHLOG_SIDECAR", "127.0.0.1:15001", false),
      "--target", new Option("TRAFFIC_TARGET", null, true),
      "--rate", new Option("TRAFFIC_RATE", "2", true),
      "--users", new Option(null, null, true));

  @Override
  public Parsed parse(List<String> args, Map<String, String> env) {
    if (args.isEmpty() || !APPS.contains(args.get(0))) {
      throw new IllegalArgumentException("examples: first argument " + (args.isEmpty() ? "missing"
          : args.get(0)) + " (expected one of " + APPS + ")");
    }
    String app = args.get(0);
    Map<String, String> values = new LinkedHashMap<>();
    OPTIONS.forEach((name, option) -> {
      if (option.defaultValue() != null) {
        values.put(name, option.defaultValue());
      }
    });
    for (Map.Entry<String, String> variable : env.entrySet()) {
      String name = OPTIONS.entrySet().stream()
          .filter(o -> variable.getKey().equals(o.getValue().env())).map(Map.Entry::getKey)
          .findFirst().orElseThrow(() -> new IllegalArgumentException(variable.getKey()
              + " is not read by the examples (contract)"));
      values.put(name, variable.getValue());
    }
    List<String> rest = new ArrayList<>(args.subList(1, args.size()));
    for (int i = 0; i < rest.size(); i++) {
      String flag = rest.get(i);
      String value;
      if (flag.contains("=")) {
        value = flag.substring(flag.indexOf('=') + 1);
        flag = flag.substring(0, flag.indexOf('='));
      } else if (i + 1 < rest.size()) {
        value = rest.get(++i);
      } else {
        throw new IllegalArgumentException("examples: " + flag + " needs a value");
      }
      if (!OPTIONS.containsKey(flag)) {
        throw new IllegalArgumentException("examples: unknown option " + flag);
      }
      values.put(flag, value);
    }
    for (String name : values.keySet()) {
      if (OPTIONS.get(name).trafficOnly() && !app.equals("traffic")
          && !values.get(name).equals(OPTIONS.get(name).defaultValue())) {
        throw new IllegalArgumentException("examples: " + name + " is for traffic only, not " + app);
      }
    }
    int port = number(values.get("--port"), "--port");
    number(values.get("--rate"), "--rate");
    if (!Set.of("v1", "v2", "v3").contains(values.get("--version"))) {
      throw new IllegalArgumentException("examples: --version " + values.get("--version")
          + " (expected v1, v2 or v3)");
    }
    if (app.equals("traffic") && values.get("--target") == null) {
      throw new IllegalArgumentException("examples: traffic needs --target (or TRAFFIC_TARGET)");
    }
    return new Parsed() {
      @Override
      public String value(String option) {
        return values.get(option);
      }

      @Override
      public Set<Integer> listeningPorts() {
        return port > 0 ? Set.of(port) : Set.of();
      }
    };
  }

  private static int number(String value, String option) {
    try {
      int n = Integer.parseInt(value);
      if (n < 0) {
        throw new NumberFormatException();
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("examples: " + option + " " + value
          + " (expected: a number >= 0)");
    }
  }
}
