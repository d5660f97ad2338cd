/**
 * Reading user-written Istio (and Meshlog) resources from YAML or JSON, and checking them field by
 * field against what Meshlog supports.
 */
package dev.meshlog.config.resource;
