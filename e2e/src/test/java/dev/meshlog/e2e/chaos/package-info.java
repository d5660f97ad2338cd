/**
 * The mesh under failure, process by process: sidecars killed with SIGKILL, the control plane
 * stopped and started again, corrupt last-good snapshots, Kafka unreachable at a proxy's start.
 */
package dev.meshlog.e2e.chaos;
