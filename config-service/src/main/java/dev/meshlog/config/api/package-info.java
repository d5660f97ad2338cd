/**
 * The config HTTP API on Vert.x core: apply, delete, rollback, get, history, proxy status and
 * analysis over the config log, with reads served from an in-memory read model.
 */
package dev.meshlog.config.api;
