/** The Meshlog proxy: its wiring as a sidecar ({@link dev.meshlog.proxy.Sidecar}) or an ingress gateway ({@link dev.meshlog.proxy.Gateway}) and its command line ({@link dev.meshlog.proxy.ProxyMain}). */
package dev.meshlog.proxy;
