package dev.meshlog.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class TopicsTest {

  @Test
  void namesEveryTopicOnceUnderTheMeshPrefix() {
    Set<String> names = new HashSet<>();
    for (Topic<String, ?> topic : Topics.ALL) {
      assertThat(topic.name()).startsWith("mesh.");
      assertThat(names.add(topic.name())).as("duplicate %s", topic.name()).isTrue();
    }
  }

  @Test
  void hasASampleForEveryTopic() {
    assertThat(SampleEvents.oneOfEach().keySet()).containsExactlyInAnyOrderElementsOf(Topics.ALL);
  }

  @Test
  void keepsTheAuditLogForeverAndUncompacted() {
    assertThat(Topics.CONFIG_EVENTS.configs())
        .containsEntry("cleanup.policy", "delete")
        .containsEntry("retention.ms", "-1");
  }

  @Test
  void compactsTheLatestStateTopics() {
    for (Topic<String, ?> topic : Set.of(Topics.REGISTRY_INSTANCES, Topics.DISCOVERY_VIEWS,
        Topics.DISCOVERY_HOLDS,        Topics.PROXY_STATUS, Topics.POLICY_ALLOCATIONS, Topics.SECURITY_CERTS, Topics.GITOPS_STATE)) {
      assertThat(topic.configs()).as(topic.name()).containsEntry("cleanup.policy", "compact")
          .doesNotContainKey("retention.ms");
    }
  }

  @Test
  void letsTheViewsTopicTakeARecordOfSixteenMebibytesAndNoOtherTopicMoreThanTheBrokerDefault() {
    assertThat(Topics.DISCOVERY_VIEWS.configs())
        .containsEntry("max.message.bytes", Integer.toString(16 * 1024 * 1024));
    assertThat(Topics.MAX_VIEW_BYTES).isLessThan(Topics.VIEWS_MAX_MESSAGE_BYTES)
        .isGreaterThan(Topics.MAX_VALUE_BYTES);
    for (Topic<String, ?> topic : Topics.ALL) {
      if (topic != Topics.DISCOVERY_VIEWS) {
        assertThat(topic.configs()).as(topic.name()).doesNotContainKey("max.message.bytes");
      }
    }
  }

  @Test
  void refusesANonPositiveMessageLimitNamingTheTopic() {
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Topic<>("mesh.x",
            org.apache.kafka.common.serialization.Serdes.String(),
            org.apache.kafka.common.serialization.Serdes.String(), 1, Topic.Cleanup.COMPACT,
            null, "x", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("mesh.x: maxMessageBytes: 0 (expected: >= 1, or null for the broker's default)");
  }

  @Test
  void findsATopicByName() {
    assertThat(Topics.byName("mesh.discovery.views")).contains(Topics.DISCOVERY_VIEWS);
    assertThat(Topics.byName("mesh.nope")).isEmpty();
  }
}
