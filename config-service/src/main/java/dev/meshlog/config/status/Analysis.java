package dev.meshlog.config.status;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.discovery.ViewProblem;

/**
 * {@code analyze}: the problems of the latest views, grouped by resource and de-duplicated across
 * views, like {@code istioctl analyze}. Problems whose message starts with {@code warning:} are
 * warnings; all others are errors. Each view the control plane holds back for size (an active
 * record of {@code mesh.discovery.holds}) is an error of resource {@code
 * ServiceView/<namespace>/<host>}, path {@code view}: proxies run an older version of it. Pure.
 *
 * @param resources findings per resource ({@code Kind/namespace/name}), sorted by resource
 */
public record Analysis(Map<String, List<Finding>> resources) {

  private static final String WARNING_PREFIX = "warning:";

  public Analysis {
    resources = Collections.unmodifiableMap(new TreeMap<>(resources));
  }

  /** The resource a held view's finding is filed under. */
  public static final String HELD_VIEW_KIND = "ServiceView";

  /** Analyzes the latest views; views of removed hosts are ignored. */
  public static Analysis of(Collection<ServiceView> views) {
    return of(views, List.of());
  }

  /**
   * Analyzes the latest views and the views held back for size (the latest value per host of
   * {@code mesh.discovery.holds}; tombstoned hosts are absent).
   */
  public static Analysis of(Collection<ServiceView> views, Collection<ViewHold> holds) {
    // resource -> (severity, path, message) -> hosts
    Map<String, Map<List<String>, TreeSet<String>>> grouped = new TreeMap<>();
    for (ServiceView view : views) {
      if (view.getRemoved()) {
        continue;
      }
      for (ViewProblem problem : view.getProblems()) {
        String message = problem.getMessage();
        boolean warning = message.toLowerCase(Locale.ROOT).startsWith(WARNING_PREFIX);
        String text = warning ? message.substring(WARNING_PREFIX.length()).strip() : message;
        grouped.computeIfAbsent(problem.getResource(), k -> new LinkedHashMap<>())
            .computeIfAbsent(List.of(warning ? "WARNING" : "ERROR", problem.getPath(), text),
                k -> new TreeSet<>())
            .add(view.getHost());
      }
    }
    Map<String, List<Finding>> resources = new TreeMap<>();
    grouped.forEach((resource, findings) -> {
      List<Finding> list = new ArrayList<>();
      findings.forEach((key, hosts) -> list.add(new Finding(Finding.Severity.valueOf(key.get(0)),
          key.get(1), key.get(2), List.copyOf(hosts))));
      list.sort(Comparator.comparing(Finding::severity).thenComparing(Finding::path)
          .thenComparing(Finding::message));
      resources.put(resource, list);
    });
    for (ViewHold hold : holds) {
      resources.computeIfAbsent(heldViewResource(hold), k -> new ArrayList<>())
          .add(new Finding(Finding.Severity.ERROR, "view", heldViewMessage(hold),
              List.of(hold.getHost()), hold));
    }
    return new Analysis(resources);
  }

  /** {@code ServiceView/<namespace>/<host>}: the resource a held view's finding is filed under. */
  public static String heldViewResource(ViewHold hold) {
    return HELD_VIEW_KIND + "/" + hold.getNamespace() + "/" + hold.getHost();
  }

  /**
   * What a held view's finding says: {@code held back: 1000747 bytes (expected: at most 1000000
   * bytes, what one Kafka record carries); proxies keep version 10 since 2026-...Z (11 endpoints,
   * 0 http routes; held after registration of default/reviews/reviews-11)}.
   */
  static String heldViewMessage(ViewHold hold) {
    StringBuilder message = new StringBuilder("held back: ").append(hold.getViewBytes())
        .append(" bytes (expected: at most ").append(hold.getLimitBytes())
        .append(" bytes, what one Kafka record carries); ");
    message.append(hold.getKeptVersion() == null
        ? "proxies have no version of this view" : "proxies keep version " + hold.getKeptVersion())
        .append(" since ").append(hold.getSince())
        .append(" (").append(hold.getEndpoints()).append(" endpoints, ")
        .append(hold.getHttpRoutes()).append(" http routes");
    if (!hold.getResources().isEmpty()) {
      message.append(", from ").append(String.join(", ", hold.getResources()));
    }
    if (!hold.getCause().isEmpty()) {
      message.append("; held after ").append(hold.getCause());
    }
    return message.append("); split its routes or endpoints over more hosts").toString();
  }

  /** How many errors were found. */
  public long errors() {
    return count(Finding.Severity.ERROR);
  }

  /** How many warnings were found. */
  public long warnings() {
    return count(Finding.Severity.WARNING);
  }

  private long count(Finding.Severity severity) {
    return resources.values().stream().flatMap(List::stream)
        .filter(f -> f.severity() == severity).count();
  }
}
