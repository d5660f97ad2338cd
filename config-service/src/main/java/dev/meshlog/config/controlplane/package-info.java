/** The control-plane Streams topology: commands judged into events, registry and config compiled into views. */
package dev.meshlog.config.controlplane;
