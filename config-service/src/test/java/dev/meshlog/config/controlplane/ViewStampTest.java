package dev.meshlog.config.controlplane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ChangeTrigger;
import dev.meshlog.schemas.AvroSerde;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.junit.jupiter.api.Test;

class ViewStampTest {

  private static final Serde<ViewStamp> SERDE = ViewStamp.serde();

  private static ServiceView view(long version, String instance) {
    return ServiceView.newBuilder().setHost("ratings.default.svc.cluster.local")
        .setService("ratings").setNamespace("default").setVersion(version)
        .setGeneratedAt(Instant.parse("2026-11-25T12:00:00Z").plusSeconds(version))
        .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId(instance).setAddress("10.0.0.1")
            .setPort(9080).setLabels(Map.of("version", "v1")).setHealth(EndpointHealth.HEALTHY).build()))
        .build();
  }

  @Test
  void roundTripsInUnderAHundredBytes() {
    ViewStamp stamp = ViewStamp.of(view(7, "ratings-1"));
    byte[] bytes = SERDE.serializer().serialize("changelog", stamp);
    assertThat(bytes).hasSizeLessThan(100);
    assertThat(SERDE.deserializer().deserialize("changelog", bytes)).isEqualTo(stamp);
  }

  @Test
  void sameContentIgnoresVersionGenerationTimeAndTrigger() {
    ViewStamp stamp = ViewStamp.of(view(7, "ratings-1"));
    ServiceView recompiled = ServiceView.newBuilder(view(8, "ratings-1"))
        .setTriggeredBy(ChangeTrigger.newBuilder().setCommandId("c-1")
            .setResource("VirtualService/default/ratings").setRevision(3)
            .setRequestedAt(Instant.parse("2026-11-25T12:00:00Z")).build()).build();
    assertThat(stamp.sameContent(recompiled)).isTrue();
  }

  @Test
  void theHashOfTheUnversionedViewMakesTheSameStampAsTheVersionedView() {
    ServiceView compiled = view(0, "ratings-1");
    ServiceView published = ServiceView.newBuilder(compiled).setVersion(9)
        .setGeneratedAt(Instant.parse("2026-11-25T13:00:00Z")).build();
    assertThat(ViewStamp.of(published, ViewStamp.contentHash(compiled)))
        .isEqualTo(ViewStamp.of(published));
  }

  @Test
  void hashingAnOwnedViewInPlaceGivesTheHashOfItsCopy() {
    ServiceView owned = ServiceView.newBuilder(view(8, "ratings-1"))
        .setTriggeredBy(ChangeTrigger.newBuilder().setCommandId("c-1")
            .setResource("VirtualService/default/ratings").setRevision(3)
            .setRequestedAt(Instant.parse("2026-11-25T12:00:00Z")).build()).build();
    byte[] copied = ViewStamp.contentHash(owned);
    assertThat(ViewStamp.contentHashInPlace(owned)).isEqualTo(copied);
    assertThat(owned.getVersion()).isZero();
    assertThat(owned.getTriggeredBy()).isNull();
  }

  @Test
  void anotherEndpointIsAnotherContent() {
    assertThat(ViewStamp.of(view(7, "ratings-1")).sameContent(view(7, "ratings-2"))).isFalse();
  }

  @Test
  void readsAWholeViewWrittenBeforeStampsAsItsStamp() {
    ServiceView old = view(41, "ratings-1");
    byte[] oldRecord = AvroSerde.of(ServiceView.class).encode(old);
    ViewStamp stamp = SERDE.deserializer().deserialize("changelog", oldRecord);
    assertThat(stamp).isEqualTo(ViewStamp.of(old));
    assertThat(stamp.version()).isEqualTo(41);
    assertThat(stamp.sameContent(view(42, "ratings-1"))).isTrue();
  }

  @Test
  void rejectsARecordThatIsNeitherAStampNorAView() {
    assertThatThrownBy(() -> SERDE.deserializer().deserialize("changelog", new byte[] {1, 2, 3}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("changelog: view stamp")
        .hasMessageContaining("neither 'MV'");
  }

  @Test
  void rejectsATruncatedStamp() {
    byte[] bytes = SERDE.serializer().serialize("t", ViewStamp.of(view(1, "ratings-1")));
    byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 5);
    assertThatThrownBy(() -> SERDE.deserializer().deserialize("changelog", cut))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("truncated");
  }
}
