package dev.meshlog.proxy;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.IntUnaryOperator;

import dev.meshlog.proxy.config.GatewayServerConfig;
import dev.meshlog.proxy.config.ProxySnapshot;
import dev.meshlog.proxy.config.ServiceConfig;
import dev.meshlog.proxy.http.GatewayBinding;
import dev.meshlog.proxy.http.Listener;
import dev.meshlog.proxy.http.OutboundHandler;
import dev.meshlog.proxy.http.ProxyRuntime;
import dev.meshlog.proxy.tcp.TcpListeners;
import dev.meshlog.proxy.tcp.TcpTarget;
import dev.meshlog.proxy.upstream.CertificateFiles;
import dev.meshlog.proxy.upstream.PemFiles;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.net.ServerSSLOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A gateway's listeners beyond its plain HTTP port, one per server port of its view, opened and
 * closed as snapshots change: HTTPS servers ({@code tls.mode} SIMPLE or MUTUAL) terminate TLS
 * with their PEM files and are routed like the HTTP port; TCP servers relay bytes along the
 * view's tcp routes for their port; TLS servers ({@code tls.mode} PASSTHROUGH) relay TLS
 * untouched along the tls route the SNI of each connection's ClientHello matches. Each listens
 * on the server's own port number by default (any free port when that one is taken, or as
 * chosen). An HTTPS listener follows its certificate files ({@link CertificateFiles}) while it
 * is open.
 */
final class GatewayServers implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(GatewayServers.class);

  /**
   * What one server port needs: TCP, TLS passed through by SNI ({@code sni}), or TLS terminated
   * with the settings of every server on it.
   */
  record Spec(boolean tcp, List<GatewayServerConfig.Tls> tls, boolean sni) {
    Spec {
      tls = List.copyOf(tls);
    }

    Spec(boolean tcp, List<GatewayServerConfig.Tls> tls) {
      this(tcp, tls, false);
    }

    /** Whether its listener relays bytes (TCP, or TLS passed through) rather than HTTP. */
    boolean relays() {
      return tcp || sni;
    }

    String kind() {
      return tcp ? "TCP" : sni ? "TLS" : "HTTPS";
    }
  }

  /** A listener that is open (or opening) for a spec. */
  private static final class Open {
    final Spec spec;
    volatile Object server;
    volatile int port = -1;
    /** An HTTPS listener's certificate files, followed while it is open. */
    CertificateFiles.Watch files;

    Open(Spec spec) {
      this.spec = spec;
    }

    Future<Void> close() {
      if (files != null) {
        files.close();
      }
      Object s = server;
      if (s instanceof HttpServer h) {
        return h.close();
      }
      return s instanceof NetServer n ? n.close() : Future.succeededFuture();
    }
  }

  /** What an HTTPS listener offers by ALPN, as {@link #tlsOptions} sets it up. */
  private static final List<String> ALPN = List.of("h2", "http/1.1");

  private final ProxyRuntime rt;
  private final GatewayBinding binding;
  private final String bindHost;
  private final IntUnaryOperator preferredPort;
  private final Consumer<String> announce;
  private final NetClient net;
  private final Map<Integer, Open> open = new TreeMap<>();
  private boolean closed;

  /**
   * Listeners on {@code bindHost} for {@code binding}'s servers; call {@link #start()}.
   *
   * @param preferredPort the local port to try first for a server port (0 = any)
   * @param announce told one line per listener opened or closed
   */
  GatewayServers(ProxyRuntime rt, GatewayBinding binding, String bindHost,
                 IntUnaryOperator preferredPort, Consumer<String> announce) {
    this.rt = rt;
    this.binding = binding;
    this.bindHost = bindHost;
    this.preferredPort = preferredPort;
    this.announce = announce;
    this.net = rt.vertx().createNetClient(new NetClientOptions().setTcpNoDelay(true));
  }

  /** Opens the listeners of the current snapshot and follows later ones; completes once bound. */
  Future<Void> start() {
    rt.holder().onSwap(dp -> sync(dp.snapshot()));
    return sync(rt.holder().snapshot());
  }

  /** The server ports of {@code gatewayView} served by a listener of their own, and how. */
  static Map<Integer, Spec> wanted(ServiceConfig gatewayView) {
    Map<Integer, Spec> out = new LinkedHashMap<>();
    if (gatewayView == null) {
      return out;
    }
    for (GatewayServerConfig s : gatewayView.gatewayServers()) {
      Spec had = out.get(s.port());
      if (s.tcp() || s.passthrough()) {
        Spec spec = new Spec(s.tcp(), List.of(), s.passthrough());
        if (had == null) {
          out.put(s.port(), spec);
        } else if (!had.equals(spec)) {
          LOG.warn("gateway server port {}: {} and {} on one port; serving {}", s.port(),
              had.kind(), spec.kind(), had.kind());
        }
      } else if (s.https()) {
        if (had == null) {
          out.put(s.port(), new Spec(false, List.of(s.tls())));
        } else if (had.relays()) {
          LOG.warn("gateway server port {}: {} and HTTPS on one port; serving {}", s.port(),
              had.kind(), had.kind());
        } else {
          List<GatewayServerConfig.Tls> all = new ArrayList<>(had.tls());
          if (!all.contains(s.tls())) {
            all.add(s.tls());
          }
          out.put(s.port(), new Spec(false, all));
        }
      }
    }
    return out;
  }

  /** The local port of each server port that is listening. */
  synchronized Map<Integer, Integer> ports() {
    Map<Integer, Integer> out = new TreeMap<>();
    open.forEach((server, o) -> {
      if (o.port > 0) {
        out.put(server, o.port);
      }
    });
    return out;
  }

  /** Opens, reopens and closes listeners to match {@code snapshot}. */
  synchronized Future<Void> sync(ProxySnapshot snapshot) {
    if (closed) {
      return Future.succeededFuture();
    }
    Map<Integer, Spec> wanted = wanted(snapshot.service(binding.host()).orElse(null));
    List<Future<?>> pending = new ArrayList<>();
    for (Integer port : new ArrayList<>(open.keySet())) {
      Open o = open.get(port);
      if (!o.spec.equals(wanted.get(port))) {
        open.remove(port);
        int local = o.port;
        pending.add(o.close().onComplete(ar -> announce.accept("meshlog-gateway server " + port
            + " closed (was " + bindHost + ":" + local + ")")));
      }
    }
    // A reopened port binds once the old listener let go of it.
    Future<Void> closedOld = Future.join(pending).mapEmpty();
    List<Future<?>> opening = new ArrayList<>();
    wanted.forEach((port, spec) -> {
      if (!open.containsKey(port)) {
        Open o = new Open(spec);
        open.put(port, o);
        if (!spec.tcp()) {
          // Watched from before the listener reads them: a change in between is seen too.
          o.files = CertificateFiles.proxyWide().watch(files(spec.tls()),
              () -> reloadCertificates(port, o));
        }
        opening.add(closedOld.transform(ar -> listen(port, o)));
      }
    });
    return Future.join(opening).mapEmpty();
  }

  private Future<Integer> listen(int serverPort, Open o) {
    int preferred = Math.max(0, preferredPort.applyAsInt(serverPort));
    return bind(serverPort, o, preferred).recover(e -> {
      if (preferred == 0 || !(e instanceof java.net.BindException)) {
        return Future.failedFuture(e);
      }
      LOG.info("gateway server {}: local port {} not available ({}), using any free port",
          serverPort, preferred, e.getMessage());
      return bind(serverPort, o, 0);
    }).onSuccess(local -> announce.accept("meshlog-gateway server " + serverPort + " "
        + o.spec.kind() + " -> " + bindHost + ":" + local))
        .onFailure(e -> LOG.warn("gateway server {} ({}): not served: {}", serverPort,
            o.spec.kind(), e.toString()));
  }

  private synchronized Future<Integer> bind(int serverPort, Open o, int port) {
    if (closed || open.get(serverPort) != o) {
      return Future.failedFuture("listener no longer wanted");
    }
    try {
      if (o.spec.relays()) {
        TcpTarget target = new TcpTarget(binding.host(), serverPort);
        NetServer server = rt.vertx().createNetServer(new NetServerOptions().setHost(bindHost)
                .setPort(port).setTcpNoDelay(true)
                .setIdleTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS)
                .setIdleTimeout((int) Math.min(Integer.MAX_VALUE,
                    rt.limits().idleTimeout().toMillis())))
            .connectHandler(o.spec.sni() ? TcpListeners.gatewaySniConnections(rt, net, target)
                : TcpListeners.gatewayConnections(rt, net, target));
        o.server = server;
        return server.listen().map(s -> o.port = s.actualPort());
      }
      HttpServer server = Listener.watchConnections(rt, "gateway", rt.vertx().createHttpServer(tlsOptions(
              Listener.options(rt, bindHost, port), o.spec.tls())))
          .requestHandler(new OutboundHandler(rt, binding, serverPort))
          // A client that fails the handshake (untrusted, no certificate) is its own problem.
          .exceptionHandler(t -> LOG.debug("gateway server {}: {}", serverPort, t.toString()));
      o.server = server;
      return server.listen().map(s -> o.port = s.actualPort());
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * TLS with every server's certificate (chosen by SNI when there are several), HTTP/2 and
   * HTTP/1.1 by ALPN; client certificates required when any server on the port is MUTUAL.
   */
  static HttpServerOptions tlsOptions(HttpServerOptions options,
                                      List<GatewayServerConfig.Tls> tls) {
    PemKeyCertOptions keys = new PemKeyCertOptions();
    PemTrustOptions trust = new PemTrustOptions();
    boolean mutual = false;
    for (GatewayServerConfig.Tls t : tls) {
      keys.addCertPath(t.serverCertificate()).addKeyPath(t.privateKey());
      if (t.mode() == GatewayServerConfig.TlsMode.MUTUAL) {
        mutual = true;
        trust.addCertPath(t.caCertificates());
      }
    }
    options.setSsl(true).setKeyCertOptions(keys).setSni(tls.size() > 1).setUseAlpn(true);
    if (mutual) {
      options.setTrustOptions(trust).setClientAuth(ClientAuth.REQUIRED);
    }
    return options;
  }

  private static List<String> files(List<GatewayServerConfig.Tls> tls) {
    List<String> out = new ArrayList<>();
    for (GatewayServerConfig.Tls t : tls) {
      out.add(t.serverCertificate());
      out.add(t.privateKey());
      if (t.mode() == GatewayServerConfig.TlsMode.MUTUAL) {
        out.add(t.caCertificates());
      }
    }
    return out;
  }

  /**
   * Gives an HTTPS listener the certificates its files hold now (on the files' checking thread,
   * never an event loop): new handshakes use them, open connections keep theirs. Files that
   * cannot be used leave the listener on the ones it had, with one warning naming the field
   * and file, until they change again.
   */
  private void reloadCertificates(int serverPort, Open o) {
    if (!(o.server instanceof HttpServer server) || o.port < 0) {
      return;
    }
    ServerSSLOptions ssl;
    try {
      ssl = sslOptions(o.spec.tls());
    } catch (IllegalArgumentException e) {
      LOG.warn("gateway server {}: tls.{}; the listener keeps the certificates loaded before "
          + "until the files change again", serverPort, e.getMessage());
      return;
    }
    try {
      // Waited for on this thread (not an event loop), so that a check ends with it in force.
      server.updateSSLOptions(ssl, true).await(30, TimeUnit.SECONDS);
      LOG.info("gateway server {}: certificate files changed; new connections use them",
          serverPort);
    } catch (Exception e) {
      LOG.warn("gateway server {}: tls.serverCertificate/privateKey {}: {}; the listener "
          + "keeps the certificates loaded before until the files change again", serverPort,
          files(o.spec.tls()), e.toString());
    }
  }

  /**
   * The listener's TLS as {@link #tlsOptions} makes it, with the files' contents read now
   * (certificates checked to be PEM, so a half-written file is named here).
   */
  static ServerSSLOptions sslOptions(List<GatewayServerConfig.Tls> tls) {
    PemKeyCertOptions keys = new PemKeyCertOptions();
    PemTrustOptions trust = new PemTrustOptions();
    boolean mutual = false;
    for (GatewayServerConfig.Tls t : tls) {
      // Each file read once: the bytes checked are the bytes the listener gets.
      byte[] cert = PemFiles.read("serverCertificate", t.serverCertificate());
      byte[] pem = PemFiles.read("privateKey", t.privateKey());
      X509Certificate served =
          PemFiles.certificates("serverCertificate", t.serverCertificate(), cert).get(0);
      PrivateKey key = PemFiles.pkcs8Key("privateKey", t.privateKey(), pem);
      if (key != null) {
        PemFiles.checkPair(served, t.serverCertificate(), key, t.privateKey());
      }
      keys.addCertValue(Buffer.buffer(cert)).addKeyValue(Buffer.buffer(pem));
      if (t.mode() == GatewayServerConfig.TlsMode.MUTUAL) {
        mutual = true;
        byte[] ca = PemFiles.read("caCertificates", t.caCertificates());
        PemFiles.certificates("caCertificates", t.caCertificates(), ca);
        trust.addCertValue(Buffer.buffer(ca));
      }
    }
    ServerSSLOptions ssl = new ServerSSLOptions().setKeyCertOptions(keys).setSni(tls.size() > 1);
    ssl.setUseAlpn(true).setApplicationLayerProtocols(ALPN);
    if (mutual) {
      ssl.setTrustOptions(trust).setClientAuth(ClientAuth.REQUIRED);
    }
    return ssl;
  }

  /** Closes every listener; connections in flight finish. */
  @Override
  public synchronized void close() {
    closed = true;
    open.values().forEach(Open::close);
    open.clear();
    net.close();
  }

  @Override
  public String toString() {
    return "GatewayServers" + Objects.toString(ports());
  }
}
