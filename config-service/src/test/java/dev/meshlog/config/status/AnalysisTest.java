package dev.meshlog.config.status;

import static dev.meshlog.config.status.StatusFixtures.RATINGS;
import static dev.meshlog.config.status.StatusFixtures.REVIEWS;
import static dev.meshlog.config.status.StatusFixtures.problem;
import static dev.meshlog.config.status.StatusFixtures.viewWithProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import org.junit.jupiter.api.Test;

class AnalysisTest {

  private static final String VS = "VirtualService/default/reviews";
  private static final String DR = "DestinationRule/default/reviews";

  @Test
  void groupsProblemsByResourceAndMergesTheSameProblemAcrossViews() {
    Analysis analysis = Analysis.of(List.of(
        viewWithProblems(REVIEWS, problem(VS, "spec.http[0].route[0].destination.subset",
            "subset v9 is not defined by any DestinationRule")),
        viewWithProblems(RATINGS, problem(VS, "spec.http[0].route[0].destination.subset",
            "subset v9 is not defined by any DestinationRule"),
            problem(DR, "spec.host", "warning: host ratings has no endpoints"))));

    assertThat(analysis.resources()).containsOnlyKeys(DR, VS);
    assertThat(analysis.resources().get(VS)).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(Finding.Severity.ERROR);
      assertThat(f.hosts()).containsExactly(RATINGS, REVIEWS);
    });
    assertThat(analysis.resources().get(DR)).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(Finding.Severity.WARNING);
      assertThat(f.message()).isEqualTo("host ratings has no endpoints");
    });
    assertThat(analysis.errors()).isEqualTo(1);
    assertThat(analysis.warnings()).isEqualTo(1);
  }

  @Test
  void removedViewsAndCleanViewsFindNothing() {
    ServiceView removed = ServiceView.newBuilder(viewWithProblems(REVIEWS,
        problem(VS, "spec", "broken"))).setRemoved(true).build();
    Analysis analysis = Analysis.of(List.of(removed, viewWithProblems(RATINGS)));
    assertThat(analysis.resources()).isEmpty();
    assertThat(analysis.errors()).isZero();
  }

  @Test
  void aViewHeldBackForSizeIsAnErrorOfItsViewNamingSizeLimitSinceAndTheKeptVersion() {
    ViewHold hold = ViewHold.newBuilder().setHost(REVIEWS).setService("reviews")
        .setNamespace("default").setViewBytes(1_000_747).setLimitBytes(1_000_000)
        .setSince(StatusFixtures.T0).setUpdatedAt(StatusFixtures.T0).setKeptVersion(10L)
        .setEndpoints(11).setHttpRoutes(1).setResources(List.of("VirtualService/default/reviews@2"))
        .setCause("registration of default/reviews/reviews-11").build();

    Analysis analysis = Analysis.of(List.of(viewWithProblems(REVIEWS)), List.of(hold));

    assertThat(analysis.resources()).containsOnlyKeys("ServiceView/default/" + REVIEWS);
    assertThat(analysis.resources().get("ServiceView/default/" + REVIEWS)).singleElement()
        .satisfies(f -> {
          assertThat(f.severity()).isEqualTo(Finding.Severity.ERROR);
          assertThat(f.path()).isEqualTo("view");
          assertThat(f.hosts()).containsExactly(REVIEWS);
          assertThat(f.hold()).isEqualTo(hold);
          assertThat(f.message()).isEqualTo("held back: 1000747 bytes (expected: at most 1000000"
              + " bytes, what one Kafka record carries); proxies keep version 10 since "
              + StatusFixtures.T0 + " (11 endpoints, 1 http routes, from"
              + " VirtualService/default/reviews@2; held after registration of"
              + " default/reviews/reviews-11); split its routes or endpoints over more hosts");
        });
    assertThat(analysis.errors()).isEqualTo(1);
  }

  @Test
  void aHeldViewThatProxiesNeverHadSaysSo() {
    ViewHold hold = ViewHold.newBuilder().setHost(REVIEWS).setNamespace("default")
        .setViewBytes(1_200_000).setLimitBytes(1_000_000).setSince(StatusFixtures.T0)
        .setUpdatedAt(StatusFixtures.T0).build();
    assertThat(Analysis.of(List.of(), List.of(hold)).resources().values()).singleElement()
        .satisfies(findings -> assertThat(findings.get(0).message())
            .contains("proxies have no version of this view since " + StatusFixtures.T0));
  }

  @Test
  void istioMutualIsOneWarningListingEveryHostOfAMeshWideRule() {
    String mesh = "DestinationRule/meshlog-system/mesh-mtls";
    String text = "warning: ISTIO_MUTUAL is not enforced yet: Meshlog has no mesh CA, so proxies "
        + "send plain text to the host's endpoints (expected: SIMPLE or MUTUAL with files, to "
        + "originate TLS now)";
    Analysis analysis = Analysis.of(List.of(
        viewWithProblems(REVIEWS, problem(mesh, "spec.trafficPolicy.tls.mode", text)),
        viewWithProblems(RATINGS, problem(mesh, "spec.trafficPolicy.tls.mode", text))));

    assertThat(analysis.errors()).isZero();
    assertThat(analysis.resources().get(mesh)).singleElement().satisfies(f -> {
      assertThat(f.severity()).isEqualTo(Finding.Severity.WARNING);
      assertThat(f.message()).startsWith("ISTIO_MUTUAL is not enforced yet");
      assertThat(f.hosts()).containsExactly(RATINGS, REVIEWS);
    });
  }
}
