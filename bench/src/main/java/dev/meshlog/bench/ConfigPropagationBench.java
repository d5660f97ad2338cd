package dev.meshlog.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.ConfigService;
import dev.meshlog.config.controlplane.CommandStages;
import dev.meshlog.config.controlplane.ControlPlaneApp;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.ResourceRef;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.schemas.TopicBootstrapper;
import dev.meshlog.schemas.Topics;
import dev.meshlog.testkit.EmbeddedKafka;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * Config propagation at scale: with N services (default 1,000), 10 instances each and three
 * resources per service loaded, how long from {@code apply} of one VirtualService to its view on
 * {@code mesh.discovery.views}, and to a subscribed consumer — beside the raw produce→consume
 * latency of the same broker in the same run (the floor). Then the full rebuild of the control
 * plane's state from the topics after a restart, with its time and heap.
 */
public final class ConfigPropagationBench {

  private static final ObjectMapper JSON = new ObjectMapper();
  /**
   * config-service's image settings, whose {@code jib.container.jvmFlags} are the control plane's
   * production JVM options: the one list the image, {@code ./meshlog} and this benchmark share.
   */
  static final Path CONTROL_PLANE_IMAGE_SETTINGS =
      Path.of("compose/images/meshlog-config-service.properties");
  /**
   * testkit's settings, whose {@code jib.container.jvmFlags} are the embedded broker's JVM
   * options: the one list {@code ./meshlog kafka}, {@code ./meshlog up} and this benchmark share.
   */
  static final Path BROKER_SETTINGS = Path.of("compose/images/meshlog-testkit.properties");
  /** The control plane's commit interval (config-service's default). */
  private static final Duration COMMIT = Duration.ofMillis(
      Long.getLong("meshlog.bench.commit.ms", 5));

  /**
   * The control plane's poll interval ({@code --poll-interval} of its main), or null for its
   * default (half the commit interval): for A/B runs of the stream thread's idle loop.
   */
  private static final Long POLL_MS = Long.getLong("meshlog.bench.poll.ms");

  /**
   * Applies at least this slow are listed with their wall-clock time, to be found in the
   * control plane's and the broker's logs.
   */
  private static final long SLOW_APPLY_MS = Long.getLong("meshlog.bench.slow.ms", 50);
  private static final java.time.format.DateTimeFormatter TIME_OF_DAY =
      java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(java.time.ZoneId.systemDefault());

  /**
   * An async-profiler event ({@code itimer}, {@code wall}, {@code alloc}...) to profile the child
   * control plane with during the applies only, or none; attached with {@code jcmd
   * JVMTI.agent_load} to the library {@link #PROFILER_LIB} names.
   */
  private static final String PROFILE = System.getProperty("meshlog.bench.profile");
  /** The profile's sampling interval (async-profiler's syntax: {@code 1ms}, {@code 100us}). */
  private static final String PROFILE_INTERVAL = System.getProperty("meshlog.bench.profile.interval", "1ms");
  /**
   * async-profiler's native library ({@code libasyncProfiler.so}, e.g. unpacked from Maven
   * Central's {@code tools.profiler:async-profiler:4.1:linux-x64} jar).
   */
  private static final String PROFILER_LIB = System.getProperty("meshlog.bench.profiler.lib");
  /** Which child JVM {@link #PROFILE} profiles: {@code control-plane} (default) or {@code broker}. */
  private static final String PROFILE_TARGET =
      System.getProperty("meshlog.bench.profile.target", "control-plane");
  /**
   * A quiet window after loading and before the applies, nothing sent by the bench, in which
   * the broker's and the control plane's background cost is taken (CPU and requests per second):
   * what of the per-apply figures is time passing, not the applies.
   */
  private static final long IDLE_MS = Long.getLong("meshlog.bench.idle.ms", 3000);

  private ConfigPropagationBench() {}

  public static void main(String[] args) throws Exception {
    int services = 1000;
    int perService = 10;
    int applies = 3000;
    int warmup = 0;
    String bootstrap = null;
    String controlPlane = "child";
    String controlPlaneJvm = null;
    String broker = "child";
    String brokerJvm = null;
    List<String> brokerConfigs = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--services" -> services = Integer.parseInt(args[++i]);
        case "--instances-per-service" -> perService = Integer.parseInt(args[++i]);
        case "--applies" -> applies = Integer.parseInt(args[++i]);
        case "--warmup-applies" -> warmup = Integer.parseInt(args[++i]);
        case "--bootstrap-server" -> bootstrap = args[++i];
        case "--control-plane" -> controlPlane = args[++i];
        case "--control-plane-jvm-options" -> controlPlaneJvm = args[++i];
        case "--broker" -> broker = args[++i];
        case "--broker-jvm-options" -> brokerJvm = args[++i];
        case "--broker-config" -> {
          String setting = args[++i];
          if (setting.indexOf('=') <= 0) {
            throw new IllegalArgumentException("--broker-config " + setting
                + " (expected: KEY=VALUE, e.g. num.io.threads=2)");
          }
          brokerConfigs.add(setting);
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (!controlPlane.equals("child") && !controlPlane.equals("in-process")) {
      throw new IllegalArgumentException("--control-plane " + controlPlane
          + " (expected: child or in-process)");
    }
    if (!broker.equals("child") && !broker.equals("in-process")) {
      throw new IllegalArgumentException("--broker " + broker + " (expected: child or in-process)");
    }
    if (!brokerConfigs.isEmpty() && (bootstrap != null || !broker.equals("child"))) {
      throw new IllegalArgumentException(
          "--broker-config applies to the broker's own JVM (--broker child, no --bootstrap-server)");
    }
    if (controlPlaneJvm == null && controlPlane.equals("child")) {
      controlPlaneJvm = imageJvmOptions(CONTROL_PLANE_IMAGE_SETTINGS);
    }
    if (brokerJvm == null && broker.equals("child") && bootstrap == null) {
      brokerJvm = String.join(" ", ImageSettings.jvmOptions(BROKER_SETTINGS, "broker JVM options",
          "--broker-jvm-options"));
    }
    System.out.printf("# bench JVM (clients%s%s): %s%n",
        bootstrap == null && broker.equals("in-process") ? ", the broker" : "",
        controlPlane.equals("in-process") ? ", the control plane" : "",
        String.join(" ", ManagementFactory.getRuntimeMXBean().getInputArguments()));
    EmbeddedKafka kafka = null;
    ChildJvm brokerJvmProcess = null;
    String servers = bootstrap;
    try {
      if (bootstrap == null && broker.equals("in-process")) {
        kafka = EmbeddedKafka.startTemporary();
        servers = kafka.bootstrapServers();
      } else if (bootstrap == null) {
        brokerJvmProcess = ChildJvm.startBroker(Files.createTempDirectory("bench-broker-"), brokerJvm,
            brokerConfigs);
        servers = brokerJvmProcess.output();
        System.out.printf("# broker: its own JVM (%s), log %s%s%n", brokerJvm, brokerJvmProcess.log,
            brokerConfigs.isEmpty() ? "" : ", over testkit's settings: " + String.join(" ", brokerConfigs));
      } else {
        System.out.println("# broker: " + bootstrap + " (--bootstrap-server)");
      }
      run(servers, services, perService, applies, warmup,
          controlPlane.equals("child") ? controlPlaneJvm : null, brokerJvmProcess);
    } finally {
      if (kafka != null) {
        kafka.close();
      }
      if (brokerJvmProcess != null) {
        brokerJvmProcess.close();
      }
    }
  }

  /**
   * Runs the bench.
   *
   * @param childJvmOptions the control plane runs in a child JVM with these options, as in
   *     production (its own heap and collector: its pauses stall it alone, not the broker or the
   *     clients); {@code null}: in this JVM
   */
  static void run(String servers, int services, int perService, int applies, int warmup,
                  String childJvmOptions, ChildJvm broker) throws Exception {
    Map<String, Object> client = Map.of("bootstrap.servers", servers);
    try (Admin admin = Admin.create(client)) {
      new TopicBootstrapper(admin).ensureAll();
      admin.createTopics(List.of(new NewTopic("bench.floor", 1, (short) 1),
          new NewTopic(TransactionalProbe.TOPIC, 1, (short) 1))).all().get();
    }
    System.out.printf("# config propagation: %d services, %d instances, %d resources, %d applies%n",
        services, services * perService, services * 3, applies);
    // The collector and heap matter: every pause of this JVM stops the clients, and the broker
    // and the control plane too when they run in it (see bench/README.md).
    System.out.printf("# bench JVM: %s, max heap %d MiB, collectors %s%n",
        System.getProperty("java.vm.version"), Runtime.getRuntime().maxMemory() >> 20,
        ManagementFactory.getGarbageCollectorMXBeans().stream()
            .map(java.lang.management.GarbageCollectorMXBean::getName).toList());

    List<Double> idleFloor;
    try (FloorProbe probe = new FloorProbe(servers)) {
      idleFloor = probe.measure(applies);
    }

    Path stateDir = Files.createTempDirectory("bench-config-");
    String appId = "bench-config-" + UUID.randomUUID().toString().substring(0, 8);
    ChildJvm child = null;
    ControlPlaneApp app = null;
    Map<String, CommandStages.Timing> inProcessStages = new java.util.concurrent.ConcurrentHashMap<>();
    if (childJvmOptions != null) {
      child = ChildJvm.startControlPlane(servers, appId, stateDir.resolve("a"), childJvmOptions);
      System.out.printf("# control plane: its own JVM (%s), log %s%n", childJvmOptions, child.log);
    } else {
      app = new ControlPlaneApp(new ControlPlaneApp.Settings(servers, appId,
          stateDir.resolve("a"), COMMIT, Duration.ofSeconds(1)),
          ConfigService.resourceCheck(), ConfigService.discovery(),
          CommandStages.withListener(t -> inProcessStages.put(t.commandId(), t)));
      app.start();
      if (!app.awaitRunning(Duration.ofMinutes(2))) {
        throw new IllegalStateException("control plane did not start");
      }
      System.out.println("# control plane: in this JVM (with the broker and the clients)");
    }

    List<Resource> loadedResources = new ArrayList<>();
    Map<String, InstanceRegistration> loadedInstances = new java.util.HashMap<>();
    long loadStart = System.nanoTime();
    try {
      try (FloorProbe probe = new FloorProbe(servers);
           TransactionalProbe txnProbe = new TransactionalProbe(servers);
           KafkaProducer<String, byte[]> producer = producer(servers);
           KafkaConsumer<String, byte[]> views = proxyViewConsumer(servers);
           KafkaConsumer<String, byte[]> uncommitted = consumer(servers, Topics.DISCOVERY_VIEWS.name(),
               "read_uncommitted")) {
        for (int s = 0; s < services; s++) {
          for (int i = 0; i < perService; i++) {
            InstanceRegistration instance = instance(s, i);
            loadedInstances.put(instance.getNamespace() + "/" + instance.getService() + "/"
                + instance.getInstanceId(), instance);
            producer.send(new ProducerRecord<>(Topics.REGISTRY_INSTANCES.name(),
                instance.getNamespace() + "/" + instance.getService() + "/" + instance.getInstanceId(),
                Topics.REGISTRY_INSTANCES.serializeValue(instance)));
          }
          for (Resource r : List.of(destinationRule(s), virtualService(s, 90), authorization(s))) {
            loadedResources.add(r);
            producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), r.id().key(),
                Topics.CONFIG_COMMANDS.serializeValue(command(r))));
          }
        }
        producer.flush();
        // Loaded when every service's view shows its 10 instances and its routes.
        java.util.Set<String> complete = new java.util.HashSet<>();
        while (complete.size() < services) {
          for (ConsumerRecord<String, byte[]> r : views.poll(Duration.ofMillis(200))) {
            ServiceView view = Topics.DISCOVERY_VIEWS.deserializeValue(r.value());
            if (view.getEndpoints().size() == perService && !view.getHttpRoutes().isEmpty()) {
              complete.add(view.getHost());
            }
          }
        }
        System.out.printf("loaded in %.1f s%n", (System.nanoTime() - loadStart) / 1e9);
        int[] appliesTo = new int[services];
        if (warmup > 0) {
          // Not measured, and said so: applies (with their floor probes) before the measured
          // ones, so that the control plane's JIT has compiled the one-command path (the load
          // runs commands in bursts: other code) before the clock starts.
          long warmStart = System.nanoTime();
          for (int n = 0; n < warmup; n++) {
            probe.once();
            txnProbe.once();
            int s = (n * 7919) % services;
            Resource vs = virtualService(s, 50 + (appliesTo[s]++ % 40));
            ConfigCommand command = command(vs);
            producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), vs.id().key(),
                Topics.CONFIG_COMMANDS.serializeValue(command)));
            producer.flush();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            boolean seen = false;
            while (!seen) {
              checkDeadline(deadline, n, host(s));
              for (ConsumerRecord<String, byte[]> r : views.poll(Duration.ofMillis(100))) {
                ServiceView view = Topics.DISCOVERY_VIEWS.deserializeValue(r.value());
                seen |= view.getTriggeredBy() != null
                    && view.getTriggeredBy().getCommandId().equals(command.getCommandId());
              }
            }
          }
          System.out.printf("warm-up: %d applies, not measured, in %.1f s%n", warmup,
              (System.nanoTime() - warmStart) / 1e9);
        }
        uncommitted.seekToEnd(uncommitted.assignment());
        uncommitted.assignment().forEach(uncommitted::position);

        List<Double> toView = new ArrayList<>();
        List<Double> toAcked = new ArrayList<>();
        List<Double> toConsumer = new ArrayList<>();
        List<Double> toUncommitted = new ArrayList<>();
        List<Double> floor = new ArrayList<>();
        List<Double> txnFloor = new ArrayList<>();
        List<Double> commitStage = new ArrayList<>();
        List<Double> toConsumerNoGc = new ArrayList<>();
        List<Double> toConsumerGc = new ArrayList<>();
        List<String> slow = new ArrayList<>();
        List<long[]> slowWindows = new ArrayList<>();
        List<long[]> windows = new ArrayList<>();
        List<String> commandIds = new ArrayList<>();
        List<Long> sentMicros = new ArrayList<>();
        // Background first: the same counters over a window with nothing sent, before any of the
        // per-apply figures' starting points, which it would otherwise inflate.
        Requests requests = new Requests(broker, child, appId);
        requests.idleWindow(IDLE_MS);
        Map<String, Long> logBytesBefore = logBytesByTopic(servers);
        CpuAndGc before = CpuAndGc.now();
        long childCpuBefore = child == null ? 0 : child.cpuNanos();
        Map<String, Child.ThreadStat> childThreadsBefore = child == null ? Map.of() : child.threadStats();
        double childUptimeBefore = child == null ? 0 : child.uptimeSeconds();
        long brokerCpuBefore = broker == null ? 0 : broker.cpuNanos();
        double brokerUptimeBefore = broker == null ? 0 : broker.uptimeSeconds();
        ChildJvm profiled = PROFILE == null ? null
            : PROFILE_TARGET.equals("broker") ? broker : child;
        if (PROFILE != null && profiled == null) {
          throw new IllegalArgumentException("-Dmeshlog.bench.profile.target=" + PROFILE_TARGET
              + ": no such child JVM in this run (expected: control-plane or broker, run as a child)");
        }
        requests.start();
        if (profiled != null) {
          // threads: one stack root per thread, so the stream thread, the producer's sender
          // and the JVM's own threads (JIT compilers, collector) are told apart.
          profiled.profiler("start,threads,event=" + PROFILE + ",interval=" + PROFILE_INTERVAL);
        }
        for (int n = 0; n < applies; n++) {
          // The floor, one round trip right before each apply: both see the same broker, the same
          // heap (this JVM's GC pauses stop the broker, the control plane and the clients alike)
          // and the same load from the rest of the machine.
          floor.add(probe.once());
          txnFloor.add(txnProbe.once());
          int s = (n * 7919) % services;
          // Each apply to a service changes its weights (50, 51, ... 89, then again; loaded at 90):
          // an identical document is UNCHANGED and publishes no view, which would never arrive.
          Resource vs = virtualService(s, 50 + (appliesTo[s]++ % 40));
          ConfigCommand command = command(vs);
          String host = host(s);
          long gcBefore = CpuAndGc.collections();
          long sent = System.currentTimeMillis();
          long sentNanos = System.nanoTime();
          commandIds.add(command.getCommandId());
          sentMicros.add(epochMicros());
          producer.send(new ProducerRecord<>(Topics.CONFIG_COMMANDS.name(), vs.id().key(),
              Topics.CONFIG_COMMANDS.serializeValue(command)));
          producer.flush();
          double acked = (System.nanoTime() - sentNanos) / 1e6;
          toAcked.add(acked);
          // Where the time goes: the same view read before its transaction commits (what a
          // read_uncommitted reader would see), then as a proxy reads it (read_committed).
          boolean produced = false;
          long deadline = sentNanos + Duration.ofSeconds(60).toNanos();
          while (!produced) {
            checkDeadline(deadline, n, host);
            for (ConsumerRecord<String, byte[]> r : uncommitted.poll(Duration.ofMillis(100))) {
              if (r.key().equals(host) && isTriggeredBy(r, command)) {
                toUncommitted.add((System.nanoTime() - sentNanos) / 1e6);
                produced = true;
              }
            }
          }
          boolean seen = false;
          while (!seen) {
            checkDeadline(deadline, n, host);
            for (ConsumerRecord<String, byte[]> r : views.poll(Duration.ofMillis(100))) {
              if (!r.key().equals(host)) {
                continue;
              }
              ServiceView view = Topics.DISCOVERY_VIEWS.deserializeValue(r.value());
              if (view.getTriggeredBy() != null
                  && view.getTriggeredBy().getCommandId().equals(command.getCommandId())) {
                double ms = (System.nanoTime() - sentNanos) / 1e6;
                toConsumer.add(ms);
                windows.add(new long[] {sent, sent + (long) Math.ceil(ms)});
                commitStage.add(ms - toUncommitted.get(toUncommitted.size() - 1));
                boolean gc = CpuAndGc.collections() != gcBefore;
                (gc ? toConsumerGc : toConsumerNoGc).add(ms);
                toView.add((double) (r.timestamp() - sent));
                if (ms >= SLOW_APPLY_MS) {
                  slow.add(String.format("apply %d at %s: command acked %.1f, taken by the control plane %d,"
                          + " read_uncommitted %.1f, read_committed %.1f ms%s", n,
                      TIME_OF_DAY.format(Instant.ofEpochMilli(sent)), acked, r.timestamp() - sent, toUncommitted.get(toUncommitted.size() - 1), ms,
                      gc ? " (a GC of this JVM)" : ""));
                  slowWindows.add(new long[] {sent, sent + (long) Math.ceil(ms)});
                }
                seen = true;
              }
            }
          }
        }
        CpuAndGc spent = CpuAndGc.now().minus(before);
        if (profiled != null) {
          // Outside the child's data directory, which is deleted when it stops.
          Path profile = Path.of(System.getProperty("meshlog.bench.profile.dir",
              System.getProperty("java.io.tmpdir")),
              "meshlog-" + profiled.name + "-" + PROFILE + "-" + ProcessHandle.current().pid() + ".collapsed");
          profiled.profiler("stop,collapsed,file=" + profile);
          System.out.printf("# %s profile (%s, the applies only): %s%n", profiled.name, PROFILE, profile);
        }
        requests.stop();
        Map<String, Long> logBytesAfter = logBytesByTopic(servers);
        long childCpu = child == null ? 0 : child.cpuNanos() - childCpuBefore;
        Map<String, Child.ThreadStat> childThreadsAfter = child == null ? Map.of() : child.threadStats();
        double childUptimeAfter = child == null ? 0 : child.uptimeSeconds();
        long brokerCpu = broker == null ? 0 : broker.cpuNanos() - brokerCpuBefore;
        double brokerUptimeAfter = broker == null ? 0 : broker.uptimeSeconds();
        System.out.println();
        System.out.println("| latency (ms) | n | p50 | p90 | p99 | max |");
        System.out.println("| --- | --- | --- | --- | --- | --- |");
        System.out.println(new Stats(idleFloor).row("floor before loading: produce → consume, idle broker"));
        System.out.println(new Stats(floor).row("floor: produce → consume, interleaved with the applies"));
        System.out.println(new Stats(txnFloor).row(
            "floor in a transaction: begin, produce, commit → read_committed consumer"));
        System.out.println(new Stats(toAcked).row("apply → command acked by the broker (acks=all)"));
        // The view's timestamp is the stream thread's clock as cached for its loop, before the
        // command was processed, not when the view was sent: in a DEBUG run the slowest apply's
        // view was stamped 2 ms after the apply and sent at 11 ms (the producer's log).
        System.out.println(new Stats(toView).row(
            "apply → control plane took the command (the view's record timestamp)"));
        System.out.println(new Stats(toUncommitted).row("apply → view at a read_uncommitted consumer"));
        System.out.println(new Stats(toConsumer).row("apply → view at a subscribed consumer"));
        System.out.println(new Stats(commitStage).row(
            "stage: seen read_uncommitted → seen read_committed (the commit)"));
        System.out.println(new Stats(toConsumerNoGc).row(
            "apply → subscribed consumer, applies with no GC of this JVM during them"));
        if (!toConsumerGc.isEmpty()) {
          System.out.println(new Stats(toConsumerGc).row(
              "apply → subscribed consumer, applies with a GC of this JVM during them"));
        }
        printStages(commandIds, sentMicros, toConsumer,
            child != null ? child.stageLines() : inProcessStages);
        System.out.printf("%napplies that took %d ms or more to reach the subscribed consumer: %d%n",
            SLOW_APPLY_MS, slow.size());
        for (int i = 0; i < slow.size(); i++) {
          long[] w = slowWindows.get(i);
          System.out.println("  " + slow.get(i) + overlappingPauses(w[0], w[1], child, broker));
        }
        if (child != null || broker != null) {
          // Which tail is the children's collectors': the same applies split by whether a pause
          // of the broker's or the control plane's JVM (their GC logs, wall-clock stamped)
          // overlapped them. Every apply stays in the rows above; this only attributes.
          List<Double> paused = new ArrayList<>();
          List<Double> unpaused = new ArrayList<>();
          List<ChildJvm.Pause> childPauses = new ArrayList<>();
          if (broker != null) {
            childPauses.addAll(broker.pauseList());
          }
          if (child != null) {
            childPauses.addAll(child.pauseList());
          }
          for (int i = 0; i < windows.size(); i++) {
            long[] w = windows.get(i);
            // Pauses under 1 ms (ZGC's) explain no tail; counting them would blur the split.
            boolean hit = childPauses.stream()
                .anyMatch(pz -> pz.millis() >= 1 && pz.overlaps(w[0], w[1]));
            (hit ? paused : unpaused).add(toConsumer.get(i));
          }
          System.out.println();
          System.out.println("| latency (ms) | n | p50 | p90 | p99 | max |");
          System.out.println("| --- | --- | --- | --- | --- | --- |");
          System.out.println(new Stats(unpaused).row(
              "apply → subscribed consumer, no broker or control-plane GC pause ≥ 1 ms during it"));
          if (!paused.isEmpty()) {
            System.out.println(new Stats(paused).row(
                "apply → subscribed consumer, a broker or control-plane GC pause ≥ 1 ms during it"));
          }
        }
        System.out.printf("%np99 ratio (apply → consumer) / floor (interleaved): %.1f×"
                + " (/ floor before loading: %.1f×)%n",
            new Stats(toConsumer).percentile(99) / new Stats(floor).percentile(99),
            new Stats(toConsumer).percentile(99) / new Stats(idleFloor).percentile(99));
        // The same run resampled: how much of the ratio is which few applies (or probes) were
        // slow. Not a substitute for repeated runs (it cannot see the machine's load changing).
        double[] spread = Stats.bootstrapRatio(toConsumer, floor, 99, 2000, 42, 5, 50, 95);
        System.out.printf("  its spread within this run (p99 ratio of 2,000 bootstrap resamples of"
                + " the %d apply/floor pairs): 5%% %.1f×, median %.1f×, 95%% %.1f×%n",
            applies, spread[0], spread[1], spread[2]);
        System.out.println("during the applies (with their floor probes), CPU per apply and GC:");
        if (child == null) {
          System.out.printf("  control-plane stream thread (in the bench JVM): %.2f ms%n",
              spent.streamThreadCpuNanos() / 1e6 / applies);
        } else {
          System.out.printf("  control-plane JVM: %.2f ms; %s%n", childCpu / 1e6 / applies,
              child.pauses(childUptimeBefore, childUptimeAfter));
          printThreadTimes(childThreadsBefore, childThreadsAfter, appId, applies);
        }
        if (broker != null) {
          System.out.printf("  broker JVM: %.2f ms; %s%n", brokerCpu / 1e6 / applies,
              broker.pauses(brokerUptimeBefore, brokerUptimeAfter));
        }
        requests.print(applies);
        System.out.printf("  bench JVM (clients%s%s): %.2f ms; %d GC pauses, %d ms in all%n",
            broker == null ? ", the broker" : "", child == null ? ", the control plane" : "",
            spent.processCpuNanos() / 1e6 / applies, spent.gcCount(), spent.gcMillis());
        // What each apply's transaction writes to the broker's logs, topic by topic (record
        // batches with their headers, commit markers included; the floor probes' topics apart).
        System.out.println("bytes appended to the broker's logs per apply (batches and markers):");
        long all = 0;
        for (Map.Entry<String, Long> e : new java.util.TreeMap<>(logBytesAfter).entrySet()) {
          long grown = e.getValue() - logBytesBefore.getOrDefault(e.getKey(), 0L);
          if (grown > 0) {
            System.out.printf("  %s: %d%n", e.getKey().replace(appId, "<app>"), grown / applies);
            all += grown;
          }
        }
        System.out.printf("  all topics: %d%n", all / applies);
        // Allocation sets how often the young generation fills, i.e. how many applies a pause
        // can land in (threads that ended during the applies are not counted).
        if (child == null) {
          System.out.printf("allocation per apply: control-plane thread %d KiB; all live threads "
                  + "(broker, clients, control plane) %d KiB%n",
              spent.streamThreadAllocated() / applies >> 10, spent.allAllocated() / applies >> 10);
        }
      }
    } finally {
      // Also when a view never arrives: its threads (or process) would outlive the bench.
      if (app != null) {
        app.close();
      }
      if (child != null) {
        child.close();
      }
    }

    // Rebuild: a fresh instance with empty local state restores from the changelogs.
    System.gc();
    long heapBefore = usedHeap();
    long rebuildStart = System.nanoTime();
    ControlPlaneApp rebuilt = new ControlPlaneApp(new ControlPlaneApp.Settings(servers, appId,
        stateDir.resolve("b"), COMMIT, Duration.ofSeconds(1)),
        ConfigService.resourceCheck(), ConfigService.discovery());
    rebuilt.start();
    if (!rebuilt.awaitRunning(Duration.ofMinutes(5))) {
      throw new IllegalStateException("rebuild did not finish");
    }
    double rebuildSeconds = (System.nanoTime() - rebuildStart) / 1e9;
    System.gc();
    long heapAfter = usedHeap();
    System.out.printf("%nfull rebuild after restart (empty local state, restore from changelogs): "
        + "%.1f s; heap held by the control plane ≈ %d MiB%n", rebuildSeconds,
        Math.max(0, heapAfter - heapBefore) >> 20);
    rebuilt.close();

    // The compile side of a rebuild, measured alone: load the whole state into a fresh model and
    // compile every view, as the control plane does on its first tick after a restart.
    List<dev.meshlog.events.config.ConfigEvent> events = new ArrayList<>();
    for (Resource r : loadedResources) {
      events.add(dev.meshlog.events.config.ConfigEvent.newBuilder().setCommandId("bench")
          .setResource(ResourceRef.newBuilder().setKind(r.kind()).setNamespace(r.namespace())
              .setName(r.name()).build())
          .setRevision(1).setChangeType(dev.meshlog.events.config.ChangeType.CREATED)
          .setDocument(r.canonicalJson()).setDocumentHash(r.sha256())
          .setSource(ChangeSource.newBuilder().setType(SourceType.CLI).build())
          .setRequestedAt(Instant.now()).setAcceptedAt(Instant.now()).build());
    }
    System.gc();
    long modelBefore = usedHeap();
    long compileStart = System.nanoTime();
    dev.meshlog.config.controlplane.Discovery model = ConfigService.discovery();
    model.load(events, loadedInstances);
    int compiled = 0;
    for (String host : model.hosts()) {
      model.compile(host, Instant.now());
      compiled++;
    }
    double compileSeconds = (System.nanoTime() - compileStart) / 1e9;
    System.gc();
    long modelAfter = usedHeap();
    System.out.printf("load the state into a fresh model and compile all %d views: %.1f s; "
        + "the model's heap ≈ %d MiB%n", compiled, compileSeconds,
        Math.max(0, modelAfter - modelBefore) >> 20);
    java.lang.ref.Reference.reachabilityFence(model);
  }

  /**
   * The size of every topic's log on the broker, summed over its partitions: taken before and
   * after the applies, the bytes they appended (the log cleaner and retention leave the active
   * segment alone, and testkit's 64 MiB segments hold a whole run).
   */
  private static Map<String, Long> logBytesByTopic(String servers) throws Exception {
    Map<String, Long> bytes = new java.util.HashMap<>();
    try (Admin admin = Admin.create(Map.<String, Object>of("bootstrap.servers", servers))) {
      List<Integer> brokers = admin.describeCluster().nodes().get().stream()
          .map(org.apache.kafka.common.Node::id).toList();
      admin.describeLogDirs(brokers).allDescriptions().get().values().forEach(dirs ->
          dirs.values().forEach(dir -> dir.replicaInfos().forEach((partition, replica) ->
              bytes.merge(partition.topic(), replica.size(), Long::sum))));
    }
    return bytes;
  }

  /** The children's GC pauses that overlap {@code [fromMillis, toMillis]}, for a slow apply. */
  private static String overlappingPauses(long fromMillis, long toMillis, ChildJvm... children)
      throws Exception {
    StringBuilder out = new StringBuilder();
    for (ChildJvm c : children) {
      if (c == null) {
        continue;
      }
      for (ChildJvm.Pause pz : c.pauseList()) {
        if (pz.overlaps(fromMillis, toMillis)) {
          out.append(String.format("; %s GC pause %.1f ms ending at %s", c.name, pz.millis(),
              TIME_OF_DAY.format(Instant.ofEpochMilli(pz.endMillis()))));
        }
      }
    }
    return out.toString();
  }

  /**
   * The production JVM options in an image's settings: {@code jib.container.jvmFlags}
   * (comma-separated), read from the repository's root (where the bench is run).
   */
  static String imageJvmOptions(Path settings) {
    return String.join(" ", ImageSettings.jvmOptions(settings, "control-plane JVM options",
        "--control-plane-jvm-options"));
  }

  /**
   * The control plane's CPU per apply by thread group, and how long each group's threads waited
   * for a core (ready to run, not running): {@code /proc/PID/task/TID/schedstat}, the scheduler's
   * own ns counters. Threads that ended during the applies are not counted.
   */
  private static void printThreadTimes(Map<String, Child.ThreadStat> before,
                                       Map<String, Child.ThreadStat> after, String appId, int applies) {
    printThreadTimes("control-plane", before, after, name ->
        // Linux keeps 15 characters of a thread's name.
        appId.startsWith(name) ? "stream thread (and Streams' other threads)"
            : name.startsWith("kafka-producer") ? "producer's sender"
            : name.contains("CompilerThre") ? "JIT compilers"
            : name.startsWith("Z") || name.startsWith("GC ") || name.startsWith("G1 ") ? "collector"
            : "other (" + name.replaceAll("[0-9]+", "N") + ")", applies);
  }

  /** {@link #printThreadTimes(Map, Map, String, int)} for any child, threads grouped by {@code group}. */
  static void printThreadTimes(String who, Map<String, Child.ThreadStat> before,
                               Map<String, Child.ThreadStat> after,
                               java.util.function.Function<String, String> group, int applies) {
    Map<String, long[]> groups = new java.util.TreeMap<>();
    for (Child.ThreadStat t : after.values()) {
      Child.ThreadStat b = before.get(t.key());
      long[] g = groups.computeIfAbsent(group.apply(t.name()), k -> new long[2]);
      g[0] += t.cpuNanos() - (b == null ? 0 : b.cpuNanos());
      g[1] += t.waitNanos() - (b == null ? 0 : b.waitNanos());
    }
    System.out.print("  " + who + " threads, CPU / waiting for a core per apply (ms):");
    groups.entrySet().stream()
        .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
        .filter(e -> e.getValue()[0] + e.getValue()[1] >= applies * 10_000L) // >= 0.01 ms
        .forEach(e -> System.out.printf(" %s %.2f / %.2f;", e.getKey(),
            e.getValue()[0] / 1e6 / applies, e.getValue()[1] / 1e6 / applies));
    System.out.println();
  }

  private static long epochMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  /**
   * Where an apply's time goes inside the control plane: its stream thread's stages per command
   * ({@link CommandStages}: the child's DEBUG log, or the in-process app's listener), matched to
   * the applies by command id. The wall-clock rows (apply → poll, apply → EndTxn answered) compare
   * this JVM's clock with the control plane's, the same machine's; the others are the control
   * plane's own monotonic differences.
   */
  private static void printStages(List<String> commandIds, List<Long> sentMicros,
                                  List<Double> toConsumer, Map<String, CommandStages.Timing> timings) {
    List<Double> toPoll = new ArrayList<>();
    List<Double> wait = new ArrayList<>();
    List<Double> check = new ArrayList<>();
    List<Double> views = new ArrayList<>();
    List<Double> rest = new ArrayList<>();
    List<Double> process = new ArrayList<>();
    List<Double> toCommit = new ArrayList<>();
    List<Double> flush = new ArrayList<>();
    List<Double> offsets = new ArrayList<>();
    List<Double> endTxn = new ArrayList<>();
    List<Double> commit = new ArrayList<>();
    List<Double> toEndTxn = new ArrayList<>();
    List<Double> afterEndTxn = new ArrayList<>();
    int missing = 0;
    for (int i = 0; i < commandIds.size(); i++) {
      CommandStages.Timing t = timings.get(commandIds.get(i));
      if (t == null) {
        missing++;
        continue;
      }
      if (t.polledAtMicros() != 0) {
        toPoll.add((t.polledAtMicros() - sentMicros.get(i)) / 1e3);
        wait.add(t.waitMs());
      }
      check.add(t.checkMs());
      views.add(t.viewsMs());
      rest.add(t.processMs() - t.checkMs() - t.viewsMs());
      process.add(t.processMs());
      toCommit.add(t.toCommitMs());
      flush.add(t.flushMs());
      offsets.add(t.offsetsMs());
      endTxn.add(t.endTxnMs());
      commit.add(t.flushMs() + t.offsetsMs() + t.endTxnMs());
      double ended = (t.committedAtMicros() - sentMicros.get(i)) / 1e3;
      toEndTxn.add(ended);
      afterEndTxn.add(toConsumer.get(i) - ended);
    }
    System.out.printf("%nthe control plane's stages per apply (its stream thread; %d of %d applies"
        + " timed%s):%n", commandIds.size() - missing, commandIds.size(),
        missing == 0 ? "" : ", the rest had no stages line");
    System.out.println("| stage (ms) | n | p50 | p90 | p99 | max |");
    System.out.println("| --- | --- | --- | --- | --- | --- |");
    System.out.println(new Stats(toPoll).row("apply sent → the stream thread's poll returned it (wall clocks)"));
    System.out.println(new Stats(wait).row("poll returned → processing started"));
    System.out.println(new Stats(check).row("processing: validation (parse, checks, canonical JSON, SHA-256)"));
    System.out.println(new Stats(views).row("processing: model update, compile, hash and send the views"));
    System.out.println(new Stats(rest).row("processing: the rest (store reads and writes, the event)"));
    System.out.println(new Stats(process).row("processing, all of it"));
    System.out.println(new Stats(toCommit).row("processed → commit started"));
    System.out.println(new Stats(flush).row("commit: producer flush (every send acknowledged)"));
    System.out.println(new Stats(offsets).row("commit: sendOffsetsToTransaction (TxnOffsetCommit)"));
    System.out.println(new Stats(endTxn).row("commit: commitTransaction (EndTxn answered)"));
    System.out.println(new Stats(commit).row("commit, all of it"));
    System.out.println(new Stats(toEndTxn).row("apply sent → EndTxn answered (wall clocks)"));
    System.out.println(new Stats(afterEndTxn).row(
        "EndTxn answered → view at the subscribed consumer (markers, fetch)"));
  }

  private static void checkDeadline(long deadlineNanos, int apply, String host) {
    if (System.nanoTime() - deadlineNanos > 0) {
      throw new IllegalStateException("apply " + apply + ": no view of " + host
          + " within 60 s (is the control plane running?)");
    }
  }

  /**
   * A child JVM on the bench jar's class path: config-service's main ({@code ConfigServiceMain},
   * API off) started the way {@code ./meshlog up} starts it, or testkit's broker
   * ({@code KafkaMain}, as {@code ./meshlog kafka}); with its GC log, for the pauses that land in
   * the applies.
   */
  static final class ChildJvm implements AutoCloseable {
    private final Process process;
    final String name;
    final Path log;
    private final Path gcLog;
    private final Path dataDir;

    private ChildJvm(String name, Process process, Path log, Path gcLog, Path dataDir) {
      this.name = name;
      this.process = process;
      this.log = log;
      this.gcLog = gcLog;
      this.dataDir = dataDir;
    }

    static ChildJvm startControlPlane(String servers, String appId, Path dataDir, String jvmOptions)
        throws Exception {
      // Each command's stages on the stream thread, one DEBUG line each (CommandStages), read
      // back after the applies for the stage table.
      List<String> main = new ArrayList<>(List.of(
          "dev.meshlog.config.ConfigServiceMain", "--bootstrap-server", servers,
          "--data-dir", dataDir.toString(), "--application-id", appId,
          "--commit-interval", COMMIT.toMillis() + "ms", "--api-port", "-1"));
      if (POLL_MS != null) {
        main.addAll(List.of("--poll-interval", POLL_MS + "ms"));
      }
      ChildJvm child = start("control-plane", dataDir,
          jvmOptions + " -Dmeshlog.command.stages.level=DEBUG", main);
      child.await("config-service running", () -> true);
      return child;
    }

    /** A broker on a free port; {@link #output()} is then its bootstrap servers. */
    static ChildJvm startBroker(Path dataDir, String jvmOptions, List<String> configs)
        throws Exception {
      List<String> main = new ArrayList<>(List.of(
          "dev.meshlog.testkit.KafkaMain", "--data-dir", dataDir.toString(), "--port", "0"));
      for (String config : configs) {
        main.addAll(List.of("--config", config));
      }
      ChildJvm child = start("broker", dataDir, jvmOptions, main);
      child.await("Kafka is running", () -> Files.exists(dataDir.resolve("bootstrap.servers")));
      return child;
    }

    private static ChildJvm start(String name, Path dataDir, String jvmOptions, List<String> main)
        throws Exception {
      Files.createDirectories(dataDir);
      Path log = dataDir.resolve(name + ".log");
      Path gcLog = dataDir.resolve(name + "-gc.log");
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      if (!jvmOptions.isBlank()) {
        command.addAll(List.of(jvmOptions.trim().split("\\s+")));
      }
      // gc+phases: ZGC and Shenandoah log their pauses there; gc+cpu: each collection's CPU
      // against its wall time (on a loaded machine a pause is mostly waiting for a core).
      // Stamped with the wall clock too, to match pauses to the applies they stalled.
      // safepoint: every stop of the JVM's threads, GC or not (deoptimization, code cache...).
      command.add("-Xlog:gc,gc+phases,gc+cpu,safepoint:file=" + gcLog + ":time,uptime");
      // The bench jar's manifest class path holds config-service, testkit and their dependencies.
      command.addAll(List.of("-cp", System.getProperty("java.class.path")));
      command.addAll(main);
      Process process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(log.toFile()).start();
      return new ChildJvm(name, process, log, gcLog, dataDir);
    }

    private void await(String line, java.util.function.BooleanSupplier ready) throws Exception {
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (!(Files.readString(log).contains(line) && ready.getAsBoolean())) {
        if (!process.isAlive() || System.nanoTime() - deadline > 0) {
          close();
          throw new IllegalStateException("the child JVM did not start; see " + log);
        }
        Thread.sleep(50); // polling a child's log file: nothing to be notified by
      }
    }

    long pid() {
      return process.pid();
    }

    /** A broker's bootstrap servers, as it wrote them to its data directory. */
    String output() throws java.io.IOException {
      return Files.readString(dataDir.resolve("bootstrap.servers")).strip();
    }

    /** Runs an async-profiler command in this JVM (loads the agent the first time). */
    void profiler(String command) throws Exception {
      if (PROFILER_LIB == null) {
        throw new IllegalStateException("-Dmeshlog.bench.profile needs -Dmeshlog.bench.profiler.lib="
            + "PATH (libasyncProfiler.so)");
      }
      Process jcmd = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(),
          // Quoted: jcmd would take the "key=value" in the agent's options for its own arguments.
          Long.toString(process.pid()), "JVMTI.agent_load", PROFILER_LIB, '"' + command + '"')
          .redirectErrorStream(true).start();
      String out = new String(jcmd.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (jcmd.waitFor() != 0 || !out.contains("return code: 0")) {
        throw new IllegalStateException("async-profiler " + command + ": " + out.strip());
      }
    }

    /** Every command's stages the child has logged so far (by command id). */
    Map<String, CommandStages.Timing> stageLines() throws java.io.IOException {
      Map<String, CommandStages.Timing> timings = new java.util.HashMap<>();
      try (java.util.stream.Stream<String> lines = Files.lines(log)) {
        lines.forEach(line -> CommandStages.Timing.parse(line)
            .ifPresent(t -> timings.put(t.commandId(), t)));
      }
      return timings;
    }

    /** Its threads' CPU and run-queue time, by {@code pid/tid} ({@link Child#threadStats}). */
    Map<String, Child.ThreadStat> threadStats() {
      return Child.threadStats(java.util.stream.Stream.of(process.pid()));
    }

    long cpuNanos() {
      return process.info().totalCpuDuration().map(Duration::toNanos).orElse(0L);
    }

    /** Seconds since the child started, on the clock of its GC log ({@code uptime}). */
    double uptimeSeconds() {
      return process.info().startInstant()
          .map(start -> Duration.between(start, Instant.now()).toNanos() / 1e9).orElse(0.0);
    }

    /** One GC pause from the child's log: when it ended (wall clock, its uptime) and its length. */
    record Pause(long endMillis, double uptimeSeconds, double millis) {
      boolean overlaps(long fromMillis, long toMillis) {
        return endMillis >= fromMillis && endMillis - millis <= toMillis;
      }
    }

    private static final java.util.regex.Pattern PAUSE_LINE = java.util.regex.Pattern.compile(
        "^\\[([^\\]]+)\\]\\[(\\d+\\.\\d+)s\\].*Pause.* (\\d+\\.\\d+)ms$");
    private static final java.time.format.DateTimeFormatter LOG_TIME =
        java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSZ");

    /** Every GC pause the child has logged so far. */
    List<Pause> pauseList() throws java.io.IOException {
      return pauses(Files.readAllLines(gcLog));
    }

    /**
     * The pauses among GC log lines decorated {@code time,uptime} (G1's and Serial's "Pause
     * Young ...", ZGC's "Pause Mark Start ..." from {@code gc+phases}); other lines are skipped.
     */
    static List<Pause> pauses(List<String> gcLogLines) {
      List<Pause> pauses = new ArrayList<>();
      for (String l : gcLogLines) {
        java.util.regex.Matcher m = PAUSE_LINE.matcher(l);
        if (m.matches()) {
          pauses.add(new Pause(
              java.time.OffsetDateTime.parse(m.group(1), LOG_TIME).toInstant().toEpochMilli(),
              Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))));
        }
      }
      return pauses;
    }

    /** The GC pauses the child logged between two of its uptimes (±0.1 s: start times are coarse). */
    String pauses(double fromSeconds, double toSeconds) throws Exception {
      List<Double> pauses = new ArrayList<>();
      for (Pause pz : pauseList()) {
        if (pz.uptimeSeconds() >= fromSeconds - 0.1 && pz.uptimeSeconds() <= toSeconds + 0.1) {
          pauses.add(pz.millis());
        }
      }
      List<Safepoint> stops = new ArrayList<>();
      for (Safepoint sp : safepoints(Files.readAllLines(gcLog))) {
        if (sp.uptimeSeconds() >= fromSeconds - 0.1 && sp.uptimeSeconds() <= toSeconds + 0.1
            && sp.millis() >= 1) {
          stops.add(sp);
        }
      }
      Safepoint longest = stops.stream()
          .max(java.util.Comparator.comparingDouble(Safepoint::millis)).orElse(null);
      return String.format("%d GC pauses, %.0f ms in all, longest %.1f ms; %d safepoints of 1 ms"
              + " or more (GC's included)%s (%s)", pauses.size(),
          pauses.stream().mapToDouble(Double::doubleValue).sum(),
          pauses.stream().mapToDouble(Double::doubleValue).max().orElse(0), stops.size(),
          longest == null ? "" : String.format(", longest %.1f ms (%s)", longest.millis(),
              longest.operation()), gcLog);
    }

    /** One safepoint from the child's log: its uptime, operation and total time (reach + stop). */
    record Safepoint(double uptimeSeconds, String operation, double millis) {}

    private static final java.util.regex.Pattern SAFEPOINT_LINE = java.util.regex.Pattern.compile(
        "^\\[[^\\]]+\\]\\[(\\d+\\.\\d+)s\\] Safepoint \"([^\"]+)\".* Total: (\\d+) ns$");

    /** The safepoints among GC log lines decorated {@code time,uptime} ({@code -Xlog:safepoint}). */
    static List<Safepoint> safepoints(List<String> gcLogLines) {
      List<Safepoint> stops = new ArrayList<>();
      for (String l : gcLogLines) {
        java.util.regex.Matcher m = SAFEPOINT_LINE.matcher(l);
        if (m.matches()) {
          stops.add(new Safepoint(Double.parseDouble(m.group(1)), m.group(2),
              Long.parseLong(m.group(3)) / 1e6));
        }
      }
      return stops;
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy(); // SIGTERM: its shutdown hook closes the Streams app or the broker
      if (!process.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)) {
        process.destroyForcibly().waitFor();
      }
    }
  }

  /**
   * What the broker does per apply, and for whom: its requests by API key with the handlers'
   * local time in them, its CPU by thread, and the requests each client sent (the control
   * plane's over its JVM's JMX, the bench's own in this JVM) — during the applies and, for the
   * background, over a quiet window before them. Read over JMX through the attach API; off
   * (nothing printed) when the broker is not a child JVM of this run.
   */
  private static final class Requests {
    private final ChildJvm broker;
    private final ChildJvm controlPlane;
    private final String appId;
    private final JvmRequestCounts brokerJmx;
    private final JvmRequestCounts controlPlaneJmx;
    private final JvmRequestCounts local = JvmRequestCounts.local();
    private Snapshot idleBefore;
    private Snapshot idleAfter;
    private double idleSeconds;
    private Snapshot before;
    private Snapshot after;
    private double seconds;
    private long startNanos;

    /** Counters at one moment; CPU in ns. */
    private record Snapshot(Map<String, Double> brokerRequests, Map<String, Double> brokerThreads,
                            double brokerCpu, Map<String, Double> controlPlaneClients,
                            double controlPlaneCpu, Map<String, Double> benchClients) {}

    Requests(ChildJvm broker, ChildJvm controlPlane, String appId) throws Exception {
      this.broker = broker;
      this.controlPlane = controlPlane;
      this.appId = appId;
      this.brokerJmx = broker == null ? null : attach(broker);
      this.controlPlaneJmx = controlPlane == null ? null : attach(controlPlane);
    }

    /** The child's JMX, or null (said so) where the attach API is off: the rest still runs. */
    private static JvmRequestCounts attach(ChildJvm child) {
      try {
        return JvmRequestCounts.attach(child.pid());
      } catch (Exception | LinkageError e) {
        System.out.printf("# %s: no request counts (attach API: %s)%n", child.name, e);
        return null;
      }
    }

    private Snapshot snapshot() throws Exception {
      return new Snapshot(
          brokerJmx == null ? Map.of() : brokerJmx.brokerRequests(),
          brokerJmx == null ? Map.of() : brokerJmx.threadCpu(),
          broker == null ? 0 : broker.cpuNanos(),
          controlPlaneJmx == null ? Map.of() : controlPlaneJmx.clientRequests(),
          controlPlane == null ? 0 : controlPlane.cpuNanos(),
          local.clientRequests());
    }

    /** The background: the same counters over {@code millis} in which the bench sends nothing. */
    void idleWindow(long millis) throws Exception {
      if (millis <= 0) {
        return;
      }
      idleBefore = snapshot();
      long start = System.nanoTime();
      Thread.sleep(millis); // a window of time passing is what is measured
      idleAfter = snapshot();
      idleSeconds = (System.nanoTime() - start) / 1e9;
    }

    void start() throws Exception {
      before = snapshot();
      startNanos = System.nanoTime();
    }

    void stop() throws Exception {
      seconds = (System.nanoTime() - startNanos) / 1e9;
      after = snapshot();
    }

    private String shortId(String clientId) {
      return clientId.replace(appId, "<app>")
          .replaceAll("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<uuid>");
    }

    /**
     * Per apply, with the quiet window's rate beside each figure as per apply at this run's
     * pace (background per second × seconds per apply): what time passing alone would cost.
     */
    void print(int applies) {
      double secondsPerApply = seconds / applies;
      boolean idle = idleAfter != null;
      System.out.printf("what the broker did per apply (%.1f applies/s; in brackets: the same over"
              + " a %.1f s quiet window before the applies, nothing sent by the bench, at that pace)%n",
          applies / seconds, idleSeconds);
      if (broker != null) {
        double cpu = (after.brokerCpu() - before.brokerCpu()) / 1e6 / applies;
        double idleCpu = idle ? (idleAfter.brokerCpu() - idleBefore.brokerCpu()) / 1e6 / idleSeconds
            * secondsPerApply : 0;
        System.out.printf("  broker CPU: %.2f ms [%.2f]%n", cpu, idleCpu);
      }
      if (brokerJmx != null) {
        Map<String, Double> req = JvmRequestCounts.per(before.brokerRequests(), after.brokerRequests(), applies);
        Map<String, Double> idleReq = idle ? JvmRequestCounts.per(idleBefore.brokerRequests(),
            idleAfter.brokerRequests(), idleSeconds / secondsPerApply) : Map.of();
        System.out.print("  broker requests (count, handlers' local ms):");
        req.forEach((k, v) -> {
          if (!k.endsWith(" local ms")) {
            System.out.printf(" %s %.2f [%.2f], %.3f ms;", k, v, idleReq.getOrDefault(k, 0.0),
                req.getOrDefault(k + " local ms", 0.0));
          }
        });
        System.out.println();
        printCpu("broker threads' CPU (ms)", before.brokerThreads(), after.brokerThreads(),
            idle ? idleBefore.brokerThreads() : null, idle ? idleAfter.brokerThreads() : null,
            (after.brokerCpu() - before.brokerCpu()), idle ? idleAfter.brokerCpu() - idleBefore.brokerCpu() : 0,
            applies, secondsPerApply);
      }
      if (controlPlaneJmx != null) {
        printCounts("control plane's clients' requests", before.controlPlaneClients(),
            after.controlPlaneClients(), idle ? idleBefore.controlPlaneClients() : null,
            idle ? idleAfter.controlPlaneClients() : null, applies, secondsPerApply);
        double idleCpu = idle ? (idleAfter.controlPlaneCpu() - idleBefore.controlPlaneCpu()) / 1e6
            / idleSeconds * secondsPerApply : 0;
        System.out.printf("  control-plane JVM CPU: %.2f ms [%.2f]%n",
            (after.controlPlaneCpu() - before.controlPlaneCpu()) / 1e6 / applies, idleCpu);
      }
      printCounts("bench's clients' requests", before.benchClients(), after.benchClients(),
          idle ? idleBefore.benchClients() : null, idle ? idleAfter.benchClients() : null,
          applies, secondsPerApply);
    }

    private void printCounts(String what, Map<String, Double> b, Map<String, Double> a,
                             Map<String, Double> ib, Map<String, Double> ia, int applies,
                             double secondsPerApply) {
      Map<String, Double> per = JvmRequestCounts.per(b, a, applies);
      Map<String, Double> idlePer = ib == null ? Map.of()
          : JvmRequestCounts.per(ib, ia, idleSeconds / secondsPerApply);
      System.out.print("  " + what + ":");
      per.forEach((k, v) -> System.out.printf(" %s %.2f [%.2f];", shortId(k), v,
          idlePer.getOrDefault(k, 0.0)));
      System.out.println();
    }

    private void printCpu(String what, Map<String, Double> b, Map<String, Double> a,
                          Map<String, Double> ib, Map<String, Double> ia, double jvmCpu,
                          double idleJvmCpu, int applies, double secondsPerApply) {
      Map<String, Double> per = JvmRequestCounts.per(b, a, applies * 1e6);
      Map<String, Double> idlePer = ib == null ? Map.of()
          : JvmRequestCounts.per(ib, ia, idleSeconds / secondsPerApply * 1e6);
      double javaThreads = per.values().stream().mapToDouble(Double::doubleValue).sum();
      double idleJavaThreads = idlePer.values().stream().mapToDouble(Double::doubleValue).sum();
      System.out.print("  " + what + ":");
      per.entrySet().stream()
          .sorted((x, y) -> Double.compare(y.getValue(), x.getValue()))
          .filter(e -> e.getValue() >= 0.01)
          .forEach(e -> System.out.printf(" %s %.2f [%.2f];", e.getKey(), e.getValue(),
              idlePer.getOrDefault(e.getKey(), 0.0)));
      System.out.printf(" not Java threads (GC, JIT, VM) %.2f [%.2f]%n",
          jvmCpu / 1e6 / applies - javaThreads,
          idleSeconds == 0 ? 0 : idleJvmCpu / 1e6 / (idleSeconds / secondsPerApply) - idleJavaThreads);
    }
  }

  /**
   * The floor of the exactly-once path: one record in its own transaction (one partition, no
   * offsets) until a read_committed consumer has it. Not what the target is against; it shows how
   * much of the gap to the plain floor any transaction costs on this broker.
   */
  private static final class TransactionalProbe implements AutoCloseable {
    static final String TOPIC = "bench.floor.txn";
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;

    TransactionalProbe(String servers) {
      producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
          ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all",
          ProducerConfig.TRANSACTIONAL_ID_CONFIG, "bench-floor-" + UUID.randomUUID()),
          new StringSerializer(), new ByteArraySerializer());
      producer.initTransactions();
      consumer = consumer(servers, TOPIC);
    }

    /** One 200-byte record in one transaction until the read_committed consumer has it; in ms. */
    double once() {
      long sent = System.nanoTime();
      producer.beginTransaction();
      producer.send(new ProducerRecord<>(TOPIC, "k", new byte[200]));
      producer.commitTransaction();
      return msUntilRecord(consumer, sent);
    }

    @Override
    public void close() {
      producer.close();
      consumer.close();
    }
  }

  /** Polls until {@code consumer} returns a record; milliseconds since {@code sentNanos}. */
  private static double msUntilRecord(KafkaConsumer<String, byte[]> consumer, long sentNanos) {
    boolean seen = false;
    while (!seen) {
      seen = !consumer.poll(Duration.ofMillis(100)).isEmpty();
    }
    return (System.nanoTime() - sentNanos) / 1e6;
  }

  /** A plain produce → consume round trip on its own topic: the floor the target is against. */
  private static final class FloorProbe implements AutoCloseable {
    private final KafkaProducer<String, byte[]> producer;
    private final KafkaConsumer<String, byte[]> consumer;

    FloorProbe(String servers) {
      producer = producer(servers);
      consumer = consumer(servers, "bench.floor");
    }

    List<Double> measure(int n) throws Exception {
      List<Double> latencies = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        latencies.add(once());
      }
      return latencies;
    }

    /** One 200-byte record, {@code acks=all}, until the consumer has it; in ms. */
    double once() throws Exception {
      long sent = System.nanoTime();
      producer.send(new ProducerRecord<>("bench.floor", "k", new byte[200]));
      producer.flush();
      return msUntilRecord(consumer, sent);
    }

    @Override
    public void close() {
      producer.close();
      consumer.close();
    }
  }

  /** CPU time (the control plane's stream thread, the whole JVM) and GC pauses, cumulative. */
  private record CpuAndGc(long streamThreadCpuNanos, long processCpuNanos, long gcCount,
                          long gcMillis, long streamThreadAllocated, long allAllocated) {
    /** Pauses so far, all collectors. */
    static long collections() {
      long count = 0;
      for (java.lang.management.GarbageCollectorMXBean gc : pauseBeans()) {
        count += Math.max(0, gc.getCollectionCount());
      }
      return count;
    }

    /**
     * The collectors whose counts are pauses: ZGC and Shenandoah also have a bean for their
     * concurrent cycles ("... Cycles"), which stop nothing; G1's and Serial's beans are pauses.
     */
    static List<java.lang.management.GarbageCollectorMXBean> pauseBeans() {
      List<java.lang.management.GarbageCollectorMXBean> all =
          ManagementFactory.getGarbageCollectorMXBeans();
      List<java.lang.management.GarbageCollectorMXBean> pauses = all.stream()
          .filter(gc -> gc.getName().endsWith("Pauses")).toList();
      return pauses.isEmpty() ? all : pauses;
    }

    static CpuAndGc now() {
      java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long stream = 0;
      long streamAllocated = 0;
      long allAllocated = 0;
      com.sun.management.ThreadMXBean allocation = (com.sun.management.ThreadMXBean) threads;
      for (java.lang.management.ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
        if (info == null) {
          continue;
        }
        long allocated = Math.max(0, allocation.getThreadAllocatedBytes(info.getThreadId()));
        allAllocated += allocated;
        if (info.getThreadName().contains("StreamThread")) {
          stream += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
          streamAllocated += allocated;
        }
      }
      long process = ManagementFactory.getOperatingSystemMXBean()
          instanceof com.sun.management.OperatingSystemMXBean os ? os.getProcessCpuTime() : 0;
      long count = 0;
      long millis = 0;
      for (java.lang.management.GarbageCollectorMXBean gc : pauseBeans()) {
        count += Math.max(0, gc.getCollectionCount());
        millis += Math.max(0, gc.getCollectionTime());
      }
      return new CpuAndGc(stream, process, count, millis, streamAllocated, allAllocated);
    }

    CpuAndGc minus(CpuAndGc o) {
      return new CpuAndGc(streamThreadCpuNanos - o.streamThreadCpuNanos,
          processCpuNanos - o.processCpuNanos, gcCount - o.gcCount, gcMillis - o.gcMillis,
          streamThreadAllocated - o.streamThreadAllocated, allAllocated - o.allAllocated);
    }
  }

  private static long usedHeap() {
    return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
  }

  private static KafkaProducer<String, byte[]> producer(String servers) {
    return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ProducerConfig.LINGER_MS_CONFIG, 0, ProducerConfig.ACKS_CONFIG, "all"),
        new StringSerializer(), new ByteArraySerializer());
  }

  private static boolean isTriggeredBy(ConsumerRecord<String, byte[]> record, ConfigCommand command) {
    ServiceView view = Topics.DISCOVERY_VIEWS.deserializeValue(record.value());
    return view.getTriggeredBy() != null && view.getTriggeredBy().getCommandId().equals(command.getCommandId());
  }

  private static KafkaConsumer<String, byte[]> consumer(String servers, String topic) {
    return consumer(servers, topic, "read_committed");
  }

  private static KafkaConsumer<String, byte[]> consumer(String servers, String topic, String isolation) {
    return consumer(topic, Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation,
        ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 10));
  }

  /**
   * The subscribed consumer: the fetch settings a proxy's view consumer runs with
   * ({@code proxy/.../subscribe/ViewSubscriber.java} with {@code KafkaClients.viewConsumer}:
   * read_committed, 4 MiB per fetch, 1 MiB per partition, 500 records per poll, and Kafka's
   * {@code fetch.max.wait.ms}, 500 ms — the bench's other readers wait 10 ms). Copied, not
   * shared: the bench does not depend on the proxy module; keep them in step.
   */
  private static KafkaConsumer<String, byte[]> proxyViewConsumer(String servers) {
    return consumer(Topics.DISCOVERY_VIEWS.name(), Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, servers,
        ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 4 * 1024 * 1024,
        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024 * 1024,
        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 500));
  }

  private static KafkaConsumer<String, byte[]> consumer(String topic, Map<String, Object> config) {
    KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(config,
        new StringDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> partitions = List.of();
    while (partitions.isEmpty()) { // a new topic's metadata reaches clients a moment later
      partitions = consumer.partitionsFor(topic).stream()
          .map(p -> new TopicPartition(topic, p.partition())).toList();
    }
    consumer.assign(partitions);
    consumer.seekToEnd(partitions);
    partitions.forEach(consumer::position);
    return consumer;
  }

  private static String ns(int s) {
    return "ns" + (s % 50);
  }

  private static String name(int s) {
    return "svc" + s;
  }

  private static String host(int s) {
    return name(s) + "." + ns(s) + ".svc.cluster.local";
  }

  private static InstanceRegistration instance(int s, int i) {
    Instant now = Instant.now();
    String version = i % 2 == 0 ? "v1" : "v2";
    return InstanceRegistration.newBuilder()
        .setInstanceId(name(s) + "-" + i).setService(name(s)).setNamespace(ns(s))
        .setAddress("10." + (s / 250) + "." + (s % 250) + "." + (i + 1)).setPort(15006)
        .setLabels(Map.of("app", name(s), "version", version))
        .setZone("zone-" + (i % 3)).setCluster("bench").setServiceAccount(name(s))
        .setState(RegistrationState.REGISTERED).setLeaseDurationMillis(3_600_000)
        .setRegisteredAt(now).setHeartbeatAt(now).build();
  }

  private static Resource destinationRule(int s) {
    ObjectNode spec = JSON.createObjectNode().put("host", name(s));
    spec.putObject("trafficPolicy").putObject("loadBalancer").put("simple", "ROUND_ROBIN");
    ArrayNode subsets = spec.putArray("subsets");
    for (String v : List.of("v1", "v2")) {
      ObjectNode subset = subsets.addObject().put("name", v);
      subset.putObject("labels").put("version", v);
    }
    return new Resource("networking.istio.io/v1", "DestinationRule", ns(s), name(s), Map.of(), spec);
  }

  private static Resource virtualService(int s, int v1Weight) {
    ObjectNode spec = JSON.createObjectNode();
    spec.putArray("hosts").add(name(s));
    ArrayNode route = spec.putArray("http").addObject().putArray("route");
    ObjectNode first = route.addObject().put("weight", v1Weight);
    first.putObject("destination").put("host", name(s)).put("subset", "v1");
    ObjectNode second = route.addObject().put("weight", 100 - v1Weight);
    second.putObject("destination").put("host", name(s)).put("subset", "v2");
    return new Resource("networking.istio.io/v1", "VirtualService", ns(s), name(s), Map.of(), spec);
  }

  private static Resource authorization(int s) {
    ObjectNode spec = JSON.createObjectNode().put("action", "ALLOW");
    spec.putObject("selector").putObject("matchLabels").put("app", name(s));
    spec.putArray("rules").addObject().putArray("from").addObject().putObject("source")
        .putArray("namespaces").add(ns(s));
    return new Resource("security.istio.io/v1", "AuthorizationPolicy", ns(s), name(s) + "-allow",
        Map.of(), spec);
  }

  private static ConfigCommand command(Resource r) {
    return ConfigCommand.newBuilder()
        .setCommandId(UUID.randomUUID().toString())
        .setResource(ResourceRef.newBuilder().setKind(r.kind()).setNamespace(r.namespace())
            .setName(r.name()).build())
        .setApiVersion(r.apiVersion())
        .setOperation(Operation.APPLY)
        .setDocument(r.canonicalJson())
        .setActor("bench")
        .setSource(ChangeSource.newBuilder().setType(SourceType.CLI).build())
        .setRequestedAt(Instant.now())
        .build();
  }
}
