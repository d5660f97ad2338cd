package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.List;

import dev.meshlog.proxy.cluster.LoopGuard;
import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ViewTranslator;
import dev.meshlog.proxy.support.Views;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/** The request-loop metrics as Prometheus reads them from the admin port. */
class ProxyMainLoopMetricsTest {

  @Test
  void countsTheEndpointsLeftOutAsRequestLoops() {
    ProxySnapshot loop = ProxySnapshot.of(List.of(ViewTranslator.translate(
        Views.allTo("books", "v1", Views.endpoint(15001, "v1", "zone-a")))));
    SnapshotHolder holder = new SnapshotHolder(loop,
        ProxyIdentity.of("productpage", "default", "v1", "zone-a", "c1"), Clock.systemUTC());
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    ProxyMain.bindLoopMetrics(holder, registry);

    holder.guardLoops(LoopGuard.of(List.of(new LoopGuard.Listener("outbound", "127.0.0.1",
        15001))));
    holder.apply(loop);

    assertThat(registry.scrape()).contains("meshlog_request_loop_endpoints 1.0",
        "meshlog_request_loop_endpoints_left_out_total 2.0");
    holder.apply(ProxySnapshot.empty());
    assertThat(registry.scrape()).contains("meshlog_request_loop_endpoints 0.0",
        "meshlog_request_loop_endpoints_left_out_total 2.0");
  }
}
