/**
 * The Kafka client of the config log, used by meshctl, the GitOps bridge and the HTTP API:
 * commands in, outcomes back by command id, and one-shot reads of the audit log, views and proxy
 * statuses folded into current state.
 */
package dev.meshlog.config.client;
