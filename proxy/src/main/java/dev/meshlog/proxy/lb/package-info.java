/** Endpoint selection: the load-balancer seam and its round-robin, least-request, random and ring-hash policies. */
package dev.meshlog.proxy.lb;
