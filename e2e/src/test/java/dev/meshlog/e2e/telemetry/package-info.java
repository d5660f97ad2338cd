/** End-to-end tests of request telemetry: real proxies, the pipeline's graph, Kafka outages. */
package dev.meshlog.e2e.telemetry;
