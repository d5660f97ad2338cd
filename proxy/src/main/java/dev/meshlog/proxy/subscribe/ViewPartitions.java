package dev.meshlog.proxy.subscribe;

import java.util.Collection;
import java.util.Set;
import java.util.TreeSet;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.schemas.Topic;
import org.apache.kafka.common.utils.Utils;

/**
 * Where a host's view lives on the views topic: the partition Kafka's default partitioner gives
 * its key ({@code toPositive(murmur2(keyBytes)) % partitions}), so a proxy that needs a few
 * hosts reads only their partitions.
 */
public final class ViewPartitions {

  private final Topic<String, ServiceView> topic;
  private final int partitions;

  /** The partitions of {@code topic}, which has {@code partitions} of them. */
  public ViewPartitions(Topic<String, ServiceView> topic, int partitions) {
    if (partitions < 1) {
      throw new IllegalArgumentException("partitions: " + partitions + " (expected: >= 1)");
    }
    this.topic = topic;
    this.partitions = partitions;
  }

  /** How many partitions the topic has. */
  public int count() {
    return partitions;
  }

  /** The partition the view of {@code host} is written to. */
  public int of(String host) {
    return Utils.toPositive(Utils.murmur2(topic.serializeKey(host))) % partitions;
  }

  /** The partitions the views of {@code hosts} are written to. */
  public Set<Integer> of(Collection<String> hosts) {
    Set<Integer> out = new TreeSet<>();
    hosts.forEach(h -> out.add(of(h)));
    return out;
  }

  /** Every partition. */
  public Set<Integer> all() {
    Set<Integer> out = new TreeSet<>();
    for (int p = 0; p < partitions; p++) {
      out.add(p);
    }
    return out;
  }
}
