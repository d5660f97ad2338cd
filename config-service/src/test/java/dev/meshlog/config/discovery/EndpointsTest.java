package dev.meshlog.config.discovery;

import static dev.meshlog.config.discovery.Bookinfo.COMPILER;
import static dev.meshlog.config.discovery.Bookinfo.NOW;
import static dev.meshlog.config.discovery.Bookinfo.REVIEWS;
import static dev.meshlog.config.discovery.Bookinfo.config;
import static dev.meshlog.config.discovery.Bookinfo.instance;
import static dev.meshlog.config.discovery.Bookinfo.instances;
import static dev.meshlog.config.discovery.Bookinfo.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.Protocol;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.registry.Health;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.NamedPort;
import dev.meshlog.events.registry.RegistrationState;

class EndpointsTest {

  private static final ConfigSnapshot NO_CONFIG = ConfigSnapshot.EMPTY;

  private static List<InstanceRegistration> bookinfoWith(InstanceRegistration... more) {
    List<InstanceRegistration> all = new ArrayList<>(instances());
    all.addAll(List.of(more));
    return all;
  }

  @Test
  void carriesRegisteredInstancesWithLocalityHealthAndIdentity() {
    ServiceView view = view(REVIEWS, NO_CONFIG);

    assertThat(view.getService()).isEqualTo("reviews");
    assertThat(view.getNamespace()).isEqualTo("default");
    assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId)
        .containsExactly("reviews-v1-6c8b", "reviews-v2-84f9", "reviews-v3-7b9c");
    Endpoint v2 = view.getEndpoints().get(1);
    assertThat(v2.getAddress()).isEqualTo("10.0.0.13");
    assertThat(v2.getPort()).isEqualTo(15006);
    assertThat(v2.getLabels()).containsEntry("version", "v2").containsEntry("app", "reviews");
    assertThat(v2.getRegion()).isEqualTo("us-east1");
    assertThat(v2.getZone()).isEqualTo("us-east1-c");
    assertThat(v2.getCluster()).isEqualTo("east");
    assertThat(v2.getServiceAccount()).isEqualTo("bookinfo-reviews");
    assertThat(v2.getHealth()).isEqualTo(EndpointHealth.HEALTHY);
  }

  @Test
  void excludesInstanceWhoseLeaseLapsed() {
    InstanceRegistration silent = InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setHeartbeatAt(NOW.minusSeconds(30))
        .build();

    ServiceView view = COMPILER.compile(REVIEWS, NO_CONFIG, bookinfoWith(silent), NOW).view();

    assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId).doesNotContain("reviews-v4-0001");
  }

  @Test
  void keepsInstanceWhoseLeaseRunsPastNow() {
    InstanceRegistration late = InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setHeartbeatAt(NOW.minusSeconds(29))
        .build();

    ServiceView view = COMPILER.compile(REVIEWS, NO_CONFIG, bookinfoWith(late), NOW).view();

    assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId).contains("reviews-v4-0001");
  }

  @Test
  void excludesDeregisteredInstance() {
    InstanceRegistration leaving = InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setState(RegistrationState.DEREGISTERED)
        .build();

    ServiceView view = COMPILER.compile(REVIEWS, NO_CONFIG, bookinfoWith(leaving), NOW).view();

    assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId).doesNotContain("reviews-v4-0001");
  }

  @Test
  void carriesUnhealthyInstancesWithTheirHealth() {
    InstanceRegistration sick = InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setHealth(Health.UNHEALTHY)
        .build();

    ServiceView view = COMPILER.compile(REVIEWS, NO_CONFIG, bookinfoWith(sick), NOW).view();

    assertThat(view.getEndpoints()).filteredOn(e -> e.getInstanceId().equals("reviews-v4-0001"))
        .extracting(Endpoint::getHealth).containsExactly(EndpointHealth.UNHEALTHY);
  }

  @Test
  void keepsTheViewOfAServiceScaledToZero() {
    List<InstanceRegistration> gone = instances().stream()
        .map(i -> InstanceRegistration.newBuilder(i).setState(RegistrationState.DEREGISTERED).build())
        .toList();

    CompiledView view = COMPILER.compile(REVIEWS, NO_CONFIG, gone, NOW);

    assertThat(view.removed()).isFalse();
    assertThat(view.view().getEndpoints()).isEmpty();
  }

  @Test
  void marksAHostNothingDefinesAsRemoved() {
    CompiledView view = COMPILER.compile("gone.default.svc.cluster.local", NO_CONFIG, instances(), NOW);

    assertThat(view.removed()).isTrue();
    assertThat(view.view().getEndpoints()).isEmpty();
  }

  @Test
  void takesPortsFromTheInstances() {
    InstanceRegistration withPorts = InstanceRegistration.newBuilder(
            instance("reviews", "v4", "reviews-v4-0001", "10.0.0.20", "us-east1-b"))
        .setPorts(List.of(new NamedPort("http", 9080, dev.meshlog.events.registry.Protocol.HTTP),
            new NamedPort("grpc", 9090, dev.meshlog.events.registry.Protocol.GRPC)))
        .build();

    ServiceView view = COMPILER.compile(REVIEWS, NO_CONFIG, bookinfoWith(withPorts), NOW).view();

    assertThat(view.getPorts()).extracting(ServicePort::getName, ServicePort::getNumber, ServicePort::getProtocol)
        .containsExactly(tuple("http", 9080, Protocol.HTTP), tuple("grpc", 9090, Protocol.GRPC));
  }

  @Test
  void turnsServiceEntryEndpointsIntoStaticEndpointsWithItsPorts() {
    ConfigSnapshot config = config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: legacy-ratings, namespace: default}
        spec:
          hosts: [ratings.legacy.example.com]
          location: MESH_INTERNAL
          resolution: STATIC
          ports:
          - {name: http, number: 80, protocol: HTTP, targetPort: 8080}
          endpoints:
          - address: 192.168.1.20
            labels: {version: v0}
            locality: us-west1/us-west1-a
            weight: 3
          - address: 192.168.1.21
            ports: {http: 8081}
        """);

    ServiceView view = view("ratings.legacy.example.com", config);

    assertThat(view.getNamespace()).isEqualTo("default");
    assertThat(view.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getNumber()).isEqualTo(80);
      assertThat(p.getProtocol()).isEqualTo(Protocol.HTTP);
      assertThat(p.getTargetPort()).isEqualTo(8080);
    });
    assertThat(view.getEndpoints())
        .extracting(Endpoint::getInstanceId, Endpoint::getAddress, Endpoint::getPort, Endpoint::getWeight)
        .containsExactly(
            tuple("ServiceEntry/default/legacy-ratings/endpoints[0]", "192.168.1.20", 8080, 3),
            tuple("ServiceEntry/default/legacy-ratings/endpoints[1]", "192.168.1.21", 8081, 1));
    Endpoint first = view.getEndpoints().get(0);
    assertThat(first.getLabels()).containsEntry("version", "v0");
    assertThat(first.getRegion()).isEqualTo("us-west1");
    assertThat(first.getZone()).isEqualTo("us-west1-a");
    assertThat(view.getSourceRevisions()).extracting(r -> r.getKind() + "/" + r.getName())
        .containsExactly("ServiceEntry/legacy-ratings");
  }

  @Test
  void resolvesAServiceEntryHostByDnsWhenItListsNoEndpoints() {
    ConfigSnapshot config = config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: google-books, namespace: default}
        spec:
          hosts: [www.googleapis.com]
          location: MESH_EXTERNAL
          resolution: DNS
          ports:
          - {name: https, number: 443, protocol: TLS}
        """);

    ServiceView view = view("www.googleapis.com", config);

    assertThat(view.getEndpoints()).extracting(Endpoint::getAddress, Endpoint::getPort)
        .containsExactly(tuple("www.googleapis.com", 443));
  }

  @Test
  void selectsRegisteredInstancesWithAServiceEntryWorkloadSelector() {
    ConfigSnapshot config = config("""
        apiVersion: networking.istio.io/v1
        kind: ServiceEntry
        metadata: {name: reviews-alias, namespace: default}
        spec:
          hosts: [reviews.bookinfo.internal]
          ports:
          - {name: http, number: 9080, protocol: HTTP}
          workloadSelector:
            labels: {app: reviews, version: v3}
        """);

    ServiceView view = view("reviews.bookinfo.internal", config);

    assertThat(view.getEndpoints()).extracting(Endpoint::getInstanceId).containsExactly("reviews-v3-7b9c");
  }
}
