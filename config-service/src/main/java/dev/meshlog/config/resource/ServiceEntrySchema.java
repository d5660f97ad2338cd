package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.ObjectShape.object;
import static dev.meshlog.config.resource.Shapes.exportToEveryNamespace;
import static dev.meshlog.config.resource.Shapes.atLeast;
import static dev.meshlog.config.resource.Shapes.dnsLabel;
import static dev.meshlog.config.resource.Shapes.labels;
import static dev.meshlog.config.resource.Shapes.list;
import static dev.meshlog.config.resource.Shapes.mapOf;
import static dev.meshlog.config.resource.Shapes.nonEmptyList;
import static dev.meshlog.config.resource.Shapes.oneOf;
import static dev.meshlog.config.resource.Shapes.port;
import static dev.meshlog.config.resource.Shapes.string;
import static dev.meshlog.config.resource.Shapes.text;
import static dev.meshlog.config.resource.Shapes.wildcardHost;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The fields of a ServiceEntry ({@code networking.istio.io}) that Meshlog supports, and those of
 * Istio's API it rejects.
 */
final class ServiceEntrySchema {

  static final Shape SPEC = object()
      .required("hosts", nonEmptyList(wildcardHost()))
      .field("ports", list(object()
          .required("number", port())
          .field("protocol", oneOf("HTTP", "HTTP2", "GRPC", "TCP", "TLS", "HTTPS").notSupported("MONGO"))
          .required("name", dnsLabel())
          .field("targetPort", port())
          .build()))
      .field("location", oneOf("MESH_EXTERNAL", "MESH_INTERNAL"))
      .field("resolution", oneOf("NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN"))
      .field("endpoints", list(object()
          .required("address", text("an IP address or a DNS name",
              s -> Shapes.isIpAddress(s) || Shapes.isHost(s, false)))
          .field("ports", mapOf(port()))
          .field("labels", labels())
          .field("locality", string())
          .field("weight", atLeast(0))
          .field("serviceAccount", string())
          .notSupported("network")
          .build()))
      .field("exportTo", exportToEveryNamespace())
      .notSupported("addresses", "workloadSelector", "subjectAltNames")
      .rule(ServiceEntrySchema::staticResolutionNeedsIpEndpoints)
      .rule(ServiceEntrySchema::endpointPortsNameServicePorts)
      .build();

  private ServiceEntrySchema() {}

  private static void staticResolutionNeedsIpEndpoints(ObjectNode spec, String path, Problems problems) {
    if (!"STATIC".equals(spec.path("resolution").textValue())) {
      return;
    }
    JsonNode endpoints = spec.path("endpoints");
    String endpointsPath = Problems.field(path, "endpoints");
    if (endpoints.isMissingNode() || endpoints.isNull() || (endpoints.isArray() && endpoints.isEmpty())) {
      problems.add(endpointsPath, null, "required when resolution is STATIC");
      return;
    }
    if (!endpoints.isArray()) {
      return;
    }
    for (int i = 0; i < endpoints.size(); i++) {
      JsonNode address = endpoints.get(i).path("address");
      if (address.isTextual() && Shapes.isHost(address.textValue(), false)
          && !Shapes.isIpAddress(address.textValue())) {
        problems.invalid(Problems.field(Problems.index(endpointsPath, i), "address"), address,
            "an IP address, as resolution is STATIC");
      }
    }
  }

  /** Istio's rule: an endpoint's port map is keyed by the names of the entry's ports. */
  private static void endpointPortsNameServicePorts(ObjectNode spec, String path, Problems problems) {
    List<String> portNames = new ArrayList<>();
    spec.path("ports").forEach(port -> {
      if (port.path("name").isTextual()) {
        portNames.add(port.path("name").textValue());
      }
    });
    JsonNode endpoints = spec.path("endpoints");
    if (!endpoints.isArray()) {
      return;
    }
    for (int i = 0; i < endpoints.size(); i++) {
      JsonNode ports = endpoints.get(i).path("ports");
      if (!ports.isObject()) {
        continue;
      }
      String portsPath = Problems.field(Problems.index(Problems.field(path, "endpoints"), i), "ports");
      for (var names = ports.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!portNames.contains(name)) {
          problems.invalid(Problems.key(portsPath, name), name,
              portNames.isEmpty() ? "a port name declared in spec.ports (none are)"
                  : "a port name declared in spec.ports: " + String.join(", ", portNames));
        }
      }
    }
  }
}
