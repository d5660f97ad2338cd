package dev.meshlog.proxy.subscribe;

import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.Health;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.schemas.Topic;
import dev.meshlog.testkit.KafkaCluster;
import dev.meshlog.testkit.WithKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The proxy's config path on a real broker: views in, ACK/NACK and registrations out. */
@WithKafka
class KafkaConfigIT {

  private final KafkaCluster kafka;
  private MeshTopics topics;
  private KafkaProducer<byte[], byte[]> producer;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final ProxyIdentity me = ProxyIdentity.of("productpage", "default", "v1", "zone-a",
      "c1");

  @TempDir
  Path dir;

  KafkaConfigIT(KafkaCluster kafka) {
    this.kafka = kafka;
  }

  private static <V> Topic<String, V> renamed(Topic<String, V> t, int partitions) {
    return new Topic<>(KafkaCluster.uniqueName(t.name()), t.keySerde(), t.valueSerde(),
        partitions, t.cleanup(), t.retention(), t.doc());
  }

  @BeforeEach
  void createTopics() throws Exception {
    MeshTopics d = MeshTopics.DEFAULT;
    topics = new MeshTopics(renamed(d.views(), 6), renamed(d.status(), 1),
        renamed(d.registry(), 1));
    try (Admin admin = kafka.admin()) {
      admin.createTopics(List.of(topics.views().newTopic((short) 1),
          topics.status().newTopic((short) 1), topics.registry().newTopic((short) 1))).all().get();
    }
    Map<String, Object> config = new HashMap<>(kafka.clientConfig());
    config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    producer = new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
    closeables.add(producer);
  }

  @AfterEach
  void close() throws Exception {
    for (int i = closeables.size() - 1; i >= 0; i--) {
      closeables.get(i).close();
    }
  }

  private void publish(ServiceView v) throws Exception {
    producer.send(new ProducerRecord<>(topics.views().name(),
        topics.views().serializeKey(v.getHost()), topics.views().serializeValue(v))).get();
  }

  private static ServiceView reviews(long version, String subset) {
    return view("reviews").setVersion(version)
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("r1").setAddress("127.0.0.1")
            .setPort(9001).setLabels(Map.of("version", "v1")).setHealth(EndpointHealth.HEALTHY)
            .build()))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", subset, 100)).build()))
        .build();
  }

  private ViewSubscriber subscriber(SnapshotHolder holder, String bootstrap, SnapshotStore store) {
    return subscriber(holder, bootstrap, store, Map.of());
  }

  private ViewSubscriber subscriber(SnapshotHolder holder, String bootstrap, SnapshotStore store,
                                    Map<String, Object> extra) {
    return subscriber(holder, bootstrap, store, extra, ViewSubscriber.maxViewBytes(
        Runtime.getRuntime().maxMemory()));
  }

  private ViewSubscriber subscriber(SnapshotHolder holder, String bootstrap, SnapshotStore store,
                                    Map<String, Object> extra, int maxViewBytes) {
    Map<String, Object> config = new HashMap<>(kafka.clientConfig());
    config.put("bootstrap.servers", bootstrap);
    config.putAll(extra);
    StatusReporter reporter = new StatusReporter(producer, topics.status(), me,
        Clock.systemUTC());
    ViewSubscriber s = new ViewSubscriber(config, topics.views(),
        new ViewApplier(holder, me.host("cluster.local"), me.namespace(), Clock.systemUTC()),
        store, reporter, maxViewBytes);
    closeables.add(s);
    s.start();
    return s;
  }

  private SnapshotHolder holder() {
    return new SnapshotHolder(ProxySnapshot.empty(), me, Clock.systemUTC());
  }

  /** Follows {@code topic} on a background thread, collecting decoded values. */
  private <V> List<V> follow(Topic<String, V> topic) {
    List<V> seen = new CopyOnWriteArrayList<>();
    Map<String, Object> config = new HashMap<>(kafka.clientConfig());
    config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
    c.assign(List.of(new TopicPartition(topic.name(), 0)));
    c.seekToBeginning(List.of(new TopicPartition(topic.name(), 0)));
    Thread t = new Thread(() -> {
      try {
        while (true) {
          for (ConsumerRecord<byte[], byte[]> r : c.poll(Duration.ofMillis(100))) {
            seen.add(topic.deserializeValue(r.value()));
          }
        }
      } catch (org.apache.kafka.common.errors.WakeupException e) {
        c.close();
      }
    });
    t.setDaemon(true);
    t.start();
    closeables.add(() -> {
      c.wakeup();
      t.join(5000);
    });
    return seen;
  }

  private static ViewAck ack(ProxyStatus s, String host) {
    return s.getViews().stream().filter(v -> v.getHost().equals(host)).findFirst().orElse(null);
  }

  @Test
  void appliesAViewFromKafkaAndAcksItsVersion() throws Exception {
    List<ProxyStatus> statuses = follow(topics.status());
    SnapshotHolder holder = holder();
    publish(reviews(1, "v1"));

    subscriber(holder, kafka.bootstrapServers(), null);

    await().atMost(Duration.ofSeconds(20)).until(
        () -> holder.snapshot().versions().get(host("reviews")), v -> v != null && v == 1L);
    await().atMost(Duration.ofSeconds(20)).until(() -> statuses.stream().anyMatch(s ->
        s.getState() == ProxyState.RUNNING && ack(s, host("reviews")) != null
            && ack(s, host("reviews")).getAck() == AckState.ACK));
    ProxyStatus last = statuses.get(statuses.size() - 1);
    assertThat(last.getProxyId()).isEqualTo(me.proxyId());
    assertThat(ack(last, host("reviews")).getVersion()).isEqualTo(1L);
  }

  @Test
  void readsAViewLargerThanItsFetchLimits() throws Exception {
    SnapshotHolder holder = holder();
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      endpoints.add(Endpoint.newBuilder().setInstanceId("reviews-v1-" + i)
          .setAddress("10.0." + (i / 250) + "." + (i % 250)).setPort(9080)
          .setLabels(Map.of("version", "v1", "zone", "zone-" + (i % 3)))
          .setHealth(EndpointHealth.HEALTHY).build());
    }
    ServiceView big = ServiceView.newBuilder(reviews(1, "v1")).setEndpoints(endpoints).build();
    assertThat(topics.views().serializeValue(big).length).isGreaterThan(8 * 1024);
    publish(big);

    // Limits far below the view: the broker still returns a partition's first batch whole.
    subscriber(holder, kafka.bootstrapServers(), null, Map.of(
        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024));

    await().atMost(Duration.ofSeconds(20)).until(
        () -> holder.snapshot().versions().get(host("reviews")), v -> v != null && v == 1L);
  }

  @Test
  void nacksAnInconsistentViewAndKeepsServingTheLastGood() throws Exception {
    List<ProxyStatus> statuses = follow(topics.status());
    SnapshotHolder holder = holder();
    subscriber(holder, kafka.bootstrapServers(), null);
    publish(reviews(1, "v1"));
    await().atMost(Duration.ofSeconds(20)).until(
        () -> holder.snapshot().versions().containsKey(host("reviews")));

    publish(reviews(2, "v9"));

    ProxyStatus nacked = await().atMost(Duration.ofSeconds(20)).until(() -> statuses.stream()
        .filter(s -> ack(s, host("reviews")) != null
            && ack(s, host("reviews")).getAck() == AckState.NACK).findFirst().orElse(null),
        java.util.Objects::nonNull);
    ViewAck nack = ack(nacked, host("reviews"));
    assertThat(nack.getVersion()).isEqualTo(2L);
    assertThat(nack.getAppliedVersion()).isEqualTo(1L);
    assertThat(nack.getErrorDetail()).contains("subset: v9 not defined");
    assertThat(holder.snapshot().versions()).containsEntry(host("reviews"), 1L);
  }

  @Test
  void nacksAViewLargerThanItsHeapTakesAndKeepsServingTheLastGood() throws Exception {
    List<ProxyStatus> statuses = follow(topics.status());
    SnapshotHolder holder = holder();
    subscriber(holder, kafka.bootstrapServers(), null, Map.of(), 64 * 1024);
    publish(reviews(1, "v1"));
    await().atMost(Duration.ofSeconds(20)).until(
        () -> holder.snapshot().versions().containsKey(host("reviews")));
    List<Endpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      endpoints.add(Endpoint.newBuilder().setInstanceId("reviews-v1-" + i)
          .setAddress("10.0." + (i / 250) + "." + (i % 250)).setPort(9080)
          .setLabels(Map.of("version", "v1")).setHealth(EndpointHealth.HEALTHY).build());
    }
    ServiceView big = ServiceView.newBuilder(reviews(2, "v1")).setEndpoints(endpoints).build();
    int bytes = topics.views().serializeValue(big).length;
    assertThat(bytes).isGreaterThan(64 * 1024);

    publish(big);

    ProxyStatus nacked = await().atMost(Duration.ofSeconds(20)).until(() -> statuses.stream()
        .filter(s -> ack(s, host("reviews")) != null
            && ack(s, host("reviews")).getAck() == AckState.NACK).findFirst().orElse(null),
        java.util.Objects::nonNull);
    ViewAck nack = ack(nacked, host("reviews"));
    assertThat(nack.getAppliedVersion()).isEqualTo(1L);
    assertThat(nack.getErrorDetail()).isEqualTo("view of " + bytes + " bytes is over what this"
        + " proxy takes (expected: at most 65536 bytes, 1/64 of its heap: give it a larger -Xmx,"
        + " or list the hosts it calls in a Sidecar)");
    assertThat(holder.snapshot().versions()).containsEntry(host("reviews"), 1L);
  }

  @Test
  void takesViewsOfOneSixtyFourthOfItsHeap() {
    assertThat(ViewSubscriber.maxViewBytes(64L << 20)).isEqualTo(1 << 20);
    assertThat(ViewSubscriber.maxViewBytes(384L << 20)).isEqualTo(6 << 20);
    assertThat(ViewSubscriber.maxViewBytes(4L << 30)).isEqualTo(16 << 20);
  }

  @Test
  void startsFromTheLastGoodSnapshotOnDiskWhenKafkaIsUnreachable() throws Exception {
    SnapshotStore store = new SnapshotStore(dir.resolve("last-good.views"));
    SnapshotHolder first = holder();
    ViewSubscriber online = subscriber(first, kafka.bootstrapServers(), store);
    publish(reviews(5, "v1"));
    await().atMost(Duration.ofSeconds(20)).until(() -> store.load().size() == 1);
    online.close();

    SnapshotHolder second = holder();
    ViewSubscriber offline = subscriber(second, "127.0.0.1:1", store);

    assertThat(offline.loadedFromDisk()).isTrue();
    assertThat(second.snapshot().versions()).containsEntry(host("reviews"), 5L);
    assertThat(offline.caughtUp()).isFalse();
  }

  /** The first services {@code svc0, svc1, ...} whose views live on partitions unlike {@code taken}'s. */
  private static List<String> servicesOnOtherPartitions(ViewPartitions partitions, int count,
                                                        java.util.Set<Integer> taken) {
    java.util.Set<Integer> used = new java.util.TreeSet<>(taken);
    List<String> out = new ArrayList<>();
    for (int i = 0; out.size() < count; i++) {
      int p = partitions.of(host("svc" + i));
      if (used.add(p)) {
        out.add("svc" + i);
      }
    }
    return out;
  }

  private static ServiceView simple(String service, long version) {
    return view(service).setVersion(version).setEndpoints(List.of(Endpoint.newBuilder()
        .setInstanceId(service + "-1").setAddress("127.0.0.1").setPort(9001)
        .setHealth(EndpointHealth.HEALTHY).build())).build();
  }

  private static ServiceView productpage(long version, String... egress) {
    return view("productpage").setVersion(version).setEgressHosts(java.util.Arrays.stream(egress)
        .map(s -> "./" + host(s)).toList()).build();
  }

  @Test
  void readsOnlyThePartitionsOfItsEgressHostsAndFollowsChangesToThem() throws Exception {
    ViewPartitions partitions = new ViewPartitions(topics.views(), topics.views().partitions());
    List<String> others = servicesOnOtherPartitions(partitions, 3,
        java.util.Set.of(partitions.of(host("productpage"))));
    String reviews = others.get(0);
    String ratings = others.get(1);
    String details = others.get(2);
    publish(simple(ratings, 1));
    publish(simple(details, 1));
    publish(simple(reviews, 1));
    publish(productpage(1, reviews));
    SnapshotHolder holder = holder();

    ViewSubscriber subscriber = subscriber(holder, kafka.bootstrapServers(), null);

    await().atMost(Duration.ofSeconds(20)).until(subscriber::caughtUp);
    assertThat(holder.snapshot().services().keySet())
        .containsExactlyInAnyOrder(host("productpage"), host(reviews));
    assertThat(subscriber.assignedPartitions()).containsExactlyInAnyOrderElementsOf(
        partitions.of(List.of(host("productpage"), host(reviews))));
    assertThat(subscriber.hostsReceived()).doesNotContain(host(ratings), host(details));

    publish(productpage(2, reviews, details));

    await().atMost(Duration.ofSeconds(20)).until(() -> holder.snapshot().services()
        .containsKey(host(details)));
    assertThat(subscriber.assignedPartitions()).contains(partitions.of(host(details)));
    publish(simple(ratings, 2));
    publish(simple(reviews, 2));
    await().atMost(Duration.ofSeconds(20)).until(() -> holder.snapshot().versions()
        .get(host(reviews)) == 2L);
    assertThat(subscriber.hostsReceived()).doesNotContain(host(ratings));
  }

  @Test
  void readsEveryPartitionWhenItsOwnViewNamesNoEgressHosts() throws Exception {
    ViewPartitions partitions = new ViewPartitions(topics.views(), topics.views().partitions());
    List<String> others = servicesOnOtherPartitions(partitions, 2,
        java.util.Set.of(partitions.of(host("productpage"))));
    publish(simple(others.get(0), 1));
    publish(simple(others.get(1), 1));
    SnapshotHolder holder = holder();

    ViewSubscriber subscriber = subscriber(holder, kafka.bootstrapServers(), null);

    await().atMost(Duration.ofSeconds(20)).until(subscriber::caughtUp);
    assertThat(subscriber.assignedPartitions()).isEqualTo(partitions.all());
    assertThat(holder.snapshot().services()).containsKeys(host(others.get(0)),
        host(others.get(1)));
  }

  @Test
  void registersHeartbeatsDrainsAndDeregisters() {
    List<InstanceRegistration> seen = follow(topics.registry());
    Registrar registrar = new Registrar(producer, topics.registry(), me, "127.0.0.1", 15006,
        Duration.ofMillis(300), Clock.systemUTC());

    registrar.start();
    await().atMost(Duration.ofSeconds(20)).until(() -> seen.stream()
        .map(InstanceRegistration::getHeartbeatAt).distinct().count() >= 3);
    registrar.drain();
    registrar.close();

    await().atMost(Duration.ofSeconds(20)).until(() -> !seen.isEmpty()
        && seen.get(seen.size() - 1).getState() == RegistrationState.DEREGISTERED);
    assertThat(seen).anySatisfy(r -> assertThat(r.getHealth()).isEqualTo(Health.DRAINING));
    InstanceRegistration first = seen.get(0);
    assertThat(first.getState()).isEqualTo(RegistrationState.REGISTERED);
    assertThat(first.getPort()).isEqualTo(15006);
    assertThat(first.getLabels()).containsEntry("app", "productpage").containsEntry("version",
        "v1");
    assertThat(first.getZone()).isEqualTo("zone-a");
    assertThat(registrar.key()).isEqualTo("default/productpage/" + me.proxyId());
  }
}
