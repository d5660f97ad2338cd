/** The runtime built from a snapshot: clusters of upstreams with health, locality, limits and ejection, swapped atomically. */
package dev.meshlog.proxy.cluster;
