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
import dev.meshlog.events.discovery.ViewProblem;

/**
 * {@code analyze}: the problems of the latest views, grouped by resource and de-duplicated across
 * views, like {@code istioctl analyze}. Problems whose message starts with {@code warning:} are
 * warnings; all others are errors. Pure.
 *
 * @param resources findings per resource ({@code Kind/namespace/name}), sorted by resource
 */
public record Analysis(Map<String, List<Finding>> resources) {

  private static final String WARNING_PREFIX = "warning:";

  public Analysis {
    resources = Collections.unmodifiableMap(new TreeMap<>(resources));
  }

  /** Analyzes the latest views; views of removed hosts are ignored. */
  public static Analysis of(Collection<ServiceView> views) {
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
    return new Analysis(resources);
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
