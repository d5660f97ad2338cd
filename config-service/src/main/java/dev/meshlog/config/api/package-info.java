/**
 * The config HTTP API on Vert.x core: apply, delete, rollback, get, history, proxy status and
 * analysis over the config log, with reads served from an in-memory read model, and its access:
 * bearer tokens from a token file, per user with read or write roles, the user recorded as actor.
 */
package dev.meshlog.config.api;
