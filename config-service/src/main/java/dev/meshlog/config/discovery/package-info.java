/**
 * Compiles validated config resources and the instance registry into the discovery views
 * proxies read: pure functions, no Kafka and no clock (time is a parameter).
 */
package dev.meshlog.config.discovery;
