package dev.meshlog.config.discovery;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;

class ConfigSnapshotTest {

  private static Resource resource(String yaml) {
    try {
      return Resource.fromDocument(new YAMLMapper().readTree(yaml));
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(e);
    }
  }

  private static Resource virtualService(String namespace, String name) {
    return resource("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: [%s]
        """.formatted(name, namespace, name));
  }

  @Test
  void derivesASnapshotWithOneResourceAddedAndLeavesTheOriginalAlone() {
    ConfigSnapshot one = ConfigSnapshot.EMPTY.with(virtualService("default", "reviews"), 1);
    ConfigSnapshot two = one.with(virtualService("default", "ratings"), 1);

    assertThat(one.size()).isEqualTo(1);
    assertThat(two.size()).isEqualTo(2);
    assertThat(one.get(new ResourceId("VirtualService", "default", "ratings"))).isEmpty();
  }

  @Test
  void replacesAResourceWithItsNewRevision() {
    ConfigSnapshot snapshot = ConfigSnapshot.EMPTY
        .with(virtualService("default", "reviews"), 1)
        .with(virtualService("default", "reviews"), 2);

    assertThat(snapshot.size()).isEqualTo(1);
    assertThat(snapshot.get(new ResourceId("VirtualService", "default", "reviews")))
        .hasValueSatisfying(e -> assertThat(e.revision()).isEqualTo(2));
  }

  @Test
  void removesAResource() {
    ResourceId reviews = new ResourceId("VirtualService", "default", "reviews");
    ConfigSnapshot snapshot = ConfigSnapshot.EMPTY.with(virtualService("default", "reviews"), 1);

    assertThat(snapshot.without(reviews).size()).isZero();
    assertThat(snapshot.without(reviews).resource(reviews)).isEmpty();
    assertThat(snapshot.size()).isEqualTo(1);
  }

  @Test
  void listsResourcesOfAKindByNamespaceThenName() {
    ConfigSnapshot snapshot = ConfigSnapshot.EMPTY
        .with(virtualService("default", "reviews"), 1)
        .with(virtualService("default-canary", "a"), 1)
        .with(virtualService("default", "details"), 1)
        .with(resource("""
            apiVersion: networking.istio.io/v1
            kind: DestinationRule
            metadata: {name: reviews, namespace: default}
            spec: {host: reviews}
            """), 1);

    assertThat(snapshot.ofKind(Kind.VIRTUAL_SERVICE)).extracting(e -> e.id().key()).containsExactly(
        "VirtualService/default/details", "VirtualService/default/reviews", "VirtualService/default-canary/a");
    assertThat(snapshot.ofKind(Kind.VIRTUAL_SERVICE, "default")).hasSize(2);
    assertThat(snapshot.ofKind(Kind.GATEWAY)).isEmpty();
  }

  @Test
  void refusesAResourceOfUnknownKind() {
    Resource unknown = new Resource("example.com/v1", "Widget", "default", "w", null, null);

    assertThatThrownBy(() -> ConfigSnapshot.EMPTY.with(unknown, 1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("kind: Widget of Widget/default/w");
  }
}
