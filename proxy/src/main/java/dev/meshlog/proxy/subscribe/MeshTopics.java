package dev.meshlog.proxy.subscribe;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.schemas.Topic;
import dev.meshlog.schemas.Topics;

/**
 * The topics a proxy reads and writes; the mesh's by default, others in tests that share a broker.
 *
 * @param views discovery views in
 * @param status ACK/NACK out
 * @param registry registrations and heartbeats out
 */
public record MeshTopics(Topic<String, ServiceView> views, Topic<String, ProxyStatus> status,
                         Topic<String, InstanceRegistration> registry) {

  /** The mesh's topics, from {@link Topics}. */
  public static final MeshTopics DEFAULT = new MeshTopics(Topics.DISCOVERY_VIEWS,
      Topics.PROXY_STATUS, Topics.REGISTRY_INSTANCES);
}
