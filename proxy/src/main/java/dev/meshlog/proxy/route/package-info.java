/** VirtualService semantics: host resolution, route matching, weighted splits, rewrites. */
package dev.meshlog.proxy.route;
