package dev.meshlog.proxy.subscribe;

import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.host;
import static dev.meshlog.proxy.support.Views.route;
import static dev.meshlog.proxy.support.Views.subset;
import static dev.meshlog.proxy.support.Views.to;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.support.MutableClock;
import org.junit.jupiter.api.Test;

class ViewApplierTest {

  private final MutableClock clock = new MutableClock();
  private final SnapshotHolder holder = new SnapshotHolder(ProxySnapshot.empty(),
      ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1"), clock);
  private final ViewApplier applier =
      new ViewApplier(holder, host("productpage"), "default", clock);

  private static Map.Entry<String, ServiceView> e(ServiceView v) {
    return new AbstractMap.SimpleEntry<>(v.getHost(), v);
  }

  private static Map.Entry<String, ServiceView> deleted(String host) {
    return new AbstractMap.SimpleEntry<>(host, null);
  }

  private boolean apply(List<Map.Entry<String, ServiceView>> batch) {
    return applier.apply(new ArrayList<>(batch));
  }

  private ViewAck ackOf(String host) {
    return applier.acks().stream().filter(a -> a.getHost().equals(host)).findFirst()
        .orElseThrow();
  }

  private static ServiceView reviews(long version, String routedSubset) {
    return view("reviews").setVersion(version)
        .setEndpoints(List.of(endpoint(9001, "v1", "zone-a")))
        .setSubsets(List.of(subset("v1")))
        .setHttpRoutes(List.of(route("r", List.of(), to("reviews", routedSubset, 100)).build()))
        .build();
  }

  @Test
  void appliesAConsistentViewAndAcksItsVersion() {
    assertThat(apply(List.of(e(reviews(1, "v1"))))).isTrue();

    assertThat(holder.snapshot().versions()).containsEntry(host("reviews"), 1L);
    assertThat(ackOf(host("reviews")).getAck()).isEqualTo(AckState.ACK);
    assertThat(ackOf(host("reviews")).getAppliedVersion()).isEqualTo(1L);
  }

  @Test
  void nacksAnInconsistentViewWithTheReasonAndKeepsServingTheLastGood() {
    apply(List.of(e(reviews(1, "v1"))));

    assertThat(apply(List.of(e(reviews(2, "v9"))))).isFalse();

    ViewAck nack = ackOf(host("reviews"));
    assertThat(nack.getAck()).isEqualTo(AckState.NACK);
    assertThat(nack.getVersion()).isEqualTo(2L);
    assertThat(nack.getAppliedVersion()).isEqualTo(1L);
    assertThat(nack.getErrorDetail()).contains("subset: v9 not defined");
    assertThat(holder.snapshot().versions()).containsEntry(host("reviews"), 1L);
  }

  @Test
  void retriesAViewOnceTheHostItRoutesToArrives() {
    ServiceView productpage = view("productpage").setVersion(3)
        .setHttpRoutes(List.of(route("r", List.of(), to("ratings", null, 100)).build())).build();
    apply(List.of(e(productpage)));
    assertThat(ackOf(host("productpage")).getAck()).isEqualTo(AckState.NACK);

    apply(List.of(e(view("ratings").setVersion(1).build())));

    assertThat(ackOf(host("productpage")).getAck()).isEqualTo(AckState.ACK);
    assertThat(holder.snapshot().versions()).containsKeys(host("productpage"), host("ratings"));
  }

  @Test
  void refusesToDeleteAHostStillRoutedToUntilTheRouteGoes() {
    ServiceView ratings = view("ratings").setVersion(1).build();
    ServiceView productpage = view("productpage").setVersion(1)
        .setHttpRoutes(List.of(route("r", List.of(), to("ratings", null, 100)).build())).build();
    apply(List.of(e(ratings), e(productpage)));

    apply(List.of(deleted(host("ratings"))));
    assertThat(holder.snapshot().versions()).containsKey(host("ratings"));
    assertThat(ackOf(host("ratings")).getAck()).isEqualTo(AckState.NACK);

    apply(List.of(e(view("productpage").setVersion(2).build())));
    assertThat(holder.snapshot().versions()).doesNotContainKey(host("ratings"));
  }

  @Test
  void keepsOnlyItsOwnServiceAndItsEgressHosts() {
    ServiceView own = view("productpage").setVersion(1)
        .setEgressHosts(List.of("./reviews.default.svc.cluster.local")).build();

    apply(List.of(e(own), e(reviews(1, "v1")), e(view("ratings").build())));

    assertThat(holder.snapshot().versions()).containsOnlyKeys(host("productpage"),
        host("reviews"));
  }

  @Test
  void dropsHostsThatLeaveTheEgressListAndAddsThoseThatJoin() {
    apply(List.of(e(reviews(1, "v1")), e(view("ratings").build())));
    assertThat(holder.snapshot().versions()).containsKeys(host("reviews"), host("ratings"));

    apply(List.of(e(view("productpage").setEgressHosts(List.of("*/ratings.default.svc.cluster"
        + ".local")).build())));
    assertThat(holder.snapshot().versions()).containsOnlyKeys(host("productpage"),
        host("ratings"));

    apply(List.of(e(view("productpage").setVersion(2).setEgressHosts(List.of()).build())));
    assertThat(holder.snapshot().versions()).containsKeys(host("reviews"), host("ratings"));
  }

  @Test
  void changesNothingWhenTheSameVersionArrivesAgain() {
    apply(List.of(e(reviews(1, "v1"))));
    var before = holder.current();

    assertThat(apply(List.of(e(reviews(1, "v1"))))).isFalse();
    assertThat(holder.current()).isSameAs(before);
  }

  @Test
  void needsEveryHostUntilItsOwnViewNamesExactEgressHosts() {
    assertThat(applier.neededHosts()).isEmpty();

    apply(List.of(e(view("productpage").setEgressHosts(List.of("./" + host("reviews"),
        "*/" + host("ratings"))).build())));
    assertThat(applier.neededHosts()).contains(java.util.Set.of(host("productpage"),
        host("reviews"), host("ratings")));

    apply(List.of(e(view("productpage").setVersion(2).setEgressHosts(List.of("./*")).build())));
    assertThat(applier.neededHosts()).isEmpty();
  }

  @Test
  void aGatewayNeedsItsViewAndTheHostsItsRoutesLeadTo() {
    SnapshotHolder gw = new SnapshotHolder(ProxySnapshot.empty(),
        ProxyIdentity.of("ingress", "default", "", "zone-a", "c1"), clock);
    ViewApplier gateway = ViewApplier.forGateway(gw, "gateway.ingress.default", "default", clock);
    ServiceView gatewayView = ServiceView.newBuilder(view("ingress").build())
        .setHost("gateway.ingress.default")
        .setHttpRoutes(List.of(route("r", List.of(), to("productpage", null, 100)).build()))
        .build();
    ServiceView productpage = view("productpage")
        .setHttpRoutes(List.of(route("p", List.of(), to("details", null, 100)).build())).build();

    assertThat(gateway.neededHosts()).contains(java.util.Set.of("gateway.ingress.default"));
    gateway.apply(new ArrayList<>(List.of(e(gatewayView), e(productpage),
        e(view("details").build()), e(view("ratings").build()))));

    assertThat(gateway.neededHosts()).contains(java.util.Set.of("gateway.ingress.default",
        host("productpage"), host("details")));
    assertThat(gw.snapshot().versions()).containsOnlyKeys("gateway.ingress.default",
        host("productpage"), host("details"));
  }

  @Test
  void forgetsHostsWhosePartitionsAreNoLongerRead() {
    apply(List.of(e(reviews(1, "v1")), e(view("ratings").build())));

    applier.forget(java.util.Set.of(host("ratings")));

    assertThat(holder.snapshot().versions()).containsOnlyKeys(host("reviews"));
    assertThat(applier.acks()).extracting(ViewAck::getHost).containsExactly(host("reviews"));
  }
}
