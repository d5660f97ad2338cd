package dev.meshlog.config.testing;

import java.util.List;

import dev.meshlog.config.controlplane.ResourceCheck;
import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Resource;

/** Resource checks for tests that run the control plane. */
public final class TestChecks {

  /**
   * A stand-in validator: every {@code weight} under {@code spec.http[i].route[j]} must be in
   * 0..100; anything else is valid.
   */
  public static final ResourceCheck DEFAULT = json -> {
    Resource resource = Resource.fromJson(json);
    var http = resource.spec().path("http");
    for (int i = 0; i < http.size(); i++) {
      var routes = http.get(i).path("route");
      for (int j = 0; j < routes.size(); j++) {
        var weight = routes.get(j).get("weight");
        if (weight != null && (weight.asInt() < 0 || weight.asInt() > 100)) {
          return ResourceCheck.Result.invalid(List.of(new FieldProblem(
              "spec.http[" + i + "].route[" + j + "].weight", weight.asText(),
              "weight: " + weight.asText() + " (expected: 0..100)")));
        }
      }
    }
    return ResourceCheck.Result.valid(resource);
  };

  private TestChecks() {}
}
