/** User-facing config resources: identity, kinds, hosts and the problems found in them. */
package dev.meshlog.config.model;
