package dev.meshlog.telemetry;

import java.time.Instant;
import java.util.List;

import dev.meshlog.events.telemetry.Reporter;
import dev.meshlog.events.telemetry.RequestEvent;
import dev.meshlog.events.telemetry.Workload;

/** Request events for tests. */
final class Requests {

  private Requests() {}

  static Workload workload(String namespace, String service, String version) {
    return Workload.newBuilder().setNamespace(namespace).setService(service).setVersion(version)
        .setWorkload(service + "-" + version).build();
  }

  /** A request from {@code src} (namespace {@code ns}) to {@code dst}, both in {@code ns}. */
  static RequestEvent request(String ns, String src, String srcVersion, String dst, String dstVersion,
                              int code, double latencyMillis, Instant start, String... flags) {
    return RequestEvent.newBuilder()
        .setReporter(Reporter.SOURCE)
        .setSource(workload(ns, src, srcVersion))
        .setDestination(workload(ns, dst, dstVersion))
        .setMethod("GET").setPath("/").setProtocol("http")
        .setResponseCode(code)
        .setResponseFlags(List.of(flags))
        .setRequestBytes(100).setResponseBytes(1000)
        .setDurationMicros(Math.round(latencyMillis * 1000))
        .setStartTime(start)
        .build();
  }

  /** The topic key proxies use: {@code srcNs/src->dstNs/dst}. */
  static String key(RequestEvent e) {
    return e.getSource().getNamespace() + "/" + e.getSource().getService() + "->"
        + e.getDestination().getNamespace() + "/" + e.getDestination().getService();
  }
}
