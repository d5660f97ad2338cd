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
}
