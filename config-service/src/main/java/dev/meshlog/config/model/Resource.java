package dev.meshlog.config.model;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A user-facing config resource as the user wrote it (Istio YAML or JSON): apiVersion, kind,
 * metadata and spec. Immutable once built; {@link #spec()} must not be modified.
 *
 * @param apiVersion e.g. {@code networking.istio.io/v1}
 * @param kind e.g. {@code VirtualService}
 * @param namespace metadata.namespace, {@code default} when absent
 * @param name metadata.name
 * @param labels metadata.labels
 * @param spec the spec object ({@code {}} when absent)
 */
public record Resource(String apiVersion, String kind, String namespace, String name,
                       Map<String, String> labels, ObjectNode spec) {

  private static final ObjectMapper CANONICAL = new ObjectMapper()
      .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

  public Resource {
    Objects.requireNonNull(apiVersion, "apiVersion");
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
    labels = Map.copyOf(labels == null ? Map.of() : labels);
    spec = spec == null ? JsonNodeFactory.instance.objectNode() : spec.deepCopy();
  }

  /** {@code Kind/namespace/name}. */
  public ResourceId id() {
    return new ResourceId(kind, namespace, name);
  }

  /** The whole resource as a JSON object: apiVersion, kind, metadata (name, namespace, labels), spec. */
  public ObjectNode toDocument() {
    ObjectNode doc = JsonNodeFactory.instance.objectNode();
    doc.put("apiVersion", apiVersion);
    doc.put("kind", kind);
    ObjectNode metadata = doc.putObject("metadata");
    metadata.put("name", name);
    metadata.put("namespace", namespace);
    if (!labels.isEmpty()) {
      ObjectNode l = metadata.putObject("labels");
      new TreeMap<>(labels).forEach(l::put);
    }
    doc.set("spec", spec.deepCopy());
    return doc;
  }

  /** JSON of {@link #toDocument()} with object keys sorted: equal resources give equal text. */
  public String canonicalJson() {
    try {
      return CANONICAL.writeValueAsString(sorted(toDocument()));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** SHA-256 (hex) of {@link #canonicalJson()}. */
  public String sha256() {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(digest.digest(canonicalJson().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Rebuilds a resource from a document written by {@link #toDocument()} (as stored in config
   * events). The document is trusted: it was validated when accepted.
   */
  public static Resource fromDocument(JsonNode doc) {
    JsonNode metadata = doc.path("metadata");
    Map<String, String> labels = new TreeMap<>();
    metadata.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    JsonNode spec = doc.get("spec");
    return new Resource(doc.path("apiVersion").asText(), doc.path("kind").asText(),
        metadata.path("namespace").asText("default"), metadata.path("name").asText(), labels,
        spec instanceof ObjectNode o ? o : null);
  }

  /** Parses a JSON document written by {@link #canonicalJson()}. */
  public static Resource fromJson(String json) {
    try {
      return fromDocument(CANONICAL.readTree(json));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a resource document: " + e.getOriginalMessage(), e);
    }
  }

  private static JsonNode sorted(JsonNode node) {
    if (node.isObject()) {
      ObjectNode out = JsonNodeFactory.instance.objectNode();
      TreeMap<String, JsonNode> fields = new TreeMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        fields.put(e.getKey(), sorted(e.getValue()));
      }
      fields.forEach(out::set);
      return out;
    }
    if (node.isArray()) {
      var out = JsonNodeFactory.instance.arrayNode();
      node.forEach(n -> out.add(sorted(n)));
      return out;
    }
    return node;
  }
}
