package dev.meshlog.config.model;

import java.util.Objects;

/**
 * Identity of a config resource, {@code Kind/namespace/name}: the Kafka key of its commands,
 * events and rejections.
 */
public record ResourceId(String kind, String namespace, String name) implements Comparable<ResourceId> {

  public ResourceId {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** The Kafka key: {@code Kind/namespace/name}. */
  public String key() {
    return kind + "/" + namespace + "/" + name;
  }

  /**
   * Parses a key written by {@link #key()}.
   *
   * @throws IllegalArgumentException if it does not have three non-empty parts
   */
  public static ResourceId parse(String key) {
    String[] parts = key == null ? new String[0] : key.split("/", -1);
    if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty() || parts[2].isEmpty()) {
      throw new IllegalArgumentException("resource id: " + key + " (expected: Kind/namespace/name)");
    }
    return new ResourceId(parts[0], parts[1], parts[2]);
  }

  @Override
  public int compareTo(ResourceId other) {
    return key().compareTo(other.key());
  }

  @Override
  public String toString() {
    return key();
  }
}
