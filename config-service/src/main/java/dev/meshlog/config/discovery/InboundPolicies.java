package dev.meshlog.config.discovery;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.events.discovery.AuthorizationPolicy;
import dev.meshlog.events.discovery.AuthzAction;
import dev.meshlog.events.discovery.AuthzCondition;
import dev.meshlog.events.discovery.AuthzOperation;
import dev.meshlog.events.discovery.AuthzRule;
import dev.meshlog.events.discovery.AuthzSource;
import dev.meshlog.events.discovery.InboundPolicy;
import dev.meshlog.events.discovery.JwtRule;
import dev.meshlog.events.discovery.MtlsMode;

/**
 * Compiles what a service's own proxies enforce on requests they receive: the mTLS mode from
 * PeerAuthentication, AuthorizationPolicies, and RequestAuthentication JWT rules.
 */
final class InboundPolicies {

  private final Mesh mesh;
  private final Applicability applicability;
  private final String host;
  private final ViewNotes notes;

  InboundPolicies(Mesh mesh, Applicability applicability, String host, ViewNotes notes) {
    this.mesh = mesh;
    this.applicability = applicability;
    this.host = host;
    this.notes = notes;
  }

  InboundPolicy compile() {
    InboundPolicy.Builder inbound = InboundPolicy.newBuilder().setMtlsMode(MtlsMode.PERMISSIVE);
    peerAuthentication(inbound);
    List<AuthorizationPolicy> policies = new ArrayList<>();
    for (Resource policy : applying(Kind.AUTHORIZATION_POLICY)) {
      policies.add(Compiling.of(policy, () -> authorizationPolicy(policy)));
      notes.use(policy);
    }
    List<JwtRule> jwtRules = new ArrayList<>();
    for (Resource authentication : applying(Kind.REQUEST_AUTHENTICATION)) {
      jwtRules.addAll(Compiling.of(authentication, () -> jwtRules(authentication)));
      notes.use(authentication);
    }
    return inbound.setAuthorizationPolicies(policies).setJwtRules(jwtRules).build();
  }

  /** Resources of {@code kind} that apply to the service, by namespace and name. */
  private List<Resource> applying(Kind kind) {
    List<Resource> applying = new ArrayList<>();
    for (Resource resource : mesh.scoped(kind, mesh.namespaceOf(host))) {
      if (levelOf(resource) != null) {
        applying.add(resource);
      }
    }
    return applying;
  }

  private Applicability.Level levelOf(Resource resource) {
    Map<String, String> selector = Json.stringMap(Json.field(resource.spec(), "selector"), "matchLabels");
    return applicability.levelOf(resource, "spec.selector.matchLabels", selector, true);
  }

  /**
   * Istio's precedence: a workload-level PeerAuthentication over the namespace's over the
   * mesh's; UNSET inherits from the next level; PERMISSIVE when none sets a mode. Port-level
   * modes come from the workload-level policy only.
   */
  private void peerAuthentication(InboundPolicy.Builder inbound) {
    String namespace = mesh.namespaceOf(host);
    Map<Applicability.Level, List<Resource>> byLevel = new EnumMap<>(Applicability.Level.class);
    for (Resource policy : mesh.scoped(Kind.PEER_AUTHENTICATION, namespace)) {
      Applicability.Level level = levelOf(policy);
      if (level != null) {
        byLevel.computeIfAbsent(level, l -> new ArrayList<>()).add(policy);
      }
    }
    Map<Applicability.Level, Resource> chosen = new EnumMap<>(Applicability.Level.class);
    byLevel.forEach((level, policies) -> {
      List<Resource> ordered = policies.stream()
          .sorted(Comparator.comparing((Resource r) -> !r.namespace().equals(namespace))).toList();
      chosen.put(level, ordered.get(0));
      ordered.stream().skip(1).forEach(loser -> ignored(loser, ordered.get(0), level));
    });
    MtlsMode mode = MtlsMode.PERMISSIVE;
    for (Applicability.Level level : List.of(Applicability.Level.MESH, Applicability.Level.NAMESPACE,
        Applicability.Level.WORKLOAD)) {
      Resource policy = chosen.get(level);
      if (policy != null) {
        notes.use(policy);
        MtlsMode set = Compiling.of(policy, () -> mtlsMode(Json.field(policy.spec(), "mtls")));
        mode = set != null ? set : mode;
      }
    }
    Map<String, MtlsMode> ports = new TreeMap<>();
    Resource workload = chosen.get(Applicability.Level.WORKLOAD);
    JsonNode portLevel = workload == null ? null : Json.field(workload.spec(), "portLevelMtls");
    if (portLevel != null) {
      portLevel.fields().forEachRemaining(e -> {
        MtlsMode portMode = Compiling.of(workload, () -> mtlsMode(e.getValue()));
        if (portMode != null) {
          ports.put(e.getKey(), portMode);
        }
      });
    }
    inbound.setMtlsMode(mode).setPortMtlsModes(ports);
  }

  private void ignored(Resource loser, Resource winner, Applicability.Level level) {
    notes.problem(loser, "spec", "ignored for " + host + ": " + winner.id() + " already sets its mTLS mode at the "
        + level.name().toLowerCase(Locale.ROOT) + " level (one PeerAuthentication applies per level: "
        + "the one in the service's namespace, then the first by namespace and name)");
  }

  /** {@code {mode: STRICT}}; null when UNSET or absent (inherit). */
  private static MtlsMode mtlsMode(JsonNode mtls) {
    String mode = Json.text(mtls, "mode", "UNSET");
    return mode.equals("UNSET") ? null : MtlsMode.valueOf(mode);
  }

  private static AuthorizationPolicy authorizationPolicy(Resource resource) {
    JsonNode spec = resource.spec();
    String action = Json.text(spec, "action", "ALLOW");
    if (!List.of("ALLOW", "DENY", "AUDIT").contains(action)) {
      throw new IllegalArgumentException("action: " + action + " (expected ALLOW, DENY or AUDIT)");
    }
    List<AuthzRule> rules = new ArrayList<>();
    for (JsonNode rule : Json.items(spec, "rules")) {
      List<AuthzSource> from = new ArrayList<>();
      for (JsonNode f : Json.items(rule, "from")) {
        JsonNode s = Json.field(f, "source");
        from.add(AuthzSource.newBuilder()
            .setPrincipals(Json.strings(s, "principals"))
            .setNotPrincipals(Json.strings(s, "notPrincipals"))
            .setRequestPrincipals(Json.strings(s, "requestPrincipals"))
            .setNotRequestPrincipals(Json.strings(s, "notRequestPrincipals"))
            .setNamespaces(Json.strings(s, "namespaces"))
            .setNotNamespaces(Json.strings(s, "notNamespaces"))
            .setIpBlocks(Json.strings(s, "ipBlocks"))
            .setNotIpBlocks(Json.strings(s, "notIpBlocks"))
            .build());
      }
      List<AuthzOperation> to = new ArrayList<>();
      for (JsonNode t : Json.items(rule, "to")) {
        JsonNode o = Json.field(t, "operation");
        to.add(AuthzOperation.newBuilder()
            .setHosts(Json.strings(o, "hosts"))
            .setNotHosts(Json.strings(o, "notHosts"))
            .setPorts(Json.strings(o, "ports"))
            .setNotPorts(Json.strings(o, "notPorts"))
            .setMethods(Json.strings(o, "methods"))
            .setNotMethods(Json.strings(o, "notMethods"))
            .setPaths(Json.strings(o, "paths"))
            .setNotPaths(Json.strings(o, "notPaths"))
            .build());
      }
      List<AuthzCondition> when = new ArrayList<>();
      for (JsonNode w : Json.items(rule, "when")) {
        when.add(AuthzCondition.newBuilder()
            .setKey(Json.required(Json.text(w, "key"), "rules.when.key"))
            .setValues(Json.strings(w, "values"))
            .setNotValues(Json.strings(w, "notValues"))
            .build());
      }
      rules.add(AuthzRule.newBuilder().setFrom(from).setTo(to).setWhen(when).build());
    }
    return AuthorizationPolicy.newBuilder()
        .setName(resource.namespace() + "/" + resource.name())
        .setAction(AuthzAction.valueOf(action))
        .setRules(rules)
        .build();
  }

  private static List<JwtRule> jwtRules(Resource resource) {
    List<JwtRule> out = new ArrayList<>();
    for (JsonNode rule : Json.items(resource.spec(), "jwtRules")) {
      out.add(JwtRule.newBuilder()
          .setIssuer(Json.required(Json.text(rule, "issuer"), "jwtRules.issuer"))
          .setAudiences(Json.strings(rule, "audiences"))
          .setJwks(Json.text(rule, "jwks"))
          .setJwksUri(Json.text(rule, "jwksUri"))
          .setFromHeaders(Json.items(rule, "fromHeaders").stream().map(h -> Json.text(h, "name", "")).toList())
          .setForwardOriginalToken(Json.bool(rule, "forwardOriginalToken", false))
          .build());
    }
    return out;
  }
}
