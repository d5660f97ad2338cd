package dev.meshlog.config.status;

import static dev.meshlog.config.status.StatusFixtures.RATINGS;
import static dev.meshlog.config.status.StatusFixtures.REVIEWS;
import static dev.meshlog.config.status.StatusFixtures.T0;
import static dev.meshlog.config.status.StatusFixtures.ack;
import static dev.meshlog.config.status.StatusFixtures.nack;
import static dev.meshlog.config.status.StatusFixtures.proxy;
import static dev.meshlog.config.status.StatusFixtures.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.ServiceView;
import org.junit.jupiter.api.Test;

class ConvergenceTest {

  @Test
  void convergenceIsFromTheCommandToTheLastAckOfEveryTrackingProxy() {
    Map<String, ServiceView> views = Map.of(
        REVIEWS, view(REVIEWS, 4, "c-1", T0),
        RATINGS, view(RATINGS, 2, "c-1", T0));
    List<ChangeConvergence> changes = Convergence.of(views, List.of(
        proxy("productpage-1", ack(REVIEWS, 4, T0.plusMillis(120))),
        proxy("reviews-v1-1", ack(RATINGS, 2, T0.plusMillis(340))),
        proxy("details-1")));

    assertThat(changes).singleElement().satisfies(change -> {
      assertThat(change.commandId()).isEqualTo("c-1");
      assertThat(change.hosts()).containsExactly(RATINGS, REVIEWS);
      assertThat(change.expected()).isEqualTo(2);
      assertThat(change.converged()).isTrue();
      assertThat(change.convergenceTime()).isEqualTo(Duration.ofMillis(340));
    });
  }

  @Test
  void aChangeIsPendingWhileSomeTrackingProxyHasNotAcked() {
    Map<String, ServiceView> views = Map.of(REVIEWS, view(REVIEWS, 4, "c-1", T0));
    ChangeConvergence change = Convergence.of(views, List.of(
        proxy("productpage-1", ack(REVIEWS, 4, T0.plusMillis(120))),
        proxy("productpage-2", ack(REVIEWS, 3, T0.minusSeconds(60))))).get(0);

    assertThat(change.pending()).isTrue();
    assertThat(change.convergenceTime()).isNull();
    assertThat(change.acked()).isEqualTo(1);
    assertThat(change.pendingProxies()).containsExactly("productpage-2");
  }

  @Test
  void aNackKeepsTheChangePendingAndIsCounted() {
    Map<String, ServiceView> views = Map.of(REVIEWS, view(REVIEWS, 4, "c-1", T0));
    ChangeConvergence change = Convergence.of(views, List.of(
        proxy("productpage-1", nack(REVIEWS, 4, 3, "bad route", T0.plusMillis(50))))).get(0);

    assertThat(change.pending()).isTrue();
    assertThat(change.nacked()).isEqualTo(1);
  }

  @Test
  void aChangeNoProxyTracksIsNeitherPendingNorConverged() {
    ChangeConvergence change = Convergence.of(Map.of(REVIEWS, view(REVIEWS, 1, "c-1", T0)),
        List.of()).get(0);
    assertThat(change.pending()).isFalse();
    assertThat(change.converged()).isFalse();
    assertThat(change.convergenceTime()).isNull();
  }

  @Test
  void changesAreListedMostRecentFirstAndViewsWithoutTriggerAreIgnored() {
    Map<String, ServiceView> views = Map.of(
        REVIEWS, view(REVIEWS, 4, "c-old", T0),
        RATINGS, view(RATINGS, 2, "c-new", T0.plusSeconds(10)),
        "details.default.svc.cluster.local", view("details.default.svc.cluster.local", 1));
    assertThat(Convergence.of(views, List.of())).extracting(ChangeConvergence::commandId)
        .containsExactly("c-new", "c-old");
  }
}
