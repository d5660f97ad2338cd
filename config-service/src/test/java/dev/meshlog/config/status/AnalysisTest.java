package dev.meshlog.config.status;

import static dev.meshlog.config.status.StatusFixtures.RATINGS;
import static dev.meshlog.config.status.StatusFixtures.REVIEWS;
import static dev.meshlog.config.status.StatusFixtures.problem;
import static dev.meshlog.config.status.StatusFixtures.viewWithProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import dev.meshlog.events.discovery.ServiceView;
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
}
