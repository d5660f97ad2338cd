package dev.meshlog.proxy.telemetry;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

import dev.meshlog.proxy.config.ProxyIdentity;

/**
 * The calling proxy's identity as it travels to the destination's proxy in the
 * {@code x-meshlog-peer} header (Istio's peer metadata exchange, in plain text): {@code
 * namespace/service/version/cluster/zone/workload}, each part URL-encoded. The destination's
 * telemetry names the caller with it, so the two reports of one call name the same edge.
 *
 * <p>Without mTLS the header is the caller's word, not proof; a principal is only set from a
 * verified certificate (not yet).
 *
 * @param namespace the caller's namespace
 * @param service its service
 * @param version its version label, or empty
 * @param cluster its cluster, or empty
 * @param zone its zone, or empty
 * @param workload its workload name
 */
public record PeerMetadata(String namespace, String service, String version, String cluster,
                           String zone, String workload) {

  /** The header value naming {@code identity}. */
  public static String encode(ProxyIdentity identity) {
    return String.join("/", enc(identity.namespace()), enc(identity.service()),
        enc(identity.version()), enc(identity.cluster()), enc(identity.zone()),
        enc(identity.workload()));
  }

  /**
   * The peer named by {@code header}, or {@code null} when there is none or it is malformed (the
   * caller then counts as outside the mesh; a bad header never fails a request).
   */
  public static PeerMetadata decode(String header) {
    if (header == null || header.isBlank()) {
      return null;
    }
    String[] p = header.trim().split("/", -1);
    if (p.length != 6) {
      return null;
    }
    try {
      PeerMetadata peer = new PeerMetadata(dec(p[0]), dec(p[1]), dec(p[2]), dec(p[3]),
          dec(p[4]), dec(p[5]));
      return peer.service().isEmpty() ? null : peer;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s == null ? "" : s, StandardCharsets.UTF_8);
  }

  private static String dec(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }
}
