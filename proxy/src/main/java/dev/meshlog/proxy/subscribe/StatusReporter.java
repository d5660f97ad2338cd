package dev.meshlog.proxy.subscribe;

import java.time.Clock;
import java.time.Instant;
import java.util.List;

import dev.meshlog.events.status.ProxyKind;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.schemas.Topic;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the proxy's whole state to {@code mesh.proxy.status}: its lifecycle state and one
 * ACK or NACK per view host (Envoy's version_info and error_detail, as data).
 */
public final class StatusReporter {

  private static final Logger LOG = LoggerFactory.getLogger(StatusReporter.class);

  private final Producer<byte[], byte[]> producer;
  private final Topic<String, ProxyStatus> topic;
  private final ProxyIdentity identity;
  private final Clock clock;
  private final Instant startedAt;
  private final ProxyKind kind;

  /** A reporter for sidecar {@code identity}, sending with {@code producer} to {@code topic}. */
  public StatusReporter(Producer<byte[], byte[]> producer, Topic<String, ProxyStatus> topic,
                        ProxyIdentity identity, Clock clock) {
    this(producer, topic, identity, ProxyKind.SIDECAR, clock);
  }

  /** A reporter for a proxy of {@code kind} (SIDECAR or GATEWAY). */
  public StatusReporter(Producer<byte[], byte[]> producer, Topic<String, ProxyStatus> topic,
                        ProxyIdentity identity, ProxyKind kind, Clock clock) {
    this.producer = producer;
    this.topic = topic;
    this.identity = identity;
    this.kind = kind;
    this.clock = clock;
    this.startedAt = Instant.ofEpochMilli(clock.millis());
  }

  /** The status record for {@code state} and {@code acks}. */
  public ProxyStatus status(ProxyState state, List<ViewAck> acks) {
    return ProxyStatus.newBuilder().setProxyId(identity.proxyId()).setService(identity.service())
        .setNamespace(identity.namespace()).setWorkloadVersion(identity.version())
        .setCluster(identity.cluster()).setZone(identity.zone()).setKind(kind)
        .setState(state).setViews(acks).setStartedAt(startedAt)
        .setReportedAt(Instant.ofEpochMilli(clock.millis())).build();
  }

  /**
   * Sends the status; returns false when it could not even be queued (Kafka unreachable for
   * longer than the producer waits), so the caller reports again later.
   */
  public boolean report(ProxyState state, List<ViewAck> acks) {
    ProxyStatus s = status(state, acks);
    try {
      producer.send(new ProducerRecord<>(topic.name(), topic.serializeKey(identity.proxyId()),
          topic.serializeValue(s)), (md, e) -> {
            if (e != null) {
              LOG.warn("proxy status not delivered: {}", e.toString());
            }
          });
      return true;
    } catch (RuntimeException e) {
      LOG.warn("proxy status not sent: {}", e.toString());
      return false;
    }
  }
}
