package dev.meshlog.config.discovery;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;

import dev.meshlog.config.model.Hosts;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;
import dev.meshlog.config.model.ResourceId;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.GatewayServer;
import dev.meshlog.events.discovery.GatewayTls;
import dev.meshlog.events.discovery.GatewayTlsMode;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.OutboundTrafficMode;
import dev.meshlog.events.discovery.QuotaPolicy;
import dev.meshlog.events.discovery.RateUnit;
import dev.meshlog.events.discovery.ServicePort;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TcpRoute;
import dev.meshlog.events.discovery.TlsRoute;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.events.registry.InstanceRegistration;

/**
 * Compiles config resources and registered instances into the discovery view of each host,
 * with Istio's semantics; pure: no Kafka, no clock, same inputs give an equal view.
 *
 * <p>Hosts with a view: every registered service ({@code name.namespace.svc.cluster.local}, as
 * long as any registration of it is known, whatever its state: a service scaled to zero keeps
 * its view, as a Kubernetes Service outlives its pods), every ServiceEntry host, and every
 * Gateway ({@code gateway.<name>.<namespace>}).
 *
 * <p>Resources must be validated. A resource shaped otherwise makes {@link #compile} throw an
 * {@link IllegalArgumentException} naming it; the caller keeps publishing the previous view.
 */
public final class ViewCompiler {

  /** Where resources without a selector apply to the whole mesh. */
  public static final String DEFAULT_ROOT_NAMESPACE = "meshlog-system";

  private final String rootNamespace;

  /** A compiler whose root namespace is {@value #DEFAULT_ROOT_NAMESPACE}. */
  public ViewCompiler() {
    this(DEFAULT_ROOT_NAMESPACE);
  }

  /** A compiler whose mesh-wide resources live in {@code rootNamespace}. */
  public ViewCompiler(String rootNamespace) {
    this.rootNamespace = Objects.requireNonNull(rootNamespace, "rootNamespace");
  }

  /** The view host of Gateway {@code name} in {@code namespace}: {@code gateway.<name>.<namespace>}. */
  public static String gatewayHost(String name, String namespace) {
    return "gateway." + name + "." + namespace;
  }

  /** Every host that gets a view, sorted. */
  public Set<String> hosts(ConfigSnapshot config, Collection<InstanceRegistration> instances) {
    return new TreeSet<>(mesh(config, instances).hostNames());
  }

  /**
   * The view of {@code host} at {@code now} (which decides which leases are alive). The view
   * has version 0, generatedAt {@code now} (to the millisecond) and no triggeredBy: the caller
   * sets those. A host that no longer has a view gets one with {@code removed} set.
   *
   * @throws IllegalArgumentException naming a resource not shaped as validation guarantees
   */
  public CompiledView compile(String host, ConfigSnapshot config, Collection<InstanceRegistration> instances,
                              Instant now) {
    return compile(host, mesh(config, instances), now);
  }

  /** The view of every host of {@link #hosts}, by host; faster than compiling them one by one. */
  public SortedMap<String, CompiledView> compileAll(ConfigSnapshot config, Collection<InstanceRegistration> instances,
                                                    Instant now) {
    Mesh mesh = mesh(config, instances);
    SortedMap<String, CompiledView> out = new TreeMap<>();
    for (String host : mesh.hostNames()) {
      out.put(host, compile(host, mesh, now));
    }
    return out;
  }

  /**
   * A model holding nothing, to which changes are applied one at a time: what a long-running
   * caller compiles from, paying per change only for the hosts and resources it touches.
   */
  public MeshModel newModel() {
    return new MeshModel(this, new Mesh(rootNamespace, false));
  }

  /**
   * The hosts whose view may change when resource {@code changed} goes from its state in
   * {@code before} to its state in {@code after} (absent in one of them for a create or a
   * delete), with the registry at {@code instances}. It may name more hosts than change, never
   * fewer; a host that no longer exists is named so that its removal is published.
   */
  public Set<String> affectedHosts(ConfigSnapshot before, ConfigSnapshot after, ResourceId changed,
                                   Collection<InstanceRegistration> instances) {
    Mesh mesh = mesh(before, instances);
    List<Resource> versions = Stream.of(before.resource(changed), after.resource(changed))
        .flatMap(Optional::stream).toList();
    Set<String> out = new TreeSet<>();
    versions.forEach(v -> out.addAll(touchedBy(mesh, v)));
    Optional<ConfigSnapshot.Entry> next = after.get(changed);
    if (next.isPresent()) {
      mesh.put(next.get().resource(), next.get().revision());
    } else {
      mesh.remove(changed);
    }
    versions.forEach(v -> out.addAll(touchedBy(mesh, v)));
    return out;
  }

  /**
   * The hosts whose view may change when an instance registration goes from {@code before} to
   * {@code after} (null when it did not exist / was deleted), with the registry at
   * {@code instances} (after the change). It may name more hosts than change, never fewer.
   */
  public Set<String> affectedHosts(InstanceRegistration before, InstanceRegistration after, ConfigSnapshot config,
                                   Collection<InstanceRegistration> instances) {
    return touchedByInstance(mesh(config, instances), before, after);
  }

  /**
   * The hosts whose view may change as time passes from {@code from} to {@code to} with no
   * event: those of instances alive at {@code from} whose lease lapses by {@code to}. A caller
   * recompiles them on a timer (a Streams punctuator), since a silent instance sends nothing.
   */
  public Set<String> affectedHosts(Instant from, Instant to, ConfigSnapshot config,
                                   Collection<InstanceRegistration> instances) {
    Mesh mesh = mesh(config, instances);
    Set<String> out = new TreeSet<>();
    for (InstanceRegistration instance : instances) {
      if (Mesh.alive(instance, from) && !Mesh.alive(instance, to)) {
        out.addAll(touchedByInstance(mesh, instance, instance));
      }
    }
    return out;
  }

  private Mesh mesh(ConfigSnapshot config, Collection<InstanceRegistration> instances) {
    return Mesh.of(config, instances, rootNamespace, false);
  }

  /**
   * The hosts of {@code mesh} whose view may depend on {@code resource}. A change's affected
   * hosts are those its old and new versions touch, in the mesh before and after the change.
   */
  Set<String> touchedBy(Mesh mesh, Resource resource) {
    Set<String> out = new TreeSet<>();
    switch (Kind.byName(resource.kind()).orElseThrow()) {
      case VIRTUAL_SERVICE -> out.addAll(viewsOf(resource, mesh, Set.of()));
      case DESTINATION_RULE -> {
        // Its own host's subsets and policy, and every route checked against its subsets.
        String pattern = Mesh.specHost(resource);
        out.addAll(mesh.hostsMatching(pattern));
        mesh.virtualServicesRoutingTo(pattern, true).forEach(vs -> out.addAll(viewsOf(vs, mesh, Set.of())));
      }
      case SERVICE_ENTRY -> {
        // Its hosts, and every route whose destination appears or disappears with them.
        for (String host : HostPatterns.hosts(resource)) {
          out.add(host);
          mesh.virtualServicesRoutingTo(host, false).forEach(vs -> out.addAll(viewsOf(vs, mesh, Set.of())));
        }
      }
      case GATEWAY -> out.add(gatewayHost(resource.name(), resource.namespace()));
      case RATE_LIMIT -> out.addAll(mesh.hostsMatching(Mesh.specHost(resource)));
      case SIDECAR, PEER_AUTHENTICATION, AUTHORIZATION_POLICY, REQUEST_AUTHENTICATION ->
          // Selectors are not worth narrowing on: every service of the namespace (or mesh).
          out.addAll(mesh.registeredHosts(resource.namespace().equals(rootNamespace) ? null : resource.namespace()));
      default -> throw new IllegalStateException("unhandled kind " + resource.kind());
    }
    return out;
  }

  /** The hosts whose view may change when a registration goes from {@code before} to {@code after}, in {@code mesh} after it. */
  Set<String> touchedByInstance(Mesh mesh, InstanceRegistration before, InstanceRegistration after) {
    Set<String> services = new TreeSet<>();
    Set<String> out = new TreeSet<>();
    for (InstanceRegistration instance : Stream.of(before, after).filter(Objects::nonNull).toList()) {
      services.add(Hosts.ofService(instance.getService(), instance.getNamespace()));
      for (Resource entry : mesh.resources(Kind.SERVICE_ENTRY, instance.getNamespace())) {
        Map<String, String> selector = Json.stringMap(Json.field(entry.spec(), "workloadSelector"), "labels");
        if (!selector.isEmpty() && Applicability.selects(selector, instance)) {
          out.addAll(HostPatterns.hosts(entry));
        }
      }
    }
    out.addAll(services);
    if (before == null || after == null) {
      // The service may have appeared or disappeared: routes to it may now be (in)consistent.
      for (String service : services) {
        mesh.virtualServicesRoutingTo(service, false).forEach(vs -> out.addAll(viewsOf(vs, mesh, services)));
      }
    }
    return out;
  }

  CompiledView compile(String host, Mesh mesh, Instant now) {
    return compile(host, mesh, now, now);
  }

  /**
   * The view of {@code host} generated at {@code now}, with the leases alive at {@code leasesAt}
   * ({@code null}: every registered instance is alive, its lease judged by the caller).
   */
  CompiledView compile(String host, Mesh mesh, Instant now, Instant leasesAt) {
    Instant at = now.truncatedTo(ChronoUnit.MILLIS);
    ServiceView.Builder view = ServiceView.newBuilder().setHost(host).setVersion(0).setGeneratedAt(at);
    Mesh.HostInfo info = mesh.host(host);
    if (info == null) {
      return new CompiledView(view.setRemoved(true).build());
    }
    view.setService(info.service()).setNamespace(info.namespace());
    ViewNotes notes = new ViewNotes();
    if (info.gateway != null) {
      gatewayView(info.gateway, mesh, view, notes);
    } else {
      serviceView(info, mesh, leasesAt == null ? null : leasesAt.truncatedTo(ChronoUnit.MILLIS),
          view, notes);
    }
    return new CompiledView(view
        .setSourceRevisions(notes.revisions(mesh::revision))
        .setProblems(notes.problems())
        .build());
  }

  /** {@code now} decides which leases are alive ({@code null}: every registered instance). */
  private void serviceView(Mesh.HostInfo info, Mesh mesh, Instant now, ServiceView.Builder view, ViewNotes notes) {
    String host = info.host;
    List<InstanceRegistration> live = mesh.live(host, now);

    // Ports and endpoints: ServiceEntries first, then registered instances; the first to
    // declare a port number or an instance id wins.
    Map<Integer, ServicePort> ports = new TreeMap<>();
    Map<String, Endpoint> endpoints = new TreeMap<>();
    for (Resource entry : info.serviceEntries.values()) {
      Compiling.of(entry, () -> Endpoints.servicePorts(entry)).forEach(p -> ports.putIfAbsent(p.getNumber(), p));
      Compiling.of(entry, () -> Endpoints.ofServiceEntry(entry, host, mesh, now))
          .forEach(e -> endpoints.putIfAbsent(e.getInstanceId(), e));
      notes.use(entry);
    }
    for (InstanceRegistration instance : live) {
      endpoints.putIfAbsent(instance.getInstanceId(), Endpoints.ofInstance(instance));
      instance.getPorts().forEach(p -> ports.putIfAbsent(p.getNumber(), Endpoints.ofNamedPort(p)));
    }
    view.setPorts(List.copyOf(ports.values())).setEndpoints(List.copyOf(endpoints.values()));

    destinationRule(host, mesh, endpoints.values(), view, notes);

    RouteCompiler routes = new RouteCompiler(mesh);
    List<HttpRoute> http = new ArrayList<>();
    List<TcpRoute> tcp = new ArrayList<>();
    for (Resource virtualService : mesh.meshVirtualServices(host)) {
      RouteCompiler.Routes compiled = Compiling.of(virtualService,
          () -> routes.compile(virtualService, HostPatterns.MESH, notes));
      http.addAll(compiled.http());
      tcp.addAll(compiled.tcp());
    }
    view.setHttpRoutes(http).setTcpRoutes(tcp);

    if (info.registered()) {
      // Only the service's own proxies enforce inbound policy and use a Sidecar's egress list.
      Applicability applicability = new Applicability(host, info.namespace(), live, rootNamespace, notes);
      view.setInbound(new InboundPolicies(mesh, applicability, host, notes).compile());
      Resource sidecar = sidecar(mesh, applicability, host, info.namespace(), notes);
      view.setEgressHosts(egressHosts(sidecar));
      view.setOutboundTrafficPolicy(outboundTrafficMode(sidecar));
    }

    List<QuotaPolicy> quotas = new ArrayList<>();
    for (Resource limit : mesh.rateLimits(host)) {
      quotas.add(Compiling.of(limit, () -> quota(limit)));
      notes.use(limit);
    }
    view.setQuotas(quotas);
  }

  /** The host's DestinationRule: traffic policy and subsets; subsets no endpoint has are warned about. */
  private static void destinationRule(String host, Mesh mesh, Collection<Endpoint> endpoints,
                                      ServiceView.Builder view, ViewNotes notes) {
    Mesh.DestinationRules rules = mesh.destinationRules(host);
    Resource rule = rules.winner();
    if (rule == null) {
      return;
    }
    notes.use(rule);
    TrafficPolicy policy = Compiling.of(rule,
        () -> TrafficPolicies.trafficPolicy(Json.field(rule.spec(), "trafficPolicy")));
    List<Subset> subsets = Compiling.of(rule, () -> TrafficPolicies.subsets(rule.spec(), policy));
    view.setTrafficPolicy(policy).setSubsets(subsets);
    TrafficPolicies.warnTls(rule, notes);
    for (int i = 0; i < subsets.size(); i++) {
      Subset subset = subsets.get(i);
      boolean selectsAny = endpoints.stream().anyMatch(e ->
          subset.getLabels().entrySet().stream().allMatch(l -> l.getValue().equals(e.getLabels().get(l.getKey()))));
      if (!selectsAny) {
        notes.warning(rule, "spec.subsets[" + i + "].labels", "subset " + subset.getName() + " of " + host
            + " matches no endpoint (labels " + subset.getLabels() + "); requests routed to it fail until one registers");
      }
    }
    for (Resource ignored : rules.ignored()) {
      notes.problem(ignored, "spec.host", "ignored for " + host + ": " + rule.id() + " applies (one DestinationRule"
          + " per host: the one in the host's namespace, then the first by namespace and name)");
    }
  }

  /**
   * The Sidecar that applies to the service — a selecting one, else its namespace's, else the
   * mesh's — or {@code null}; the others at the same level are noted as ignored.
   */
  private static Resource sidecar(Mesh mesh, Applicability applicability, String host, String namespace,
                                  ViewNotes notes) {
    Map<Applicability.Level, List<Resource>> byLevel = new EnumMap<>(Applicability.Level.class);
    for (Resource sidecar : mesh.scoped(Kind.SIDECAR, namespace)) {
      Map<String, String> selector = Json.stringMap(Json.field(sidecar.spec(), "workloadSelector"), "labels");
      Applicability.Level level = applicability.levelOf(sidecar, "spec.workloadSelector.labels", selector, false);
      if (level != null) {
        byLevel.computeIfAbsent(level, l -> new ArrayList<>()).add(sidecar);
      }
    }
    if (byLevel.isEmpty()) {
      return null;
    }
    // EnumMap iterates in declaration order: the narrowest level first.
    List<Resource> candidates = byLevel.values().iterator().next();
    Resource chosen = candidates.get(0);
    for (Resource ignored : candidates.subList(1, candidates.size())) {
      notes.problem(ignored, "spec", "ignored for " + host + ": " + chosen.id()
          + " applies (one Sidecar per workload: the first by name)");
    }
    notes.use(chosen);
    return chosen;
  }

  /** The Sidecar's egress hosts; none (= every host) without a Sidecar. */
  private static List<String> egressHosts(Resource sidecar) {
    if (sidecar == null) {
      return List.of();
    }
    Set<String> hosts = new LinkedHashSet<>();
    for (JsonNode egress : Json.items(sidecar.spec(), "egress")) {
      hosts.addAll(Json.strings(egress, "hosts"));
    }
    return List.copyOf(hosts);
  }

  /**
   * The Sidecar's {@code spec.outboundTrafficPolicy.mode}; UNSPECIFIED without a Sidecar or a
   * mode, so the proxy's own default applies (as Istio's MeshConfig does under a Sidecar that
   * sets none). The schema admits only REGISTRY_ONLY and ALLOW_ANY.
   */
  private static OutboundTrafficMode outboundTrafficMode(Resource sidecar) {
    if (sidecar == null) {
      return OutboundTrafficMode.UNSPECIFIED;
    }
    String mode = Json.text(Json.field(sidecar.spec(), "outboundTrafficPolicy"), "mode");
    return mode == null ? OutboundTrafficMode.UNSPECIFIED
        : Compiling.of(sidecar, () -> OutboundTrafficMode.valueOf(mode));
  }

  /**
   * A RateLimit: {@code spec.host}, {@code spec.match} (HTTP matches, as in a VirtualService),
   * {@code spec.requestsPerUnit}, {@code spec.unit} (SECOND, MINUTE, HOUR, DAY),
   * {@code spec.burst}, {@code spec.shadow}.
   */
  private static QuotaPolicy quota(Resource limit) {
    JsonNode spec = limit.spec();
    String name = limit.namespace() + "/" + limit.name();
    String unit = Json.text(spec, "unit");
    return QuotaPolicy.newBuilder()
        .setName(name)
        .setQuotaKey(name)
        .setMatches(Json.items(spec, "match").stream().map(m -> RouteCompiler.httpMatch(m, limit.namespace())).toList())
        .setRequestsPerUnit(Json.required(Json.longValue(spec, "requestsPerUnit"), "requestsPerUnit"))
        .setUnit(unit == null ? RateUnit.UNSPECIFIED : RateUnit.valueOf(unit.toUpperCase(java.util.Locale.ROOT)))
        .setBurst(Json.longValue(spec, "burst"))
        .setShadow(Json.bool(spec, "shadow", false))
        .build();
  }

  /** A gateway's view: its servers, and the routes of every VirtualService bound to it. */
  private static void gatewayView(Resource gateway, Mesh mesh, ServiceView.Builder view, ViewNotes notes) {
    notes.use(gateway);
    view.setGatewayServers(Compiling.of(gateway, () -> gatewayServers(gateway)));
    String ref = gateway.namespace() + "/" + gateway.name();
    RouteCompiler routes = new RouteCompiler(mesh);
    List<HttpRoute> http = new ArrayList<>();
    List<TcpRoute> tcp = new ArrayList<>();
    List<TlsRoute> tls = new ArrayList<>();
    for (Resource virtualService : mesh.gatewayVirtualServices(ref)) {
      RouteCompiler.Routes compiled = Compiling.of(virtualService, () -> routes.compile(virtualService, ref, notes));
      http.addAll(compiled.http());
      tcp.addAll(compiled.tcp());
      tls.addAll(compiled.tls());
    }
    view.setHttpRoutes(http).setTcpRoutes(tcp).setTlsRoutes(tls);
  }

  /**
   * {@code spec.servers}. A server host {@code [namespace/]dnsName} becomes the qualified DNS
   * name: the namespace part, which restricts which namespaces' VirtualServices may bind, is
   * not in the view.
   */
  private static List<GatewayServer> gatewayServers(Resource gateway) {
    List<GatewayServer> out = new ArrayList<>();
    for (JsonNode server : Json.items(gateway.spec(), "servers")) {
      JsonNode port = Json.field(server, "port");
      List<String> hosts = new ArrayList<>();
      for (String written : Json.strings(server, "hosts")) {
        int slash = written.indexOf('/');
        String namespace = slash < 0 ? "." : written.substring(0, slash);
        String dnsName = written.substring(slash + 1);
        hosts.add(Hosts.qualify(dnsName,
            namespace.equals(".") || namespace.equals("*") ? gateway.namespace() : namespace));
      }
      out.add(GatewayServer.newBuilder()
          .setName(Json.text(server, "name", Json.text(port, "name", "")))
          .setPort(Json.required(Json.integer(port, "number"), "servers.port.number"))
          .setProtocol(Endpoints.protocol(Json.text(port, "protocol")))
          .setHosts(hosts)
          .setTls(gatewayTls(Json.field(server, "tls"), Json.text(port, "protocol", "")))
          .build());
    }
    return out;
  }

  /**
   * {@code servers[].tls}: the mode and the file paths the gateway terminates TLS with, and
   * whether an HTTP server redirects to HTTPS.
   */
  private static GatewayTls gatewayTls(JsonNode tls, String protocol) {
    if (tls == null) {
      return null;
    }
    // A TLS server's mode left out is Istio's default, PASSTHROUGH.
    String mode = Json.text(tls, "mode", protocol.equalsIgnoreCase("TLS") ? "PASSTHROUGH" : "UNSPECIFIED");
    return GatewayTls.newBuilder()
        .setMode(GatewayTlsMode.valueOf(mode.toUpperCase(java.util.Locale.ROOT)))
        .setServerCertificate(Json.text(tls, "serverCertificate", ""))
        .setPrivateKey(Json.text(tls, "privateKey", ""))
        .setCaCertificates(Json.text(tls, "caCertificates", ""))
        .setHttpsRedirect(Json.bool(tls, "httpsRedirect", false))
        .build();
  }

  /**
   * The views a VirtualService is part of: the hosts it matches (if bound to the mesh) and its
   * gateways', among the hosts of {@code mesh} and {@code alsoKnown}.
   */
  private static Set<String> viewsOf(Resource virtualService, Mesh mesh, Set<String> alsoKnown) {
    Set<String> out = new TreeSet<>();
    List<String> patterns = HostPatterns.hosts(virtualService);
    for (String gateway : HostPatterns.gateways(virtualService)) {
      if (gateway.equals(HostPatterns.MESH)) {
        for (String pattern : patterns) {
          out.addAll(mesh.hostsMatching(pattern));
          alsoKnown.stream().filter(h -> HostPatterns.matches(pattern, h)).forEach(out::add);
        }
      } else {
        String[] ref = gateway.split("/", 2);
        String host = gatewayHost(ref[1], ref[0]);
        if (mesh.host(host) != null || alsoKnown.contains(host)) {
          out.add(host);
        }
      }
    }
    return out;
  }
}
