package dev.meshlog.config.discovery;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.Health;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;

/** Test fixtures: the Bookinfo services (productpage, details, reviews v1/v2/v3, ratings) and their config. */
final class Bookinfo {

  static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  static final ViewCompiler COMPILER = new ViewCompiler();

  static final String PRODUCTPAGE = Hosts.ofService("productpage", "default");
  static final String DETAILS = Hosts.ofService("details", "default");
  static final String REVIEWS = Hosts.ofService("reviews", "default");
  static final String RATINGS = Hosts.ofService("ratings", "default");

  static final String REVIEWS_DESTINATION_RULE = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata:
        name: reviews
        namespace: default
      spec:
        host: reviews
        subsets:
        - name: v1
          labels:
            version: v1
        - name: v2
          labels:
            version: v2
        - name: v3
          labels:
            version: v3
      """;

  static final String REVIEWS_CANARY = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: reviews
        namespace: default
      spec:
        hosts:
        - reviews
        http:
        - name: jason
          match:
          - headers:
              End-User:
                exact: jason
          route:
          - destination:
              host: reviews
              subset: v2
        - name: canary
          route:
          - destination:
              host: reviews
              subset: v1
            weight: 90
          - destination:
              host: reviews
              subset: v3
            weight: 10
      """;

  /**
   * A whole Bookinfo mesh: canary routing for reviews, fault injection for ratings, an ingress
   * gateway, an external API, mTLS, authorization, a quota and a Sidecar; one VirtualService
   * still routes to {@code ratings-next}, which has not been deployed.
   */
  static final String MESH = REVIEWS_DESTINATION_RULE + "---\n" + REVIEWS_CANARY + """
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: ratings, namespace: default}
      spec:
        host: ratings
        trafficPolicy:
          outlierDetection: {consecutive5xxErrors: 3}
        subsets:
        - name: v1
          labels: {version: v1}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: ratings, namespace: default}
      spec:
        hosts: [ratings]
        http:
        - fault:
            delay: {fixedDelay: 2s, percentage: {value: 10}}
          route:
          - destination: {host: ratings, subset: v1}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: ratings-next, namespace: default}
      spec:
        hosts: [ratings-preview.example.com]
        gateways: [bookinfo-gateway]
        http:
        - route:
          - destination: {host: ratings-next}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: bookinfo-gateway, namespace: default}
      spec:
        selector: {istio: ingressgateway}
        servers:
        - port: {number: 8080, name: http, protocol: HTTP}
          hosts: ["*.example.com"]
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: bookinfo, namespace: default}
      spec:
        hosts: [bookinfo.example.com]
        gateways: [bookinfo-gateway]
        http:
        - match:
          - uri: {prefix: /reviews}
          route:
          - destination: {host: reviews, subset: v1}
        - route:
          - destination: {host: productpage}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: googleapis, namespace: default}
      spec:
        hosts: [www.googleapis.com]
        location: MESH_EXTERNAL
        resolution: DNS
        ports:
        - {name: https, number: 443, protocol: TLS}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: googleapis, namespace: default}
      spec:
        hosts: [www.googleapis.com]
        tcp:
        - route:
          - destination: {host: www.googleapis.com, port: {number: 443}}
      ---
      apiVersion: security.istio.io/v1
      kind: PeerAuthentication
      metadata: {name: default, namespace: meshlog-system}
      spec:
        mtls: {mode: STRICT}
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ratings-viewer, namespace: default}
      spec:
        selector:
          matchLabels: {app: ratings}
        rules:
        - from:
          - source: {principals: [cluster.local/ns/default/sa/bookinfo-reviews]}
      ---
      apiVersion: security.istio.io/v1
      kind: RequestAuthentication
      metadata: {name: productpage-jwt, namespace: default}
      spec:
        selector:
          matchLabels: {app: productpage}
        jwtRules:
        - issuer: https://accounts.example.com
      ---
      apiVersion: policy.meshlog.dev/v1
      kind: RateLimit
      metadata: {name: ratings-reads, namespace: default}
      spec:
        host: ratings
        requestsPerUnit: 100
        unit: SECOND
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: default, namespace: default}
      spec:
        egress:
        - hosts: ["./*", "meshlog-system/*"]
      """;

  private static final YAMLMapper YAML = new YAMLMapper();

  private Bookinfo() {}

  /** The resources of one or more YAML documents (separated by {@code ---}). */
  static List<Resource> resources(String... yaml) {
    List<Resource> out = new ArrayList<>();
    for (String text : yaml) {
      try {
        for (JsonNode doc : YAML.readerFor(JsonNode.class).<JsonNode>readValues(text).readAll()) {
          if (doc != null && !doc.isEmpty()) {
            out.add(Resource.fromDocument(doc));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return out;
  }

  static Resource resource(String yaml) {
    return resources(yaml).get(0);
  }

  /** A snapshot of the resources in {@code yaml}, each at revision 1. */
  static ConfigSnapshot config(String... yaml) {
    ConfigSnapshot snapshot = ConfigSnapshot.EMPTY;
    for (Resource resource : resources(yaml)) {
      snapshot = snapshot.with(resource, 1);
    }
    return snapshot;
  }

  /** The six Bookinfo pods, registered and heart-beating. */
  static List<InstanceRegistration> instances() {
    return List.of(
        instance("productpage", "v1", "productpage-v1-7d9f", "10.0.0.10", "us-east1-b"),
        instance("details", "v1", "details-v1-5f4d", "10.0.0.11", "us-east1-b"),
        instance("reviews", "v1", "reviews-v1-6c8b", "10.0.0.12", "us-east1-b"),
        instance("reviews", "v2", "reviews-v2-84f9", "10.0.0.13", "us-east1-c"),
        instance("reviews", "v3", "reviews-v3-7b9c", "10.0.0.14", "us-east1-c"),
        instance("ratings", "v1", "ratings-v1-9d2e", "10.0.0.15", "us-east1-b"));
  }

  /** All Bookinfo pods but those whose instance id starts with {@code prefix}. */
  static List<InstanceRegistration> instancesWithout(String prefix) {
    return instances().stream().filter(i -> !i.getInstanceId().startsWith(prefix)).toList();
  }

  static InstanceRegistration instance(String service, String version, String id, String address, String zone) {
    return InstanceRegistration.newBuilder()
        .setInstanceId(id)
        .setService(service)
        .setNamespace("default")
        .setAddress(address)
        .setPort(15006)
        .setLabels(Map.of("app", service, "version", version))
        .setRegion("us-east1")
        .setZone(zone)
        .setCluster("east")
        .setServiceAccount("bookinfo-" + service)
        .setHealth(Health.HEALTHY)
        .setState(RegistrationState.REGISTERED)
        .setLeaseDurationMillis(30_000)
        .setRegisteredAt(NOW.minus(Duration.ofHours(1)))
        .setHeartbeatAt(NOW.minusSeconds(5))
        .build();
  }

  /** The view of {@code host} with the Bookinfo pods, at {@link #NOW}. */
  static ServiceView view(String host, ConfigSnapshot config) {
    return COMPILER.compile(host, config, instances(), NOW).view();
  }
}
