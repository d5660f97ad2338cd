package dev.meshlog.bench;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import javax.management.MBeanServerConnection;
import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;

import com.sun.tools.attach.VirtualMachine;

/**
 * Kafka's request counters in a child JVM, read over JMX through the attach API (the child's
 * local management agent, started on demand: no port, no flag on its command line): the broker's
 * requests by API key ({@code kafka.network:type=RequestMetrics}) and its handlers' local time,
 * or a client JVM's requests by client ({@code request-total} of each Kafka client's metrics).
 * Cumulative counts; the caller takes two snapshots and divides their difference.
 */
final class JvmRequestCounts implements AutoCloseable {

  private final JMXConnector connector;
  private final MBeanServerConnection server;

  private JvmRequestCounts(JMXConnector connector) throws java.io.IOException {
    this.connector = connector;
    this.server = connector.getMBeanServerConnection();
  }

  private JvmRequestCounts(MBeanServerConnection server) {
    this.connector = null;
    this.server = server;
  }

  /** This JVM's own Kafka clients. */
  static JvmRequestCounts local() {
    return new JvmRequestCounts(java.lang.management.ManagementFactory.getPlatformMBeanServer());
  }

  /** Connects to the JVM {@code pid} (same user), starting its local management agent. */
  static JvmRequestCounts attach(long pid) throws Exception {
    VirtualMachine vm = VirtualMachine.attach(Long.toString(pid));
    String address;
    try {
      address = vm.startLocalManagementAgent();
    } finally {
      vm.detach();
    }
    return new JvmRequestCounts(JMXConnectorFactory.connect(new JMXServiceURL(address)));
  }

  /**
   * The broker's requests so far by API key (every version summed; {@code FetchConsumer} and
   * {@code FetchFollower} apart, as Kafka names them), with {@code <key> local ms} — the request
   * handlers' time in them (the local-time histogram's mean × count) — beside each.
   */
  Map<String, Double> brokerRequests() throws Exception {
    Map<String, Double> counts = new TreeMap<>();
    for (ObjectName name : server.queryNames(
        new ObjectName("kafka.network:type=RequestMetrics,name=RequestsPerSec,*"), null)) {
      counts.merge(name.getKeyProperty("request"),
          ((Number) server.getAttribute(name, "Count")).doubleValue(), Double::sum);
    }
    for (ObjectName name : server.queryNames(
        new ObjectName("kafka.network:type=RequestMetrics,name=LocalTimeMs,*"), null)) {
      double n = ((Number) server.getAttribute(name, "Count")).doubleValue();
      double mean = ((Number) server.getAttribute(name, "Mean")).doubleValue();
      counts.merge(name.getKeyProperty("request") + " local ms", n * mean, Double::sum);
    }
    return counts;
  }

  /**
   * Every Kafka client's requests so far in this JVM, by client id ({@code request-total} of
   * the producer's, consumer's and admin's own metrics).
   */
  Map<String, Double> clientRequests() throws Exception {
    Map<String, Double> counts = new TreeMap<>();
    for (String type : Set.of("kafka.producer:type=producer-metrics,*",
        "kafka.consumer:type=consumer-metrics,*", "kafka.admin.client:type=admin-client-metrics,*")) {
      for (ObjectName name : server.queryNames(new ObjectName(type), null)) {
        counts.merge(name.getKeyProperty("client-id"),
            ((Number) server.getAttribute(name, "request-total")).doubleValue(), Double::sum);
      }
    }
    for (ObjectName name : server.queryNames(
        new ObjectName("kafka.consumer:type=consumer-fetch-manager-metrics,*"), null)) {
      if (name.getKeyProperty("topic") == null && name.getKeyProperty("partition") == null) {
        counts.merge(name.getKeyProperty("client-id") + " fetches",
            ((Number) server.getAttribute(name, "fetch-total")).doubleValue(), Double::sum);
      }
    }
    return counts;
  }

  /**
   * CPU so far of the JVM's live threads (nanoseconds), by name with digits as {@code N}: full
   * names, which {@code /proc} cuts to 15 characters (a broker's network threads and request
   * handlers are both {@code data-plane-kafk} there). Threads that ended are not counted.
   */
  Map<String, Double> threadCpu() throws Exception {
    java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory
        .newPlatformMXBeanProxy(server, java.lang.management.ManagementFactory.THREAD_MXBEAN_NAME,
            java.lang.management.ThreadMXBean.class);
    Map<String, Double> cpu = new TreeMap<>();
    long[] ids = threads.getAllThreadIds();
    java.lang.management.ThreadInfo[] infos = threads.getThreadInfo(ids);
    for (int i = 0; i < ids.length; i++) {
      long nanos = threads.getThreadCpuTime(ids[i]);
      if (infos[i] != null && nanos > 0) {
        cpu.merge(infos[i].getThreadName().replaceAll("[0-9]+", "N"), (double) nanos, Double::sum);
      }
    }
    return cpu;
  }

  /** {@code after − before} per key, divided by {@code per}; keys that did not grow are left out. */
  static Map<String, Double> per(Map<String, Double> before, Map<String, Double> after, double per) {
    Map<String, Double> out = new TreeMap<>();
    after.forEach((k, v) -> {
      double grown = v - before.getOrDefault(k, 0.0);
      if (grown > 0) {
        out.put(k, grown / per);
      }
    });
    return out;
  }

  @Override
  public void close() throws java.io.IOException {
    if (connector != null) {
      connector.close();
    }
  }
}
