package dev.meshlog.config.discovery;

import java.util.function.Supplier;

import dev.meshlog.config.model.Resource;

/**
 * Names the resource when compiling it fails. Resources arrive validated, so a failure here is
 * a validation gap; leaving the resource out instead could weaken security (a DENY policy
 * dropped), so the whole view fails and the caller keeps publishing the previous one.
 */
final class Compiling {

  private Compiling() {}

  /**
   * The result of {@code work}.
   *
   * @throws IllegalArgumentException naming {@code resource} if {@code work} throws
   */
  static <T> T of(Resource resource, Supplier<T> work) {
    try {
      return work.get();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(resource.id() + ": " + e.getMessage()
          + " (the resource should not have passed validation)", e);
    }
  }
}
