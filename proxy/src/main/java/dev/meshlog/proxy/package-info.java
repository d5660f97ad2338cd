/** The Meshlog sidecar proxy: its wiring ({@link dev.meshlog.proxy.Sidecar}) and command line ({@link dev.meshlog.proxy.ProxyMain}). */
package dev.meshlog.proxy;
