/** The admin API: readiness, liveness, config dump, clusters, and Istio-named Prometheus metrics. */
package dev.meshlog.proxy.admin;
