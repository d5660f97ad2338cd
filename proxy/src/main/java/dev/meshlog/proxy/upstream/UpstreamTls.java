package dev.meshlog.proxy.upstream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;

import dev.meshlog.proxy.config.ClientTlsConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ApplicationProtocolConfig;
import io.netty.handler.ssl.ApplicationProtocolNames;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.ConnectOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;

/**
 * The TLS a proxy originates to upstream endpoints under one {@link ClientTlsConfig}, loaded
 * from its PEM files: the server's chain is checked against the configured CA certificates (or
 * the JVM's default trust store), then its certificate's subject alternative names against the
 * configured ones (or, without any, the SNI), as Envoy's {@code UpstreamTlsContext} does under
 * Istio; {@code insecureSkipVerify} skips both. One instance per distinct config, loaded off
 * the event loops by the snapshot checker ({@link #load}) and found again by requests
 * ({@link #of}); files are read again when a view is applied and they changed on disk.
 */
public final class UpstreamTls {

  /** The start of every reason a handshake failed, as Envoy's {@code TLS_error}. */
  public static final String TLS_ERROR = "TLS_error: ";

  private static final Map<ClientTlsConfig, UpstreamTls> LOADED = new ConcurrentHashMap<>();

  private final ClientTlsConfig config;
  private final List<FileTime> stamps;
  private final SslContext http1;
  private final ClientSSLOptions vertxOptions;

  private UpstreamTls(ClientTlsConfig config, List<FileTime> stamps, SslContext http1,
                      ClientSSLOptions vertxOptions) {
    this.config = config;
    this.stamps = stamps;
    this.http1 = http1;
    this.vertxOptions = vertxOptions;
  }

  /**
   * The TLS of {@code config}, loading its files when they were not loaded yet or changed since.
   * Reads files: call off the event loops.
   *
   * @throws IllegalArgumentException naming the field and file at fault and why
   */
  public static UpstreamTls load(ClientTlsConfig config) {
    List<FileTime> stamps = stamps(config);
    UpstreamTls had = LOADED.get(config);
    if (had != null && had.stamps.equals(stamps)) {
      return had;
    }
    UpstreamTls loaded = build(config, stamps);
    LOADED.put(config, loaded);
    return loaded;
  }

  /**
   * The TLS of {@code config} as loaded by {@link #load}; loaded now (reading files on the
   * calling thread) only when no snapshot check did it first.
   */
  public static UpstreamTls of(ClientTlsConfig config) {
    UpstreamTls t = LOADED.get(config);
    return t != null ? t : load(config);
  }

  /**
   * Makes {@code options} originate {@code policy}'s TLS to {@code address:port} (the SNI and
   * the name checked from the policy, else {@code host}); leaves them as they are when the
   * policy originates none.
   */
  public static RequestOptions applyTo(RequestOptions options, TrafficPolicyConfig policy,
                                       String host, String address, int port) {
    if (!policy.originatesTls()) {
      return options;
    }
    return options.setServer(SocketAddress.inetSocketAddress(port, address))
        .setHost(policy.tls().sniFor(host))
        .setSsl(true).setSslOptions(of(policy.tls()).vertxOptions());
  }

  /**
   * Makes {@code options} (a raw connection: a WebSocket tunnel's) originate {@code policy}'s
   * TLS, the SNI from the policy, else {@code host}; unchanged when the policy originates none.
   */
  public static ConnectOptions applyTo(ConnectOptions options, TrafficPolicyConfig policy,
                                       String host) {
    if (!policy.originatesTls()) {
      return options;
    }
    return options.setSsl(true).setSniServerName(policy.tls().sniFor(host))
        .setSslOptions(of(policy.tls()).vertxOptions());
  }

  /** The settings this TLS was loaded from. */
  public ClientTlsConfig config() {
    return config;
  }

  /** A handler starting TLS to {@code port} with {@code sni}, offering ALPN {@code http/1.1}. */
  public SslHandler newHttp1Handler(ByteBufAllocator alloc, String sni, int port) {
    return http1.newHandler(alloc, sni, port);
  }

  /** The same TLS as Vert.x client options (ALPN as Vert.x offers it for the request). */
  public ClientSSLOptions vertxOptions() {
    return vertxOptions;
  }

  /**
   * Why a connection failed, in one line, when TLS made it fail (a certificate that is not
   * trusted or not for the name, a server that does not speak TLS, a handshake cut short);
   * {@code null} when {@code cause} is not a TLS failure.
   */
  public static String failureReason(Throwable cause) {
    boolean tls = false;
    boolean certificate = false;
    Throwable root = cause;
    int depth = 0;
    for (Throwable t = cause; t != null && depth < 10; t = t.getCause(), depth++) {
      if (t instanceof UpstreamTlsException e) {
        return e.getMessage();
      }
      tls |= t instanceof SSLException;
      certificate |= t instanceof CertificateException;
      root = t;
    }
    if (!tls) {
      return null;
    }
    String message = root.getMessage() == null ? root.getClass().getSimpleName()
        : root.getMessage();
    return TLS_ERROR + (certificate ? "CERTIFICATE_VERIFY_FAILED: " : "")
        + message.replace('\n', ' ');
  }

  // ---- loading ----

  private static List<FileTime> stamps(ClientTlsConfig c) {
    List<FileTime> out = new ArrayList<>(3);
    for (String file : List.of(c.caCertificates(), c.clientCertificate(), c.privateKey())) {
      if (file.isEmpty()) {
        out.add(FileTime.fromMillis(0));
        continue;
      }
      try {
        out.add(Files.getLastModifiedTime(Path.of(file)));
      } catch (IOException | RuntimeException e) {
        out.add(FileTime.fromMillis(-1));
      }
    }
    return List.copyOf(out);
  }

  private static UpstreamTls build(ClientTlsConfig c, List<FileTime> stamps) {
    X509TrustManager chainCheck = c.insecureSkipVerify() ? null : trustManager(c);
    NameCheckingTrustManager trust = new NameCheckingTrustManager(chainCheck,
        c.subjectAltNames());
    KeyManagerFactory keys = keyManager(c);
    try {
      SslContextBuilder b = SslContextBuilder.forClient().trustManager(trust)
          // The names are checked by the trust manager: against the configured ones, or the SNI.
          .endpointIdentificationAlgorithm(null)
          .applicationProtocolConfig(new ApplicationProtocolConfig(
              ApplicationProtocolConfig.Protocol.ALPN,
              ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
              ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
              ApplicationProtocolNames.HTTP_1_1));
      if (keys != null) {
        b.keyManager(keys);
      }
      ClientSSLOptions vertx = new ClientSSLOptions().setTrustOptions(TrustOptions.wrap(trust))
          .setHostnameVerificationAlgorithm("").setUseAlpn(true);
      if (keys != null) {
        vertx.setKeyCertOptions(KeyCertOptions.wrap(keys));
      }
      return new UpstreamTls(c, stamps, b.build(), vertx);
    } catch (SSLException e) {
      throw new IllegalArgumentException("clientCertificate: " + c.clientCertificate() + ": "
          + e.getMessage() + " (expected: PEM files a TLS client can use)", e);
    }
  }

  private static X509TrustManager trustManager(ClientTlsConfig c) {
    try {
      KeyStore store = null;
      if (!c.caCertificates().isEmpty()) {
        List<X509Certificate> cas = certificates("caCertificates", c.caCertificates());
        store = KeyStore.getInstance(KeyStore.getDefaultType());
        store.load(null, null);
        for (int i = 0; i < cas.size(); i++) {
          store.setCertificateEntry("ca-" + i, cas.get(i));
        }
      }
      TrustManagerFactory f =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      f.init(store);
      for (TrustManager tm : f.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new IllegalStateException("no X.509 trust manager in this JVM");
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("caCertificates: " + c.caCertificates() + ": "
          + e.getMessage() + " (expected: PEM CA certificates)", e);
    }
  }

  private static KeyManagerFactory keyManager(ClientTlsConfig c) {
    if (c.clientCertificate().isEmpty() && c.privateKey().isEmpty()) {
      return null;
    }
    if (c.clientCertificate().isEmpty() || c.privateKey().isEmpty()) {
      throw new IllegalArgumentException((c.clientCertificate().isEmpty() ? "clientCertificate"
          : "privateKey") + ": empty (expected: a PEM file's path, with "
          + (c.clientCertificate().isEmpty() ? "privateKey" : "clientCertificate") + ")");
    }
    List<X509Certificate> chain = certificates("clientCertificate", c.clientCertificate());
    PrivateKey key = privateKey(c.privateKey());
    try {
      KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
      store.load(null, null);
      char[] none = new char[0];
      store.setKeyEntry("client", key, none, chain.toArray(new Certificate[0]));
      KeyManagerFactory f =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      f.init(store, none);
      return f;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("privateKey: " + c.privateKey() + ": " + e.getMessage()
          + " (expected: the key of clientCertificate " + c.clientCertificate() + ")", e);
    }
  }

  private static List<X509Certificate> certificates(String field, String file) {
    byte[] bytes = read(field, file);
    try {
      Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(bytes));
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate cert : all) {
        out.add((X509Certificate) cert);
      }
      if (out.isEmpty()) {
        throw new CertificateException("no certificate in it");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(field + ": " + file + ": " + e.getMessage()
          + " (expected: PEM certificates)", e);
    }
  }

  private static PrivateKey privateKey(String file) {
    String pem = new String(read("privateKey", file), StandardCharsets.US_ASCII);
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException("privateKey: " + file
          + ": no PKCS#8 key in it (expected: a PEM \"BEGIN PRIVATE KEY\" block)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("privateKey: " + file + ": " + e.getMessage()
          + " (expected: base64 in the PEM block)", e);
    }
    for (String algorithm : List.of("EC", "RSA", "Ed25519", "EdDSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // the next algorithm
      }
    }
    throw new IllegalArgumentException("privateKey: " + file
        + ": not an EC, RSA or EdDSA key (expected: a PKCS#8 key of one of them)");
  }

  private static byte[] read(String field, String file) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(field + ": " + file + " cannot be read: " + e
          + " (expected: a readable PEM file on the proxy)", e);
    }
  }

  /**
   * Checks the server's chain (unless {@code chain} is null: insecureSkipVerify), then that its
   * certificate carries one of {@code names}, or the SNI the handshake sent when there are none.
   */
  private static final class NameCheckingTrustManager extends X509ExtendedTrustManager {
    private final X509TrustManager chain;
    private final List<String> names;

    NameCheckingTrustManager(X509TrustManager chain, List<String> names) {
      this.chain = chain;
      this.names = names;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
        throws CertificateException {
      check(certs, authType, engine == null ? null : serverName(engine));
    }

    /** The SNI the handshake sent, else the peer host the engine was made for. */
    private static String serverName(SSLEngine engine) {
      List<SNIServerName> names = engine.getSSLParameters().getServerNames();
      if (names != null) {
        for (SNIServerName n : names) {
          if (n instanceof SNIHostName h) {
            return h.getAsciiName();
          }
        }
      }
      return engine.getPeerHost();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType, Socket socket)
        throws CertificateException {
      check(certs, authType, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] certs, String authType)
        throws CertificateException {
      check(certs, authType, null);
    }

    private void check(X509Certificate[] certs, String authType, String sni)
        throws CertificateException {
      if (chain == null) {
        return;
      }
      chain.checkServerTrusted(certs, authType);
      List<String> expected = names.isEmpty() ? (sni == null ? List.of() : List.of(sni)) : names;
      if (expected.isEmpty()) {
        throw new CertificateException("no name to check the server certificate against "
            + "(expected: an SNI or subjectAltNames)");
      }
      List<String> present = subjectAltNames(certs[0]);
      for (String want : expected) {
        for (String have : present) {
          if (matches(have, want)) {
            return;
          }
        }
      }
      throw new CertificateException("server certificate names " + present
          + " (expected: one of " + expected + ")");
    }

    private static List<String> subjectAltNames(X509Certificate cert)
        throws CertificateException {
      Collection<List<?>> sans = cert.getSubjectAlternativeNames();
      List<String> out = new ArrayList<>();
      if (sans != null) {
        for (List<?> san : sans) {
          // 2 = DNS, 6 = URI, 7 = IP address
          Object type = san.get(0);
          if (type instanceof Integer t && (t == 2 || t == 6 || t == 7)) {
            out.add(String.valueOf(san.get(1)));
          }
        }
      }
      return out;
    }

    /** Exact (DNS names in any case), or a {@code *.} wildcard standing for one label. */
    private static boolean matches(String have, String want) {
      String h = have.toLowerCase(Locale.ROOT);
      String w = want.toLowerCase(Locale.ROOT);
      if (h.equals(w)) {
        return true;
      }
      if (h.startsWith("*.")) {
        int dot = w.indexOf('.');
        return dot > 0 && w.substring(dot).equals(h.substring(1));
      }
      return false;
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType, SSLEngine engine)
        throws CertificateException {
      throw new CertificateException("an upstream TLS client checks no client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("an upstream TLS client checks no client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] certs, String authType)
        throws CertificateException {
      throw new CertificateException("an upstream TLS client checks no client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return chain == null ? new X509Certificate[0] : chain.getAcceptedIssuers();
    }
  }
}
