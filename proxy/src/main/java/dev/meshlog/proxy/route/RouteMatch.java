package dev.meshlog.proxy.route;

import dev.meshlog.proxy.config.MatchConfig;
import dev.meshlog.proxy.config.RouteConfig;
import dev.meshlog.proxy.config.ServiceConfig;

/**
 * The route a request takes, and which of its matches selected it (a prefix rewrite replaces
 * what that match's prefix matched).
 *
 * @param service the service the request is for
 * @param route the first route whose matches the request satisfies
 * @param match the satisfied match, {@link MatchConfig#ANY} for a route without matches
 */
public record RouteMatch(ServiceConfig service, RouteConfig route, MatchConfig match) {}
