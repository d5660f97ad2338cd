/** Request telemetry: one {@code RequestEvent} per finished request, sent to Kafka off the event loop. */
package dev.meshlog.proxy.telemetry;
