package dev.meshlog.proxy.upstream;

import java.io.IOException;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS a proxy originates to upstream endpoints under one {@link ClientTlsConfig}, loaded
 * from its PEM files: the server's chain is checked against the configured CA certificates (or
 * the JVM's default trust store), then its certificate's subject alternative names against the
 * configured ones (or, without any, the SNI), as Envoy's {@code UpstreamTlsContext} does under
 * Istio; {@code insecureSkipVerify} skips both. One instance per distinct config, loaded off
 * the event loops by the snapshot checker ({@link #load}) and found again by requests
 * ({@link #of}); it follows its files ({@link CertificateFiles}): after they change, new
 * connections use what they hold, open ones keep theirs.
 */
public final class UpstreamTls {

  /** The start of every reason a handshake failed, as Envoy's {@code TLS_error}. */
  public static final String TLS_ERROR = "TLS_error: ";

  private static final Logger LOG = LoggerFactory.getLogger(UpstreamTls.class);
  private static final Map<ClientTlsConfig, UpstreamTls> LOADED = new ConcurrentHashMap<>();

  private final ClientTlsConfig config;
  private CertificateFiles.Watch watch;
  private volatile Material material;
  /** Why the files' last change could not be loaded ({@code null}: in force as on disk). */
  private volatile String filesError;

  /**
   * What the files hold, ready for connections: swapped whole when they change.
   *
   * @param http1 the proxy's own HTTP/1.1 pool's context (ALPN {@code http/1.1})
   * @param vertx Vert.x's client options (ALPN as Vert.x offers it for the request)
   * @param tcp a TCP connection's options (no ALPN)
   */
  private record Material(SslContext http1, ClientSSLOptions vertx, ClientSSLOptions tcp) {}

  private UpstreamTls(ClientTlsConfig config) {
    this.config = config;
  }

  /**
   * The TLS of {@code config}, loading its files when they were not loaded yet; an instance
   * already loaded follows its files ({@link CertificateFiles}: they are checked here too, so a
   * view applied after a change uses it). Reads files: call off the event loops.
   *
   * @throws IllegalArgumentException naming the field and file at fault and why, when the
   *     files were not loaded before
   */
  public static UpstreamTls load(ClientTlsConfig config) {
    UpstreamTls had = LOADED.get(config);
    if (had != null) {
      had.watch.check();
      return had;
    }
    synchronized (LOADED) {
      had = LOADED.get(config);
      if (had != null) {
        return had;
      }
      UpstreamTls t = new UpstreamTls(config);
      // Watched before reading: a change while it is read is seen by the next check.
      t.watch = CertificateFiles.proxyWide().watch(
          List.of(config.caCertificates(), config.clientCertificate(), config.privateKey()),
          t::reload);
      synchronized (t) {
        try {
          if (t.material == null) {
            t.material = build(config);
          }
        } catch (RuntimeException e) {
          t.watch.close();
          throw e;
        }
      }
      LOADED.put(config, t);
      return t;
    }
  }

  /**
   * The TLS of {@code config} as loaded by {@link #load}; loaded now (reading files on the
   * calling thread) only when no snapshot check did it first.
   */
  public static UpstreamTls of(ClientTlsConfig config) {
    UpstreamTls t = LOADED.get(config);
    return t != null ? t : load(config);
  }

  /** The TLS of {@code config} if it was loaded, else {@code null}; never reads a file. */
  public static UpstreamTls loaded(ClientTlsConfig config) {
    return LOADED.get(config);
  }

  /**
   * Loads the files again after they changed: new connections use what they hold now, open ones
   * keep theirs. Files that cannot be used (half written, not PEM, a key that does not fit)
   * leave the previous material in force, with one warning, until they change again.
   */
  private synchronized void reload() {
    try {
      material = build(config);
      filesError = null;
      LOG.info("upstream TLS {}: certificate files changed; new connections use them",
          describe());
    } catch (RuntimeException e) {
      filesError = e.getMessage();
      LOG.warn("upstream TLS {}: tls.{}; new connections keep the files loaded before until "
          + "they change again", describe(), e.getMessage());
    }
  }

  private String describe() {
    List<String> files = new ArrayList<>(3);
    for (String f : List.of(config.caCertificates(), config.clientCertificate(),
        config.privateKey())) {
      if (!f.isEmpty()) {
        files.add(f);
      }
    }
    return (config.sni().isEmpty() ? "" : "(sni " + config.sni() + ") ") + files;
  }

  /**
   * Why the files' last change was not taken (the field, file and reason), or {@code null} when
   * what is in force is what the files hold.
   */
  public String filesError() {
    return filesError;
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
    return material.http1().newHandler(alloc, sni, port);
  }

  /** The same TLS as Vert.x client options (ALPN as Vert.x offers it for the request). */
  public ClientSSLOptions vertxOptions() {
    return material.vertx();
  }

  /** The same TLS for a TCP connection's bytes: Vert.x client options offering no ALPN. */
  public ClientSSLOptions tcpOptions() {
    return material.tcp();
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

  private static Material build(ClientTlsConfig c) {
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
      ClientSSLOptions tcp = vertx.copy().setUseAlpn(false);
      return new Material(b.build(), vertx, tcp);
    } catch (SSLException e) {
      throw new IllegalArgumentException("clientCertificate: " + c.clientCertificate() + ": "
          + e.getMessage() + " (expected: PEM files a TLS client can use)", e);
    }
  }

  private static X509TrustManager trustManager(ClientTlsConfig c) {
    try {
      KeyStore store = null;
      if (!c.caCertificates().isEmpty()) {
        List<X509Certificate> cas =
            PemFiles.certificates("caCertificates", c.caCertificates());
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
    List<X509Certificate> chain =
        PemFiles.certificates("clientCertificate", c.clientCertificate());
    PrivateKey key = PemFiles.privateKey("privateKey", c.privateKey());
    PemFiles.checkPair(chain.get(0), c.clientCertificate(), key, c.privateKey());
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
