package dev.meshlog.proxy.config;

import java.util.List;
import java.util.Objects;

/**
 * How the proxy originates TLS to a host's or subset's endpoints (DestinationRule
 * {@code trafficPolicy.tls} beyond its mode, Istio's ClientTLSSettings); the files are PEM paths
 * on the proxy's file system.
 *
 * @param sni the server name sent in the handshake; empty = the destination host
 * @param caCertificates the CA certificates the server's chain must lead to; empty = the JVM's
 *     default trust store (Istio's {@code VERIFY_CERTIFICATE_AT_CLIENT})
 * @param subjectAltNames names one of which the server's certificate must carry; empty = the SNI
 * @param clientCertificate the client certificate chain presented (MUTUAL); empty = none
 * @param privateKey the client certificate's PKCS#8 key (MUTUAL); empty = none
 * @param insecureSkipVerify accept any server certificate (an explicit opt-in, as in Istio)
 */
public record ClientTlsConfig(String sni, String caCertificates, List<String> subjectAltNames,
                              String clientCertificate, String privateKey,
                              boolean insecureSkipVerify) {

  /** No settings: SNI and names from the host, the default trust store, no client certificate. */
  public static final ClientTlsConfig NONE = new ClientTlsConfig("", "", List.of(), "", "", false);

  public ClientTlsConfig {
    sni = Objects.requireNonNullElse(sni, "");
    caCertificates = Objects.requireNonNullElse(caCertificates, "");
    subjectAltNames = subjectAltNames == null ? List.of() : List.copyOf(subjectAltNames);
    clientCertificate = Objects.requireNonNullElse(clientCertificate, "");
    privateKey = Objects.requireNonNullElse(privateKey, "");
  }

  /** The server name sent for {@code host}: {@link #sni()}, else the host itself. */
  public String sniFor(String host) {
    return sni.isEmpty() ? host : sni;
  }
}
