package dev.meshlog.proxy.config;

import java.util.Map;
import java.util.Objects;

/**
 * A named subset of a host's endpoints, selected by labels, with its own traffic policy.
 *
 * @param name the subset's name, e.g. {@code v2}
 * @param labels labels an endpoint must carry to belong to it
 * @param policy the subset's policy, the host's where the subset sets none
 */
public record SubsetConfig(String name, Map<String, String> labels, TrafficPolicyConfig policy) {

  public SubsetConfig {
    Objects.requireNonNull(name, "name");
    labels = Map.copyOf(labels);
    policy = policy == null ? TrafficPolicyConfig.DEFAULT : policy;
  }
}
