package dev.meshlog.schemas;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.gitops.GitSyncState;
import dev.meshlog.events.policy.QuotaAllocations;
import dev.meshlog.events.policy.QuotaUsage;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.security.CertificateSigningRequest;
import dev.meshlog.events.security.IssuedCertificate;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.schemas.Topic.Cleanup;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The mesh's topics: the contract between its processes and with anyone who reads them. Keys are
 * UTF-8 strings; values are Avro records in single-object encoding ({@link AvroSerde}), but for
 * {@link #SCHEMAS}, whose values are the schemas themselves, as JSON.
 */
public final class Topics {

  private static final Serde<String> KEY = Serdes.String();

  /**
   * The largest record value Meshlog's own writers send on the control plane's topics:
   * 1,000,000 bytes. Kafka's producer ({@code max.request.size}) and broker
   * ({@code max.message.bytes}) take 1 MiB (1,048,576 bytes) per record by default; the margin is
   * for the key, the headers, the batch's framing and what an accepted command's event adds. A
   * command over it is refused before it is sent, not failed by Kafka. Views have their own,
   * larger limit ({@link #MAX_VIEW_BYTES}) on a topic that takes them
   * ({@link #VIEWS_MAX_MESSAGE_BYTES}).
   */
  public static final int MAX_VALUE_BYTES = 1_000_000;

  /**
   * The largest record batch {@link #DISCOVERY_VIEWS} takes ({@code max.message.bytes}, set on
   * the topic when it is created and on an existing one by {@link TopicBootstrapper}): 16 MiB,
   * 16,777,216 bytes. A view is one record, and a service with tens of thousands of endpoints
   * has a view of several megabytes (100–150 bytes per endpoint with its labels: 50,000 ≈ 5–7 MB). The
   * control plane's producer sends records up to this size ({@code max.request.size}); readers
   * need no change, as a consumer always returns the first batch of a partition whatever its
   * fetch limits (KIP-74).
   */
  public static final int VIEWS_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

  /**
   * The largest view the control plane publishes, encoded: 16,000,000 bytes. The margin to
   * {@link #VIEWS_MAX_MESSAGE_BYTES} is for the key, the version, time and trigger stamped after
   * the size is checked, and the batch's framing, as {@link #MAX_VALUE_BYTES} leaves for the
   * other topics. A larger view is held back ({@link #DISCOVERY_HOLDS}), never sent.
   */
  public static final int MAX_VIEW_BYTES = 16_000_000;

  /**
   * Apply/delete/rollback requests, keyed by resource id {@code Kind/namespace/name}. One
   * partition: config-service judges every command and recompiles views in one task, so a
   * command's event and the views it changes commit in one transaction.
   */
  public static final Topic<String, ConfigCommand> CONFIG_COMMANDS = new Topic<>(
      "mesh.config.commands", KEY, AvroSerde.of(ConfigCommand.class), 1, Cleanup.DELETE,
      Duration.ofDays(7), "Config change requests from meshctl, the API and the GitOps bridge.");

  /** Accepted changes, keyed by resource id: the audit log, kept forever, never compacted. */
  public static final Topic<String, ConfigEvent> CONFIG_EVENTS = new Topic<>(
      "mesh.config.events", KEY, AvroSerde.of(ConfigEvent.class), 6, Cleanup.DELETE,
      null, "Accepted config changes, each with its revision: the audit log.");

  /** Rejected commands with field-level errors, keyed by resource id. */
  public static final Topic<String, ConfigRejection> CONFIG_REJECTIONS = new Topic<>(
      "mesh.config.rejections", KEY, AvroSerde.of(ConfigRejection.class), 6, Cleanup.DELETE,
      Duration.ofDays(7), "Rejected config commands with the errors, field by field.");

  /**
   * Service instances with their leases, keyed by {@code namespace/service/instanceId}. One
   * partition, co-partitioned with the commands for the discovery task (heartbeats of 10,000
   * instances every 10 s are 1,000 records/s: well within one partition).
   */
  public static final Topic<String, InstanceRegistration> REGISTRY_INSTANCES = new Topic<>(
      "mesh.registry.instances", KEY, AvroSerde.of(InstanceRegistration.class), 1,
      Cleanup.COMPACT, Duration.ofDays(1), "Service instances: registrations and heartbeats.");

  /**
   * The compiled view of each service, keyed by service host; records up to
   * {@link #VIEWS_MAX_MESSAGE_BYTES}, so a host with tens of thousands of endpoints fits.
   */
  public static final Topic<String, ServiceView> DISCOVERY_VIEWS = new Topic<>(
      "mesh.discovery.views", KEY, AvroSerde.of(ServiceView.class), 12, Cleanup.COMPACT,
      Duration.ofDays(1), "One compiled view per service host: what proxies run on.",
      VIEWS_MAX_MESSAGE_BYTES);

  /**
   * The views the control plane holds back because they would not fit in one record, keyed by
   * service host (as {@link #DISCOVERY_VIEWS}): written when a view is first held, tombstoned
   * when the host's view is published again. Proxies meanwhile keep the version it names;
   * {@code analyze} reports each one.
   */
  public static final Topic<String, ViewHold> DISCOVERY_HOLDS = new Topic<>(
      "mesh.discovery.holds", KEY, AvroSerde.of(ViewHold.class), 12, Cleanup.COMPACT,
      Duration.ofDays(1), "Views held back for size, per service host, until they fit again.");

  /** Each proxy's ACK/NACK of each view version, keyed by proxy id. */
  public static final Topic<String, ProxyStatus> PROXY_STATUS = new Topic<>(
      "mesh.proxy.status", KEY, AvroSerde.of(ProxyStatus.class), 6, Cleanup.COMPACT,
      Duration.ofDays(1), "Which view versions each proxy applied or rejected.");

  /**
   * Request events, keyed by edge {@code srcNs/srcService->dstNs/dstService}: a value is one
   * proxy's {@link RequestEventBatch} of that edge; a single {@link RequestEvent} (as releases
   * before batching wrote it) is read as a batch of one.
   */
  public static final Topic<String, RequestEventBatch> TELEMETRY_REQUESTS = new Topic<>(
      "mesh.telemetry.requests", KEY, AvroSerde.of(RequestEventBatch.class)
          .readingAlso(RequestEvent.class, Topics::batchOfOne), 12, Cleanup.DELETE,
      Duration.ofDays(3), "One event per request seen by a proxy, batched per edge.");

  /** Windowed per-edge aggregates, keyed by {@code edge@windowStart/windowSize}. */
  public static final Topic<String, EdgeMetrics> TELEMETRY_EDGES = new Topic<>(
      "mesh.telemetry.edges", KEY, AvroSerde.of(EdgeMetrics.class), 6, Cleanup.COMPACT_DELETE,
      Duration.ofDays(7), "Per-edge metrics per time window.");

  /** Proxies' demand per quota and interval, keyed by quota key. */
  public static final Topic<String, QuotaUsage> POLICY_USAGE = new Topic<>(
      "mesh.policy.usage", KEY, AvroSerde.of(QuotaUsage.class), 6, Cleanup.DELETE,
      Duration.ofHours(1), "Per-proxy quota usage reports.");

  /** Each proxy's share of the global quotas, keyed by proxy id. */
  public static final Topic<String, QuotaAllocations> POLICY_ALLOCATIONS = new Topic<>(
      "mesh.policy.allocations", KEY, AvroSerde.of(QuotaAllocations.class), 6, Cleanup.COMPACT,
      Duration.ofDays(1), "Per-proxy token rates for every global quota.");

  /** Certificate signing requests, keyed by proxy id. */
  public static final Topic<String, CertificateSigningRequest> SECURITY_CSR = new Topic<>(
      "mesh.security.csr", KEY, AvroSerde.of(CertificateSigningRequest.class), 3,
      Cleanup.DELETE, Duration.ofDays(1), "Workload certificate signing requests.");

  /** Issued certificate chains (never private keys), keyed by proxy id. */
  public static final Topic<String, IssuedCertificate> SECURITY_CERTS = new Topic<>(
      "mesh.security.certs", KEY, AvroSerde.of(IssuedCertificate.class), 3, Cleanup.COMPACT,
      Duration.ofDays(1), "Issued workload certificate chains.");

  /** Records an application could not process, with the reason, keyed by application id. */
  public static final Topic<String, DeadLetter> DEAD_LETTERS = new Topic<>(
      "mesh.deadletter", KEY, AvroSerde.of(DeadLetter.class), 3, Cleanup.DELETE,
      Duration.ofDays(14), "Poison pills, kept intact with the reason they failed.");

  /**
   * How far the GitOps bridge got in each git source, keyed by {@code repository#branch#path}:
   * the last commit whose commands were submitted (in the same transaction).
   */
  public static final Topic<String, GitSyncState> GITOPS_STATE = new Topic<>(
      "mesh.gitops.state", KEY, AvroSerde.of(GitSyncState.class), 1, Cleanup.COMPACT,
      null, "The last commit the GitOps bridge applied, per repository, branch and path.");

  /**
   * The schema registry ({@link SchemaRegistry}): every schema a writer of the mesh wrote with,
   * keyed by its CRC-64-AVRO fingerprint as 16 lowercase hex digits (the 8 header bytes read
   * little-endian), the value the schema's JSON. Compacted and kept forever: a record may be read
   * long after its writer is gone. One partition: it holds tens of records.
   */
  public static final Topic<String, String> SCHEMAS = new Topic<>(
      "mesh.schemas", KEY, Serdes.String(), 1, Cleanup.COMPACT, null,
      "Every writer schema by fingerprint, so readers decode records of newer writers.");

  /** Every topic, in the order above. */
  public static final List<Topic<String, ?>> ALL = List.of(
      CONFIG_COMMANDS, CONFIG_EVENTS, CONFIG_REJECTIONS, REGISTRY_INSTANCES, DISCOVERY_VIEWS,
      DISCOVERY_HOLDS, PROXY_STATUS, TELEMETRY_REQUESTS, TELEMETRY_EDGES, POLICY_USAGE,
      POLICY_ALLOCATIONS, SECURITY_CSR, SECURITY_CERTS, DEAD_LETTERS, GITOPS_STATE, SCHEMAS);

  private Topics() {}

  /** A record of {@link #TELEMETRY_REQUESTS} as releases before batching wrote it: one event. */
  private static RequestEventBatch batchOfOne(RequestEvent event) {
    return RequestEventBatch.newBuilder().setEvents(List.of(event)).build();
  }

  /** The topic named {@code name}, if it is one of the mesh's. */
  public static Optional<Topic<String, ?>> byName(String name) {
    return ALL.stream().filter(t -> t.name().equals(name)).findFirst();
  }
}
