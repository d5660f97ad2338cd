package dev.meshlog.schemas;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.common.DeadLetter;
import dev.meshlog.events.config.ChangeSource;
import dev.meshlog.events.config.ChangeType;
import dev.meshlog.events.config.ConfigCommand;
import dev.meshlog.events.config.ConfigEvent;
import dev.meshlog.events.config.ConfigRejection;
import dev.meshlog.events.config.FieldError;
import dev.meshlog.events.config.Operation;
import dev.meshlog.events.config.RejectionReason;
import dev.meshlog.events.config.ResourceRef;
import dev.meshlog.events.config.SourceType;
import dev.meshlog.events.discovery.AbortFault;
import dev.meshlog.events.discovery.Destination;
import dev.meshlog.events.discovery.Endpoint;
import dev.meshlog.events.discovery.EndpointHealth;
import dev.meshlog.events.discovery.FaultInjection;
import dev.meshlog.events.discovery.HttpMatch;
import dev.meshlog.events.discovery.HttpRoute;
import dev.meshlog.events.discovery.MatchType;
import dev.meshlog.events.discovery.RouteDestination;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.StringMatch;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.ViewHold;
import dev.meshlog.events.gitops.GitSyncState;
import dev.meshlog.events.policy.QuotaAllocation;
import dev.meshlog.events.policy.QuotaAllocations;
import dev.meshlog.events.policy.QuotaUsage;
import dev.meshlog.events.registry.InstanceRegistration;
import dev.meshlog.events.registry.RegistrationState;
import dev.meshlog.events.security.Attestation;
import dev.meshlog.events.security.CertificateSigningRequest;
import dev.meshlog.events.security.IssueStatus;
import dev.meshlog.events.security.IssuedCertificate;
import dev.meshlog.events.status.AckState;
import dev.meshlog.events.status.ProxyState;
import dev.meshlog.events.status.ProxyStatus;
import dev.meshlog.events.status.ViewAck;
import dev.meshlog.events.telemetry.EdgeEnd;
import dev.meshlog.events.telemetry.EdgeMetrics;
import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.RequestEventBatch;
import dev.meshlog.events.telemetry.Workload;

/** One realistic value for each mesh topic, keyed by topic, for tests in any module. */
public final class SampleEvents {

  /** A fixed instant so samples are equal across calls. */
  public static final Instant T0 = Instant.parse("2026-11-24T12:00:00Z");

  private SampleEvents() {}

  /** A sample key and value for every topic of {@link Topics#ALL}. */
  public static Map<Topic<String, ?>, Map.Entry<String, Object>> oneOfEach() {
    Map<Topic<String, ?>, Map.Entry<String, Object>> samples = new LinkedHashMap<>();
    ResourceRef ref = ResourceRef.newBuilder().setKind("VirtualService").setNamespace("default")
        .setName("reviews").build();
    ChangeSource git = ChangeSource.newBuilder().setType(SourceType.GIT).setCommitId("4f2a9c1")
        .setCommitAuthor("ana <ana@example.com>").setRepository("file:///repo")
        .setPath("mesh/reviews.yaml").build();
    String doc = "{\"apiVersion\":\"networking.istio.io/v1\",\"kind\":\"VirtualService\"}";
    samples.put(Topics.CONFIG_COMMANDS, Map.entry("VirtualService/default/reviews",
        ConfigCommand.newBuilder().setCommandId("c-1").setResource(ref)
            .setApiVersion("networking.istio.io/v1").setOperation(Operation.APPLY)
            .setDocument(doc).setExpectedRevision(3L).setActor("ana").setSource(git)
            .setRequestedAt(T0).build()));
    samples.put(Topics.CONFIG_EVENTS, Map.entry("VirtualService/default/reviews",
        ConfigEvent.newBuilder().setCommandId("c-1").setResource(ref).setRevision(4)
            .setChangeType(ChangeType.UPDATED).setDocument(doc).setDocumentHash("ab12")
            .setActor("ana").setSource(git).setRequestedAt(T0).setAcceptedAt(T0.plusMillis(5))
            .build()));
    samples.put(Topics.CONFIG_REJECTIONS, Map.entry("VirtualService/default/reviews",
        ConfigRejection.newBuilder().setCommandId("c-2").setResource(ref)
            .setReason(RejectionReason.INVALID)
            .setErrors(List.of(FieldError.newBuilder().setPath("spec.http[0].route[1].weight")
                .setValue("120").setMessage("weight: 120 (expected: 0..100)").build()))
            .setRequestedAt(T0).setRejectedAt(T0).build()));
    samples.put(Topics.REGISTRY_INSTANCES, Map.entry("default/reviews/reviews-v2-1",
        InstanceRegistration.newBuilder().setInstanceId("reviews-v2-1").setService("reviews")
            .setAddress("127.0.0.1").setPort(15006)
            .setLabels(Map.of("app", "reviews", "version", "v2")).setZone("zone-a")
            .setCluster("local").setServiceAccount("reviews").setState(RegistrationState.REGISTERED)
            .setRegisteredAt(T0).setHeartbeatAt(T0).build()));
    StringMatch prefix = StringMatch.newBuilder().setType(MatchType.PREFIX).setValue("/api").build();
    samples.put(Topics.DISCOVERY_VIEWS, Map.entry("reviews.default.svc.cluster.local",
        ServiceView.newBuilder().setHost("reviews.default.svc.cluster.local").setService("reviews")
            .setVersion(7).setGeneratedAt(T0)
            .setEndpoints(List.of(Endpoint.newBuilder().setInstanceId("reviews-v2-1")
                .setAddress("127.0.0.1").setPort(15006).setLabels(Map.of("version", "v2"))
                .setHealth(EndpointHealth.HEALTHY).build()))
            .setSubsets(List.of(Subset.newBuilder().setName("v2")
                .setLabels(Map.of("version", "v2")).build()))
            .setHttpRoutes(List.of(HttpRoute.newBuilder().setName("canary")
                .setMatches(List.of(HttpMatch.newBuilder().setUri(prefix)
                    .setHeaders(Map.of("end-user", StringMatch.newBuilder()
                        .setType(MatchType.EXACT).setValue("jason").build())).build()))
                .setDestinations(List.of(RouteDestination.newBuilder().setWeight(100)
                    .setDestination(Destination.newBuilder()
                        .setHost("reviews.default.svc.cluster.local").setSubset("v2").build())
                    .build()))
                .setFault(FaultInjection.newBuilder().setAbort(AbortFault.newBuilder()
                    .setHttpStatus(503).setPercentage(10.0).build()).build())
                .setTimeoutMillis(2000L).build()))
            .build()));
    samples.put(Topics.PROXY_STATUS, Map.entry("reviews-v2-1",
        ProxyStatus.newBuilder().setProxyId("reviews-v2-1").setService("reviews")
            .setState(ProxyState.RUNNING)
            .setViews(List.of(ViewAck.newBuilder().setHost("ratings.default.svc.cluster.local")
                .setVersion(3).setAck(AckState.NACK).setAppliedVersion(2L)
                .setErrorDetail("route 0: subset v9 not defined").setUpdatedAt(T0).build()))
            .setStartedAt(T0).setReportedAt(T0).build()));
    Workload productpage = Workload.newBuilder().setWorkload("productpage-v1")
        .setService("productpage").setVersion("v1").setNamespace("default").build();
    Workload reviews = Workload.newBuilder().setWorkload("reviews-v2").setService("reviews")
        .setVersion("v2").setNamespace("default").setPrincipal(
            "spiffe://cluster.local/ns/default/sa/reviews").build();
    RequestEvent request = RequestEvent.newBuilder().setRequestId("r-1")
        .setTraceId("4bf92f3577b34da6a3ce929d0e0e4736")
        .setReporter(Reporter.SOURCE).setSource(productpage).setDestination(reviews)
        .setMethod("GET").setPath("/reviews/0").setResponseCode(200).setDurationMicros(1234)
        .setResponseFlags(List.of()).setStartTime(T0).build();
    samples.put(Topics.TELEMETRY_REQUESTS, Map.entry("default/productpage->default/reviews",
        RequestEventBatch.newBuilder().setEvents(List.of(request, RequestEvent.newBuilder(request)
            .setRequestId("r-2").setPath("/reviews/1").setResponseCode(503)
            .setResponseFlags(List.of("UO")).build())).build()));
    EdgeEnd from = EdgeEnd.newBuilder().setService("productpage").setNamespace("default").build();
    EdgeEnd to = EdgeEnd.newBuilder().setService("reviews").setNamespace("default")
        .setVersion("v2").build();
    samples.put(Topics.TELEMETRY_EDGES, Map.entry("default/productpage->default/reviews@1764000000000/10000",
        EdgeMetrics.newBuilder().setSource(from).setDestination(to).setWindowStart(T0)
            .setWindowEnd(T0.plusSeconds(10)).setRequests(100).setResponses2xx(97)
            .setResponses5xx(3).setErrors(3).setResponseFlags(Map.of("UO", 3L))
            .setLatencyP99Millis(12.5).setUpdatedAt(T0).build()));
    samples.put(Topics.POLICY_USAGE, Map.entry("default/ratings/per-minute",
        QuotaUsage.newBuilder().setQuotaKey("default/ratings/per-minute").setProxyId("ratings-1")
            .setIntervalStart(T0).setIntervalEnd(T0.plusSeconds(1)).setDemanded(40).setAdmitted(30)
            .setRejected(10).build()));
    samples.put(Topics.POLICY_ALLOCATIONS, Map.entry("ratings-1",
        QuotaAllocations.newBuilder().setProxyId("ratings-1")
            .setAllocations(List.of(QuotaAllocation.newBuilder()
                .setQuotaKey("default/ratings/per-minute").setTokensPerSecond(2.5).setBurst(5)
                .setGeneration(9).setValidUntil(T0.plusSeconds(30)).build()))
            .setComputedAt(T0).build()));
    samples.put(Topics.SECURITY_CSR, Map.entry("ratings-1",
        CertificateSigningRequest.newBuilder().setRequestId("csr-1").setProxyId("ratings-1")
            .setSpiffeId("spiffe://cluster.local/ns/default/sa/ratings")
            .setCsrPem("-----BEGIN CERTIFICATE REQUEST-----\n...\n-----END CERTIFICATE REQUEST-----")
            .setAttestation(Attestation.newBuilder().setServiceAccount("ratings")
                .setNamespace("default").build())
            .setRequestedAt(T0).build()));
    samples.put(Topics.SECURITY_CERTS, Map.entry("ratings-1",
        IssuedCertificate.newBuilder().setRequestId("csr-1").setProxyId("ratings-1")
            .setSpiffeId("spiffe://cluster.local/ns/default/sa/ratings")
            .setStatus(IssueStatus.ISSUED).setCertificateChainPem(List.of("leaf", "root"))
            .setSerialNumber("01").setNotBefore(T0).setNotAfter(T0.plusSeconds(86400))
            .setIssuedAt(T0).build()));
    samples.put(Topics.DEAD_LETTERS, Map.entry("meshlog-telemetry",
        DeadLetter.newBuilder().setApplication("meshlog-telemetry")
            .setSourceTopic("mesh.telemetry.requests").setPartition(3).setOffset(42)
            .setValue(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}))
            .setReason("not Avro single-object encoding").setFailedAt(T0).build()));
    samples.put(Topics.DISCOVERY_HOLDS, Map.entry("reviews.default.svc.cluster.local",
        ViewHold.newBuilder().setHost("reviews.default.svc.cluster.local").setService("reviews")
            .setNamespace("default").setViewBytes(1_200_345).setLimitBytes(1_000_000)
            .setSince(T0).setUpdatedAt(T0).setKeptVersion(7L).setEndpoints(12_000)
            .setHttpRoutes(3).setResources(List.of("VirtualService/default/reviews@4"))
            .setCause("registration default/reviews/reviews-v2-7f9c").build()));
    samples.put(Topics.GITOPS_STATE, Map.entry("file:///repo#main#mesh",
        GitSyncState.newBuilder().setRepository("file:///repo").setBranch("main").setPath("mesh")
            .setCommitId("4f2a9c1e0b7d3a5f6c8e9d0a1b2c3d4e5f6a7b8c").setAppliedAt(T0).build()));
    org.apache.avro.Schema edge = EdgeMetrics.getClassSchema();
    samples.put(Topics.SCHEMAS, Map.entry(SchemaRegistry.key(
        org.apache.avro.SchemaNormalization.parsingFingerprint64(edge)), edge.toString()));
    return samples;
  }
}
