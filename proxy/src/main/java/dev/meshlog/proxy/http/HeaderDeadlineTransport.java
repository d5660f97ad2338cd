package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadFactory;

import io.netty.bootstrap.Bootstrap;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.ServerChannel;
import io.netty.channel.socket.DatagramChannel;
import io.netty.channel.socket.InternetProtocolFamily;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.vertx.core.datagram.DatagramSocketOptions;
import io.vertx.core.net.TcpConfig;
import io.vertx.core.transport.Transport;

/**
 * Vert.x's NIO transport, except that every accepted connection starts with the handler that
 * puts {@link HeaderDeadline}'s watch on a clear-text HTTP/1 connection before its first request
 * is decoded (Vert.x offers no earlier hook). Build the proxy's Vert.x with it:
 * {@code Vertx.builder().withTransport(new HeaderDeadlineTransport(deadline))}.
 */
public final class HeaderDeadlineTransport implements Transport {

  private final Duration deadline;
  private final io.vertx.core.spi.transport.Transport nio = Transport.NIO.implementation();

  /** NIO, with {@code deadline} for request headers (zero: plain NIO). */
  public HeaderDeadlineTransport(Duration deadline) {
    this.deadline = Objects.requireNonNull(deadline, "deadline");
  }

  @Override
  public String name() {
    return "nio+header-deadline";
  }

  @Override
  public boolean available() {
    return true;
  }

  @Override
  public Throwable unavailabilityCause() {
    return null;
  }

  @Override
  public io.vertx.core.spi.transport.Transport implementation() {
    return new Impl();
  }

  /** An NIO server channel whose accepted channels start with the detector. */
  private final class WatchedServerChannel extends NioServerSocketChannel {
    @Override
    protected int doReadMessages(List<Object> buf) throws Exception {
      int before = buf.size();
      int n = super.doReadMessages(buf);
      for (int i = before; i < buf.size(); i++) {
        if (buf.get(i) instanceof Channel child) {
          child.pipeline().addFirst(HeaderDeadline.detectorName(),
              HeaderDeadline.detector(deadline));
        }
      }
      return n;
    }
  }

  private final class Impl implements io.vertx.core.spi.transport.Transport {
    @Override
    public boolean supportsDomainSockets() {
      return nio.supportsDomainSockets();
    }

    @Override
    public boolean supportFileRegion() {
      return nio.supportFileRegion();
    }

    @Override
    public boolean isAvailable() {
      return nio.isAvailable();
    }

    @Override
    public Throwable unavailabilityCause() {
      return nio.unavailabilityCause();
    }

    @Override
    public java.net.SocketAddress convert(io.vertx.core.net.SocketAddress address) {
      return nio.convert(address);
    }

    @Override
    public io.vertx.core.net.SocketAddress convert(java.net.SocketAddress address) {
      return nio.convert(address);
    }

    @Override
    public IoHandlerFactory ioHandlerFactory() {
      return nio.ioHandlerFactory();
    }

    @Override
    public EventLoopGroup eventLoopGroup(int type, int threads, ThreadFactory factory,
                                         int ioRatio) {
      return nio.eventLoopGroup(type, threads, factory, ioRatio);
    }

    @Override
    public DatagramChannel datagramChannel(InternetProtocolFamily family) {
      return nio.datagramChannel(family);
    }

    @Override
    public ChannelFactory<? extends DatagramChannel> datagramChannelFactory() {
      return nio.datagramChannelFactory();
    }

    @Override
    public ChannelFactory<? extends Channel> channelFactory(boolean domainSocket) {
      return nio.channelFactory(domainSocket);
    }

    @Override
    public ChannelFactory<? extends ServerChannel> serverChannelFactory(boolean domainSocket) {
      if (domainSocket || deadline.isZero() || deadline.isNegative()) {
        return nio.serverChannelFactory(domainSocket);
      }
      return WatchedServerChannel::new;
    }

    @Override
    public void configure(io.netty.channel.socket.DatagramChannel channel,
                          DatagramSocketOptions options) {
      nio.configure(channel, options);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, Bootstrap bootstrap) {
      nio.configure(config, domainSocket, bootstrap);
    }

    @Override
    public void configure(TcpConfig config, boolean domainSocket, ServerBootstrap bootstrap) {
      nio.configure(config, domainSocket, bootstrap);
    }
  }
}
