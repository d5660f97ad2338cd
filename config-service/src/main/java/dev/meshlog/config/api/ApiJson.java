package dev.meshlog.config.api;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.client.CurrentResource;
import dev.meshlog.config.client.Outcome;
import dev.meshlog.config.client.Revision;
import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.status.Analysis;
import dev.meshlog.config.status.ChangeConvergence;
import dev.meshlog.config.status.Finding;
import dev.meshlog.config.status.ProxyRow;
import dev.meshlog.config.status.ViewSync;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.discovery.ViewHold;

/**
 * The JSON shapes of the HTTP API (and of {@code meshctl -o json}): resources, histories,
 * outcomes, field errors, proxy status and analysis, built as Jackson trees. Times are ISO-8601
 * UTC; absent values are omitted.
 */
public final class ApiJson {

  /** The mapper used to print these trees. */
  public static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

  private ApiJson() {}

  /** A resource as it is now: its id, revision, last change and the document. */
  public static ObjectNode resource(CurrentResource current) {
    ObjectNode node = NODES.objectNode();
    node.put("resource", current.id().key());
    node.put("revision", current.revision());
    putTime(node, "updatedAt", current.updatedAt());
    node.put("actor", current.actor());
    node.set("source", source(current.source()));
    node.set("document", current.resource().toDocument());
    return node;
  }

  /** One revision of a resource's history. */
  public static ObjectNode revision(Revision revision) {
    ObjectNode node = NODES.objectNode();
    node.put("revision", revision.revision());
    node.put("changeType", revision.changeType().name());
    node.put("actor", revision.actor());
    node.set("source", source(revision.source()));
    putTime(node, "requestedAt", revision.requestedAt());
    putTime(node, "acceptedAt", revision.acceptedAt());
    if (revision.rolledBackTo() != null) {
      node.put("rolledBackTo", revision.rolledBackTo());
    }
    node.put("commandId", revision.commandId());
    return node;
  }

  /** Where a change came from. */
  public static ObjectNode source(ChangeSource source) {
    ObjectNode node = NODES.objectNode();
    if (source == null) {
      return node;
    }
    node.put("type", source.getType().name());
    putIfSet(node, "commitId", source.getCommitId());
    putIfSet(node, "commitAuthor", source.getCommitAuthor());
    putIfSet(node, "repository", source.getRepository());
    putIfSet(node, "path", source.getPath());
    return node;
  }

  /** The answer to one command: accepted with its change, or rejected with its errors. */
  public static ObjectNode outcome(Outcome outcome) {
    ObjectNode node = NODES.objectNode();
    node.put("resource", outcome.resource().key());
    node.put("operation", outcome.command().getOperation().name());
    if (outcome.accepted()) {
      node.put("changeType", outcome.changeType().name());
      node.put("revision", outcome.revision());
      if (outcome.event().getRolledBackToRevision() != null) {
        node.put("rolledBackTo", outcome.event().getRolledBackToRevision());
      }
    } else {
      node.put("rejected", outcome.reason().name());
      if (outcome.rejection().getCurrentRevision() != null) {
        node.put("currentRevision", outcome.rejection().getCurrentRevision());
      }
      ArrayNode errors = node.putArray("errors");
      for (FieldError error : outcome.errors()) {
        errors.add(error(outcome.resource().key(), error.getPath(), error.getValue(),
            error.getMessage()));
      }
    }
    return node;
  }

  /** One field error: {@code {"resource":..,"path":..,"value":..,"message":..}}. */
  public static ObjectNode error(String resource, String path, String value, String message) {
    ObjectNode node = NODES.objectNode();
    node.put("resource", resource);
    node.put("path", path);
    if (value != null) {
      node.put("value", value);
    }
    node.put("message", message);
    return node;
  }

  /** One field error from a problem found before submitting. */
  public static ObjectNode error(String resource, FieldProblem problem) {
    return error(resource, problem.path(), problem.value(), problem.message());
  }

  /** {@code {"errors":[...]}}. */
  public static ObjectNode errors(Collection<? extends JsonNode> errors) {
    ObjectNode node = NODES.objectNode();
    node.putArray("errors").addAll(List.copyOf(errors));
    return node;
  }

  /** One proxy with the state of every view it tracks. */
  public static ObjectNode proxy(ProxyRow row) {
    ObjectNode node = NODES.objectNode();
    node.put("proxyId", row.proxyId());
    node.put("service", row.service());
    node.put("namespace", row.namespace());
    node.put("workloadVersion", row.workloadVersion());
    node.put("cluster", row.cluster());
    node.put("kind", row.kind().name());
    node.put("state", row.proxyState().name());
    putTime(node, "reportedAt", row.reportedAt());
    node.put("status", row.overall().name());
    ArrayNode views = node.putArray("views");
    for (ViewSync view : row.views()) {
      ObjectNode v = views.addObject();
      v.put("host", view.host());
      v.put("state", view.state().name());
      if (view.latestVersion() != null) {
        v.put("latestVersion", view.latestVersion());
      }
      v.put("reportedVersion", view.reportedVersion());
      if (view.appliedVersion() != null) {
        v.put("appliedVersion", view.appliedVersion());
      }
      putIfSet(v, "error", view.error());
      putTime(v, "updatedAt", view.updatedAt());
    }
    return node;
  }

  /** How far one config change has spread. */
  public static ObjectNode change(ChangeConvergence change) {
    ObjectNode node = NODES.objectNode();
    node.put("commandId", change.commandId());
    node.put("resource", change.resource());
    node.put("revision", change.revision());
    putTime(node, "requestedAt", change.requestedAt());
    node.set("hosts", strings(change.hosts()));
    node.put("proxies", change.expected());
    node.put("acked", change.acked());
    node.put("nacked", change.nacked());
    node.put("state", change.converged() ? "CONVERGED" : change.pending() ? "PENDING" : "NO_PROXIES");
    Duration time = change.convergenceTime();
    if (time != null) {
      node.put("convergenceMillis", time.toMillis());
    }
    putTime(node, "lastAckAt", change.lastAckAt());
    node.set("pendingProxies", strings(change.pendingProxies()));
    return node;
  }

  /** The analysis: counts and findings per resource. */
  public static ObjectNode analysis(Analysis analysis) {
    ObjectNode node = NODES.objectNode();
    node.put("errors", analysis.errors());
    node.put("warnings", analysis.warnings());
    ArrayNode resources = node.putArray("resources");
    analysis.resources().forEach((resource, findings) -> {
      ObjectNode r = resources.addObject();
      r.put("resource", resource);
      ArrayNode list = r.putArray("findings");
      for (Finding finding : findings) {
        ObjectNode f = list.addObject();
        f.put("severity", finding.severity().name());
        f.put("path", finding.path());
        f.put("message", finding.message());
        f.set("hosts", strings(finding.hosts()));
        if (finding.hold() != null) {
          f.set("hold", hold(finding.hold()));
        }
      }
    });
    return node;
  }

  /** A view held back for size: host, sizes, since, the version proxies keep, what it holds. */
  public static ObjectNode hold(ViewHold hold) {
    ObjectNode node = NODES.objectNode();
    node.put("host", hold.getHost());
    putIfSet(node, "service", hold.getService());
    putIfSet(node, "namespace", hold.getNamespace());
    node.put("viewBytes", hold.getViewBytes());
    node.put("limitBytes", hold.getLimitBytes());
    putTime(node, "since", hold.getSince());
    putTime(node, "updatedAt", hold.getUpdatedAt());
    if (hold.getKeptVersion() != null) {
      node.put("keptVersion", hold.getKeptVersion());
    }
    node.put("endpoints", hold.getEndpoints());
    node.put("httpRoutes", hold.getHttpRoutes());
    node.set("resources", strings(hold.getResources()));
    putIfSet(node, "cause", hold.getCause());
    return node;
  }

  private static ArrayNode strings(List<String> values) {
    ArrayNode array = NODES.arrayNode();
    values.forEach(array::add);
    return array;
  }

  private static void putIfSet(ObjectNode node, String field, String value) {
    if (value != null && !value.isEmpty()) {
      node.put(field, value);
    }
  }

  private static void putTime(ObjectNode node, String field, Instant time) {
    if (time != null) {
      node.put(field, time.toString());
    }
  }
}
