package dev.meshlog.meshctl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.meshlog.config.api.ApiJson;
import dev.meshlog.config.client.MeshClient;
import dev.meshlog.config.status.Analysis;
import dev.meshlog.config.status.Finding;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.schemas.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code meshctl analyze}: the problems the control plane found while compiling views, per
 * resource, and the views it holds back for size, like {@code istioctl analyze}; exits 1 when
 * there are errors.
 */
@Command(name = "analyze", description = "Report the problems of the current config, per "
    + "resource, and the views held back for size (errors exit 1; warnings do not).")
final class AnalyzeCommand extends MeshctlCommand {

  @Option(names = {"-n", "--namespace"}, description = "Only resources of this namespace")
  String namespace;

  @Option(names = {"-o", "--output"}, defaultValue = "table",
      description = "table or json (default: ${DEFAULT-VALUE})")
  Format output;

  @Override
  public Integer call() {
    Map<String, ServiceView> views;
    Map<String, ViewHold> holds;
    try (MeshClient client = root().client()) {
      views = client.views();
      holds = client.holds().orElse(null);
      if (holds == null) {
        holds = Map.of();
        err().println("Note: " + Topics.DISCOVERY_HOLDS.name() + " does not exist (a control plane"
            + " of an earlier release): views held back for size are not reported");
      }
    }
    Analysis analysis = Analysis.of(views.values(), holds.values());
    if (namespace != null) {
      Map<String, List<Finding>> kept = new java.util.TreeMap<>();
      analysis.resources().forEach((resource, findings) -> {
        String[] parts = resource.split("/");
        if (parts.length == 3 && parts[1].equals(namespace)) {
          kept.put(resource, findings);
        }
      });
      analysis = new Analysis(kept);
    }
    if (output == Format.json || output == Format.yaml) {
      out().print(output == Format.json ? Output.json(ApiJson.analysis(analysis))
          : Output.yaml(List.of(ApiJson.analysis(analysis))));
    } else {
      out().print(render(analysis, views.size()));
    }
    return analysis.errors() > 0 ? Meshctl.FAILED : Meshctl.OK;
  }

  /**
   * istioctl-style lines: {@code Error [VirtualService/default/reviews] path: message (views:
   * host, ...)}, then a summary.
   */
  static String render(Analysis analysis, int viewCount) {
    StringBuilder out = new StringBuilder();
    analysis.resources().forEach((resource, findings) -> {
      for (Finding f : findings) {
        String severity = f.severity() == Finding.Severity.ERROR ? "Error" : "Warning";
        out.append(severity).append(" [").append(resource).append("] ")
            .append(Output.errorLine(null, f.path(), f.message()))
            .append(" (views: ").append(String.join(", ", f.hosts())).append(")\n");
      }
    });
    List<String> counts = new ArrayList<>();
    if (analysis.errors() > 0) {
      counts.add(analysis.errors() + " error(s)");
    }
    if (analysis.warnings() > 0) {
      counts.add(analysis.warnings() + " warning(s)");
    }
    if (counts.isEmpty()) {
      out.append("No validation issues found when analyzing ").append(viewCount).append(" view(s).\n");
    } else {
      out.append(analysis.errors() > 0 ? "Error: " : "")
          .append("Analyzers found ").append(String.join(" and ", counts))
          .append(" when analyzing ").append(viewCount).append(" view(s).\n");
    }
    return out.toString();
  }
}
