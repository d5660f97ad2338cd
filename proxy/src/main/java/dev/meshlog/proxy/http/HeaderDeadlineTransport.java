package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;

/**
 * A Vert.x transport (NIO, or a native one such as io_uring) except that every accepted connection
 * starts with the handler that puts {@link HeaderDeadline}'s watch on a clear-text HTTP/1
 * connection before its first request is decoded (Vert.x offers no earlier hook), and refuses
 * an HTTP/1.1 → h2c upgrade there (with a zero deadline too; see {@link HeaderDeadline}). Build the
 * proxy's Vert.x with it:
 * {@code Vertx.builder().withTransport(new HeaderDeadlineTransport(Transport.IO_URING, deadline))}
 * (see {@code ProxyTransport}, which picks the base).
 */
public final class HeaderDeadlineTransport implements Transport {

  private final Duration deadline;
  private final Transport base;
  private final io.vertx.core.spi.transport.Transport baseImpl;

  /** NIO, with {@code deadline} for request headers (zero: none). */
  public HeaderDeadlineTransport(Duration deadline) {
    this(Transport.NIO, deadline);
  }

  /**
   * {@code base}, with {@code deadline} for request headers (zero: none); check
   * {@link #available()} before building a Vert.x with a native one.
   */
  public HeaderDeadlineTransport(Transport base, Duration deadline) {
    this.deadline = Objects.requireNonNull(deadline, "deadline");
    this.base = Objects.requireNonNull(base, "base");
    this.baseImpl = base.implementation();
  }

  @Override
  public String name() {
    return base.name() + "+header-deadline";
  }

  @Override
  public boolean available() {
    return base.available();
  }

  @Override
  public Throwable unavailabilityCause() {
    return base.unavailabilityCause();
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return new Impl();
  }

  /**
   * First in a server channel's pipeline, so ahead of the bootstrap's acceptor: puts the detector
   * first in each accepted channel, before the acceptor adds Vert.x's initializer.
   */
  private final class WatchAccepted extends ChannelInboundHandlerAdapter {
    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof Channel child) {
        child.pipeline().addFirst(HeaderDeadline.detectorName(),
            HeaderDeadline.detector(deadline));
      }
      ctx.fireChannelRead(msg);
    }
  }

  private final class Impl implements io.vertx.core.spi.transport.Transport {
    @Override
    public boolean supportsDomainSockets() {
      return baseImpl.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return baseImpl.supportFileRegion();
    }

    @Override
    public boolean isAvailable() {
      return baseImpl.isAvailable();
    }

    @Override
    public Throwable unavailabilityCause() {
      return baseImpl.unavailabilityCause();
    }

    @Override
    public java.net.SocketAddress convert(io.vertx.core.net.SocketAddress address) {
      return baseImpl.convert(address);
    }

    @Override
    public io.vertx.core.net.SocketAddress convert(java.net.SocketAddress address) {
      return baseImpl.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return baseImpl.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int threads, ThreadFactory factory,
                                         int ioRatio) {
      return baseImpl.eventLoopGroup(type, threads, factory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return baseImpl.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends DatagramChannel> datagramChannelFactory() {
      return baseImpl.datagramChannelFactory();
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      return baseImpl.channelFactory(domainSocket);
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      if (domainSocket) {
        return baseImpl.serverChannelFactory(domainSocket);
      }
      ChannelFactory<? extends ServerChannel> channels = baseImpl.serverChannelFactory(false);
      return () -> {
        ServerChannel channel = channels.newChannel();
        channel.pipeline().addLast(new WatchAccepted());
        return channel;
      };
    }

    @Override
    public void configure(io.netty.channel.socket.DatagramChannel channel,
                          DatagramSocketOptions options) {
      baseImpl.configure(channel, options);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, Bootstrap bootstrap) {
      baseImpl.configure(config, domainSocket, bootstrap);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
      baseImpl.configure(config, domainSocket, bootstrap);
    }
  }
}
