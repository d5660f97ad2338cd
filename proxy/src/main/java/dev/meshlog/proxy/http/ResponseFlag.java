package dev.meshlog.proxy.http;

/** Envoy's response flags: why a request ended the way it did, in the access log and metrics. */
public enum ResponseFlag {
  /** No healthy upstream endpoint. */
  UH,
  /** The connection to the upstream failed. */
  UF,
  /** Circuit breaker overflow. */
  UO,
  /** Upstream request timeout. */
  UT,
  /** Retries exhausted (the last try failed retriably). */
  URX,
  /** No route for the request. */
  NR,
  /**
   * No cluster: the proxy has no config yet (it has not read the views to their end, and had no
   * snapshot on disk), so it cannot tell where the destination is — answered 503, retriable,
   * where {@link #NR} (a host the mesh does not know) is 404.
   */
  NC,
  /** A fault delay was injected. */
  DI,
  /** A fault abort was injected. */
  FI,
  /** The upstream connection was closed or reset (an HTTP/2 stream reset alone is {@link #UR}). */
  UC,
  /** The downstream (the caller) went away before the response. */
  DC,
  /** The request was refused as malformed or too large. */
  DPE,
  /**
   * The upstream's response could not be read as HTTP (a malformed head or chunk, or a
   * WebSocket upgrade's answer): 502, as Envoy's upstream protocol error.
   */
  UPE,
  /**
   * The upstream reset the stream (HTTP/2 RST_STREAM, including REFUSED_STREAM) before its
   * response: Envoy's "upstream remote reset", answered 503.
   */
  UR,
  /**
   * The destination's name did not resolve: a host outside the mesh passed through
   * ({@code ALLOW_ANY}) answered 503, as Envoy's dynamic forward proxy flags it.
   */
  DF
}
