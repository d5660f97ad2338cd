package dev.meshlog.compose;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

/**
 * Compose files read as {@code docker compose -f a -f b} merges them (mappings merged key by
 * key, anything else replaced), with {@code ${VAR:-default}} read as its default: what runs when
 * the user sets no variable.
 */
final class ComposeFile {

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern VARIABLE = Pattern.compile("\\$\\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?}");

  final ObjectNode root;

  private ComposeFile(ObjectNode root) {
    this.root = root;
  }

  static ComposeFile read(Path... files) {
    ObjectNode merged = YAML.createObjectNode();
    for (Path file : files) {
      try {
        merge(merged, (ObjectNode) YAML.readTree(file.toFile()));
      } catch (IOException e) {
        throw new UncheckedIOException(file + ": " + e.getMessage(), e);
      }
    }
    return new ComposeFile(merged);
  }

  private static void merge(ObjectNode into, ObjectNode from) {
    for (Iterator<Map.Entry<String, JsonNode>> it = from.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      JsonNode existing = into.get(field.getKey());
      if (existing instanceof ObjectNode target && field.getValue() instanceof ObjectNode source) {
        merge(target, source);
      } else {
        into.set(field.getKey(), field.getValue().deepCopy());
      }
    }
  }

  /** The services by name. */
  Map<String, JsonNode> services() {
    Map<String, JsonNode> services = new LinkedHashMap<>();
    root.path("services").fields().forEachRemaining(e -> services.put(e.getKey(), e.getValue()));
    return services;
  }

  JsonNode service(String name) {
    JsonNode service = root.path("services").get(name);
    if (service == null) {
      throw new IllegalArgumentException("no service " + name);
    }
    return service;
  }

  /** The service's image with variables at their defaults. */
  String image(String service) {
    return resolve(service(service).path("image").asText());
  }

  /** The command, which must be a list (a string would be split by a shell we do not have). */
  List<String> command(String service) {
    JsonNode command = service(service).get("command");
    List<String> args = new ArrayList<>();
    if (command == null) {
      return args;
    }
    if (!command.isArray()) {
      throw new IllegalArgumentException(service + ": command must be a list, not " + command);
    }
    command.forEach(a -> args.add(resolve(a.asText())));
    return args;
  }

  /** The environment, which must be a mapping, with variables at their defaults. */
  Map<String, String> environment(String service) {
    return environment(service, true);
  }

  /** The environment as written ({@code resolve} false) or as it runs. */
  Map<String, String> environment(String service, boolean resolve) {
    JsonNode env = service(service).get("environment");
    Map<String, String> out = new LinkedHashMap<>();
    if (env == null) {
      return out;
    }
    if (!env.isObject()) {
      throw new IllegalArgumentException(service + ": environment must be a mapping");
    }
    env.fields().forEachRemaining(e -> out.put(e.getKey(),
        resolve ? resolve(e.getValue().asText()) : e.getValue().asText()));
    return out;
  }

  /** The service whose network namespace this one runs in (itself unless network_mode service:X). */
  String networkOwner(String service) {
    String mode = service(service).path("network_mode").asText("");
    return mode.startsWith("service:") ? mode.substring("service:".length()) : service;
  }

  /** Names in depends_on, with their conditions. */
  Map<String, String> dependsOn(String service) {
    Map<String, String> out = new LinkedHashMap<>();
    JsonNode deps = service(service).path("depends_on");
    if (deps.isArray()) {
      deps.forEach(d -> out.put(d.asText(), "service_started"));
    } else {
      deps.fields().forEachRemaining(e -> out.put(e.getKey(),
          e.getValue().path("condition").asText("service_started")));
    }
    return out;
  }

  List<String> strings(String service, String field) {
    List<String> out = new ArrayList<>();
    service(service).path(field).forEach(v -> out.add(resolve(v.asText())));
    return out;
  }

  /** {@code ${VAR:-default}} as its default; a variable without a default is an error. */
  static String resolve(String text) {
    Matcher m = VARIABLE.matcher(text);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      if (m.group(2) == null) {
        throw new IllegalArgumentException(text + ": ${" + m.group(1) + "} has no default "
            + "(write ${" + m.group(1) + ":-default})");
      }
      m.appendReplacement(out, Matcher.quoteReplacement(m.group(3)));
    }
    m.appendTail(out);
    return out.toString();
  }
}
