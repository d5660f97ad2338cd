package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Map;

/**
 * Header changes a route makes to a request or a response: remove, then set, then add.
 *
 * @param set headers to overwrite
 * @param add headers to append
 * @param remove header names to drop
 */
public record HeaderOps(Map<String, String> set, Map<String, String> add, List<String> remove) {

  /** No change. */
  public static final HeaderOps NONE = new HeaderOps(Map.of(), Map.of(), List.of());

  public HeaderOps {
    set = Map.copyOf(set);
    add = Map.copyOf(add);
    remove = List.copyOf(remove);
  }

  /** Whether this changes nothing. */
  public boolean isEmpty() {
    return set.isEmpty() && add.isEmpty() && remove.isEmpty();
  }
}
