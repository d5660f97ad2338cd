package dev.meshlog.schemas;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Creates the mesh's topics from {@link Topics#ALL}, idempotently: missing topics are created with
 * their partitions and configs; existing topics get missing partitions added and their
 * {@code cleanup.policy}, retention and {@code max.message.bytes} ({@link Topic#configs()})
 * brought in line with {@code incrementalAlterConfigs}, so an upgrade that raises a topic's
 * limit (the views topic's, 1 MiB before) needs no manual step. Running it twice changes nothing the
 * second time.
 *
 * <p>It returns once every partition it created is <em>writable</em>: its leader answers for it.
 * A KRaft broker shows a new partition in its metadata a moment before its replica manager leads
 * it, and a produce request in that moment is refused as {@code NOT_LEADER_OR_FOLLOWER}. An
 * idempotent producer whose first batch to the partition is refused that way while its second
 * is taken retries the first forever as out of order, and loses it when its delivery timeout
 * ends (KAFKA-15591; CI met it with our 4.3.1 broker): so a mesh component that produces right
 * after start-up must not meet a partition in that state.
 */
public final class TopicBootstrapper {

  /** What one run did. */
  public record Report(List<String> created, List<String> reconfigured, List<String> unchanged) {

    /** One line for logs. */
    public String summary() {
      return "topics: " + created.size() + " created, " + reconfigured.size() + " reconfigured, "
          + unchanged.size() + " unchanged";
    }
  }

  /** How long {@link #ensure} waits for the partitions it created to be led. */
  static final Duration WRITABLE_TIMEOUT = Duration.ofSeconds(60);

  private final Admin admin;

  public TopicBootstrapper(Admin admin) {
    this.admin = admin;
  }

  /** Creates or fixes every mesh topic with a replication factor fitting the cluster (at most 3). */
  public Report ensureAll() {
    return ensure(Topics.ALL, (short) -1);
  }

  /**
   * Creates or fixes {@code topics}.
   *
   * @param replicationFactor replicas per partition, or -1 for min(3, brokers)
   */
  public Report ensure(Collection<? extends Topic<?, ?>> topics, short replicationFactor) {
    try {
      short replicas = replicationFactor > 0 ? replicationFactor
          : (short) Math.min(3, admin.describeCluster().nodes().get().size());
      Set<String> existing = admin.listTopics().names().get();
      List<String> created = new ArrayList<>();
      List<String> reconfigured = new ArrayList<>();
      List<String> unchanged = new ArrayList<>();

      List<NewTopic> toCreate = topics.stream().filter(t -> !existing.contains(t.name()))
          .map(t -> t.newTopic(replicas)).collect(Collectors.toList());
      if (!toCreate.isEmpty()) {
        for (Map.Entry<String, org.apache.kafka.common.KafkaFuture<Void>> result :
            admin.createTopics(toCreate).values().entrySet()) {
          try {
            result.getValue().get();
            created.add(result.getKey());
          } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
              throw e;
            }
          }
        }
      }

      Map<String, Integer> fresh = new HashMap<>();
      toCreate.stream().filter(t -> created.contains(t.name()))
          .forEach(t -> fresh.put(t.name(), t.numPartitions()));
      awaitWritable(fresh);

      List<Topic<?, ?>> present = topics.stream().filter(t -> existing.contains(t.name()))
          .collect(Collectors.toList());
      if (!present.isEmpty()) {
        Map<String, TopicDescription> descriptions = admin.describeTopics(
            present.stream().map(Topic::name).toList()).allTopicNames().get();
        Map<ConfigResource, Config> configs = admin.describeConfigs(present.stream()
            .map(t -> new ConfigResource(ConfigResource.Type.TOPIC, t.name())).toList()).all().get();
        Map<String, NewPartitions> grow = new HashMap<>();
        Map<ConfigResource, Collection<AlterConfigOp>> alter = new HashMap<>();
        for (Topic<?, ?> topic : present) {
          boolean changed = false;
          int partitions = descriptions.get(topic.name()).partitions().size();
          if (partitions < topic.partitions()) {
            grow.put(topic.name(), NewPartitions.increaseTo(topic.partitions()));
            changed = true;
          }
          ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic.name());
          Config actual = configs.get(resource);
          List<AlterConfigOp> ops = new ArrayList<>();
          topic.configs().forEach((key, value) -> {
            ConfigEntry entry = actual.get(key);
            if (entry == null || !value.equals(entry.value())) {
              ops.add(new AlterConfigOp(new ConfigEntry(key, value), AlterConfigOp.OpType.SET));
            }
          });
          if (!ops.isEmpty()) {
            alter.put(resource, ops);
            changed = true;
          }
          (changed ? reconfigured : unchanged).add(topic.name());
        }
        if (!grow.isEmpty()) {
          admin.createPartitions(grow).all().get();
        }
        Map<String, Integer> grown = new HashMap<>();
        grow.forEach((name, increase) -> grown.put(name, increase.totalCount()));
        awaitWritable(grown);
        if (!alter.isEmpty()) {
          admin.incrementalAlterConfigs(alter).all().get();
        }
      }
      return new Report(List.copyOf(created), List.copyOf(reconfigured), List.copyOf(unchanged));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating topics", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create the mesh topics: " + e.getCause().getMessage(),
          e.getCause());
    }
  }

  /**
   * Returns once the leader of every partition of {@code partitionsByTopic} answers a
   * {@code ListOffsets} for it — the same check of the replica manager a produce request meets.
   * A topic the broker does not know yet, or a partition it does not lead yet, fails the call
   * with a retriable error (the admin client retries some of them itself, not an unknown
   * topic's metadata): asked again every 50 ms for up to {@link #WRITABLE_TIMEOUT}.
   */
  private void awaitWritable(Map<String, Integer> partitionsByTopic)
      throws InterruptedException, ExecutionException {
    if (partitionsByTopic.isEmpty()) {
      return;
    }
    Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
    partitionsByTopic.forEach((name, count) -> {
      for (int p = 0; p < count; p++) {
        partitions.put(new TopicPartition(name, p), OffsetSpec.latest());
      }
    });
    long deadline = System.nanoTime() + WRITABLE_TIMEOUT.toNanos();
    while (true) {
      try {
        admin.listOffsets(partitions).all().get();
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException) || System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(50);
      }
    }
  }
}
