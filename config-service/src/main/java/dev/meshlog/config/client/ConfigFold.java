package dev.meshlog.config.client;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.SortedMap;
import java.util.TreeMap;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;

/**
 * Folds the audit log ({@code mesh.config.events}) into current resources and per-resource
 * histories. Pure and single-threaded: feed it events in log order with {@link #accept}.
 *
 * <p>UNCHANGED events (a re-apply of the current spec) are skipped: they make no revision. Within
 * a resource the highest revision wins, so events of different resources may arrive interleaved
 * in any order.
 */
public final class ConfigFold {

  private final boolean keepHistory;
  private final Map<ResourceId, Long> latestRevisions = new HashMap<>();
  private final SortedMap<ResourceId, CurrentResource> existing = new TreeMap<>();
  private final Map<ResourceId, NavigableMap<Long, Revision>> histories = new HashMap<>();

  /** A fold of current resources and their histories. */
  public ConfigFold() {
    this(true);
  }

  /** A fold that keeps histories only when {@code keepHistory}. */
  public ConfigFold(boolean keepHistory) {
    this.keepHistory = keepHistory;
  }

  /** Takes in one event; null (a tombstone, never written to the audit log) is ignored. */
  public void accept(ConfigEvent event) {
    if (event == null || event.getChangeType() == ChangeType.UNCHANGED
        || event.getChangeType() == ChangeType.UNSPECIFIED) {
      return;
    }
    ResourceId id = ConfigCommands.id(event.getResource());
    Long previous = latestRevisions.get(id);
    if (previous == null || previous < event.getRevision()) {
      latestRevisions.put(id, event.getRevision());
      if (event.getChangeType() == ChangeType.DELETED || event.getDocument() == null) {
        existing.remove(id);
      } else {
        existing.put(id, new CurrentResource(id, event.getRevision(),
            Resource.fromJson(event.getDocument()), event));
      }
    }
    if (keepHistory) {
      histories.computeIfAbsent(id, k -> new TreeMap<>()).put(event.getRevision(), Revision.of(event));
    }
  }

  /** Every resource that exists now (its latest revision is not a deletion), sorted by id. */
  public SortedMap<ResourceId, CurrentResource> current() {
    return Collections.unmodifiableSortedMap(new TreeMap<>(existing));
  }

  /** The resource {@code id} as it is now, if it exists. */
  public Optional<CurrentResource> current(ResourceId id) {
    return Optional.ofNullable(existing.get(id));
  }

  /** Every revision of {@code id}, oldest first; empty when it never existed. */
  public List<Revision> history(ResourceId id) {
    NavigableMap<Long, Revision> history = histories.get(id);
    return history == null ? List.of() : List.copyOf(history.values());
  }

  /** Every resource that ever had a revision, deleted ones included, sorted. */
  public List<ResourceId> known() {
    List<ResourceId> ids = new ArrayList<>(latestRevisions.keySet());
    Collections.sort(ids);
    return ids;
  }
}
