/** Retries with backoff, circuit breaking and outlier detection, all driven by an injected clock. */
package dev.meshlog.proxy.resilience;
