/** The proxy's own immutable, self-checked config snapshot, translated from discovery views. */
package dev.meshlog.proxy.config;
