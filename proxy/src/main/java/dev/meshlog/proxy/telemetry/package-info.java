/**
 * Request telemetry: one {@code RequestEvent} per finished request, and a relayed TCP
 * connection's reports, sent to Kafka off the event loop in one {@code RequestEventBatch} record
 * per edge per drain.
 */
package dev.meshlog.proxy.telemetry;
