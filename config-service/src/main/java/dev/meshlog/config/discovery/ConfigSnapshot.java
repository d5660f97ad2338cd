package dev.meshlog.config.discovery;

import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;

/**
 * The config resources in force at one point of the config log, each with its revision: an
 * immutable value from which a snapshot with one resource changed is derived by copy-on-write.
 *
 * <p>Resources of one kind are kept ordered by namespace, then name; that is also the order in
 * which the compiler applies VirtualServices (Istio orders them by creation time, which the
 * config log does not record per resource).
 */
public final class ConfigSnapshot {

  /** One resource and the revision at which it was last applied. */
  public record Entry(Resource resource, long revision) {

    public Entry {
      Objects.requireNonNull(resource, "resource");
    }

    /** {@code Kind/namespace/name} of the resource. */
    public ResourceId id() {
      return resource.id();
    }
  }

  /** The snapshot with no resources. */
  public static final ConfigSnapshot EMPTY = new ConfigSnapshot(new EnumMap<>(Kind.class));

  private static final Comparator<ResourceId> BY_NAMESPACE_AND_NAME =
      Comparator.comparing(ResourceId::namespace).thenComparing(ResourceId::name);

  /** Per kind, an unmodifiable map ordered by namespace then name; kinds without resources absent. */
  private final Map<Kind, NavigableMap<ResourceId, Entry>> byKind;

  private ConfigSnapshot(Map<Kind, NavigableMap<ResourceId, Entry>> byKind) {
    this.byKind = byKind;
  }

  /** A snapshot holding {@code entries} (a later entry with the same id replaces an earlier one). */
  public static ConfigSnapshot of(Collection<Entry> entries) {
    ConfigSnapshot snapshot = EMPTY;
    for (Entry entry : entries) {
      snapshot = snapshot.with(entry.resource(), entry.revision());
    }
    return snapshot;
  }

  /**
   * This snapshot with {@code resource} added or replaced at {@code revision}.
   *
   * @throws IllegalArgumentException if the resource's kind is not one Meshlog knows
   */
  public ConfigSnapshot with(Resource resource, long revision) {
    Kind kind = kindOf(resource.id());
    NavigableMap<ResourceId, Entry> copy = new TreeMap<>(BY_NAMESPACE_AND_NAME);
    copy.putAll(byKind.getOrDefault(kind, Collections.emptyNavigableMap()));
    copy.put(resource.id(), new Entry(resource, revision));
    return replacing(kind, copy);
  }

  /** This snapshot without the resource {@code id} (the same snapshot if it is absent). */
  public ConfigSnapshot without(ResourceId id) {
    Kind kind = kindOf(id);
    NavigableMap<ResourceId, Entry> current = byKind.get(kind);
    if (current == null || !current.containsKey(id)) {
      return this;
    }
    NavigableMap<ResourceId, Entry> copy = new TreeMap<>(current);
    copy.remove(id);
    return replacing(kind, copy);
  }

  /** The resource {@code id} with its revision, if present. */
  public Optional<Entry> get(ResourceId id) {
    return Kind.byName(id.kind()).map(byKind::get).map(m -> m.get(id));
  }

  /** The resource {@code id}, if present. */
  public Optional<Resource> resource(ResourceId id) {
    return get(id).map(Entry::resource);
  }

  /** The resources of {@code kind}, ordered by namespace, then name. */
  public Collection<Entry> ofKind(Kind kind) {
    NavigableMap<ResourceId, Entry> entries = byKind.get(kind);
    return entries == null ? List.of() : entries.values();
  }

  /** The resources of {@code kind} in {@code namespace}, ordered by name. */
  public List<Entry> ofKind(Kind kind, String namespace) {
    return ofKind(kind).stream().filter(e -> e.resource().namespace().equals(namespace)).toList();
  }

  /** The number of resources. */
  public int size() {
    return byKind.values().stream().mapToInt(Map::size).sum();
  }

  private ConfigSnapshot replacing(Kind kind, NavigableMap<ResourceId, Entry> entries) {
    Map<Kind, NavigableMap<ResourceId, Entry>> next = new EnumMap<>(Kind.class);
    next.putAll(byKind);
    if (entries.isEmpty()) {
      next.remove(kind);
    } else {
      next.put(kind, Collections.unmodifiableNavigableMap(entries));
    }
    return new ConfigSnapshot(next);
  }

  private static Kind kindOf(ResourceId id) {
    return Kind.byName(id.kind()).orElseThrow(() -> new IllegalArgumentException(
        "kind: " + id.kind() + " of " + id + " (expected one of the kinds in " + Kind.class.getSimpleName() + ")"));
  }

  @Override
  public String toString() {
    return "ConfigSnapshot(" + size() + " resources)";
  }
}
