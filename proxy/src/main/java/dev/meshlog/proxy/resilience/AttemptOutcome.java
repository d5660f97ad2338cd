package dev.meshlog.proxy.resilience;

/**
 * How one try at an endpoint ended, as retries and outlier detection see it.
 *
 * @param kind whether a response came, and if not, why
 * @param status the response status, or 0 without a response
 * @param grpcStatus the grpc-status among the response's headers (a gRPC "trailers-only"
 *     answer), or -1
 */
public record AttemptOutcome(Kind kind, int status, int grpcStatus) {

  /** An outcome without a gRPC status. */
  public AttemptOutcome(Kind kind, int status) {
    this(kind, status, -1);
  }

  /** How a try ended. */
  public enum Kind {
    /** The endpoint answered with a status. */
    RESPONSE,
    /** No connection could be made. */
    CONNECT_FAILURE,
    /** The connection was closed or reset before a response (Envoy's connection termination). */
    RESET,
    /**
     * The endpoint reset the stream (HTTP/2 RST_STREAM) before a response: Envoy's remote
     * reset, answered 503 with flag UR.
     */
    REMOTE_RESET,
    /**
     * The endpoint refused the stream without processing it (RST_STREAM REFUSED_STREAM, or a
     * stream above a GOAWAY's last stream id): retried under {@code refused-stream} as well as
     * {@code reset}; answered 503 with flag UR.
     */
    REFUSED_STREAM,
    /**
     * The upstream's answer was not valid HTTP (Envoy's reset reason {@code protocol error}):
     * a reset to retries ({@code reset}, {@code 5xx}, {@code gateway-error}) and to outlier
     * detection, answered 502 with flag UPE.
     */
    PROTOCOL_ERROR,
    /** The per-try timeout fired before a response. */
    TIMEOUT
  }

  /** A response with {@code status}. */
  public static AttemptOutcome response(int status) {
    return new AttemptOutcome(Kind.RESPONSE, status);
  }

  /** A response with {@code status} whose headers carry grpc-status {@code grpcStatus}. */
  public static AttemptOutcome response(int status, int grpcStatus) {
    return new AttemptOutcome(Kind.RESPONSE, status, grpcStatus);
  }

  /** A connect failure. */
  public static AttemptOutcome connectFailure() {
    return new AttemptOutcome(Kind.CONNECT_FAILURE, 0);
  }

  /** A reset before the response. */
  public static AttemptOutcome reset() {
    return new AttemptOutcome(Kind.RESET, 0);
  }

  /** A stream reset by the endpoint before the response. */
  public static AttemptOutcome remoteReset() {
    return new AttemptOutcome(Kind.REMOTE_RESET, 0);
  }

  /** A stream the endpoint refused without processing it. */
  public static AttemptOutcome refusedStream() {
    return new AttemptOutcome(Kind.REFUSED_STREAM, 0);
  }

  /** An answer that was not valid HTTP. */
  public static AttemptOutcome protocolError() {
    return new AttemptOutcome(Kind.PROTOCOL_ERROR, 0);
  }

  /** A per-try timeout. */
  public static AttemptOutcome timeout() {
    return new AttemptOutcome(Kind.TIMEOUT, 0);
  }

  /** Whether no response came: a local or network failure. */
  public boolean noResponse() {
    return kind != Kind.RESPONSE;
  }

  /** A 5xx, or no response at all (which Envoy counts as a 503 or 504). */
  public boolean is5xx() {
    return noResponse() || status >= 500;
  }

  /** A 502, 503 or 504, or no response at all. */
  public boolean isGatewayError() {
    return noResponse() || status == 502 || status == 503 || status == 504;
  }
}
