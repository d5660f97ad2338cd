package dev.meshlog.config.controlplane;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.schemas.AvroSerde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The control plane's config state and published-view stamps in one changelogged store
 * ({@link ControlPlaneTopology#REVISIONS_STORE}), so that a change's transaction writes one
 * changelog partition instead of two. Revisions are keyed {@code <resource id>@<revision, 19
 * digits>}, view stamps {@code ~view/<host>}, and the views held back for size {@code
 * ~hold/<host>} (each a {@link ViewHold}, as on {@code mesh.discovery.holds}): '~' sorts after
 * every resource id (ids start with a kind's letter), so the revisions come first and a scan of
 * them stops at the first key that starts with it. The stamps of a control plane that ran before this store held them are read from the
 * old {@link ControlPlaneTopology#VIEWS_STORE} until {@link #migrateLegacyViews()} moves them.
 */
final class ControlPlaneState {

  /** Prefix of a view stamp's key; sorts after every resource id. */
  static final String VIEW_PREFIX = "~view/";
  /** Prefix of a held view's key; sorts after every resource id (and before the stamps). */
  static final String HOLD_PREFIX = "~hold/";
  /** First character of every key that is not a revision. */
  private static final char NOT_A_REVISION = '~';
  private static final AvroSerde<ViewHold> HOLDS = AvroSerde.of(ViewHold.class);
  private static final AvroSerde<ConfigEvent> EVENTS = AvroSerde.of(ConfigEvent.class);
  private static final org.apache.kafka.common.serialization.Serde<ViewStamp> STAMPS =
      ViewStamp.serde();

  private final KeyValueStore<String, byte[]> store;
  private final KeyValueStore<String, ViewStamp> legacyViews;
  private final String storeName;
  /**
   * Each resource's latest revision number (deletions included), filled by
   * {@link #currentResources()} and kept in step by {@link #putRevision}: {@link #latest} then
   * reads one key instead of opening a reverse range per command. Rebuilt with this object
   * whenever the task (re)starts, so it never outlives the store it mirrors.
   */
  private Map<String, Long> latestRevisions;

  ControlPlaneState(KeyValueStore<String, byte[]> store, KeyValueStore<String, ViewStamp> legacyViews) {
    this.store = store;
    this.legacyViews = legacyViews;
    this.storeName = store.name();
  }

  static String viewKey(String host) {
    return VIEW_PREFIX + host;
  }

  // ---- revisions ------------------------------------------------------------------------------

  ConfigEvent revision(String resourceKey, long revision) {
    return event(store.get(ControlPlaneTopology.revisionKey(resourceKey, revision)));
  }

  /** The resource's latest event (its deletion, if it was deleted last), or null if none. */
  ConfigEvent latest(String resourceKey) {
    if (latestRevisions != null) {
      Long revision = latestRevisions.get(resourceKey);
      return revision == null ? null : revision(resourceKey, revision);
    }
    String from = ControlPlaneTopology.revisionKey(resourceKey, 0);
    String to = ControlPlaneTopology.revisionKey(resourceKey, Long.MAX_VALUE);
    try (KeyValueIterator<String, byte[]> it = store.reverseRange(from, to)) {
      return it.hasNext() ? event(it.next().value) : null;
    }
  }

  void putRevision(String resourceKey, ConfigEvent event) {
    store.put(ControlPlaneTopology.revisionKey(resourceKey, event.getRevision()), EVENTS.encode(event));
    if (latestRevisions != null) {
      latestRevisions.merge(resourceKey, event.getRevision(), Math::max);
    }
  }

  /**
   * The latest event of every resource that exists (not deleted last): revisions sort by
   * resource id, then revision, so each resource's last entry is its latest. Also (re)builds the
   * index of latest revisions {@link #latest} reads through.
   */
  List<ConfigEvent> currentResources() {
    Map<String, Long> revisions = new HashMap<>();
    List<ConfigEvent> current = new ArrayList<>();
    ConfigEvent last = null;
    String lastResource = null;
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      while (it.hasNext()) {
        KeyValue<String, byte[]> kv = it.next();
        if (kv.key.charAt(0) == NOT_A_REVISION) {
          break; // holds and stamps come after every revision
        }
        String resource = kv.key.substring(0, kv.key.lastIndexOf('@'));
        if (last != null && !resource.equals(lastResource) && last.getChangeType() != ChangeType.DELETED) {
          current.add(last);
        }
        last = event(kv.value);
        lastResource = resource;
        revisions.put(resource, last.getRevision());
      }
    }
    if (last != null && last.getChangeType() != ChangeType.DELETED) {
      current.add(last);
    }
    latestRevisions = revisions;
    return current;
  }

  private ConfigEvent event(byte[] bytes) {
    return EVENTS.decode(storeName, bytes);
  }

  // ---- view stamps ----------------------------------------------------------------------------

  /** The stamp of the last view published for {@code host}, or null if none was. */
  ViewStamp view(String host) {
    byte[] bytes = store.get(viewKey(host));
    if (bytes != null) {
      return STAMPS.deserializer().deserialize(storeName, bytes);
    }
    return legacyViews.get(host);
  }

  void putView(String host, ViewStamp stamp) {
    store.put(viewKey(host), STAMPS.serializer().serialize(storeName, stamp));
  }

  /** Every host a view was ever published for (removed ones included). */
  Set<String> viewHosts() {
    Set<String> hosts = new TreeSet<>();
    try (KeyValueIterator<String, byte[]> it = store.prefixScan(VIEW_PREFIX,
        Serdes.String().serializer())) {
      it.forEachRemaining(kv -> hosts.add(kv.key.substring(VIEW_PREFIX.length())));
    }
    try (KeyValueIterator<String, ViewStamp> it = legacyViews.all()) {
      it.forEachRemaining(kv -> hosts.add(kv.key));
    }
    return hosts;
  }

  /**
   * Moves the stamps a control plane of an earlier release kept in its own store into this one
   * (a stamp already here is newer and stays) and empties the old store, once, from a
   * punctuation (a store written outside processing has no record context). Returns how many
   * moved.
   */
  int migrateLegacyViews() {
    List<KeyValue<String, ViewStamp>> legacy = new ArrayList<>();
    try (KeyValueIterator<String, ViewStamp> it = legacyViews.all()) {
      it.forEachRemaining(legacy::add);
    }
    for (KeyValue<String, ViewStamp> kv : legacy) {
      if (store.get(viewKey(kv.key)) == null) {
        putView(kv.key, kv.value);
      }
      legacyViews.delete(kv.key);
    }
    return legacy.size();
  }

  // ---- views held back for size ---------------------------------------------------------------

  /** Every view held back now, by host: what {@code mesh.discovery.holds} holds, unless tombstoned. */
  Map<String, ViewHold> holds() {
    Map<String, ViewHold> holds = new HashMap<>();
    try (KeyValueIterator<String, byte[]> it = store.prefixScan(HOLD_PREFIX,
        Serdes.String().serializer())) {
      it.forEachRemaining(kv -> holds.put(kv.key.substring(HOLD_PREFIX.length()),
          HOLDS.decode(storeName, kv.value)));
    }
    return holds;
  }

  void putHold(String host, ViewHold hold) {
    store.put(HOLD_PREFIX + host, HOLDS.encode(hold));
  }

  void deleteHold(String host) {
    store.delete(HOLD_PREFIX + host);
  }
}
