package dev.meshlog.schemas;

/**
 * The separators of telemetry's edge keys and ids ({@code ns/service/version->ns/service/version},
 * a window's {@code @start/size} after it, on {@code mesh.telemetry.requests} and
 * {@code mesh.telemetry.edges}): a namespace, service or version holding one of them would make
 * two different edges one key. The proxy refuses such names at start, the pipeline dead-letters
 * events carrying them; both ask this class.
 */
public final class EdgeKeys {

  /** What a name must not hold, as the "expected" of an error. */
  public static final String EXPECTED_NAME =
      "no '/', '@' or '->', which separate the parts of telemetry's edge keys; Kubernetes names never hold them";

  private EdgeKeys() {
  }

  /** Whether {@code name} holds {@code /}, {@code @} or {@code ->}. */
  public static boolean holdsSeparator(String name) {
    return name.indexOf('/') >= 0 || name.indexOf('@') >= 0 || name.contains("->");
  }
}
