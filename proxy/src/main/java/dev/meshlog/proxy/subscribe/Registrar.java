package dev.meshlog.proxy.subscribe;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import dev.meshlog.events.registry.Health;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.NamedPort;
import dev.meshlog.events.registry.Origin;
import dev.meshlog.events.registry.Protocol;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.schemas.Topic;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers the proxy's instance on {@code mesh.registry.instances} and renews its lease with
 * heartbeats on its own thread; at shutdown it first announces DRAINING (callers' proxies stop
 * choosing it), then DEREGISTERED.
 */
public final class Registrar implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(Registrar.class);

  private final Producer<byte[], byte[]> producer;
  private final Topic<String, InstanceRegistration> topic;
  private final ProxyIdentity identity;
  private final String address;
  private final int port;
  private final Duration lease;
  private final Clock clock;
  private final Instant registeredAt;
  private final List<NamedPort> ports;
  private final ScheduledExecutorService heartbeats;
  private volatile Health health = Health.HEALTHY;

  /**
   * A registrar of {@code identity}'s instance, reachable by other proxies at
   * {@code address:inboundPort}.
   *
   * @param lease how long the registration holds without a heartbeat
   */
  public Registrar(Producer<byte[], byte[]> producer, Topic<String, InstanceRegistration> topic,
                   ProxyIdentity identity, String address, int inboundPort, Duration lease,
                   Clock clock) {
    this(producer, topic, identity, address, inboundPort, List.of(), lease, clock);
  }

  /**
   * A registrar of an instance whose service has {@code servicePorts} (with their protocols:
   * they become the view's ports, and TCP ones are reached through this proxy's tunnel).
   */
  public Registrar(Producer<byte[], byte[]> producer, Topic<String, InstanceRegistration> topic,
                   ProxyIdentity identity, String address, int inboundPort,
                   List<PortConfig> servicePorts, Duration lease, Clock clock) {
    this.ports = servicePorts.stream().map(p -> NamedPort.newBuilder().setName(p.name())
        .setNumber(p.number()).setProtocol(Protocol.valueOf(p.protocol().name())).build())
        .toList();
    this.producer = producer;
    this.topic = topic;
    this.identity = identity;
    this.address = address;
    this.port = inboundPort;
    this.lease = lease;
    this.clock = clock;
    this.registeredAt = Instant.ofEpochMilli(clock.millis());
    this.heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "meshlog-registrar");
      t.setDaemon(true);
      return t;
    });
  }

  /** The registry key: {@code namespace/service/instanceId}. */
  public String key() {
    return identity.namespace() + "/" + identity.service() + "/" + identity.proxyId();
  }

  /** The registration as it would be sent now. */
  public InstanceRegistration registration(RegistrationState state) {
    return InstanceRegistration.newBuilder().setInstanceId(identity.proxyId())
        .setService(identity.service()).setNamespace(identity.namespace()).setAddress(address)
        .setPort(port).setPorts(ports).setLabels(identity.labels()).setRegion(identity.region())
        .setZone(identity.zone()).setCluster(identity.cluster())
        .setServiceAccount(identity.serviceAccount()).setHealth(health).setState(state)
        .setOrigin(Origin.PROXY).setLeaseDurationMillis(lease.toMillis())
        .setRegisteredAt(registeredAt).setHeartbeatAt(Instant.ofEpochMilli(clock.millis()))
        .build();
  }

  /** Registers now and heartbeats every third of the lease. */
  public void start() {
    send(RegistrationState.REGISTERED);
    long every = Math.max(1, lease.toMillis() / 3);
    heartbeats.scheduleAtFixedRate(() -> send(RegistrationState.REGISTERED), every, every,
        TimeUnit.MILLISECONDS);
  }

  /** Announces that the instance is draining: it finishes requests but takes no new ones. */
  public void drain() {
    health = Health.DRAINING;
    send(RegistrationState.REGISTERED);
  }

  /** Stops heartbeats and deregisters the instance. */
  @Override
  public void close() {
    heartbeats.shutdownNow();
    send(RegistrationState.DEREGISTERED);
    // No unbounded flush: with Kafka gone it would block shutdown for delivery.timeout.ms.
    // The owner closes the producer with a timeout, which sends what it can in that time.
  }

  private void send(RegistrationState state) {
    try {
      producer.send(new ProducerRecord<>(topic.name(), topic.serializeKey(key()),
          topic.serializeValue(registration(state))), (md, e) -> {
            if (e != null) {
              LOG.warn("registration not delivered: {}", e.toString());
            }
          });
    } catch (RuntimeException e) {
      LOG.warn("registration not sent: {}", e.toString());
    }
  }
}
