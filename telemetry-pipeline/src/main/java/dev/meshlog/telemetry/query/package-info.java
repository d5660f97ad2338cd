/** Queries over the pipeline's stores across instances: the dependency graph, series, Prometheus text, the HTTP API. */
package dev.meshlog.telemetry.query;
