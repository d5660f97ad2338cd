package dev.meshlog.proxy.http;

import java.time.Clock;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import dev.meshlog.proxy.cluster.SnapshotHolder;
import dev.meshlog.proxy.config.ProxyIdentity;
import dev.meshlog.proxy.route.HostResolver;
import dev.meshlog.proxy.route.Router;
import dev.meshlog.proxy.tcp.TcpConnections;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;

/**
 * What the listeners of one proxy share: Vert.x, the upstream client, the current config, the
 * clock and random source every decision reads, and where finished requests are reported.
 *
 * @param vertx the Vert.x instance the listeners run on
 * @param client the client for upstream tries and mirrors
 * @param holder the current config
 * @param clock read by timers that must be testable (ejections, access-log times)
 * @param random a random source for the calling thread (faults, mirrors, balancers)
 * @param accessLog receives one entry per request
 * @param limits limits on clients and buffers
 * @param domain the cluster's DNS domain, e.g. {@code cluster.local}
 * @param drain set when the proxy drains: responses then ask callers to reconnect elsewhere
 * @param upstreams the pools per idle timeout, around {@code client}
 * @param tcpConnections the TCP connections it relays, which a stopping proxy closes
 */
public record ProxyRuntime(Vertx vertx, HttpClient client, SnapshotHolder holder, Clock clock,
                           Supplier<RandomGenerator> random, AccessLog accessLog,
                           ListenerLimits limits, String domain, AtomicBoolean drain,
                           UpstreamClients upstreams, TcpConnections tcpConnections) {

  /** A runtime that is not draining, with pools of 64 connections per endpoint around {@code client}. */
  public ProxyRuntime(Vertx vertx, HttpClient client, SnapshotHolder holder, Clock clock,
                      Supplier<RandomGenerator> random, AccessLog accessLog,
                      ListenerLimits limits, String domain) {
    this(vertx, client, holder, clock, random, accessLog, limits, domain, new AtomicBoolean(),
        new UpstreamClients(vertx, client, 64), new TcpConnections());
  }

  public ProxyRuntime {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(client, "client");
    Objects.requireNonNull(holder, "holder");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(random, "random");
    Objects.requireNonNull(accessLog, "accessLog");
    Objects.requireNonNull(limits, "limits");
    domain = domain == null || domain.isEmpty() ? "cluster.local" : domain;
    Objects.requireNonNull(drain, "drain");
    Objects.requireNonNull(upstreams, "upstreams");
    Objects.requireNonNull(tcpConnections, "tcpConnections");
  }

  /** Whether the proxy is draining (shutting down after its grace period). */
  public boolean draining() {
    return drain.get();
  }

  /** The proxy this runtime serves. */
  public ProxyIdentity identity() {
    return holder.identity();
  }

  /** A resolver of short host names in the proxy's namespace. */
  public HostResolver resolver() {
    return new HostResolver(identity().namespace(), domain);
  }

  /** A router matching routes' source labels against the proxy's workload labels. */
  public Router router() {
    return new Router(identity().labels());
  }
}
