package dev.meshlog.proxy.config;

import static dev.meshlog.proxy.support.Views.endpoint;
import static dev.meshlog.proxy.support.Views.view;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import dev.meshlog.events.discovery.ClientTls;
import dev.meshlog.events.discovery.PortTrafficPolicy;
import dev.meshlog.events.discovery.ServiceView;
import dev.meshlog.events.discovery.Subset;
import dev.meshlog.events.discovery.TlsMode;
import dev.meshlog.events.discovery.TrafficPolicy;
import dev.meshlog.proxy.support.TestCertificates;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The view's {@code trafficPolicy.tls} in the proxy's config, and the checks of its files. */
class TlsPolicyTest {

  @TempDir
  Path dir;

  private static ServiceView books(TrafficPolicy host, TrafficPolicy v2) {
    return view("books").setEndpoints(List.of(endpoint(9001, "v1", "z1")))
        .setTrafficPolicy(host)
        .setSubsets(List.of(
            Subset.newBuilder().setName("v1").setLabels(Map.of("version", "v1")).build(),
            Subset.newBuilder().setName("v2").setLabels(Map.of("version", "v2"))
                .setTrafficPolicy(v2).build()))
        .build();
  }

  private static TrafficPolicy policy(TlsMode mode, ClientTls tls) {
    return TrafficPolicy.newBuilder().setTlsMode(mode).setTls(tls).build();
  }

  @Test
  void translatesTheSettingsAndLetsASubsetReplaceThemWhole() {
    TestCertificates ca = TestCertificates.authority(dir, "root");
    TestCertificates.Issued me = ca.issue("me.example.com");
    ServiceConfig s = ViewTranslator.translate(books(
        policy(TlsMode.SIMPLE, ClientTls.newBuilder().setSni("api.example.com")
            .setCaCertificates(ca.caFile().toString())
            .setSubjectAltNames(List.of("api.example.com")).build()),
        policy(TlsMode.MUTUAL, ClientTls.newBuilder()
            .setClientCertificate(me.certificate().toString())
            .setPrivateKey(me.privateKey().toString()).build())));

    TrafficPolicyConfig host = s.policyOf(null);
    assertThat(host.originatesTls()).isTrue();
    assertThat(host.tls().sniFor("books")).isEqualTo("api.example.com");
    assertThat(host.tls().caCertificates()).isEqualTo(ca.caFile().toString());
    assertThat(host.tls().subjectAltNames()).containsExactly("api.example.com");
    assertThat(s.policyOf("v1").tls()).isEqualTo(host.tls());
    TrafficPolicyConfig v2 = s.policyOf("v2");
    assertThat(v2.tlsMode()).isEqualTo(TrafficPolicyConfig.TlsMode.MUTUAL);
    assertThat(v2.tls().caCertificates()).isEmpty();
    assertThat(v2.tls().sniFor("books")).isEqualTo("books");
    assertThat(ProxySnapshot.of(s).services()).containsKey(s.host());
  }

  @Test
  void anOlderViewWithOnlyTheModeVerifiesAgainstTheDefaultTrustStore() {
    ServiceConfig s = ViewTranslator.translate(books(policy(TlsMode.SIMPLE, null), null));

    assertThat(s.policyOf(null).tls()).isEqualTo(ClientTlsConfig.NONE);
    assertThat(ProxySnapshot.of(s).services()).containsKey(s.host());
  }

  @Test
  void istioMutualOriginatesNothingYet() {
    ServiceConfig s = ViewTranslator.translate(books(policy(TlsMode.ISTIO_MUTUAL, null), null));

    assertThat(s.policyOf(null).tlsMode()).isEqualTo(TrafficPolicyConfig.TlsMode.ISTIO_MUTUAL);
    assertThat(s.policyOf(null).originatesTls()).isFalse();
  }

  @Test
  void rejectsAnUnreadableCaFileNamingFieldAndFile() {
    Path missing = dir.resolve("missing-ca.pem");
    ServiceConfig s = ViewTranslator.translate(books(policy(TlsMode.SIMPLE,
        ClientTls.newBuilder().setCaCertificates(missing.toString()).build()), null));

    assertThatThrownBy(() -> ProxySnapshot.of(s))
        .isInstanceOf(InconsistentSnapshotException.class)
        .hasMessageContaining("trafficPolicy.tls.caCertificates: " + missing + " cannot be read");
  }

  @Test
  void rejectsAFileWithoutCertificatesAndAKeyThatIsNotPkcs8() throws Exception {
    Path junk = Files.writeString(dir.resolve("junk.pem"), "not a certificate\n");
    TestCertificates.Issued me = TestCertificates.authority(dir, "root").issue("me.example.com");
    ServiceConfig s = ViewTranslator.translate(books(
        policy(TlsMode.SIMPLE, ClientTls.newBuilder().setCaCertificates(junk.toString()).build()),
        policy(TlsMode.MUTUAL, ClientTls.newBuilder()
            .setClientCertificate(me.certificate().toString())
            .setPrivateKey(me.certificate().toString()).build())));

    assertThatThrownBy(() -> ProxySnapshot.of(s))
        .isInstanceOf(InconsistentSnapshotException.class)
        .hasMessageContaining("trafficPolicy.tls.caCertificates: " + junk)
        .hasMessageContaining("subsets[v2].trafficPolicy.tls.privateKey: "
            + me.certificate() + ": no PKCS#8 key in it");
  }

  @Test
  void rejectsMutualWithoutAClientCertificate() {
    ServiceConfig s = ViewTranslator.translate(books(policy(TlsMode.MUTUAL, null), null));

    assertThatThrownBy(() -> ProxySnapshot.of(s))
        .isInstanceOf(InconsistentSnapshotException.class)
        .hasMessageContaining("trafficPolicy.tls: mode MUTUAL without clientCertificate and "
            + "privateKey");
  }

  private static PortTrafficPolicy portTls(int port, TlsMode mode, ClientTls tls) {
    return PortTrafficPolicy.newBuilder().setPort(port).setTlsMode(mode).setTls(tls).build();
  }

  @Test
  void aPortLevelTlsReplacesTheHostsForItsPortOnly() {
    TestCertificates ca = TestCertificates.authority(dir, "root");
    ServiceConfig s = ViewTranslator.translate(books(TrafficPolicy.newBuilder()
        .setPortLevelSettings(List.of(portTls(443, TlsMode.SIMPLE,
            ClientTls.newBuilder().setCaCertificates(ca.caFile().toString()).build())))
        .build(), null));

    TrafficPolicyConfig host = s.policyOf(null);
    assertThat(host.originatesTls()).isFalse();
    assertThat(host.forPort(80)).isSameAs(host);
    TrafficPolicyConfig on443 = host.forPort(443);
    assertThat(on443.originatesTls()).isTrue();
    assertThat(on443.tls().caCertificates()).isEqualTo(ca.caFile().toString());
    assertThat(on443.limits()).isEqualTo(host.limits());
    assertThat(host.forPort(443)).isSameAs(on443); // made once, not per request
    // A subset without a policy of its own runs the host's, port-level tls included.
    assertThat(s.policyOf("v1").forPort(443).originatesTls()).isTrue();
    assertThat(ProxySnapshot.of(s).services()).containsKey(s.host());
  }

  @Test
  void aHostWithoutPortLevelSettingsAnswersEveryPortWithItself() {
    ServiceConfig s = ViewTranslator.translate(books(policy(TlsMode.SIMPLE, null), null));

    TrafficPolicyConfig host = s.policyOf(null);
    assertThat(host.portTls()).isEmpty();
    assertThat(host.forPort(443)).isSameAs(host);
    assertThat(TrafficPolicyConfig.DEFAULT.forPort(80)).isSameAs(TrafficPolicyConfig.DEFAULT);
  }

  @Test
  void aSubsetsOwnTlsDropsTheHostsPortLevelTlsAndItsOwnPortLevelTlsWins() {
    TrafficPolicy host = TrafficPolicy.newBuilder()
        .setPortLevelSettings(List.of(portTls(443, TlsMode.SIMPLE, null),
            portTls(8443, TlsMode.SIMPLE, null)))
        .build();
    ServiceConfig own = ViewTranslator.translate(books(host, TrafficPolicy.newBuilder()
        .setTlsMode(TlsMode.DISABLE)
        .setPortLevelSettings(List.of(portTls(9443, TlsMode.SIMPLE, null))).build()));
    ServiceConfig none = ViewTranslator.translate(books(host, TrafficPolicy.newBuilder()
        .setPortLevelSettings(List.of(portTls(8443, TlsMode.DISABLE, null))).build()));

    TrafficPolicyConfig v2 = own.policyOf("v2");
    assertThat(v2.forPort(443).originatesTls()).isFalse();
    assertThat(v2.forPort(9443).originatesTls()).isTrue();
    TrafficPolicyConfig inherits = none.policyOf("v2");
    assertThat(inherits.forPort(443).originatesTls()).isTrue();
    assertThat(inherits.forPort(8443).tlsMode()).isEqualTo(TrafficPolicyConfig.TlsMode.DISABLE);
  }

  @Test
  void rejectsAnUnreadableCaFileOfAPortLevelTlsNamingThePort() {
    String missing = dir.resolve("missing.pem").toString();
    ServiceConfig s = ViewTranslator.translate(books(TrafficPolicy.newBuilder()
        .setPortLevelSettings(List.of(portTls(443, TlsMode.SIMPLE,
            ClientTls.newBuilder().setCaCertificates(missing).build())))
        .build(), null));

    assertThatThrownBy(() -> ProxySnapshot.of(s))
        .hasMessageContaining("trafficPolicy.portLevelSettings[443].tls.caCertificates: "
            + missing + " cannot be read");
  }
}
