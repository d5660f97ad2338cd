package dev.meshlog.config.client;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;

import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config log's client: submits commands and waits for their outcomes, and reads the current
 * state of the mesh (resources, histories, views, proxy statuses) from Kafka in one shot.
 *
 * <p>{@link #submit} takes the end offsets of {@code mesh.config.events} and
 * {@code mesh.config.rejections} <em>before</em> it produces, then reads from there and matches
 * outcomes to commands by command id, so an answer cannot be missed however fast it comes. With a
 * {@code transactional.id} in its config, each submit is one Kafka transaction, together with any
 * records passed alongside (the GitOps bridge writes its progress that way), and a second client
 * with the same id fences this one.
 *
 * <p>Thread-safe: submits may run concurrently (each borrows its own outcome consumer).
 */
public final class MeshClient implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(MeshClient.class);

  /** Default time to wait for outcomes and reads. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);

  /**
   * The largest command sent, serialized ({@link Topics#MAX_VALUE_BYTES}): one resource is one
   * record on {@code mesh.config.commands} and, once accepted, on {@code mesh.config.events}. A
   * larger command is answered INVALID, not sent.
   */
  public static final int MAX_COMMAND_BYTES = Topics.MAX_VALUE_BYTES;

  private final Map<String, Object> config;
  private final Duration timeout;
  private final boolean transactional;
  private final ConcurrentLinkedDeque<KafkaConsumer<String, byte[]>> idleConsumers =
      new ConcurrentLinkedDeque<>();
  private final Object producerLock = new Object();
  private KafkaProducer<String, byte[]> producer;
  private LogReader reader;
  private volatile boolean closed;

  /**
   * @param kafkaConfig Kafka client config: at least {@code bootstrap.servers}; a
   *     {@code transactional.id} makes every submit one transaction
   * @param timeout how long to wait for outcomes, and for each read
   */
  public MeshClient(Map<String, Object> kafkaConfig, Duration timeout) {
    this.config = Map.copyOf(Objects.requireNonNull(kafkaConfig, "kafkaConfig"));
    this.timeout = Objects.requireNonNull(timeout, "timeout");
    this.transactional = config.containsKey(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
  }

  /** A client of the cluster at {@code bootstrapServers} with the default timeout. */
  public static MeshClient connect(String bootstrapServers) {
    return new MeshClient(Map.of(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers),
        DEFAULT_TIMEOUT);
  }

  /**
   * For a transactional client: takes over its transactional id now, fencing any earlier client
   * with the same id (Kafka aborts that client's open transaction). Call it before reading state
   * that only this client writes.
   */
  public void claim() {
    if (!transactional) {
      throw new IllegalStateException("claim() needs a transactional client");
    }
    synchronized (producerLock) {
      producer();
    }
  }

  /**
   * Fences the producers that write with {@code transactionalId} (Kafka aborts their open
   * transaction, and their next one fails), by taking that id once with a producer of this
   * client's settings; for a writer whose id changed between releases.
   */
  public void fence(String transactionalId) {
    Map<String, Object> producerConfig = new HashMap<>(config);
    producerConfig.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
    producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    producerConfig.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
    try (KafkaProducer<String, byte[]> fencer = new KafkaProducer<>(producerConfig,
        new StringSerializer(), new ByteArraySerializer())) {
      fencer.initTransactions();
    } catch (KafkaException e) {
      throw new IllegalStateException("cannot fence the writers of " + transactionalId + ": "
          + e.getMessage(), e);
    }
  }

  /** How long submits and reads wait. */
  public Duration timeout() {
    return timeout;
  }

  // ---- commands -------------------------------------------------------------------------------

  /**
   * Sends {@code commands} and waits for the outcome of each.
   *
   * @return one outcome per command, in command order
   * @throws SubmitTimeoutException naming the commands that got no answer in time
   */
  public List<Outcome> submit(List<ConfigCommand> commands) {
    return submit(commands, List.of());
  }

  /**
   * Sends {@code commands}, and {@code alongside} in the same transaction (a transactional client
   * only), then waits for the outcome of each command.
   *
   * @return one outcome per command, in command order
   * @throws SubmitTimeoutException naming the commands that got no answer in time
   * @throws FencedException if another client with the same transactional id took over
   */
  public List<Outcome> submit(List<ConfigCommand> commands,
                              List<ProducerRecord<String, byte[]>> alongside) {
    if (!alongside.isEmpty() && !transactional) {
      throw new IllegalArgumentException("records alongside commands need a transactional client");
    }
    // A command over one record's size is answered here, not sent: the producer would refuse it
    // with a RecordTooLargeException that failed the whole batch (or the whole transaction of a
    // GitOps commit, retried forever), while the batch's other commands had been sent.
    Map<String, byte[]> values = new LinkedHashMap<>();
    Map<String, Outcome> tooLarge = new HashMap<>();
    List<ConfigCommand> toSend = new ArrayList<>();
    for (ConfigCommand command : commands) {
      byte[] value = Topics.CONFIG_COMMANDS.serializeValue(command);
      if (value.length > MAX_COMMAND_BYTES) {
        tooLarge.put(command.getCommandId(), tooLarge(command, value.length));
      } else {
        values.put(command.getCommandId(), value);
        toSend.add(command);
      }
    }
    if (toSend.isEmpty()) {
      if (!alongside.isEmpty()) {
        produce(toSend, values, alongside);
      }
      return commands.stream().map(c -> tooLarge.get(c.getCommandId())).toList();
    }
    KafkaConsumer<String, byte[]> consumer = borrowConsumer();
    boolean healthy = false;
    try {
      // Take the end offsets now, before producing: every answer lies beyond them.
      List<TopicPartition> partitions = new ArrayList<>(consumer.assignment());
      consumer.seekToEnd(partitions);
      partitions.forEach(tp -> consumer.position(tp, timeout));
      produce(toSend, values, alongside);
      List<Outcome> outcomes;
      try {
        outcomes = await(consumer, toSend);
      } catch (SubmitTimeoutException e) {
        throw tooLarge.isEmpty() ? e : new SubmitTimeoutException(timeout,
            inCommandOrder(commands, e.answered(), tooLarge), e.unanswered());
      }
      healthy = true;
      return tooLarge.isEmpty() ? outcomes : inCommandOrder(commands, outcomes, tooLarge);
    } finally {
      if (healthy && !closed) {
        idleConsumers.push(consumer);
      } else {
        consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
      }
    }
  }

  /** {@code answered} and {@code tooLarge} merged in the order of {@code commands}. */
  private static List<Outcome> inCommandOrder(List<ConfigCommand> commands, List<Outcome> answered,
                                              Map<String, Outcome> tooLarge) {
    Map<String, Outcome> all = new HashMap<>(tooLarge);
    answered.forEach(o -> all.put(o.command().getCommandId(), o));
    List<Outcome> ordered = new ArrayList<>();
    for (ConfigCommand command : commands) {
      Outcome outcome = all.get(command.getCommandId());
      if (outcome != null) {
        ordered.add(outcome);
      }
    }
    return ordered;
  }

  /** The rejection of a command too large to send, as the control plane would word it. */
  private static Outcome tooLarge(ConfigCommand command, int bytes) {
    long now = System.currentTimeMillis();
    ConfigRejection rejection = ConfigRejection.newBuilder()
        .setCommandId(command.getCommandId())
        .setResource(command.getResource())
        .setReason(RejectionReason.INVALID)
        .setErrors(List.of(FieldError.newBuilder().setPath("document").setValue(null)
            .setMessage(bytes + " bytes as a command (expected: at most " + MAX_COMMAND_BYTES
                + " bytes: one resource travels as one Kafka record, and Kafka takes 1 MiB)")
            .build()))
        .setActor(command.getActor())
        .setCommitId(command.getSource() == null ? null : command.getSource().getCommitId())
        .setRequestedAt(command.getRequestedAt())
        .setRejectedAt(java.time.Instant.ofEpochMilli(now))
        .build();
    return new Outcome(command, null, rejection, -1, -1);
  }

  private void produce(List<ConfigCommand> commands, Map<String, byte[]> values,
                       List<ProducerRecord<String, byte[]>> alongside) {
    synchronized (producerLock) {
      KafkaProducer<String, byte[]> p = producer();
      List<Future<RecordMetadata>> sent = new ArrayList<>();
      try {
        if (transactional) {
          p.beginTransaction();
        }
        for (ConfigCommand command : commands) {
          sent.add(p.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(),
              ConfigCommands.id(command.getResource()).key(), values.get(command.getCommandId()))));
        }
        for (ProducerRecord<String, byte[]> record : alongside) {
          sent.add(p.send(record));
        }
        if (transactional) {
          p.commitTransaction();
        } else {
          p.flush();
        }
        for (Future<RecordMetadata> future : sent) {
          future.get();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        abortQuietly(p);
        throw new IllegalStateException("interrupted while sending commands", e);
      } catch (ExecutionException | KafkaException e) {
        Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
        if (fenced(cause) || !abortQuietly(p)) {
          closeProducer();
          throw new FencedException(String.valueOf(config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG)), cause);
        }
        throw new IllegalStateException("cannot send commands to "
            + Topics.CONFIG_COMMANDS.name() + ": " + cause.getMessage(), cause);
      }
    }
  }

  /** Whether {@code error} says another producer with our transactional id took over. */
  private static boolean fenced(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ProducerFencedException) {
        return true;
      }
    }
    return false;
  }

  /**
   * Aborts the open transaction after a failure.
   *
   * @return false when the abort itself was refused because this producer has been fenced
   */
  private boolean abortQuietly(KafkaProducer<String, byte[]> p) {
    if (!transactional) {
      return true;
    }
    try {
      p.abortTransaction();
      return true;
    } catch (KafkaException e) {
      // The producer is unusable either way; a fresh one is made on the next submit.
      closeProducer();
      return !fenced(e);
    }
  }

  private List<Outcome> await(KafkaConsumer<String, byte[]> consumer, List<ConfigCommand> commands) {
    Map<String, ConfigCommand> pending = new LinkedHashMap<>();
    commands.forEach(c -> pending.put(c.getCommandId(), c));
    Map<String, Outcome> answers = new HashMap<>();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!pending.isEmpty() && System.nanoTime() < deadline) {
      for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(50))) {
        Outcome outcome = decode(record, pending);
        if (outcome != null) {
          pending.remove(outcome.command().getCommandId());
          answers.put(outcome.command().getCommandId(), outcome);
        }
      }
    }
    List<Outcome> ordered = new ArrayList<>();
    for (ConfigCommand command : commands) {
      Outcome outcome = answers.get(command.getCommandId());
      if (outcome != null) {
        ordered.add(outcome);
      }
    }
    if (!pending.isEmpty()) {
      throw new SubmitTimeoutException(timeout, ordered, List.copyOf(pending.values()));
    }
    return ordered;
  }

  private static Outcome decode(ConsumerRecord<String, byte[]> record,
                                Map<String, ConfigCommand> pending) {
    try {
      if (record.topic().equals(Topics.CONFIG_EVENTS.name())) {
        ConfigEvent event = Topics.CONFIG_EVENTS.deserializeValue(record.value());
        ConfigCommand command = event == null ? null : pending.get(event.getCommandId());
        return command == null ? null
            : new Outcome(command, event, null, record.partition(), record.offset());
      }
      ConfigRejection rejection = Topics.CONFIG_REJECTIONS.deserializeValue(record.value());
      ConfigCommand command = rejection == null ? null : pending.get(rejection.getCommandId());
      return command == null ? null
          : new Outcome(command, null, rejection, record.partition(), record.offset());
    } catch (SerializationException e) {
      LOG.warn("skipping undecodable outcome {}-{}@{}: {}", record.topic(), record.partition(),
          record.offset(), e.getMessage());
      return null;
    }
  }

  private KafkaConsumer<String, byte[]> borrowConsumer() {
    if (closed) {
      throw new IllegalStateException("client closed");
    }
    KafkaConsumer<String, byte[]> consumer = idleConsumers.poll();
    if (consumer != null) {
      return consumer;
    }
    consumer = new KafkaConsumer<>(LogReader.consumerConfig(config, timeout),
        new StringDeserializer(), new ByteArrayDeserializer());
    try {
      List<TopicPartition> partitions = new ArrayList<>();
      partitions.addAll(LogReader.partitions(consumer, Topics.CONFIG_EVENTS.name(), timeout));
      partitions.addAll(LogReader.partitions(consumer, Topics.CONFIG_REJECTIONS.name(), timeout));
      consumer.assign(partitions);
      return consumer;
    } catch (RuntimeException e) {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
      throw e;
    }
  }

  private KafkaProducer<String, byte[]> producer() {
    if (producer == null) {
      Map<String, Object> producerConfig = new HashMap<>(config);
      producerConfig.put(ProducerConfig.ACKS_CONFIG, "all");
      producerConfig.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 0);
      producerConfig.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, timeout.toMillis());
      producerConfig.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG,
          (int) Math.max(timeout.toMillis(), 1_000));
      producerConfig.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
          (int) Math.min(Math.max(timeout.toMillis(), 1_000), 30_000));
      producer = new KafkaProducer<>(producerConfig, new StringSerializer(),
          new ByteArraySerializer());
      if (transactional) {
        try {
          producer.initTransactions();
        } catch (KafkaException e) {
          closeProducer();
          throw new IllegalStateException("cannot start transactions as "
              + config.get(ProducerConfig.TRANSACTIONAL_ID_CONFIG) + ": " + e.getMessage(), e);
        }
      }
    }
    return producer;
  }

  private void closeProducer() {
    if (producer != null) {
      producer.close(Duration.ofSeconds(2));
      producer = null;
    }
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Every resource that exists now, sorted by id (the audit log folded). */
  public SortedMap<ResourceId, CurrentResource> resources() {
    ConfigFold fold = new ConfigFold(false);
    read(r -> r.readToEnd(Topics.CONFIG_EVENTS, (key, event) -> fold.accept(event)));
    return fold.current();
  }

  /** Every revision of {@code id}, oldest first; empty when it never existed. */
  public List<Revision> history(ResourceId id) {
    ConfigFold fold = new ConfigFold(true);
    String key = id.key();
    read(r -> r.readToEnd(Topics.CONFIG_EVENTS, (k, event) -> {
      if (key.equals(k)) {
        fold.accept(event);
      }
    }));
    return fold.history(id);
  }

  /**
   * Whether {@code topic} exists on the cluster (without creating it: the client's reads never
   * ask the broker to auto-create a topic).
   */
  public boolean has(Topic<?, ?> topic) {
    boolean[] known = new boolean[1];
    read(r -> known[0] = r.exists(topic));
    return known[0];
  }

  /**
   * The views the control plane holds back for size now, per host (the latest value per key of
   * {@code mesh.discovery.holds}; a tombstone ends a hold); empty if that topic does not exist —
   * a control plane of an earlier release, which says nothing of holds.
   */
  public java.util.Optional<Map<String, ViewHold>> holds() {
    Map<String, ViewHold> holds = new LinkedHashMap<>();
    boolean[] known = new boolean[1];
    read(r -> {
      known[0] = r.exists(Topics.DISCOVERY_HOLDS);
      if (known[0]) {
        holds.putAll(r.latest(Topics.DISCOVERY_HOLDS));
      }
    });
    return known[0] ? java.util.Optional.of(holds) : java.util.Optional.empty();
  }

  /** The latest view per host (including views of removed hosts, flagged {@code removed}). */
  public Map<String, ServiceView> views() {
    Map<String, ServiceView> views = new LinkedHashMap<>();
    read(r -> views.putAll(r.latest(Topics.DISCOVERY_VIEWS)));
    return views;
  }

  /** The latest status per proxy id. */
  public Map<String, ProxyStatus> proxyStatuses() {
    Map<String, ProxyStatus> statuses = new LinkedHashMap<>();
    read(r -> statuses.putAll(r.latest(Topics.PROXY_STATUS)));
    return statuses;
  }

  private synchronized void read(java.util.function.Consumer<LogReader> action) {
    if (closed) {
      throw new IllegalStateException("client closed");
    }
    if (reader == null) {
      reader = new LogReader(config, timeout);
    }
    action.accept(reader);
  }

  /** The Kafka config this client was made with (copied). */
  public Map<String, Object> kafkaConfig() {
    return config;
  }

  @Override
  public void close() {
    closed = true;
    synchronized (producerLock) {
      closeProducer();
    }
    KafkaConsumer<String, byte[]> consumer;
    while ((consumer = idleConsumers.poll()) != null) {
      consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
    }
    synchronized (this) {
      if (reader != null) {
        reader.close();
        reader = null;
      }
    }
  }
}
