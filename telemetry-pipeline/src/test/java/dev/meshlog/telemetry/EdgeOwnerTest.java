package dev.meshlog.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.Test;

class EdgeOwnerTest {

  @Test
  void theEdgeKeyIsTheVersionedIdWithoutVersions() {
    assertThat(EdgeOwner.edgeKey("default/productpage/v1->default/reviews/v2"))
        .isEqualTo("default/productpage->default/reviews");
    // a caller outside the mesh: proxies leave its service empty (the edge id says unknown)
    assertThat(EdgeOwner.edgeKey("default/unknown/->default/productpage/v1"))
        .isEqualTo("default/->default/productpage");
    assertThat(EdgeOwner.edgeKey("/unknown/->default/gateway/"))
        .isEqualTo("/->default/gateway");
    assertThat(EdgeOwner.edgeKey("default/productpage/v1->default/unknown/"))
        .isEqualTo("default/productpage->default/unknown");
  }

  @Test
  void hashesTheEdgeKeyAsKafkasDefaultPartitionerDoesForTheProxiesRecords() {
    String id = "default/productpage/v1->default/reviews/v2";
    int expected = Utils.toPositive(Utils.murmur2(
        "default/productpage->default/reviews".getBytes(StandardCharsets.UTF_8))) % 12;
    assertThat(EdgeOwner.partitionOf(id, 12)).isEqualTo(expected);
    assertThat(EdgeOwner.PARTITIONER.partitions("t", id, null, 12)).isEqualTo(Optional.of(Set.of(expected)));
    // every version of one edge: the same partition
    assertThat(EdgeOwner.partitionOf("default/productpage/v9->default/reviews/v3", 12)).isEqualTo(expected);
  }

  @Test
  void refusesWhatIsNotAVersionedEdgeId() {
    assertThatThrownBy(() -> EdgeOwner.edgeKey("default/productpage->default/reviews"))
        .hasMessage("edge id: default/productpage->default/reviews (expected: srcNs/src/srcVersion->dstNs/dst/dstVersion)");
    assertThatThrownBy(() -> EdgeOwner.edgeKey("nothing"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
