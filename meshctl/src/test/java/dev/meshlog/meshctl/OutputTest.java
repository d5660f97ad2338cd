package dev.meshlog.meshctl;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.meshlog.config.client.ConfigCommands;
import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.config.status.Analysis;
import dev.meshlog.config.status.ChangeConvergence;
import dev.meshlog.config.status.ProxyStatusTable;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewProblem;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import org.junit.jupiter.api.Test;

class OutputTest {

  private static final Instant T0 = Run.NOW;
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final ConfigCommands COMMANDS =
      ConfigCommands.of("ana", SourceType.CLI, Clock.fixed(T0, ZoneOffset.UTC));
  private static final ResourceId REVIEWS = new ResourceId("VirtualService", "default", "reviews");

  private static Resource reviews() {
    return new Resource("networking.istio.io/v1", "VirtualService", "default", "reviews",
        Map.of(), JSON.createObjectNode().put("weight", 10));
  }

  private static Outcome accepted(ConfigCommand command, ChangeType type, long revision) {
    ConfigEvent event = ConfigEvent.newBuilder().setCommandId(command.getCommandId())
        .setResource(command.getResource()).setRevision(revision).setChangeType(type)
        .setRolledBackToRevision(command.getRollbackToRevision())
        .setActor(command.getActor()).setSource(command.getSource()).setRequestedAt(T0)
        .setAcceptedAt(T0).build();
    return new Outcome(command, event, null, 0, 0);
  }

  private static Outcome rejected(ConfigCommand command, RejectionReason reason,
                                  FieldError... errors) {
    ConfigRejection rejection = ConfigRejection.newBuilder().setCommandId(command.getCommandId())
        .setResource(command.getResource()).setReason(reason).setErrors(List.of(errors))
        .setRequestedAt(T0).setRejectedAt(T0).build();
    return new Outcome(command, null, rejection, 0, 0);
  }

  @Test
  void namesResourcesTheWayKubectlDoes() {
    assertThat(Output.kubectlName(REVIEWS)).isEqualTo("virtualservice.networking.istio.io/reviews");
    assertThat(Output.kubectlName(new ResourceId("AuthorizationPolicy", "prod", "deny-all")))
        .isEqualTo("authorizationpolicy.security.istio.io/deny-all");
  }

  @Test
  void printsOneKubectlStyleLinePerAcceptedChange() {
    assertThat(Output.resultLine(accepted(COMMANDS.apply(reviews()), ChangeType.CREATED, 1)))
        .isEqualTo("virtualservice.networking.istio.io/reviews created (revision 1)");
    assertThat(Output.resultLine(accepted(COMMANDS.apply(reviews()), ChangeType.UPDATED, 3)))
        .isEqualTo("virtualservice.networking.istio.io/reviews configured (revision 3)");
    assertThat(Output.resultLine(accepted(COMMANDS.apply(reviews()), ChangeType.UNCHANGED, 3)))
        .isEqualTo("virtualservice.networking.istio.io/reviews unchanged (revision 3)");
    assertThat(Output.resultLine(accepted(COMMANDS.delete(REVIEWS), ChangeType.DELETED, 4)))
        .isEqualTo("virtualservice.networking.istio.io/reviews deleted (revision 4)");
    assertThat(Output.resultLine(accepted(COMMANDS.rollback(REVIEWS, 1), ChangeType.UPDATED, 5)))
        .isEqualTo("virtualservice.networking.istio.io/reviews rolled back to revision 1 (revision 5)");
  }

  @Test
  void printsEachFieldErrorWithResourceAndPathWithoutRepeatingTheField() {
    Outcome outcome = rejected(COMMANDS.apply(reviews()), RejectionReason.INVALID,
        FieldError.newBuilder().setPath("spec.http[0].route[1].weight").setValue("120")
            .setMessage("weight: 120 (expected: 0..100)").build(),
        FieldError.newBuilder().setPath("spec.http[0].delegate")
            .setMessage("not supported").build());

    assertThat(Output.errorLines(outcome)).containsExactly(
        "VirtualService/default/reviews: spec.http[0].route[1].weight: 120 (expected: 0..100)",
        "VirtualService/default/reviews: spec.http[0].delegate: not supported");
  }

  @Test
  void aRejectionWithoutFieldErrorsStillSaysWhy() {
    assertThat(Output.errorLines(rejected(COMMANDS.delete(REVIEWS), RejectionReason.NOT_FOUND)))
        .containsExactly("VirtualService/default/reviews: rejected (NOT_FOUND)");
  }

  @Test
  void tablesAlignColumnsWithoutTrailingSpaces() {
    assertThat(Output.table(List.of("NAME", "REVISION"),
        List.of(List.of("reviews", "3"), List.of("ratings-long-name", "12"))))
        .isEqualTo("""
            NAME                REVISION
            reviews             3
            ratings-long-name   12
            """);
  }

  @Test
  void agesAreShortLikeKubectls() {
    assertThat(Output.age(T0.minusSeconds(45), T0)).isEqualTo("45s");
    assertThat(Output.age(T0.minusSeconds(600), T0)).isEqualTo("10m");
    assertThat(Output.age(T0.minus(Duration.ofHours(5)), T0)).isEqualTo("5h");
    assertThat(Output.age(T0.minus(Duration.ofDays(3)), T0)).isEqualTo("3d");
  }

  @Test
  void durationsAreShort() {
    assertThat(Output.duration(Duration.ofMillis(340))).isEqualTo("340ms");
    assertThat(Output.duration(Duration.ofMillis(2400))).isEqualTo("2.4s");
    assertThat(Output.duration(Duration.ofSeconds(10))).isEqualTo("10s");
    assertThat(Output.duration(Duration.ofSeconds(185))).isEqualTo("3m5s");
  }

  @Test
  void sourcesShowTheCommitAndFile() {
    ChangeSource git = ChangeSource.newBuilder().setType(SourceType.GIT)
        .setCommitId("4f2a9c1e0b7d3a5f").setPath("mesh/reviews.yaml").build();
    assertThat(Output.source(git)).isEqualTo("git 4f2a9c1 mesh/reviews.yaml");
    assertThat(Output.source(ChangeSource.newBuilder().setType(SourceType.CLI).build()))
        .isEqualTo("cli");
  }

  private static CurrentResource current() {
    ConfigEvent event = accepted(COMMANDS.apply(reviews()), ChangeType.UPDATED, 3).event();
    event.setAcceptedAt(T0.minusSeconds(90));
    event.setActor("ana");
    return new CurrentResource(REVIEWS, 3, reviews(), event);
  }

  @Test
  void getPrintsATable() {
    assertThat(GetCommand.render(List.of(current()), MeshctlCommand.Format.table, false, T0))
        .isEqualTo("""
            NAME      REVISION   UPDATED-BY   SOURCE   AGE
            reviews   3          ana          cli      90s
            """);
  }

  @Test
  void getPrintsReapplicableYaml() {
    assertThat(GetCommand.render(List.of(current()), MeshctlCommand.Format.yaml, false, T0))
        .isEqualTo("""
            ---
            apiVersion: networking.istio.io/v1
            kind: VirtualService
            metadata:
              name: reviews
              namespace: default
            spec:
              weight: 10
            """);
  }

  @Test
  void getPrintsSeveralResourcesAsAJsonList() {
    String json = GetCommand.render(List.of(current(), current()), MeshctlCommand.Format.json,
        true, T0);
    assertThat(json).contains("\"kind\" : \"List\"").contains("\"items\"");
  }

  @Test
  void historyPrintsOneRowPerRevision() {
    ConfigEvent created = accepted(COMMANDS.apply(reviews()), ChangeType.CREATED, 1).event();
    ConfigEvent rolledBack = accepted(COMMANDS.rollback(REVIEWS, 1), ChangeType.UPDATED, 2).event();
    String table = HistoryCommand.render(REVIEWS,
        List.of(Revision.of(created), Revision.of(rolledBack)), MeshctlCommand.Format.table);
    assertThat(table).isEqualTo("""
        REVISION   CHANGE    ACTOR   SOURCE   ACCEPTED               NOTE
        1          CREATED   ana     cli      2026-11-24T12:00:00Z
        2          UPDATED   ana     cli      2026-11-24T12:00:00Z   rollback to 1
        """);
  }

  @Test
  void analyzePrintsFindingsPerResourceAndASummary() {
    ServiceView view = ServiceView.newBuilder().setHost("reviews.default.svc.cluster.local")
        .setVersion(1).setGeneratedAt(T0).setProblems(List.of(
            ViewProblem.newBuilder().setResource("VirtualService/default/reviews")
                .setPath("spec.http[0].route[0].destination.subset")
                .setMessage("subset v9 is not defined").build(),
            ViewProblem.newBuilder().setResource("DestinationRule/default/reviews")
                .setPath("spec.host").setMessage("warning: no endpoints").build())).build();
    assertThat(AnalyzeCommand.render(Analysis.of(List.of(view)), 1)).isEqualTo("""
        Warning [DestinationRule/default/reviews] spec.host: no endpoints (views: reviews.default.svc.cluster.local)
        Error [VirtualService/default/reviews] spec.http[0].route[0].destination.subset: subset v9 is not defined (views: reviews.default.svc.cluster.local)
        Error: Analyzers found 1 error(s) and 1 warning(s) when analyzing 1 view(s).
        """);
    assertThat(AnalyzeCommand.render(Analysis.of(List.of()), 4))
        .isEqualTo("No validation issues found when analyzing 4 view(s).\n");
  }

  @Test
  void proxyStatusPrintsOneRowPerProxyAndWhatIsNotInSync() {
    String host = "ratings.default.svc.cluster.local";
    ServiceView view = ServiceView.newBuilder().setHost(host).setVersion(3).setGeneratedAt(T0)
        .build();
    ProxyStatus synced = ProxyStatus.newBuilder().setProxyId("productpage-1")
        .setService("productpage").setWorkloadVersion("v1").setCluster("local")
        .setState(ProxyState.RUNNING).setStartedAt(T0).setReportedAt(T0)
        .setViews(List.of(ViewAck.newBuilder().setHost(host).setVersion(3).setAck(AckState.ACK)
            .setUpdatedAt(T0).build())).build();
    ProxyStatus nack = ProxyStatus.newBuilder(synced).setProxyId("reviews-v2-1")
        .setService("reviews").setWorkloadVersion("v2")
        .setViews(List.of(ViewAck.newBuilder().setHost(host).setVersion(3).setAck(AckState.NACK)
            .setAppliedVersion(2L).setErrorDetail("route 0: subset v9 not defined")
            .setUpdatedAt(T0).build())).build();
    String text = ProxyStatusCommand.render(
        ProxyStatusTable.rows(Map.of(host, view), List.of(synced, nack)), List.of());
    assertThat(text).isEqualTo("""
        NAME            SERVICE       VERSION   CLUSTER   STATE     VIEWS   SYNCED   STALE   NACK   STATUS
        productpage-1   productpage   v1        local     RUNNING   1       1        0       0      SYNCED
        reviews-v2-1    reviews       v2        local     RUNNING   1       0        0       1      NACK

        reviews-v2-1: ratings.default.svc.cluster.local NACK of version 3 (serving 2): route 0: subset v9 not defined
        """);
  }

  @Test
  void convergenceIsATimeOrPending() {
    ChangeConvergence done = new ChangeConvergence("c-1", "VirtualService/default/reviews", 3, T0,
        List.of("h"), 2, 2, 0, List.of(), T0.plusMillis(340));
    ChangeConvergence pending = new ChangeConvergence("c-2", "VirtualService/default/reviews", 4,
        T0, List.of("h"), 3, 1, 1, List.of("p-2", "p-3"), T0.plusMillis(10));
    assertThat(ProxyStatusCommand.convergence(done)).isEqualTo("340ms (2/2 acked)");
    assertThat(ProxyStatusCommand.convergence(pending))
        .isEqualTo("pending (1/3 acked, 1 NACK; waiting for p-2, p-3)");
  }
}
