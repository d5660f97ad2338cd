package dev.meshlog.proxy.subscribe;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.IntStream;

import dev.meshlog.schemas.Topics;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;
import org.junit.jupiter.api.Test;

class ViewPartitionsTest {

  @Test
  void placesEachHostWhereKafkasDefaultPartitionerWritesItsKey() {
    ViewPartitions partitions = new ViewPartitions(Topics.DISCOVERY_VIEWS, 12);

    IntStream.range(0, 200).mapToObj(i -> "svc" + i + ".default.svc.cluster.local")
        .forEach(host -> assertThat(partitions.of(host)).isEqualTo(BuiltInPartitioner
            .partitionForKey(Topics.DISCOVERY_VIEWS.serializeKey(host), 12)));
  }

  @Test
  void listsEveryPartition() {
    assertThat(new ViewPartitions(Topics.DISCOVERY_VIEWS, 3).all()).containsExactly(0, 1, 2);
  }
}
