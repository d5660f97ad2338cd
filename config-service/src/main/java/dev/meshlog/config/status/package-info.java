/**
 * Pure read models over the latest views and proxy statuses: per-proxy sync state (SYNCED,
 * STALE, NACK), convergence time of config changes, and the problems found in views and the
 * views held back for size (analyze).
 */
package dev.meshlog.config.status;
