package dev.meshlog.config.resource;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;

/**
 * Checks a resource against what Meshlog supports: its kind and apiVersion, name and namespace
 * (DNS-1123 labels), labels, and every field of its spec.
 *
 * <p>Spec fields are checked against a whitelist per kind: a field Istio has but Meshlog does not
 * implement is reported as {@code not supported}, a field Istio does not have as {@code unknown
 * field}; nothing is silently ignored. Each problem names the field path, the value found and what
 * was expected, for example {@code spec.http[0].route[1].weight: 120 (expected: 0..100)}.
 *
 * <p>Stateless and thread-safe. It checks one resource on its own; checks against other resources
 * (does the subset a route names exist?) belong to whoever holds the current state.
 */
public final class ResourceValidator {

  /** All problems with {@code resource}, in the order of its fields; empty when it is valid. */
  public List<FieldProblem> validate(Resource resource) {
    Problems problems = new Problems();
    Optional<Kind> kind = checkKind(resource.kind(), problems);
    kind.ifPresent(k -> checkApiVersion(resource.apiVersion(), k, problems));
    Shapes.dnsLabel().check(TextNode.valueOf(resource.name()), "metadata.name", problems);
    Shapes.dnsLabel().check(TextNode.valueOf(resource.namespace()), "metadata.namespace", problems);
    ObjectNode labels = JsonNodeFactory.instance.objectNode();
    new TreeMap<>(resource.labels()).forEach(labels::put);
    Shapes.labels().check(labels, "metadata.labels", problems);
    kind.ifPresent(k -> schema(k).check(resource.spec(), "spec", problems));
    return problems.toList();
  }

  /** The spec schema of {@code kind}. */
  private static Shape schema(Kind kind) {
    return switch (kind) {
      case VIRTUAL_SERVICE -> VirtualServiceSchema.SPEC;
      case DESTINATION_RULE -> DestinationRuleSchema.SPEC;
      case SERVICE_ENTRY -> ServiceEntrySchema.SPEC;
      case GATEWAY -> GatewaySchema.SPEC;
      case SIDECAR -> SidecarSchema.SPEC;
      case PEER_AUTHENTICATION -> PeerAuthenticationSchema.SPEC;
      case AUTHORIZATION_POLICY -> AuthorizationPolicySchema.SPEC;
      case REQUEST_AUTHENTICATION -> RequestAuthenticationSchema.SPEC;
      case RATE_LIMIT -> RateLimitSchema.SPEC;
    };
  }

  /** The kind named {@code kind}, or empty after reporting that Meshlog has no such kind. */
  static Optional<Kind> checkKind(String kind, Problems problems) {
    Optional<Kind> known = Kind.byName(kind);
    if (known.isEmpty()) {
      String kinds = Arrays.stream(Kind.values()).map(Kind::kindName).collect(Collectors.joining(", "));
      problems.add("kind", kind, Problems.text(kind) + " (expected one of: " + kinds + ")");
    }
    return known;
  }

  /** Reports an {@code apiVersion} that is not {@code kind}'s group with an accepted version. */
  static void checkApiVersion(String apiVersion, Kind kind, Problems problems) {
    int slash = apiVersion.indexOf('/');
    boolean groupOk = slash > 0 && apiVersion.substring(0, slash).equals(kind.group());
    boolean versionOk = slash > 0 && Kind.VERSIONS.contains(apiVersion.substring(slash + 1));
    if (!groupOk || !versionOk) {
      String accepted = Kind.VERSIONS.stream().sorted().map(v -> kind.group() + "/" + v)
          .collect(Collectors.joining(", "));
      problems.add("apiVersion", apiVersion,
          Problems.text(apiVersion) + " (expected one of: " + accepted + " for " + kind.kindName() + ")");
    }
  }
}
