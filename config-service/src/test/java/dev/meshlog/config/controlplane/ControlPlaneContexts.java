package dev.meshlog.config.controlplane;

import java.time.Instant;

import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.schemas.AvroSerde;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.Stores;

/** A mock processor context with the control plane's three stores, in memory, for its processor. */
final class ControlPlaneContexts {

  private ControlPlaneContexts() {
  }

  /** A context at wall-clock {@code now} holding empty revisions, instances and views stores. */
  static MockProcessorContext<String, Object> withStores(Instant now) {
    MockProcessorContext<String, Object> context = new MockProcessorContext<>();
    addStore(context, ControlPlaneTopology.REVISIONS_STORE, Serdes.ByteArray());
    addStore(context, ControlPlaneTopology.INSTANCES_STORE,
        AvroSerde.of(InstanceRegistration.class));
    addStore(context, ControlPlaneTopology.VIEWS_STORE, ViewStamp.serde());
    context.setCurrentSystemTimeMs(now.toEpochMilli());
    return context;
  }

  private static <V> void addStore(MockProcessorContext<String, Object> context, String name,
                                   Serde<V> values) {
    StateStore store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(name),
        Serdes.String(), values).withLoggingDisabled().build();
    store.init(context.getStateStoreContext(), store);
    context.addStateStore(store);
  }
}
