package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.COMPILER;
import static dev.meshlog.config.discovery.Bookinfo.DETAILS;
import static dev.meshlog.config.discovery.Bookinfo.MESH;
import static dev.meshlog.config.discovery.Bookinfo.NOW;
import static dev.meshlog.config.discovery.Bookinfo.PRODUCTPAGE;
import static dev.meshlog.config.discovery.Bookinfo.RATINGS;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.instance;
import static dev.meshlog.config.discovery.Bookinfo.instances;
import static dev.meshlog.config.discovery.Bookinfo.resource;
import static dev.meshlog.config.discovery.Bookinfo.resources;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.registry.InstanceRegistration;

class AffectedHostsTest {

  private static final String GATEWAY_HOST = "gateway.bookinfo-gateway.default";

  /** Edits a user might make to the Bookinfo mesh, each replacing the resource of the same id. */
  private static final String EDITS = """
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        subsets:
        - name: v2
          labels: {version: v2}
        - name: v3
          labels: {version: v3}
      ---
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: reviews, namespace: default}
      spec:
        hosts: [reviews, details]
        http:
        - route:
          - destination: {host: reviews, subset: v2}
      ---
      apiVersion: networking.istio.io/v1
      kind: ServiceEntry
      metadata: {name: googleapis, namespace: default}
      spec:
        hosts: [storage.googleapis.com, ratings-next.default.svc.cluster.local]
        resolution: DNS
        ports:
        - {name: https, number: 443, protocol: TLS}
      ---
      apiVersion: networking.istio.io/v1
      kind: Gateway
      metadata: {name: bookinfo-gateway, namespace: default}
      spec:
        servers:
        - port: {number: 8443, name: https, protocol: HTTPS}
          hosts: ["bookinfo.example.com"]
      ---
      apiVersion: security.istio.io/v1
      kind: AuthorizationPolicy
      metadata: {name: ratings-viewer, namespace: default}
      spec:
        selector:
          matchLabels: {version: v2}
        action: DENY
      ---
      apiVersion: policy.meshlog.dev/v1
      kind: RateLimit
      metadata: {name: ratings-reads, namespace: default}
      spec:
        host: details
        requestsPerUnit: 10
        unit: MINUTE
      ---
      apiVersion: networking.istio.io/v1
      kind: DestinationRule
      metadata: {name: everything, namespace: meshlog-system}
      spec:
        host: "*.local"
        trafficPolicy:
          tls: {mode: ISTIO_MUTUAL}
        subsets:
        - name: v1
          labels: {version: v1}
      ---
      apiVersion: networking.istio.io/v1
      kind: Sidecar
      metadata: {name: reviews, namespace: default}
      spec:
        workloadSelector:
          labels: {app: reviews}
        egress:
        - hosts: ["./ratings.default.svc.cluster.local"]
      """;

  /** The hosts whose compiled view differs between the two states (appeared, disappeared or changed). */
  private static Set<String> changedViews(ConfigSnapshot before, List<InstanceRegistration> instancesBefore,
                                          ConfigSnapshot after, List<InstanceRegistration> instancesAfter) {
    Map<String, CompiledView> was = COMPILER.compileAll(before, instancesBefore, NOW);
    Map<String, CompiledView> is = COMPILER.compileAll(after, instancesAfter, NOW);
    Set<String> hosts = new TreeSet<>(was.keySet());
    hosts.addAll(is.keySet());
    Set<String> changed = new TreeSet<>();
    for (String host : hosts) {
      if (was.get(host) == null || is.get(host) == null || !is.get(host).sameContentAs(was.get(host).view())) {
        changed.add(host);
      }
    }
    return changed;
  }

  private static void assertNamesEveryChangedView(ConfigSnapshot before, ConfigSnapshot after, ResourceId changed) {
    Set<String> affected = COMPILER.affectedHosts(before, after, changed, instances());
    assertThat(affected).as("hosts named for a change of %s", changed)
        .containsAll(changedViews(before, instances(), after, instances()));
  }

  @Test
  void namesEveryViewThatChangesWhenAResourceIsCreatedOrDeleted() {
    ConfigSnapshot mesh = config(MESH);
    for (Resource resource : resources(MESH)) {
      ConfigSnapshot without = mesh.without(resource.id());
      assertNamesEveryChangedView(mesh, without, resource.id());
      assertNamesEveryChangedView(without, mesh, resource.id());
    }
  }

  @Test
  void namesEveryViewThatChangesWhenAResourceIsEdited() {
    ConfigSnapshot mesh = config(MESH);
    for (Resource edited : resources(EDITS)) {
      ConfigSnapshot after = mesh.with(edited, 2);
      assertNamesEveryChangedView(mesh, after, edited.id());
      assertNamesEveryChangedView(after, mesh, edited.id());
    }
  }

  @Test
  void namesEveryViewThatChangesWhenAnInstanceComesOrGoes() {
    ConfigSnapshot mesh = config(MESH);
    List<InstanceRegistration> all = new ArrayList<>(instances());
    all.add(instance("ratings-next", "v2", "ratings-next-v2-0001", "10.0.0.30", "us-east1-b"));
    for (InstanceRegistration instance : all) {
      List<InstanceRegistration> without = all.stream().filter(i -> i != instance).toList();
      assertThat(COMPILER.affectedHosts(instance, null, mesh, without)).as("%s goes", instance.getInstanceId())
          .containsAll(changedViews(mesh, all, mesh, without));
      assertThat(COMPILER.affectedHosts(null, instance, mesh, all)).as("%s comes", instance.getInstanceId())
          .containsAll(changedViews(mesh, without, mesh, all));
    }
  }

  @Test
  void namesTheServicesWhoseLeasesLapseAsTimePasses() {
    List<InstanceRegistration> registry = new ArrayList<>(instances());
    registry.add(InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setHeartbeatAt(NOW.minusSeconds(25)).build());

    assertThat(COMPILER.affectedHosts(NOW, NOW.plusSeconds(4), config(MESH), registry)).isEmpty();
    assertThat(COMPILER.affectedHosts(NOW, NOW.plusSeconds(5), config(MESH), registry)).containsExactly(REVIEWS);
    Map<String, CompiledView> now = COMPILER.compileAll(config(MESH), registry, NOW);
    Map<String, CompiledView> later = COMPILER.compileAll(config(MESH), registry, NOW.plusSeconds(5));
    assertThat(now.keySet()).filteredOn(h -> !later.get(h).sameContentAs(now.get(h).view()))
        .containsExactly(REVIEWS);
  }

  @Test
  void namesOnlyTheServiceWhenAnInstanceChangesItsLabels() {
    InstanceRegistration v1 = instance("reviews", "v1", "reviews-v1-6c8b", "10.0.0.12", "us-east1-b");
    InstanceRegistration relabelled = InstanceRegistration.newBuilder(v1)
        .setLabels(Map.of("app", "reviews", "version", "v2")).build();

    assertThat(COMPILER.affectedHosts(v1, relabelled, config(MESH), instances())).containsExactly(REVIEWS);
  }

  @Test
  void namesTheHostsAVirtualServiceRoutes() {
    ConfigSnapshot mesh = config(MESH);
    Resource canary = resources(Bookinfo.REVIEWS_CANARY).get(0);

    assertThat(COMPILER.affectedHosts(mesh, mesh.with(canary, 2), canary.id(), instances()))
        .containsExactly(REVIEWS);
  }

  @Test
  void namesViewsRoutingToTheSubsetsOfAChangedDestinationRule() {
    ConfigSnapshot mesh = config(MESH);
    ResourceId reviewsRule = new ResourceId("DestinationRule", "default", "reviews");

    assertThat(COMPILER.affectedHosts(mesh, mesh.without(reviewsRule), reviewsRule, instances()))
        .containsExactly(GATEWAY_HOST, REVIEWS);
  }

  @Test
  void namesViewsRoutingToAServiceThatAppears() {
    InstanceRegistration next = instance("ratings-next", "v2", "ratings-next-v2-0001", "10.0.0.30", "us-east1-b");

    assertThat(COMPILER.affectedHosts(null, next, config(MESH), instances()))
        .containsExactly(GATEWAY_HOST, "ratings-next.default.svc.cluster.local");
  }

  @Test
  void namesEveryServiceOfTheNamespaceForASecurityPolicy() {
    ConfigSnapshot mesh = config(MESH);
    Resource policy = resource("""
        apiVersion: security.istio.io/v1
        kind: PeerAuthentication
        metadata: {name: details, namespace: default}
        spec:
          selector:
            matchLabels: {app: details}
          mtls: {mode: DISABLE}
        """);

    assertThat(COMPILER.affectedHosts(mesh, mesh.with(policy, 1), policy.id(), instances()))
        .containsExactly(DETAILS, PRODUCTPAGE, RATINGS, REVIEWS);
  }

  @Test
  void namesTheHostOfADeletedServiceEntrySoItsRemovalIsPublished() {
    ConfigSnapshot mesh = config(MESH);
    ResourceId googleapis = new ResourceId("ServiceEntry", "default", "googleapis");

    Set<String> affected = COMPILER.affectedHosts(mesh, mesh.without(googleapis), googleapis, instances());

    assertThat(affected).contains("www.googleapis.com");
    assertThat(COMPILER.compile("www.googleapis.com", mesh.without(googleapis), instances(), NOW).removed()).isTrue();
  }
}
