package dev.meshlog.meshctl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.meshlog.config.api.ApiJson;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.status.ChangeConvergence;
import dev.meshlog.config.status.Convergence;
import dev.meshlog.config.status.ProxyRow;
import dev.meshlog.config.status.ProxyStatusTable;
import dev.meshlog.config.status.SyncState;
import dev.meshlog.config.status.ViewSync;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.status.ProxyStatus;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code meshctl proxy-status [PROXY]}: one row per proxy with how its views stand (SYNCED,
 * STALE, NACK), like {@code istioctl proxy-status}, then the convergence of recent changes; with
 * a proxy id, that proxy's views one by one.
 */
@Command(name = "proxy-status", aliases = "ps",
    description = "Show which view versions each proxy runs (SYNCED, STALE, NACK) and how long "
        + "config changes took to reach every proxy.")
final class ProxyStatusCommand extends MeshctlCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "PROXY", description = "One proxy's views")
  String proxyId;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE})")
  Format output;

  @Override
  public Integer call() {
    Map<String, ServiceView> views;
    Map<String, ProxyStatus> statuses;
    try (MeshClient client = root().client()) {
      views = client.views();
      statuses = client.proxyStatuses();
    }
    List<ProxyRow> rows = ProxyStatusTable.rows(views, statuses.values());
    List<ChangeConvergence> changes = Convergence.of(views, statuses.values());
    if (proxyId != null) {
      rows = rows.stream().filter(r -> r.proxyId().equals(proxyId)).toList();
      if (rows.isEmpty()) {
        err().println("error: no proxy " + proxyId + " has reported status");
        return Meshctl.FAILED;
      }
    }
    if (output != Format.table) {
      ObjectNode node = JsonNodeFactory.instance.objectNode();
      rows.forEach(r -> node.withArray("proxies").add(ApiJson.proxy(r)));
      if (proxyId == null) {
        changes.forEach(c -> node.withArray("changes").add(ApiJson.change(c)));
      }
      out().print(output == Format.json ? Output.json(node) : Output.yaml(List.of(node)));
      return Meshctl.OK;
    }
    out().print(proxyId != null ? renderViews(rows.get(0)) : render(rows, changes));
    return Meshctl.OK;
  }

  /** The proxies table, the views not in sync, and the changes' convergence. */
  static String render(List<ProxyRow> rows, List<ChangeConvergence> changes) {
    StringBuilder out = new StringBuilder();
    if (rows.isEmpty()) {
      out.append("No proxies have reported status.\n");
    } else {
      List<List<String>> table = new ArrayList<>();
      for (ProxyRow r : rows) {
        table.add(List.of(r.proxyId(), r.service(), r.workloadVersion(), r.cluster(),
            r.proxyState().name(), Integer.toString(r.views().size()),
            Long.toString(r.count(SyncState.SYNCED)), Long.toString(r.count(SyncState.STALE)),
            Long.toString(r.count(SyncState.NACK)), r.overall().name()));
      }
      out.append(Output.table(List.of("NAME", "SERVICE", "VERSION", "CLUSTER", "STATE", "VIEWS",
          "SYNCED", "STALE", "NACK", "STATUS"), table));
      List<String> problems = new ArrayList<>();
      for (ProxyRow r : rows) {
        for (ViewSync v : r.views()) {
          if (v.state() == SyncState.NACK) {
            problems.add(r.proxyId() + ": " + v.host() + " NACK of version " + v.reportedVersion()
                + (v.appliedVersion() == null ? "" : " (serving " + v.appliedVersion() + ")")
                + ": " + (v.error() == null ? "(no detail)" : v.error()));
          } else if (v.state() == SyncState.STALE) {
            problems.add(r.proxyId() + ": " + v.host() + " STALE at version " + v.reportedVersion()
                + " (latest " + v.latestVersion() + ")");
          }
        }
      }
      if (!problems.isEmpty()) {
        out.append('\n');
        problems.forEach(p -> out.append(p).append('\n'));
      }
    }
    if (!changes.isEmpty()) {
      out.append('\n');
      List<List<String>> table = new ArrayList<>();
      for (ChangeConvergence c : changes) {
        table.add(List.of(c.resource(), Long.toString(c.revision()), Output.time(c.requestedAt()),
            Integer.toString(c.hosts().size()), convergence(c)));
      }
      out.append(Output.table(List.of("CHANGE", "REVISION", "REQUESTED", "VIEWS", "CONVERGENCE"),
          table));
    }
    return out.toString();
  }

  /** {@code 340ms (5/5 proxies)}, {@code pending (3/5 acked, 1 NACK)} or {@code no proxies}. */
  static String convergence(ChangeConvergence c) {
    if (c.converged()) {
      return Output.duration(c.convergenceTime()) + " (" + c.acked() + "/" + c.expected()
          + " acked)";
    }
    if (c.pending()) {
      return "pending (" + c.acked() + "/" + c.expected() + " acked"
          + (c.nacked() > 0 ? ", " + c.nacked() + " NACK" : "") + "; waiting for "
          + String.join(", ", c.pendingProxies()) + ")";
    }
    return "no proxy tracks these views";
  }

  /** One proxy's views, one row each. */
  static String renderViews(ProxyRow row) {
    List<List<String>> table = new ArrayList<>();
    for (ViewSync v : row.views()) {
      table.add(List.of(v.host(), v.state().name(), Long.toString(v.reportedVersion()),
          v.appliedVersion() == null ? "" : Long.toString(v.appliedVersion()),
          v.latestVersion() == null ? "" : Long.toString(v.latestVersion()),
          v.error() == null ? "" : v.error()));
    }
    return "proxy " + row.proxyId() + " (" + row.service() + ", " + row.proxyState() + ", "
        + row.overall() + ")\n"
        + Output.table(List.of("HOST", "STATE", "REPORTED", "SERVING", "LATEST", "ERROR"), table);
  }
}
