package dev.meshlog.config.status;

import static dev.meshlog.config.status.StatusFixtures.RATINGS;
import static dev.meshlog.config.status.StatusFixtures.REVIEWS;
import static dev.meshlog.config.status.StatusFixtures.T0;
import static dev.meshlog.config.status.StatusFixtures.ack;
import static dev.meshlog.config.status.StatusFixtures.nack;
import static dev.meshlog.config.status.StatusFixtures.proxy;
import static dev.meshlog.config.status.StatusFixtures.view;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class ProxyStatusTableTest {

  private static final Map<String, dev.meshlog.events.discovery.ServiceView> VIEWS =
      Map.of(REVIEWS, view(REVIEWS, 3), RATINGS, view(RATINGS, 5));

  @Test
  void aProxyThatAckedTheLatestVersionIsSynced() {
    List<ProxyRow> rows = ProxyStatusTable.rows(VIEWS, List.of(proxy("productpage-1",
        ack(REVIEWS, 3, T0), ack(RATINGS, 5, T0))));

    assertThat(rows).singleElement().satisfies(row -> {
      assertThat(row.overall()).isEqualTo(SyncState.SYNCED);
      assertThat(row.views()).extracting(ViewSync::state)
          .containsExactly(SyncState.SYNCED, SyncState.SYNCED);
    });
  }

  @Test
  void aProxyBehindTheLatestVersionIsStale() {
    ProxyRow row = ProxyStatusTable.rows(VIEWS, List.of(proxy("productpage-1",
        ack(REVIEWS, 2, T0), ack(RATINGS, 5, T0)))).get(0);

    assertThat(row.overall()).isEqualTo(SyncState.STALE);
    ViewSync reviews = row.views().stream().filter(v -> v.host().equals(REVIEWS)).findFirst()
        .orElseThrow();
    assertThat(reviews.state()).isEqualTo(SyncState.STALE);
    assertThat(reviews.latestVersion()).isEqualTo(3);
    assertThat(reviews.reportedVersion()).isEqualTo(2);
  }

  @Test
  void aNackCarriesTheProxysError() {
    ProxyRow row = ProxyStatusTable.rows(VIEWS, List.of(proxy("reviews-v2-1",
        nack(REVIEWS, 3, 2, "route 0: subset v9 not defined", T0)))).get(0);

    assertThat(row.overall()).isEqualTo(SyncState.NACK);
    assertThat(row.views().get(0).error()).isEqualTo("route 0: subset v9 not defined");
    assertThat(row.views().get(0).appliedVersion()).isEqualTo(2);
  }

  @Test
  void aHostWithNoPublishedViewIsUnknown() {
    ProxyRow row = ProxyStatusTable.rows(Map.of(), List.of(proxy("p-1", ack(REVIEWS, 1, T0))))
        .get(0);
    assertThat(row.views().get(0).state()).isEqualTo(SyncState.UNKNOWN);
  }

  @Test
  void rowsAreOnePerProxySortedById() {
    List<ProxyRow> rows = ProxyStatusTable.rows(VIEWS, List.of(
        proxy("reviews-v1-1", ack(RATINGS, 5, T0)),
        proxy("productpage-1", ack(REVIEWS, 3, T0)),
        proxy("details-1")));

    assertThat(rows).extracting(ProxyRow::proxyId)
        .containsExactly("details-1", "productpage-1", "reviews-v1-1");
    assertThat(rows.get(0).overall()).isEqualTo(SyncState.SYNCED);
    assertThat(rows.get(0).views()).isEmpty();
  }
}
