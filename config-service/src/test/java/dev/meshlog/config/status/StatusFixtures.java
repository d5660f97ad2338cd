package dev.meshlog.config.status;

import java.time.Instant;
import java.util.List;

import dev.meshlog.events.discovery.ChangeTrigger;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewProblem;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;

/** Views and proxy statuses for status tests. */
final class StatusFixtures {

  static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");
  static final String REVIEWS = "reviews.default.svc.cluster.local";
  static final String RATINGS = "ratings.default.svc.cluster.local";

  private StatusFixtures() {}

  static ServiceView view(String host, long version) {
    return ServiceView.newBuilder().setHost(host).setVersion(version).setGeneratedAt(T0).build();
  }

  static ServiceView view(String host, long version, String commandId, Instant requestedAt) {
    return ServiceView.newBuilder(view(host, version))
        .setTriggeredBy(ChangeTrigger.newBuilder().setCommandId(commandId)
            .setResource("VirtualService/default/reviews").setRevision(3)
            .setRequestedAt(requestedAt).build())
        .build();
  }

  static ServiceView viewWithProblems(String host, ViewProblem... problems) {
    return ServiceView.newBuilder(view(host, 1)).setProblems(List.of(problems)).build();
  }

  static ViewProblem problem(String resource, String path, String message) {
    return ViewProblem.newBuilder().setResource(resource).setPath(path).setMessage(message).build();
  }

  static ViewAck ack(String host, long version, Instant at) {
    return ViewAck.newBuilder().setHost(host).setVersion(version).setAck(AckState.ACK)
        .setAppliedVersion(version).setUpdatedAt(at).build();
  }

  static ViewAck nack(String host, long version, long applied, String error, Instant at) {
    return ViewAck.newBuilder().setHost(host).setVersion(version).setAck(AckState.NACK)
        .setAppliedVersion(applied).setErrorDetail(error).setUpdatedAt(at).build();
  }

  static ProxyStatus proxy(String id, ViewAck... acks) {
    return ProxyStatus.newBuilder().setProxyId(id).setService(id.replaceAll("-.*", ""))
        .setState(ProxyState.RUNNING).setViews(List.of(acks)).setStartedAt(T0)
        .setReportedAt(T0).build();
  }
}
