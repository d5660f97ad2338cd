package dev.meshlog.config.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.SourceType;
import org.junit.jupiter.api.Test;

class ConfigCommandsTest {

  private static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  private static final ConfigCommands COMMANDS =
      ConfigCommands.of("ana", SourceType.CLI, Clock.fixed(T0, ZoneOffset.UTC));
  private static final Resource REVIEWS = new Resource("networking.istio.io/v1", "VirtualService",
      "default", "reviews", Map.of(), new ObjectMapper().createObjectNode().put("weight", 10));

  @Test
  void anApplyCarriesTheWholeResourceAndWhoAskedWhen() {
    ConfigCommand apply = COMMANDS.apply(REVIEWS, 3L);
    assertThat(apply.getOperation()).isEqualTo(Operation.APPLY);
    assertThat(apply.getResource().getKind()).isEqualTo("VirtualService");
    assertThat(apply.getApiVersion()).isEqualTo("networking.istio.io/v1");
    assertThat(Resource.fromJson(apply.getDocument())).isEqualTo(REVIEWS);
    assertThat(apply.getExpectedRevision()).isEqualTo(3L);
    assertThat(apply.getActor()).isEqualTo("ana");
    assertThat(apply.getSource().getType()).isEqualTo(SourceType.CLI);
    assertThat(apply.getRequestedAt()).isEqualTo(T0);
  }

  @Test
  void everyCommandHasItsOwnId() {
    assertThat(COMMANDS.apply(REVIEWS).getCommandId()).isNotEqualTo(COMMANDS.apply(REVIEWS).getCommandId());
  }

  @Test
  void deleteAndRollbackNameTheResource() {
    ResourceId id = REVIEWS.id();
    ConfigCommand delete = COMMANDS.delete(id);
    assertThat(delete.getOperation()).isEqualTo(Operation.DELETE);
    assertThat(delete.getDocument()).isNull();
    ConfigCommand rollback = COMMANDS.rollback(id, 2);
    assertThat(rollback.getOperation()).isEqualTo(Operation.ROLLBACK);
    assertThat(rollback.getRollbackToRevision()).isEqualTo(2L);
    assertThat(ConfigCommands.id(rollback.getResource())).isEqualTo(id);
  }

  @Test
  void aGitSourceAndAuthorCarryOver() {
    ChangeSource git = ChangeSource.newBuilder().setType(SourceType.GIT).setCommitId("4f2a9c1")
        .setCommitAuthor("bob <bob@example.com>").setRepository("/repo").setPath("mesh/vs.yaml").build();
    ConfigCommand apply = COMMANDS.withActor("bob@example.com").withSource(git).apply(REVIEWS);
    assertThat(apply.getActor()).isEqualTo("bob@example.com");
    assertThat(apply.getSource()).isEqualTo(git);
    assertThat(COMMANDS.apply(REVIEWS).getSource().getCommitId()).as("the original is unchanged").isNull();
  }

  @Test
  void aTimeoutNamesEveryCommandThatGotNoAnswer() {
    ConfigCommand delete = COMMANDS.delete(REVIEWS.id());
    SubmitTimeoutException e = new SubmitTimeoutException(Duration.ofSeconds(30), List.of(),
        List.of(delete));
    assertThat(e.getMessage()).startsWith("no answer from the control plane within 30s for 1 command(s): "
        + "VirtualService/default/reviews (DELETE, command " + delete.getCommandId() + ")");
    assertThat(e.unanswered()).containsExactly(delete);
  }
}
