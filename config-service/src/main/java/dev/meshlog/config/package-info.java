/** config-service: the control plane's entry points and wiring. */
package dev.meshlog.config;
