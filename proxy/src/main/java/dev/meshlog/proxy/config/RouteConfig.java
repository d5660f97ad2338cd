package dev.meshlog.proxy.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * One VirtualService http route: when it applies and what happens to a request it takes.
 *
 * <p>A route either forwards to weighted {@code destinations}, or answers itself with a
 * {@code redirect} or a {@code directResponse}.
 *
 * @param name the route's name, for logs
 * @param matches conditions, any of which selects the route; empty = every request
 * @param destinations where requests go, weights summing to 100
 * @param split the precomputed order in which destinations take requests
 * @param redirect a redirect answer, or {@code null}
 * @param directResponse a fixed answer, or {@code null}
 * @param rewrite changes to path and authority before forwarding, or {@code null}
 * @param timeout the whole request's timeout; zero = none
 * @param retries the retry policy; {@code null} = none here (a view's route without retries
 *     gets {@link RetryConfig#ISTIO_DEFAULT} from the {@code ViewTranslator})
 * @param fault faults to inject
 * @param mirror where a copy of requests goes, or {@code null}
 * @param mirrorPercent share of requests copied to the mirror, 0..100
 * @param requestHeaders changes to requests
 * @param responseHeaders changes to responses
 * @param hosts the VirtualService's hosts: at a gateway, the Host a request must match
 * @param cors the route's CORS policy, or {@code null}: CORS requests are forwarded untouched
 */
public record RouteConfig(String name, List<MatchConfig> matches,
                          List<DestinationConfig> destinations, WeightedSplit split,
                          Redirect redirect, DirectResponse directResponse, Rewrite rewrite,
                          Duration timeout, RetryConfig retries, FaultConfig fault,
                          DestinationConfig mirror, double mirrorPercent,
                          HeaderOps requestHeaders, HeaderOps responseHeaders,
                          List<String> hosts, CorsConfig cors) {

  /** A route without a CORS policy. */
  public RouteConfig(String name, List<MatchConfig> matches, List<DestinationConfig> destinations,
                     WeightedSplit split, Redirect redirect, DirectResponse directResponse,
                     Rewrite rewrite, Duration timeout, RetryConfig retries, FaultConfig fault,
                     DestinationConfig mirror, double mirrorPercent, HeaderOps requestHeaders,
                     HeaderOps responseHeaders, List<String> hosts) {
    this(name, matches, destinations, split, redirect, directResponse, rewrite, timeout, retries,
        fault, mirror, mirrorPercent, requestHeaders, responseHeaders, hosts, null);
  }

  /** A route without hosts (a sidecar's: the view's host is the route's). */
  public RouteConfig(String name, List<MatchConfig> matches, List<DestinationConfig> destinations,
                     WeightedSplit split, Redirect redirect, DirectResponse directResponse,
                     Rewrite rewrite, Duration timeout, RetryConfig retries, FaultConfig fault,
                     DestinationConfig mirror, double mirrorPercent, HeaderOps requestHeaders,
                     HeaderOps responseHeaders) {
    this(name, matches, destinations, split, redirect, directResponse, rewrite, timeout, retries,
        fault, mirror, mirrorPercent, requestHeaders, responseHeaders, List.of(), null);
  }

  public RouteConfig {
    name = name == null ? "" : name;
    matches = List.copyOf(matches);
    destinations = List.copyOf(destinations);
    split = split == null ? WeightedSplit.of(destinations) : split;
    timeout = timeout == null ? Duration.ZERO : timeout;
    retries = retries == null ? RetryConfig.NONE : retries;
    fault = fault == null ? FaultConfig.NONE : fault;
    requestHeaders = requestHeaders == null ? HeaderOps.NONE : requestHeaders;
    responseHeaders = responseHeaders == null ? HeaderOps.NONE : responseHeaders;
    hosts = hosts == null ? List.of() : List.copyOf(hosts);
  }

  /** Whether a request for {@code host} (lower case, without port) may take this route at a gateway. */
  public boolean servesHost(String host) {
    return hosts.isEmpty() || hosts.stream().anyMatch(p -> HostPattern.matches(p, host));
  }

  /** This route with {@code retries} instead of its own. */
  public RouteConfig withRetries(RetryConfig retries) {
    return new RouteConfig(name, matches, destinations, split, redirect, directResponse, rewrite,
        timeout, retries, fault, mirror, mirrorPercent, requestHeaders, responseHeaders, hosts,
        cors);
  }

  /** A route taking every request to the given destination, with nothing else set. */
  public static RouteConfig forwardAll(String name, DestinationConfig destination) {
    return new RouteConfig(name, List.of(), List.of(destination), null, null, null, null, null,
        null, null, null, 0, null, null);
  }

  /**
   * A redirect answer.
   *
   * @param uri replaces the path, or {@code null}
   * @param authority replaces the host, or {@code null}
   * @param scheme replaces the scheme, or {@code null}
   * @param port replaces the port, or {@code null}
   * @param status 301, 302, 303, 307 or 308
   */
  public record Redirect(String uri, String authority, String scheme, Integer port, int status) {}

  /**
   * A fixed answer.
   *
   * @param status the response status
   * @param body the response body, or {@code null}
   */
  public record DirectResponse(int status, String body) {}

  /**
   * Changes to the request's path and authority before it is forwarded.
   *
   * @param uri replaces the matched prefix (or the whole path), or {@code null}
   * @param uriRegex a regex whose matches in the path are replaced, or {@code null}
   * @param uriRegexSubstitution the replacement, with {@code $1}-style groups
   * @param authority replaces the Host, or {@code null}
   */
  public record Rewrite(String uri, java.util.regex.Pattern uriRegex, String uriRegexSubstitution,
                        String authority) {}

  /** Whether this route answers itself instead of forwarding. */
  public boolean answersLocally() {
    return redirect != null || directResponse != null;
  }

  @Override
  public String toString() {
    return "route " + (name.isEmpty() ? "(unnamed)" : name) + " -> " + Objects.toString(
        destinations.isEmpty() ? (redirect != null ? redirect : directResponse) : destinations);
  }
}
