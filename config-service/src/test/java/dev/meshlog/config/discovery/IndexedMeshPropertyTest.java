package dev.meshlog.config.discovery;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.resource.ResourceValidator;
import dev.meshlog.events.registry.Health;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;

/**
 * Property-style check that the host index cannot miss a resource: on randomized meshes
 * (services in several namespaces, instances alive, lapsed and deregistered; VirtualServices,
 * DestinationRules and ServiceEntries with exact, short, cross-namespace and wildcard hosts,
 * gateway bindings, mirrors; RateLimits; Sidecars and security policies in namespaces and the
 * root namespace, with and without selectors), the indexed compiler's views equal, byte for
 * byte, those of the full scan every resource for every view; and, applying random changes one at
 * a time to a {@link MeshModel}, every view that changes is among the hosts the change names.
 */
class IndexedMeshPropertyTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ResourceValidator VALIDATOR = new ResourceValidator();
  private static final ViewCompiler COMPILER = new ViewCompiler();
  private static final String ROOT = ViewCompiler.DEFAULT_ROOT_NAMESPACE;
  private static final Instant NOW = Instant.parse("2026-11-24T12:00:00Z");
  private static final List<String> NAMESPACES = List.of("ns0", "ns1", "ns2", ROOT);
  private static final int SERVICES = 14;

  @Test
  void indexedViewsEqualFullScanViewsOnRandomMeshes() {
    int compared = 0;
    for (long seed = 1; seed <= 40; seed++) {
      Random random = new Random(seed);
      ConfigSnapshot config = ConfigSnapshot.EMPTY;
      for (int i = 0; i < 60; i++) {
        Resource resource = randomResource(random);
        config = config.with(resource, 1 + random.nextInt(5));
      }
      Map<String, InstanceRegistration> instances = randomInstances(random);

      Mesh indexed = Mesh.of(config, instances.values(), ROOT, false);
      Mesh scanned = Mesh.of(config, instances.values(), ROOT, true);
      assertThat(indexed.hostNames()).as("seed %d", seed).isEqualTo(scanned.hostNames());
      Set<String> hosts = new TreeSet<>(scanned.hostNames());
      hosts.add("nowhere.ns0.svc.cluster.local");
      for (String host : hosts) {
        assertThat(bytes(COMPILER.compile(host, indexed, NOW)))
            .as("seed %d host %s", seed, host)
            .isEqualTo(bytes(COMPILER.compile(host, scanned, NOW)));
        compared++;
      }
      // The public snapshot API is the indexed one.
      assertThat(COMPILER.compileAll(config, instances.values(), NOW).keySet()).isEqualTo(scanned.hostNames());
    }
    assertThat(compared).isGreaterThan(40 * SERVICES);
  }

  @Test
  void everyChangedViewIsAmongTheHostsAChangeNames() {
    int changedViews = 0;
    for (long seed = 100; seed < 112; seed++) {
      Random random = new Random(seed);
      MeshModel model = COMPILER.newModel();
      ConfigSnapshot config = ConfigSnapshot.EMPTY;
      Map<String, InstanceRegistration> instances = new HashMap<>();
      Map<String, CompiledView> views = fullScan(config, instances);
      for (int step = 0; step < 150; step++) {
        Set<String> affected;
        String change;
        int dice = random.nextInt(10);
        if (dice < 5) {
          Resource resource = randomResource(random);
          long revision = config.get(resource.id()).map(e -> e.revision() + 1).orElse(1L);
          config = config.with(resource, revision);
          affected = model.put(resource, revision);
          change = "put " + resource.id() + " " + resource.spec();
        } else if (dice < 7 && config.size() > 0) {
          List<ResourceId> ids = new ArrayList<>();
          for (dev.meshlog.config.model.Kind kind : dev.meshlog.config.model.Kind.values()) {
            config.ofKind(kind).forEach(e -> ids.add(e.id()));
          }
          ResourceId id = ids.get(random.nextInt(ids.size()));
          config = config.without(id);
          affected = model.remove(id);
          change = "remove " + id;
        } else {
          int s = random.nextInt(SERVICES);
          String key = serviceNamespace(s) + "/s" + s + "/s" + s + "-" + random.nextInt(3);
          InstanceRegistration instance = random.nextInt(4) == 0 ? null : instance(random, s, key);
          if (instance == null) {
            instances.remove(key);
          } else {
            instances.put(key, instance);
          }
          affected = model.putInstance(key, instance).affectedHosts();
          change = "instance " + key + " -> " + instance;
        }
        Map<String, CompiledView> next = fullScan(config, instances);
        assertThat(model.hosts()).as("seed %d step %d: %s", seed, step, change).isEqualTo(next.keySet());
        Set<String> all = new TreeSet<>(views.keySet());
        all.addAll(next.keySet());
        for (String host : all) {
          CompiledView was = views.getOrDefault(host, null);
          CompiledView is = next.get(host);
          boolean changed = was == null || is == null ? was != is : !was.equals(is);
          if (changed) {
            changedViews++;
            assertThat(affected).as("seed %d step %d: %s changes %s", seed, step, change, host).contains(host);
          }
          if (is != null) {
            assertThat(bytes(model.compile(host, NOW))).as("seed %d step %d host %s", seed, step, host)
                .isEqualTo(bytes(is));
          }
        }
        views = next;
      }
    }
    assertThat(changedViews).as("the random changes change views").isGreaterThan(500);
  }

  private static Map<String, CompiledView> fullScan(ConfigSnapshot config, Map<String, InstanceRegistration> instances) {
    Mesh mesh = Mesh.of(config, instances.values(), ROOT, true);
    Map<String, CompiledView> out = new HashMap<>();
    for (String host : mesh.hostNames()) {
      out.put(host, COMPILER.compile(host, mesh, NOW));
    }
    return out;
  }

  private static byte[] bytes(CompiledView view) {
    try {
      java.nio.ByteBuffer buffer = dev.meshlog.events.discovery.ServiceView.getEncoder().encode(view.view());
      byte[] out = new byte[buffer.remaining()];
      buffer.get(out);
      return out;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  // ---- random meshes -----------------------------------------------------------------------------

  private static String serviceNamespace(int s) {
    return NAMESPACES.get(s % 3);
  }

  private static Map<String, InstanceRegistration> randomInstances(Random random) {
    Map<String, InstanceRegistration> out = new HashMap<>();
    for (int s = 0; s < SERVICES; s++) {
      int count = random.nextInt(4);
      for (int i = 0; i < count; i++) {
        String key = serviceNamespace(s) + "/s" + s + "/s" + s + "-" + i;
        out.put(key, instance(random, s, key));
      }
    }
    return out;
  }

  private static InstanceRegistration instance(Random random, int s, String key) {
    String id = key.substring(key.lastIndexOf('/') + 1);
    Map<String, String> labels = new HashMap<>(Map.of("app", "s" + s, "version", "v" + (1 + random.nextInt(3))));
    if (random.nextBoolean()) {
      labels.put("tier", random.nextBoolean() ? "front" : "back");
    }
    return InstanceRegistration.newBuilder()
        .setInstanceId(id).setService("s" + s).setNamespace(serviceNamespace(s))
        .setAddress("10.0." + s + "." + random.nextInt(250)).setPort(8080 + random.nextInt(2))
        .setLabels(labels).setRegion("r1").setZone("z" + random.nextInt(2)).setCluster("c")
        .setServiceAccount("s" + s).setHealth(random.nextInt(5) == 0 ? Health.UNHEALTHY : Health.HEALTHY)
        .setState(random.nextInt(6) == 0 ? RegistrationState.DEREGISTERED : RegistrationState.REGISTERED)
        .setLeaseDurationMillis(10_000)
        .setRegisteredAt(NOW.minus(Duration.ofHours(1)))
        .setHeartbeatAt(NOW.minusSeconds(random.nextInt(14))) // some leases lapsed at NOW
        .build();
  }

  /** A host as a resource in {@code namespace} may write it: short, cross-namespace, qualified, external or wildcard. */
  private static String host(Random random, String namespace) {
    int s = random.nextInt(SERVICES);
    return switch (random.nextInt(10)) {
      case 0, 1 -> "s" + s;                                         // short: resource's namespace
      case 2, 3 -> "s" + s + "." + serviceNamespace(s) + ".svc.cluster.local";
      case 4 -> "s" + s + "." + serviceNamespace(s);                // name.namespace
      case 5 -> "*." + serviceNamespace(s) + ".svc.cluster.local";
      case 6 -> random.nextBoolean() ? "*.example.com" : "*.svc.cluster.local";
      case 7 -> random.nextBoolean() ? "api.example.com" : "db.internal.example.com";
      case 8 -> random.nextInt(4) == 0 ? "*" : "s" + s;
      default -> "missing" + random.nextInt(2);
    };
  }

  private static String namespace(Random random) {
    return NAMESPACES.get(random.nextInt(NAMESPACES.size()));
  }

  private static Resource randomResource(Random random) {
    for (int attempt = 0; attempt < 20; attempt++) {
      Resource resource = switch (random.nextInt(12)) {
        case 0, 1, 2 -> virtualService(random);
        case 3, 4 -> destinationRule(random);
        case 5, 6 -> serviceEntry(random);
        case 7 -> gateway(random);
        case 8 -> rateLimit(random);
        case 9 -> sidecar(random);
        case 10 -> security(random, random.nextBoolean() ? "PeerAuthentication" : "RequestAuthentication");
        default -> security(random, "AuthorizationPolicy");
      };
      List<?> problems = VALIDATOR.validate(resource);
      if (problems.isEmpty()) {
        return resource;
      }
      if (attempt == 19) {
        throw new AssertionError("the generator makes invalid resources: " + problems + " in " + resource);
      }
    }
    throw new AssertionError("unreachable");
  }

  private static String name(Random random, String prefix) {
    return prefix + random.nextInt(6);
  }

  private static Resource virtualService(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode();
    ArrayNode hosts = spec.putArray("hosts");
    int count = 1 + random.nextInt(2);
    for (int i = 0; i < count; i++) {
      hosts.add(host(random, ns));
    }
    if (random.nextInt(4) == 0) {
      ArrayNode gateways = spec.putArray("gateways");
      gateways.add(random.nextBoolean() ? "gw" + random.nextInt(2) : namespace(random) + "/gw" + random.nextInt(2));
      if (random.nextBoolean()) {
        gateways.add("mesh");
      }
    }
    ArrayNode http = spec.putArray("http");
    int routes = 1 + random.nextInt(2);
    for (int r = 0; r < routes; r++) {
      ObjectNode route = http.addObject();
      if (r == 0 && routes > 1) {
        route.putArray("match").addObject().putObject("uri").put("prefix", "/api" + r);
      }
      ArrayNode destinations = route.putArray("route");
      boolean split = random.nextBoolean();
      for (int d = 0; d < (split ? 2 : 1); d++) {
        ObjectNode destination = destinations.addObject();
        if (split) {
          destination.put("weight", d == 0 ? 70 : 30);
        }
        ObjectNode target = destination.putObject("destination").put("host", exactHost(random, ns));
        if (random.nextInt(3) > 0) {
          target.put("subset", "v" + (1 + random.nextInt(3)));
        }
      }
      if (random.nextInt(5) == 0) {
        route.putObject("mirror").put("host", exactHost(random, ns));
      }
    }
    if (random.nextInt(5) == 0) {
      spec.putArray("tcp").addObject().putArray("route").addObject()
          .putObject("destination").put("host", exactHost(random, ns));
    }
    return new Resource("networking.istio.io/v1", "VirtualService", ns, name(random, "vs"), Map.of(), spec);
  }

  /** A destination: a host, never a wildcard. */
  private static String exactHost(Random random, String namespace) {
    String host = host(random, namespace);
    return host.startsWith("*") ? "s" + random.nextInt(SERVICES) : host;
  }

  private static Resource destinationRule(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode().put("host", host(random, ns));
    if (random.nextBoolean()) {
      spec.putObject("trafficPolicy").putObject("loadBalancer").put("simple", "ROUND_ROBIN");
    }
    ArrayNode subsets = spec.putArray("subsets");
    int count = random.nextInt(4);
    for (int v = 1; v <= count; v++) {
      subsets.addObject().put("name", "v" + v).putObject("labels").put("version", "v" + v);
    }
    return new Resource("networking.istio.io/v1", "DestinationRule", ns, name(random, "dr"), Map.of(), spec);
  }

  private static Resource serviceEntry(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode();
    String host = host(random, ns);
    spec.putArray("hosts").add(host.equals("*") ? "*.example.com" : host);
    spec.putArray("ports").addObject().put("number", 443).put("name", "https").put("protocol", "TLS");
    spec.put("location", random.nextBoolean() ? "MESH_EXTERNAL" : "MESH_INTERNAL");
    switch (random.nextInt(3)) {
      case 0 -> {
        spec.put("resolution", "STATIC");
        spec.putArray("endpoints").addObject().put("address", "192.0.2." + random.nextInt(200));
      }
      case 1 -> spec.put("resolution", "DNS");
      default -> {
        spec.put("resolution", "STATIC");
        spec.putObject("workloadSelector").putObject("labels").put("app", "s" + random.nextInt(SERVICES));
      }
    }
    return new Resource("networking.istio.io/v1", "ServiceEntry", ns, name(random, "se"), Map.of(), spec);
  }

  private static Resource gateway(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode();
    spec.putObject("selector").put("istio", "ingressgateway");
    ObjectNode server = spec.putArray("servers").addObject();
    server.putObject("port").put("number", 80).put("name", "http").put("protocol", "HTTP");
    server.putArray("hosts").add("*");
    return new Resource("networking.istio.io/v1", "Gateway", ns, "gw" + random.nextInt(2), Map.of(), spec);
  }

  private static Resource rateLimit(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode().put("host", host(random, ns))
        .put("requestsPerUnit", 1 + random.nextInt(100)).put("unit", "MINUTE");
    return new Resource("policy.meshlog.dev/v1", "RateLimit", ns, name(random, "rl"), Map.of(), spec);
  }

  private static Resource sidecar(Random random) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode();
    if (random.nextBoolean()) {
      spec.putObject("workloadSelector").putObject("labels").put("app", "s" + random.nextInt(SERVICES));
    }
    spec.putArray("egress").addObject().putArray("hosts").add("./*").add(namespace(random) + "/*");
    return new Resource("networking.istio.io/v1", "Sidecar", ns, name(random, "sc"), Map.of(), spec);
  }

  private static Resource security(Random random, String kind) {
    String ns = namespace(random);
    ObjectNode spec = JSON.createObjectNode();
    if (random.nextBoolean()) {
      ObjectNode labels = spec.putObject("selector").putObject("matchLabels");
      if (random.nextBoolean()) {
        labels.put("app", "s" + random.nextInt(SERVICES));
      } else {
        labels.put("version", "v" + (1 + random.nextInt(3)));
      }
    }
    switch (kind) {
      case "PeerAuthentication" -> spec.putObject("mtls").put("mode", random.nextBoolean() ? "STRICT" : "PERMISSIVE");
      case "RequestAuthentication" -> spec.putArray("jwtRules").addObject().put("issuer", "https://issuer.example.com");
      default -> {
        spec.put("action", random.nextBoolean() ? "ALLOW" : "DENY");
        spec.putArray("rules").addObject().putArray("from").addObject().putObject("source")
            .putArray("namespaces").add(namespace(random));
      }
    }
    return new Resource("security.istio.io/v1", kind, ns, name(random, kind.substring(0, 2).toLowerCase()), Map.of(),
        spec);
  }
}
