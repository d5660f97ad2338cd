package dev.meshlog.config.discovery;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.NamedPort;

/** The endpoints and ports of a service: from registered instances and from ServiceEntries. */
final class Endpoints {

  private Endpoints() {}

  static Endpoint ofInstance(InstanceRegistration instance) {
    return Endpoint.newBuilder()
        .setInstanceId(instance.getInstanceId())
        .setAddress(instance.getAddress())
        .setPort(instance.getPort())
        .setLabels(new TreeMap<>(instance.getLabels()))
        .setRegion(instance.getRegion())
        .setZone(instance.getZone())
        .setCluster(instance.getCluster())
        .setServiceAccount(instance.getServiceAccount())
        .setHealth(EndpointHealth.valueOf(instance.getHealth().name()))
        .setWeight(1)
        .build();
  }

  static ServicePort ofNamedPort(NamedPort port) {
    return ServicePort.newBuilder()
        .setName(port.getName())
        .setNumber(port.getNumber())
        .setProtocol(Protocol.valueOf(port.getProtocol().name()))
        .build();
  }

  /** {@code spec.ports} of a ServiceEntry. */
  static List<ServicePort> servicePorts(Resource serviceEntry) {
    List<ServicePort> out = new ArrayList<>();
    for (JsonNode port : Json.items(serviceEntry.spec(), "ports")) {
      out.add(ServicePort.newBuilder()
          .setName(Json.text(port, "name", ""))
          .setNumber(Json.required(Json.integer(port, "number"), "ports.number"))
          .setProtocol(protocol(Json.text(port, "protocol")))
          .setTargetPort(Json.integer(port, "targetPort"))
          .build());
    }
    return out;
  }

  /**
   * The endpoints a ServiceEntry gives {@code host}: the live registered instances its
   * {@code workloadSelector} selects in its namespace; else its static {@code endpoints}; else,
   * with DNS resolution, the host itself. Static endpoints are named
   * {@code ServiceEntry/<namespace>/<name>/endpoints[<i>]}; a view endpoint has one port, the
   * one it serves the entry's first port on.
   */
  static List<Endpoint> ofServiceEntry(Resource entry, String host, Mesh mesh, Instant now) {
    JsonNode spec = entry.spec();
    Map<String, String> selector = Json.stringMap(Json.field(spec, "workloadSelector"), "labels");
    if (!selector.isEmpty()) {
      return mesh.liveInNamespace(entry.namespace(), now).stream()
          .filter(i -> Applicability.selects(selector, i))
          .map(Endpoints::ofInstance)
          .toList();
    }
    List<JsonNode> ports = Json.items(spec, "ports");
    JsonNode firstPort = ports.isEmpty() ? null : ports.get(0);
    List<JsonNode> endpoints = Json.items(spec, "endpoints");
    List<Endpoint> out = new ArrayList<>();
    for (int i = 0; i < endpoints.size(); i++) {
      JsonNode endpoint = endpoints.get(i);
      String[] locality = Json.text(endpoint, "locality", "").split("/");
      Integer weight = Json.integer(endpoint, "weight");
      out.add(Endpoint.newBuilder()
          .setInstanceId(entry.id().key() + "/endpoints[" + i + "]")
          .setAddress(Json.required(Json.text(endpoint, "address"), "endpoints[" + i + "].address"))
          .setPort(endpointPort(Json.stringMap(endpoint, "ports"), firstPort))
          .setLabels(Json.stringMap(endpoint, "labels"))
          .setRegion(locality[0])
          .setZone(locality.length > 1 ? locality[1] : "")
          .setServiceAccount(Json.text(endpoint, "serviceAccount", ""))
          .setHealth(EndpointHealth.HEALTHY)
          .setWeight(weight == null ? 1 : weight)
          .build());
    }
    String resolution = Json.text(spec, "resolution", "NONE");
    if (endpoints.isEmpty() && resolution.startsWith("DNS") && !host.startsWith("*")) {
      out.add(Endpoint.newBuilder()
          .setInstanceId(entry.id().key() + "/" + host)
          .setAddress(host)
          .setPort(endpointPort(Map.of(), firstPort))
          .setHealth(EndpointHealth.HEALTHY)
          .build());
    }
    return out;
  }

  /** The port an endpoint serves {@code servicePort} on: its own mapping, else targetPort, else the port. */
  private static int endpointPort(Map<String, String> endpointPorts, JsonNode servicePort) {
    Json.required(servicePort, "ports");
    String mapped = endpointPorts.get(Json.text(servicePort, "name", ""));
    if (mapped != null) {
      return Integer.parseInt(mapped);
    }
    Integer target = Json.integer(servicePort, "targetPort");
    return target != null ? target : Json.required(Json.integer(servicePort, "number"), "ports.number");
  }

  /**
   * The view protocol of an Istio port protocol. HTTPS becomes TLS: the view has no protocol
   * for TLS-terminated HTTP. Other TCP-based protocols (MONGO, MYSQL, REDIS) become TCP.
   */
  static Protocol protocol(String written) {
    if (written == null) {
      return Protocol.UNSPECIFIED;
    }
    return switch (written.toUpperCase(Locale.ROOT)) {
      case "HTTP" -> Protocol.HTTP;
      case "HTTP2" -> Protocol.HTTP2;
      case "GRPC", "GRPC-WEB" -> Protocol.GRPC;
      case "HTTPS", "TLS" -> Protocol.TLS;
      case "TCP", "MONGO", "MYSQL", "REDIS" -> Protocol.TCP;
      default -> Protocol.UNSPECIFIED;
    };
  }
}
