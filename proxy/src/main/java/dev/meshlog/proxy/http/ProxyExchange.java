package dev.meshlog.proxy.http;

import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import dev.meshlog.proxy.cluster.Cluster;
import dev.meshlog.proxy.config.CorsConfig;
import dev.meshlog.proxy.config.EndpointConfig;
import dev.meshlog.proxy.config.HeaderOps;
import dev.meshlog.proxy.config.LbConfig;
import dev.meshlog.proxy.config.PoolLimits;
import dev.meshlog.proxy.config.PortConfig;
import dev.meshlog.proxy.config.RetryConfig;
import dev.meshlog.proxy.config.TrafficPolicyConfig;
import dev.meshlog.proxy.lb.PickContext;
import dev.meshlog.proxy.lb.Upstream;
import dev.meshlog.proxy.resilience.AttemptOutcome;
import dev.meshlog.proxy.resilience.CircuitBreaker;
import dev.meshlog.proxy.resilience.RetryPlan;
import dev.meshlog.proxy.route.RequestFacts;
import dev.meshlog.proxy.upstream.Http1Connection;
import dev.meshlog.proxy.upstream.Http1Listener;
import dev.meshlog.proxy.upstream.Http1Pool;
import dev.meshlog.proxy.upstream.UpstreamTls;
import dev.meshlog.proxy.upstream.RequestBody;
import dev.meshlog.proxy.upstream.UpstreamResetException;
import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http2.Http2Error;
import io.netty.util.NetUtil;
import io.vertx.core.Context;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.Vertx;
import io.vertx.core.VertxException;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpClosedException;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.http.StreamResetException;
import io.vertx.core.http.impl.headers.HeadersAdaptor;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.internal.buffer.BufferInternal;
import io.vertx.core.net.HostAndPort;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One request through the proxy, from arrival to its access-log entry: admission by the circuit
 * breaker, tries at endpoints with per-try and route timeouts, retries with backoff, outlier
 * accounting, and the response streamed back with backpressure. All of it runs on the request's
 * event loop; nothing blocks.
 */
final class ProxyExchange extends Deadlines.Entry
    implements CircuitBreaker.Waiter, ReplayableBody.FailureListener {

  private static final Logger LOG = LoggerFactory.getLogger(ProxyExchange.class);

  /**
   * Where the exchange forwards to and under which rules; {@code protocol} is the upstream's
   * HTTP version (HTTP/2 means h2c with prior knowledge); {@code policy} the cluster's policy
   * for the destination port (its port-level tls, else the cluster's own, which it is when the
   * host has no port-level settings); {@code directPort} where a ServiceEntry endpoint serves
   * that port when it is not the entry's first port, else 0.
   */
  record Plan(Cluster cluster, String uri, MultiMap headers, RetryConfig retries,
              Duration timeout, List<HeaderOps> responseOps, String hashKey, String setCookie,
              boolean chunked, HttpVersion protocol, TrafficPolicyConfig policy,
              int directPort) {

    Plan(Cluster cluster, String uri, MultiMap headers, RetryConfig retries, Duration timeout,
         List<HeaderOps> responseOps, String hashKey, String setCookie, boolean chunked) {
      this(cluster, uri, headers, retries, timeout, responseOps, hashKey, setCookie, chunked,
          HttpVersion.HTTP_1_1);
    }

    Plan(Cluster cluster, String uri, MultiMap headers, RetryConfig retries, Duration timeout,
         List<HeaderOps> responseOps, String hashKey, String setCookie, boolean chunked,
         HttpVersion protocol) {
      this(cluster, uri, headers, retries, timeout, responseOps, hashKey, setCookie, chunked,
          protocol, cluster.policy(), 0);
    }

    /** The same plan with a chunked body. */
    Plan chunkedBody() {
      return new Plan(cluster, uri, headers, retries, timeout, responseOps, hashKey, setCookie,
          true, protocol, policy, directPort);
    }

    /**
     * The port a try to {@code e} connects to: a ServiceEntry endpoint (reached directly) serves
     * the destination port on {@code directPort} when set; any other endpoint on its own port.
     */
    int portOf(EndpointConfig e) {
      return directPort == 0 || !e.instanceId().startsWith(SERVICE_ENTRY_PREFIX)
          ? e.port() : directPort;
    }

    /** The instance ids config-service gives ServiceEntry endpoints (as OutboundTcp tells them). */
    private static final String SERVICE_ENTRY_PREFIX = "ServiceEntry/";
  }

  private final ProxyRuntime rt;
  private final HttpServerRequest req;
  private final Context context;
  /**
   * The same context, made current while the own pool's callbacks (which come from Netty, not
   * through Vert.x) run, so that timers and futures they create stay on the request's loop.
   */
  private final ContextInternal dispatchContext;
  private static final String ATTEMPT_COUNT = "x-envoy-attempt-count";
  /** The start of Envoy's text for an attempt that ended before a response head. */
  static final String RESET_BEFORE_HEADERS =
      "upstream connect error or disconnect/reset before headers. reset reason: ";

  private final String direction;
  private final long startMillis;
  private final long startNanos;
  private final Set<ResponseFlag> flags = EnumSet.noneOf(ResponseFlag.class);

  String requestId;
  String authority;
  String route;
  String destinationService = "unknown";
  String sourceWorkload = "unknown";
  /** Netty's HTTP/2 codec found the caller's stream malformed. */
  private boolean downstreamProtocolError;
  String traceparent;
  String sourcePeer;

  private final boolean grpc;
  private String grpcStatus;
  private ReplayableBody body;
  private Plan plan;
  private boolean finished;
  private boolean responding;
  private boolean holdsSlot;
  private boolean closeAfterResponse;
  /** Whether the exchange asked its cluster's breaker for a slot (it is its own waiter). */
  private boolean askedBreaker;
  private long backoffTimer = -1;
  /** While a WebSocket tunnel waits for its endpoint's answer: drops that attempt. */
  private Runnable tunnelGiveUp;
  private Attempt current;
  private Upstream lastUpstream;
  /** The endpoints of this request's earlier tries, once it retries; else null. */
  private List<Upstream> tried;
  private int attempts;
  private long upstreamServiceMillis = -1;
  /** The gRPC status a local answer to a gRPC request gives, or -1: one from its HTTP status. */
  private int answerGrpcStatus = -1;
  /** The route's CORS policy and the allowed origin whose responses it marks; else null. */
  private CorsConfig cors;
  private String corsOrigin;
  /** Why the last try's TLS handshake failed (Envoy's upstream transport failure reason). */
  private String transportFailure;

  /**
   * One try at one endpoint: through Vert.x's client ({@link #request}, {@link #vertxResponse})
   * or on a connection of the event loop's own HTTP/1.1 pool ({@link #connection},
   * {@link #head}), whose callbacks it receives.
   */
  private final class Attempt extends Deadlines.Entry
      implements Http1Pool.Acquirer, Http1Listener {
    final int number;
    final Upstream upstream;
    final boolean retry;
    final long startNanos = System.nanoTime();
    HttpClientRequest request;
    HttpClientResponse vertxResponse;
    boolean done;
    // the own pool's side
    Http1Pool pool;
    Http1Pool.Waiter waiting;
    Http1Connection connection;
    RequestBody sink;
    HttpResponse head;
    boolean streaming;
    boolean staleRetried;

    /** The per-try timeout passed. */
    @Override
    protected void expired() {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        conclude(this, AttemptOutcome.timeout());
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    Attempt(int number, Upstream upstream, boolean retry) {
      this.number = number;
      this.upstream = upstream;
      this.retry = retry;
    }

    boolean hasResponse() {
      return vertxResponse != null || head != null;
    }

    void acquire(Http1Pool p, boolean fresh) {
      pool = p;
      TrafficPolicyConfig policy = plan.policy();
      PoolLimits l = policy.limits();
      // Plain text unless the policy originates TLS: one enum check per try.
      UpstreamTls tls = policy.originatesTls() ? UpstreamTls.of(policy.tls()) : null;
      waiting = p.acquire(upstream.endpoint().address(), plan.portOf(upstream.endpoint()), tls,
          tls == null ? null : policy.tls().sniFor(plan.cluster().key().host()),
          l.idleTimeout(), (int) Math.min(Integer.MAX_VALUE, l.connectTimeout().toMillis()),
          fresh, this);
    }

    @Override
    public void connected(Http1Connection c) {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        onConnected(c);
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    private void onConnected(Http1Connection c) {
      waiting = null;
      if (done) {
        c.giveBack();
        return;
      }
      connection = c;
      int max = plan.cluster().policy().limits().maxRequestsPerConnection();
      boolean last = max > 0 && c.requests() + 1 >= max;
      // The plan's headers are Vert.x's HTTP/1 map, which is also Netty's: written as they are.
      // Per-try headers are set for the write (which encodes them at once) and taken out again,
      // so the plan's map serves the next try unchanged.
      io.netty.handler.codec.http.HttpHeaders headers =
          (io.netty.handler.codec.http.HttpHeaders) plan.headers();
      if (number > 1) {
        headers.set(ATTEMPT_COUNT, Integer.toString(number));
      }
      if (last) {
        headers.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
      }
      if (plan.chunked()) {
        headers.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
      }
      c.send(new DefaultHttpRequest(io.netty.handler.codec.http.HttpVersion.HTTP_1_1,
          req.method().toNetty(), plan.uri(), headers), this, last);
      if (number > 1) {
        headers.remove(ATTEMPT_COUNT);
      }
      if (last) {
        headers.remove(HttpHeaderNames.CONNECTION);
      }
      if (plan.chunked()) {
        headers.remove(HttpHeaderNames.TRANSFER_ENCODING);
      }
      sink = new RequestBody(c);
      c.cork(true);
      boolean attached = body.attach(sink);
      c.cork(false);
      if (!attached) {
        conclude(this, AttemptOutcome.reset());
      }
    }

    @Override
    public void connectFailed(Throwable cause) {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        waiting = null;
        transportFailure = UpstreamTls.failureReason(cause);
        conclude(this, AttemptOutcome.connectFailure());
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    @Override
    public void onResponseHead(HttpResponse response) {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        head = response;
        conclude(this, outcomeOf(response.status().code(), multiMap(response.headers())));
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    @Override
    public void onResponseContent(HttpContent content) {
      if (!streaming || finished) {
        content.release();
        return;
      }
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        writeToCaller(content.content());
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    @Override
    public void onResponseEnd(LastHttpContent last) {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        ended(last);
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    private void ended(LastHttpContent last) {
      connection = null;
      if (!streaming || finished) {
        last.release();
        return;
      }
      HttpServerResponse resp = req.response();
      MultiMap trailers = last.trailingHeaders().isEmpty() ? null
          : multiMap(last.trailingHeaders());
      if (trailers != null) {
        HeaderRules.copyEndToEnd(trailers, resp.trailers());
      }
      grpcStatus = Grpc.status(multiMap(head.headers()), trailers);
      // The last piece goes out with the end in one write: a response whose body came in one
      // read (most) leaves as one message with its head, one pass through the pipeline and one
      // future instead of two of each.
      ByteBuf data = last.content();
      boolean withData = data.isReadable();
      if (!withData) {
        data.release();
      }
      (withData ? resp.end(BufferInternal.buffer(data)) : resp.end()).onComplete(end -> {
        if (withData) {
          data.release();
        }
        if (end.failed() && !finished) {
          flags.add(ResponseFlag.DC);
        }
        finish();
      });
    }

    /** Passes a piece of the body on without a copy; released once written (or not). */
    private void writeToCaller(ByteBuf data) {
      if (!data.isReadable()) {
        data.release();
        return;
      }
      HttpServerResponse resp = req.response();
      resp.write(BufferInternal.buffer(data)).onComplete(ar -> data.release());
      Http1Connection c = connection;
      if (c != null && resp.writeQueueFull()) {
        c.pauseReading(true);
      }
    }

    @Override
    public void onReset(Throwable cause, boolean responseStarted) {
      ContextInternal prev = dispatchContext.beginDispatch();
      try {
        reset(cause, responseStarted);
      } finally {
        dispatchContext.endDispatch(prev);
      }
    }

    private void reset(Throwable cause, boolean responseStarted) {
      Http1Connection c = connection;
      connection = null;
      if (streaming) {
        if (!finished) {
          HttpServerResponse resp = req.response();
          boolean protocolError = UpstreamResetException.isProtocolError(cause);
          if (protocolError ? answerInstead(502, "protocol error", ResponseFlag.UPE)
              : answerInstead(503, "connection termination", ResponseFlag.UC)) {
            return;
          }
          flags.add(resp.closed() ? ResponseFlag.DC
              : protocolError ? ResponseFlag.UPE : ResponseFlag.UC);
          resp.reset();
          finish();
        }
        return;
      }
      if (done) {
        return;
      }
      boolean protocolError = UpstreamResetException.isProtocolError(cause);
      if (!responseStarted && !protocolError && c != null && c.reused() && !staleRetried
          && idempotent()
          && body.canReplay()) {
        // A reused connection the upstream closed as the request went out (the keep-alive
        // race): nothing of a response came, so the request is sent again on a new connection,
        // not counted as a retry.
        staleRetried = true;
        body.detach();
        sink = null;
        acquire(pool, true);
        return;
      }
      LOG.debug("upstream {} reset: {}", upstream, cause.getMessage());
      conclude(this, protocolError ? AttemptOutcome.protocolError() : AttemptOutcome.reset());
    }

    @Override
    public void onWritabilityChanged(boolean writable) {
      RequestBody s = sink;
      if (s != null) {
        s.writabilityChanged(writable);
      }
    }

    /** Stops what is under way upstream: HTTP/1.1 closes the connection. */
    void cancelUpstream() {
      if (request != null) {
        request.reset();
      }
      if (waiting != null) {
        waiting.cancel();
        waiting = null;
      }
      Http1Connection c = connection;
      if (c != null) {
        connection = null;
        c.abort();
      }
    }

    /** Drops a response that will not be passed on. */
    void discardResponse() {
      if (vertxResponse != null) {
        discard(vertxResponse);
      }
      Http1Connection c = connection;
      if (head != null && c != null) {
        // Its body may be long or never end: the connection goes rather than waiting for it.
        connection = null;
        c.abort();
      }
    }
  }

  ProxyExchange(ProxyRuntime rt, HttpServerRequest req, String direction) {
    this.rt = rt;
    this.req = req;
    this.context = Vertx.currentContext();
    this.dispatchContext = (ContextInternal) context;
    this.direction = direction;
    this.startMillis = rt.clock().millis();
    this.startNanos = System.nanoTime();
    this.grpc = Grpc.isGrpc(req.headers());
    req.response().closeHandler(v -> onDownstreamClosed());
  }

  /** When the request arrived, by the runtime's clock. */
  long startMillis() {
    return startMillis;
  }

  /** When the request arrived, by {@link System#nanoTime()}. */
  long startNanos() {
    return startNanos;
  }

  /** Whether the caller speaks HTTP/2 (h2c with prior knowledge or after an Upgrade). */
  boolean http2() {
    return req.version() == HttpVersion.HTTP_2;
  }

  /**
   * The HTTP version a request of {@code ex} goes upstream in, to a port declaring
   * {@code declared}: HTTP/2 for HTTP2 and GRPC ports, HTTP/1.1 for HTTP ones, the caller's own
   * for an undeclared port; a gRPC call that came in HTTP/2 stays HTTP/2 (HTTP/1.1 cannot carry
   * its trailers), while one in HTTP/1.1 (gRPC-Web, say) is left as the port says.
   */
  static HttpVersion upstreamProtocol(ProxyExchange ex, PortConfig.Protocol declared) {
    if (declared.http2() || (ex.http2() && ex.grpc())) {
      return HttpVersion.HTTP_2;
    }
    if (declared == PortConfig.Protocol.HTTP) {
      return HttpVersion.HTTP_1_1;
    }
    return ex.http2() ? HttpVersion.HTTP_2 : HttpVersion.HTTP_1_1;
  }

  /** Whether the request is a gRPC call. */
  boolean grpc() {
    return grpc;
  }

  /** The request being proxied. */
  HttpServerRequest request() {
    return req;
  }

  /** Adds a flag to report. */
  void flag(ResponseFlag f) {
    flags.add(f);
  }

  /** Whether the exchange already ended (e.g. the caller went away). */
  boolean finished() {
    return finished;
  }

  // ---- local answers ----

  /** Answers the request from the proxy itself, with a plain-text body. */
  /**
   * Envoy's local answer when an upstream attempt ended before a response head: its text is
   * {@link #RESET_BEFORE_HEADERS} and the reset reason ({@code connection failure},
   * {@code connection termination}, {@code protocol error}, {@code overflow}).
   */
  /**
   * A connect that failed with {@code cause}: 503 {@code UF}, with the TLS failure's reason when
   * TLS made it fail (in the body and the access log, as Envoy's transport failure reason).
   */
  void connectFailureReply(Throwable cause) {
    transportFailure = UpstreamTls.failureReason(cause);
    resetReply(503, transportFailure == null ? "connection failure"
        : "connection failure, transport failure reason: " + transportFailure, ResponseFlag.UF);
  }

  void resetReply(int status, String reason, ResponseFlag flag) {
    localReply(status, RESET_BEFORE_HEADERS + reason, flag);
  }

  void localReply(int status, String text, ResponseFlag... why) {
    localReply(status, text, null, why);
  }

  /**
   * Answers a gRPC request "trailers-only" with {@code grpcCode}: HTTP 200, {@code grpc-status}
   * and {@code grpc-message: text}, as Envoy's fault filter answers an abort with a
   * {@code grpc_status}; any other request gets a 200 with {@code text}, as Envoy's does.
   */
  void grpcStatusReply(int grpcCode, String text, ResponseFlag why) {
    answerGrpcStatus = grpcCode;
    localReply(200, text, why);
  }

  /**
   * Marks every response to this request, the upstream's or the proxy's own, as allowed for
   * {@code origin} by {@code policy} ({@link Cors#markResponse}).
   */
  void corsOrigin(CorsConfig policy, String origin) {
    this.cors = policy;
    this.corsOrigin = origin;
  }

  /** Answers the request from the proxy itself, with extra headers. */
  void localReply(int status, String text, MultiMap extraHeaders, ResponseFlag... why) {
    if (finished || responding) {
      return;
    }
    flags.addAll(List.of(why));
    cancelTimers();
    discardRequestBody();
    responding = true;
    HttpServerResponse resp = req.response();
    if (extraHeaders != null) {
      resp.headers().addAll(extraHeaders);
      // Vert.x keeps the connection open despite the header (see drainConnection).
      closeAfterResponse |= !http2() && "close".equals(extraHeaders.get(HttpHeaders.CONNECTION));
    }
    if (http2()) {
      resp.headers().remove(HttpHeaders.CONNECTION);
    }
    if (requestId != null) {
      resp.putHeader(HeaderRules.REQUEST_ID, requestId);
    }
    if (corsOrigin != null) {
      Cors.markResponse(cors, corsOrigin, resp.headers());
    }
    if (grpc && (status >= 400 || answerGrpcStatus >= 0)) {
      // A gRPC client reads the outcome from grpc-status: answer "trailers-only", as Envoy does.
      // A timeout is DEADLINE_EXCEEDED, not UNAVAILABLE: the client should not retry it (as
      // Envoy answers since envoyproxy/envoy#44479).
      grpcStatus = Integer.toString(answerGrpcStatus >= 0 ? answerGrpcStatus
          : flags.contains(ResponseFlag.UT) ? Grpc.DEADLINE_EXCEEDED : Grpc.forHttpStatus(status));
      resp.setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, "application/grpc")
          .putHeader(Grpc.STATUS, grpcStatus);
      if (text != null && !text.isEmpty()) {
        resp.putHeader(Grpc.MESSAGE, Grpc.encodeMessage(text));
      }
      drainConnection(resp);
      resp.end().onComplete(ar -> finish());
      return;
    }
    resp.setStatusCode(status);
    if (text != null && !text.isEmpty()) {
      resp.putHeader(HttpHeaders.CONTENT_TYPE, "text/plain");
    }
    drainConnection(resp);
    resp.end(text == null ? "" : text).onComplete(ar -> finish());
  }

  /**
   * While the proxy drains, asks the caller to go elsewhere: {@code Connection: close} on an
   * HTTP/1 response, a GOAWAY on an HTTP/2 connection (its streams in flight finish).
   */
  private void drainConnection(HttpServerResponse resp) {
    if (!rt.draining()) {
      if (closeAfterResponse && !http2()) {
        resp.putHeader(HttpHeaders.CONNECTION, "close");
      }
      return;
    }
    if (http2()) {
      req.connection().shutdown(rt.limits().idleTimeout());
    } else {
      // Vert.x keeps the connection open despite the header: close it once the response is out.
      resp.putHeader(HttpHeaders.CONNECTION, "close");
      closeAfterResponse = true;
    }
  }

  /**
   * Closes the caller's HTTP/1 connection once this response is out, with
   * {@code Connection: close} on it: the caller asked for that in a way Vert.x does not see.
   */
  void closeWhenDone() {
    closeAfterResponse = true;
  }

  private void discardRequestBody() {
    if (body != null) {
      body.detach();
    }
    if (!req.isEnded()) {
      req.handler(b -> { });
      req.endHandler(v -> { });
      req.exceptionHandler(t -> { });
      req.resume();
    }
  }

  // ---- forwarding ----

  /** Forwards the request under {@code plan}: admission, tries, retries, the response. */
  void forward(Plan plan, long bodyBufferBytes, RequestFacts facts) {
    this.plan = plan;
    this.body = new ReplayableBody(req, bodyBufferBytes, this);
    Duration timeout = plan.timeout();
    String grpcTimeout = grpc ? req.getHeader(Grpc.TIMEOUT) : null;
    if (grpcTimeout != null) {
      // The caller's deadline bounds the whole exchange too (Envoy: the smaller one wins).
      Duration deadline;
      try {
        deadline = Grpc.parseTimeout(grpcTimeout);
      } catch (IllegalArgumentException e) {
        localReply(400, e.getMessage(), ResponseFlag.DPE);
        return;
      }
      if (timeout.isZero() || deadline.compareTo(timeout) < 0) {
        timeout = deadline;
      }
    }
    if (!timeout.isZero() || grpcTimeout != null) {
      deadlines().arm(this, timeoutNanos(timeout));
    }
    if (plan.protocol() == HttpVersion.HTTP_1_1 && http2() && !plan.chunked()
        && !req.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      // HTTP/2 to HTTP/1.1 without a length: the body's framing is chunked if it has bytes and
      // none if the caller ended the stream with its headers (Envoy's codec decides the same).
      body.whenKnown(hasBytes -> {
        if (hasBytes) {
          this.plan = plan.chunkedBody();
        }
        if (!finished) {
          admit();
        }
      });
      return;
    }
    admit();
  }

  /**
   * The caller's HTTP/1 request body stopped decoding (a malformed chunk) after its head was
   * forwarded: Envoy's downstream protocol error. Before the response started, the caller gets
   * a local 400 (flag DPE) and its connection is closed after it (Vert.x closes it anyway); once
   * the upstream's response is under way, the caller's response is cut (DPE). Either way the
   * upstream try is given up — its HTTP/1.1 connection closed, its HTTP/2 stream reset — so the
   * app never takes a truncated body for a whole one. A caller that went away is left to
   * {@link #onDownstreamClosed}.
   */
  @Override
  public void bodyFailed(Throwable cause) {
    if (finished || cause instanceof HttpClosedException) {
      return;
    }
    if (http2()) {
      // Netty's codec found the stream malformed (a content-length the DATA disagrees with):
      // Http2ProtocolErrors ends the connection; this exchange logs itself, flagged DPE, when
      // its stream closes.
      if (cause instanceof io.netty.handler.codec.http2.Http2Exception
          || cause.getCause() instanceof io.netty.handler.codec.http2.Http2Exception) {
        downstreamProtocolError = true;
        Http2ProtocolErrors.protocolError(req, true);
      }
      return;
    }
    Attempt a = current;
    abandonUpstream();
    if (responding) {
      // Logged first: cutting the response and the upstream's stream calls back into the
      // exchange (Vert.x's pipe fails at once), which must find it finished, not flag UC or DC.
      flags.add(ResponseFlag.DPE);
      finish();
      req.response().reset();
      if (a != null) {
        a.cancelUpstream();
      }
      return;
    }
    closeAfterResponse = true;
    localReply(400, "malformed request body: " + (cause.getMessage() == null
        ? cause.getClass().getSimpleName() : cause.getMessage()), ResponseFlag.DPE);
  }

  /** Asks the circuit breaker for the exchange's slot, then starts the first try. */
  private void admit() {
    CircuitBreaker breaker = plan.cluster().breaker();
    // The exchange is its own waiter: no object per request for the rare queued case.
    askedBreaker = true;
    switch (breaker.acquire(this)) {
      case ADMITTED -> {
        holdsSlot = true;
        startAttempt(false);
      }
      case QUEUED -> { }
      case OVERFLOW -> {
        MultiMap h = HttpHeaders.headers().add("x-envoy-overloaded", "true");
        localReply(503, RESET_BEFORE_HEADERS + "overflow", h, ResponseFlag.UO);
      }
    }
  }

  /** This event loop's random generator, for picking an endpoint. */
  java.util.random.RandomGenerator random() {
    return rt.random().get();
  }

  /**
   * A WebSocket tunnel ({@link WebSocketTunnel}) under {@code plan} goes to {@code u}; until the
   * endpoint answers, the route's timeout bounds the wait (Envoy applies it to the upgrade's
   * response, not after it), and {@code giveUp} drops the attempt when the timeout passes or the
   * caller goes away.
   */
  void tunnelTo(Plan plan, Upstream u, Runnable giveUp) {
    this.plan = plan;
    attempts = 1;
    lastUpstream = u;
    tunnelGiveUp = giveUp;
    if (!plan.timeout().isZero()) {
      deadlines().arm(this, timeoutNanos(plan.timeout()));
    }
  }

  /** The tunnel's endpoint answered: no timeout from here on. */
  void tunnelAnswered() {
    tunnelGiveUp = null;
    cancelTimers();
  }

  private void giveUpTunnel() {
    Runnable giveUp = tunnelGiveUp;
    if (giveUp != null) {
      tunnelGiveUp = null;
      giveUp.run();
    }
  }

  /** The endpoint refused the tunnel's upgrade with {@code status}: that is the response. */
  void upstreamAnswered(int status, Buffer body) {
    responding = true;
    HttpServerResponse resp = req.response();
    resp.setStatusCode(status);
    drainConnection(resp);
    resp.end(body).onComplete(ar -> finish());
  }

  /** The tunnel (or the switch to it) ended: the exchange is logged. */
  void tunnelClosed() {
    finish();
  }

  /** The body, for mirroring; only after {@link #forward}. */
  ReplayableBody body() {
    return body;
  }

  /** The endpoints of this request's tries so far, the last one included. */
  private List<Upstream> triedSoFar() {
    if (tried == null) {
      tried = new ArrayList<>(2);
    }
    tried.add(lastUpstream);
    return tried;
  }

  private void startAttempt(boolean retry) {
    if (finished || responding) {
      if (retry) {
        plan.cluster().breaker().releaseRetry();
      }
      return;
    }
    PickContext pick = new PickContext(plan.hashKey(), rt.random().get());
    Upstream upstream = (retry && lastUpstream != null && plan.retries().ignorePreviousHosts()
        ? plan.cluster().pickAvoiding(pick, triedSoFar(), plan.retries().retryRemoteLocalities())
        : plan.cluster().pick(pick))
        .orElse(null);
    if (upstream == null) {
      if (retry) {
        plan.cluster().breaker().releaseRetry();
      }
      localReply(503, "no healthy upstream", ResponseFlag.UH);
      return;
    }
    attempts++;
    lastUpstream = upstream;
    transportFailure = null;
    Attempt a = new Attempt(attempts, upstream, retry);
    current = a;
    upstream.stats().begin();
    Duration perTry = plan.retries().perTryTimeout();
    if (!perTry.isZero()) {
      deadlines().arm(a, timeoutNanos(perTry));
    }
    Http1Pool pool = plan.protocol() == HttpVersion.HTTP_1_1 ? ownPool(upstream) : null;
    if (pool != null) {
      a.acquire(pool, false);
      return;
    }
    // Vert.x copies these headers into the request it creates, so the plan's are shared by every
    // try without a copy of our own; a retry's attempt count goes on the created request.
    MultiMap headers = plan.headers();
    HostAndPort h2Authority = null;
    if (plan.protocol() == HttpVersion.HTTP_2 && headers.contains(HttpHeaders.HOST)) {
      // HTTP/2 carries the Host as :authority; a host header would be a protocol error. Only
      // then is a copy made, as the plan's headers serve every try.
      String host = headers.get(HttpHeaders.HOST);
      headers = HttpHeaders.headers().addAll(headers);
      headers.remove(HttpHeaders.HOST);
      h2Authority = HostAndPort.parseAuthority(host, -1);
    }
    HostAndPort authority = h2Authority;
    RequestOptions options = new RequestOptions()
        .setHost(upstream.endpoint().address())
        .setPort(plan.portOf(upstream.endpoint()))
        .setProtocolVersion(plan.protocol())
        .setMethod(req.method())
        .setURI(plan.uri())
        .setHeaders(headers)
        .setConnectTimeout(plan.cluster().policy().limits().connectTimeout().toMillis());
    TrafficPolicyConfig policy = plan.policy();
    UpstreamTls.applyTo(options, policy, plan.cluster().key().host(),
        upstream.endpoint().address(), plan.portOf(upstream.endpoint()));
    PoolLimits limits = policy.limits();
    rt.upstreams().client(limits).request(options).onComplete(ar -> {
      if (ar.failed()) {
        transportFailure = UpstreamTls.failureReason(ar.cause());
        conclude(a, AttemptOutcome.connectFailure());
        return;
      }
      HttpClientRequest creq = ar.result();
      if (a.done) {
        creq.reset();
        return;
      }
      a.request = creq;
      if (rt.upstreams().countRequest(creq.connection(), limits.maxRequestsPerConnection())) {
        retireAfterResponse(creq);
      }
      if (authority != null) {
        creq.authority(authority);
      }
      if (a.number > 1) {
        creq.headers().set(ATTEMPT_COUNT, Integer.toString(a.number));
      }
      creq.exceptionHandler(t -> conclude(a, resetOutcome(creq, t)));
      if (plan.chunked()) {
        creq.setChunked(true);
      }
      creq.response().onComplete(r -> {
        if (r.succeeded()) {
          a.vertxResponse = r.result();
          conclude(a, outcomeOf(r.result().statusCode(), r.result().headers()));
        } else {
          conclude(a, resetOutcome(creq, r.cause()));
        }
      });
      if (!body.attach(creq)) {
        conclude(a, AttemptOutcome.reset());
      }
    });
  }

  /**
   * How a try on Vert.x's client ended without a response, from the failure {@code cause} of
   * {@code creq}: an HTTP/2 RST_STREAM is the upstream's reset, and with REFUSED_STREAM, or when
   * a GOAWAY closed the stream above its last stream id, the upstream did not process the
   * request (RFC 9113 sections 6.8 and 8.7); anything else is the connection's termination.
   */
  static AttemptOutcome resetOutcome(HttpClientRequest creq, Throwable cause) {
    if (cause instanceof StreamResetException reset) {
      return reset.getCode() == Http2Error.REFUSED_STREAM.code() ? AttemptOutcome.refusedStream()
          : AttemptOutcome.remoteReset();
    }
    if (cause instanceof HttpClosedException closed && closed.goAway() != null
        && creq.version() == HttpVersion.HTTP_2
        && creq.streamId() > closed.goAway().getLastStreamId()) {
      return AttemptOutcome.refusedStream();
    }
    if (creq.version() != HttpVersion.HTTP_2 && httpCodecFailure(cause)) {
      return AttemptOutcome.protocolError();
    }
    return AttemptOutcome.reset();
  }

  /**
   * Whether Vert.x's HTTP/1 client failed because the upstream's bytes were not HTTP (the
   * codec's failure, Envoy's protocol error: 502 UPE) rather than because the connection closed
   * or broke. Read by type along the cause chain (so a wrapper a Vert.x upgrade may add changes
   * nothing): a closed connection ({@link HttpClosedException}, Netty's
   * {@link PrematureChannelClosureException}), a stream reset or an I/O error is not; Netty's
   * HTTP decoder's failures, which Vert.x passes on from the failed message's decoder result,
   * are — each a {@link DecoderException} (a line or header too long, a bare LF, both
   * {@code Content-Length} and {@code Transfer-Encoding} under Netty 4.2's RFC 9112 default, a
   * bad chunk extension) or an {@link IllegalArgumentException} (a status line, version or chunk
   * size that does not parse, two lengths); and so is Vert.x's {@link IllegalStateException} for
   * an HTTP version it does not speak. {@code ProtocolErrorTypesTest} feeds Netty's client codec
   * each kind of malformed response and checks its cause is read so. The one message read is
   * Vert.x's plain {@link VertxException} for a response nobody asked for ("Received ..."),
   * which has no type of its own; it cannot reach an exchange today (a response with no request
   * in flight has none), and is kept for a Vert.x that reports it to the request.
   */
  static boolean httpCodecFailure(Throwable cause) {
    int depth = 0;
    for (Throwable t = cause; t != null && depth < 8; t = t.getCause(), depth++) {
      if (t instanceof HttpClosedException || t instanceof StreamResetException
          || t instanceof java.io.IOException
          || t instanceof PrematureChannelClosureException) {
        return false;
      }
      if (t instanceof DecoderException || t instanceof IllegalArgumentException
          || t instanceof IllegalStateException) {
        return true;
      }
    }
    return cause != null && cause.getClass() == VertxException.class
        && cause.getMessage() != null && cause.getMessage().startsWith("Received ");
  }

  /**
   * The connection carried its last request: HTTP/1.1 says so with {@code Connection: close};
   * an HTTP/2 connection is shut down gracefully once this request's response ended.
   */
  private static void retireAfterResponse(HttpClientRequest creq) {
    if (creq.version() == HttpVersion.HTTP_2) {
      creq.response().onComplete(r -> {
        if (r.succeeded()) {
          r.result().end().onComplete(v -> creq.connection().shutdown());
        }
      });
    } else {
      creq.putHeader(HttpHeaders.CONNECTION, "close");
    }
  }

  /**
   * The event loop's own HTTP/1.1 pool when it may carry a try to {@code upstream}: the pools
   * are on, the endpoint is an IP address (a host name would need a resolver on the loop), and
   * the plan's headers are Vert.x's HTTP/1 map (Netty's type too); else {@code null}.
   */
  private Http1Pool ownPool(Upstream upstream) {
    String address = upstream.endpoint().address();
    if (!(plan.headers() instanceof io.netty.handler.codec.http.HttpHeaders)
        || !(NetUtil.isValidIpV4Address(address) || NetUtil.isValidIpV6Address(address))) {
      return null;
    }
    return rt.upstreams().http1Pool(context);
  }

  /** Whether a request may be sent again after the upstream may have seen it (RFC 9110 9.2.2). */
  private boolean idempotent() {
    HttpMethod m = req.method();
    return m == HttpMethod.GET || m == HttpMethod.HEAD || m == HttpMethod.OPTIONS
        || m == HttpMethod.TRACE || m == HttpMethod.PUT || m == HttpMethod.DELETE;
  }

  private static MultiMap multiMap(io.netty.handler.codec.http.HttpHeaders headers) {
    return headers instanceof MultiMap m ? m : new HeadersAdaptor(headers);
  }

  private AttemptOutcome outcomeOf(int statusCode, MultiMap headers) {
    if (grpc) {
      String status = headers.get(Grpc.STATUS);
      if (status != null) {
        try {
          return AttemptOutcome.response(statusCode, Integer.parseInt(status.trim()));
        } catch (NumberFormatException e) {
          // not a status: judge the response by its HTTP status alone
        }
      }
    }
    return AttemptOutcome.response(statusCode);
  }

  private void conclude(Attempt a, AttemptOutcome outcome) {
    boolean response = a.hasResponse();
    if (a.done) {
      if (response) {
        a.discardResponse();
      }
      return;
    }
    a.done = true;
    Deadlines.cancel(a);
    CircuitBreaker breaker = plan.cluster().breaker();
    if (a.retry) {
      breaker.releaseRetry();
    }
    a.upstream.stats().end(outcome.is5xx());
    if (plan.cluster().record(a.upstream, outcome)) {
      LOG.info("outlier detection ejected {} from {} after {}", a.upstream, plan.cluster(),
          outcome);
    }
    if (!response) {
      a.cancelUpstream();
    }
    if (finished || responding) {
      if (response) {
        a.discardResponse();
      }
      return;
    }
    RetryConfig retries = plan.retries();
    if (RetryPlan.shouldRetry(retries, outcome, a.number, body.canReplay())) {
      if (breaker.tryAcquireRetry()) {
        if (response) {
          a.discardResponse();
        }
        body.detach();
        long wait = RetryPlan.backoff(retries, a.number, rt.random().get()).toMillis();
        if (wait <= 0) {
          startAttempt(true);
        } else {
          backoffTimer = rt.vertx().setTimer(wait, id -> {
            backoffTimer = -1;
            startAttempt(true);
          });
        }
        return;
      }
    }
    boolean exhausted = retries.attempts() > 0 && a.number > retries.attempts()
        && RetryPlan.retriable(retries, outcome);
    if (exhausted) {
      flags.add(ResponseFlag.URX);
    }
    if (response) {
      upstreamServiceMillis = (System.nanoTime() - a.startNanos) / 1_000_000;
      if (a.head != null) {
        respond(a);
      } else {
        respond(a.vertxResponse);
      }
      return;
    }
    switch (outcome.kind()) {
      // Envoy names a TLS failure as the transport failure reason of the connection failure.
      case CONNECT_FAILURE -> resetReply(503, transportFailure == null ? "connection failure"
          : "connection failure, transport failure reason: " + transportFailure, ResponseFlag.UF);
      case TIMEOUT -> localReply(504, "upstream request timeout", ResponseFlag.UT);
      // Envoy's router answers a protocol error 502, any other reset 503.
      case PROTOCOL_ERROR -> resetReply(502, "protocol error", ResponseFlag.UPE);
      case REMOTE_RESET -> resetReply(503, "remote reset", ResponseFlag.UR);
      case REFUSED_STREAM -> resetReply(503, "remote refused stream reset", ResponseFlag.UR);
      default -> resetReply(503, "connection termination", ResponseFlag.UC);
    }
  }

  /**
   * The caller's response head from the upstream's status and headers. The route timeout (or
   * the caller's gRPC deadline) stays armed: it covers the whole response, as Envoy's does.
   */
  private HttpServerResponse respondHead(int status, String message, MultiMap headers) {
    responding = true;
    HttpServerResponse resp = req.response();
    resp.setStatusCode(status);
    if (message != null && !http2()
        && !message.equals(HttpResponseStatus.valueOf(status).reasonPhrase())) {
      // Only an unusual reason phrase is set: Vert.x builds a new status object for it.
      resp.setStatusMessage(message);
    }
    HeaderRules.copyEndToEnd(headers, resp.headers());
    for (HeaderOps ops : plan.responseOps()) {
      HeaderRules.apply(ops, resp.headers());
    }
    if (corsOrigin != null) {
      Cors.markResponse(cors, corsOrigin, resp.headers());
    }
    resp.putHeader(HeaderRules.UPSTREAM_SERVICE_TIME, Long.toString(upstreamServiceMillis));
    if (plan.setCookie() != null) {
      resp.headers().add(HttpHeaders.SET_COOKIE, plan.setCookie());
    }
    boolean noBody = req.method() == HttpMethod.HEAD || status == 204 || status == 304
        || status < 200;
    if (!noBody && !http2() && !resp.headers().contains(HttpHeaders.CONTENT_LENGTH)) {
      resp.setChunked(true);
    }
    drainConnection(resp);
    return resp;
  }

  /**
   * Streams the own pool's response back: its body pieces arrive at the attempt
   * ({@link Attempt#onResponseContent}); the upstream is read no faster than the caller takes it.
   */
  private void respond(Attempt a) {
    HttpServerResponse resp = respondHead(a.head.status().code(), a.head.status().reasonPhrase(),
        multiMap(a.head.headers()));
    a.streaming = true;
    resp.drainHandler(v -> {
      Http1Connection c = a.connection;
      if (c != null) {
        c.pauseReading(false);
      }
    });
  }

  private void respond(HttpClientResponse cresp) {
    HttpServerResponse resp = respondHead(cresp.statusCode(), cresp.statusMessage(),
        cresp.headers());
    cresp.exceptionHandler(t -> { });
    // The pipe leaves the end to us: trailers (gRPC's status) go out with it.
    cresp.pipe().endOnSuccess(false).endOnFailure(false).to(resp).onComplete(ar -> {
      if (ar.failed()) {
        boolean protocolError = cresp.version() != HttpVersion.HTTP_2
            && httpCodecFailure(ar.cause());
        if (!finished && (protocolError ? answerInstead(502, "protocol error", ResponseFlag.UPE)
            : answerInstead(503, "connection termination", ResponseFlag.UC))) {
          cresp.request().reset();
          return;
        }
        if (!finished) {
          flags.add(resp.closed() ? ResponseFlag.DC
              : protocolError ? ResponseFlag.UPE : ResponseFlag.UC);
          resp.reset();
          cresp.request().reset();
        }
        finish();
        return;
      }
      MultiMap trailers = cresp.trailers();
      if (!trailers.isEmpty()) {
        HeaderRules.copyEndToEnd(trailers, resp.trailers());
      }
      grpcStatus = Grpc.status(cresp.headers(), trailers);
      resp.end().onComplete(end -> {
        if (end.failed() && !finished) {
          flags.add(ResponseFlag.DC);
        }
        finish();
      });
    });
  }

  /**
   * The upstream's response failed after its head came but before any of it was written to the
   * caller (the head goes out with the first body bytes): the caller gets a local answer, as
   * if nothing had come, rather than a connection closed with no response at all. Whether it
   * did.
   */
  private boolean answerInstead(int status, String reason, ResponseFlag flag) {
    HttpServerResponse resp = req.response();
    if (finished || resp.headWritten() || resp.closed()) {
      return false;
    }
    // The app's head is dropped: its Content-Length or framing would not fit the local answer.
    resp.headers().clear();
    if (!http2()) {
      resp.setChunked(false).setStatusMessage(HttpResponseStatus.valueOf(status).reasonPhrase());
    }
    responding = false;
    resetReply(status, reason, flag);
    return true;
  }

  private static void discard(HttpClientResponse response) {
    response.exceptionHandler(t -> { });
    response.handler(b -> { });
    response.endHandler(v -> { });
    response.resume();
  }

  // ---- timeouts and the caller going away ----

  /** A queued request got its circuit-breaker slot (called from whichever loop released it). */
  @Override
  public void admitted() {
    context.runOnContext(v -> {
      if (finished || responding) {
        plan.cluster().breaker().release();
        return;
      }
      holdsSlot = true;
      startAttempt(false);
    });
  }

  /** The route timeout (or the caller's gRPC deadline) passed. */
  @Override
  protected void expired() {
    ContextInternal prev = dispatchContext.beginDispatch();
    try {
      onRouteTimeout();
    } finally {
      dispatchContext.endDispatch(prev);
    }
  }

  /** The event loop's deadlines; the exchange runs on its loop only. */
  private Deadlines deadlines() {
    return Deadlines.of(dispatchContext.nettyEventLoop());
  }

  /** A timeout in whole milliseconds, at least one, as Vert.x's timers had it. */
  private static long timeoutNanos(Duration timeout) {
    return TimeUnit.MILLISECONDS.toNanos(Math.max(1, timeout.toMillis()));
  }

  private void onRouteTimeout() {
    if (finished) {
      return;
    }
    if (responding) {
      if (req.response().ended()) {
        return; // all of it is written; finish() follows
      }
      // The upstream's response began but did not end in time: as Envoy, the caller's stream is
      // reset (HTTP/1.x: the connection closed), so it sees a truncated response, not a
      // complete one, and the upstream's is given up (its connection closed).
      flags.add(ResponseFlag.UT);
      Attempt a = current;
      if (a != null) {
        a.cancelUpstream();
      }
      req.response().reset();
      finish();
      return;
    }
    abandonUpstream();
    giveUpTunnel();
    localReply(504, "upstream request timeout", ResponseFlag.UT);
  }

  private void onDownstreamClosed() {
    if (finished || req.response().ended()) {
      return;
    }
    // A caller's HTTP/2 connection ended for a malformed stream (its own or another's) is a
    // downstream protocol error, as Envoy flags every stream it resets for one.
    flags.add(downstreamProtocolError
        || (http2() && Http2ProtocolErrors.protocolError(req, true))
        ? ResponseFlag.DPE : ResponseFlag.DC);
    abandonUpstream();
    giveUpTunnel();
    cancelTimers();
    finish();
  }

  private void abandonUpstream() {
    Attempt a = current;
    if (a != null && !a.done) {
      a.done = true;
      Deadlines.cancel(a);
      if (a.retry) {
        plan.cluster().breaker().releaseRetry();
      }
      a.upstream.stats().end(false);
      a.cancelUpstream();
    } else if (a != null && a.streaming) {
      // The caller went away while the own pool's response streamed: stop reading it.
      a.cancelUpstream();
    }
    if (backoffTimer >= 0) {
      rt.vertx().cancelTimer(backoffTimer);
      backoffTimer = -1;
      plan.cluster().breaker().releaseRetry();
    }
    if (plan != null && !holdsSlot && askedBreaker) {
      plan.cluster().breaker().cancel(this);
    }
  }

  private void cancelTimers() {
    Deadlines.cancel(this);
  }

  /**
   * The request left HTTP for a tunnel of its own ({@code CONNECT} passed through), which
   * writes its own access-log entries: this exchange neither logs it nor answers it.
   */
  void handedOver() {
    finished = true;
    cancelTimers();
    req.response().closeHandler(null);
  }

  private void finish() {
    if (finished) {
      return;
    }
    finished = true;
    cancelTimers();
    if (closeAfterResponse) {
      req.connection().close();
    }
    if (holdsSlot) {
      holdsSlot = false;
      plan.cluster().breaker().release();
    }
    HttpServerResponse resp = req.response();
    int status = resp.headWritten() ? resp.getStatusCode() : 0;
    try {
      long micros = (System.nanoTime() - startNanos) / 1_000;
      rt.accessLog().log(new AccessLogEntry(java.time.Instant.ofEpochMilli(startMillis), direction,
          req.method().name(), req.uri(), protocolName(req.version()),
          status, flags.isEmpty() ? Set.of() : flags, body == null ? req.bytesRead() : body.bytesRead(), resp.bytesWritten(),
          micros / 1_000, upstreamServiceMillis, requestId,
          authority, req.getHeader(HttpHeaders.USER_AGENT),
          lastUpstream == null ? null : lastUpstream.toString(),
          plan == null ? null : plan.cluster().toString(), route, attempts, sourceWorkload,
          destinationService, grpcStatus, traceparent, sourcePeer,
          lastUpstream == null ? null : lastUpstream.endpoint(), micros, transportFailure));
    } catch (RuntimeException e) {
      LOG.warn("access log failed", e);
    }
  }

  /** The request's authority: its Host header, or HTTP/2's {@code :authority}. */
  static String authorityOf(HttpServerRequest req) {
    String host = req.getHeader(HttpHeaders.HOST);
    if (host != null || req.version() != HttpVersion.HTTP_2) {
      return host;
    }
    HostAndPort a = req.authority();
    return a == null ? null : a.port() < 0 ? a.host() : a.host() + ":" + a.port();
  }

  /** The protocol as Envoy's access log prints it. */
  static String protocolName(HttpVersion version) {
    if (version == null) {
      return "HTTP/1.1";
    }
    return switch (version) {
      case HTTP_1_0 -> "HTTP/1.0";
      case HTTP_1_1 -> "HTTP/1.1";
      case HTTP_2 -> "HTTP/2";
      default -> version.name();
    };
  }

  /** A cookie value for consistent hashing when the caller has none yet. */
  static String newCookieValue() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  /** The consistent-hash key of a request under {@code lb}, or {@code null}. */
  static String hashKey(LbConfig lb, RequestFacts facts, List<String> setCookieOut) {
    LbConfig.HashKey key = lb.hashKey();
    if (lb.policy() != LbConfig.Policy.RING_HASH || key == null) {
      return null;
    }
    if (key.header() != null) {
      return facts.header(key.header());
    }
    if (key.cookie() != null) {
      String v = facts.cookie(key.cookie());
      if (v == null && key.cookieTtlMillis() != null) {
        v = newCookieValue();
        setCookieOut.add(key.cookie() + "=" + v + "; Max-Age="
            + Math.max(1, key.cookieTtlMillis() / 1000) + "; Path=/; HttpOnly");
      }
      return v;
    }
    if (key.queryParameter() != null) {
      // Envoy's query_parameter hash: the first value; a request without it hashes nothing
      // and goes to a random endpoint, as Envoy's ring does with no hash.
      return facts.queryParam(key.queryParameter());
    }
    return key.sourceIp() ? facts.sourceIp() : null;
  }

  /** Headers that travel on, without hop-by-hop ones. */
  static MultiMap endToEndHeaders(HttpServerRequest req) {
    MultiMap out = HttpHeaders.headers();
    HeaderRules.copyEndToEnd(req.headers(), out);
    return out;
  }

  /** A mutable list for {@link #hashKey}'s cookie output. */
  static List<String> cookieSink() {
    return new ArrayList<>(1);
  }
}
