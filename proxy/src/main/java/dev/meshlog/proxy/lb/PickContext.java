package dev.meshlog.proxy.lb;

import java.util.random.RandomGenerator;

/**
 * What a load balancer may use to pick for one request.
 *
 * @param hashKey the request's consistent-hash key, or {@code null}
 * @param random a random source for this thread
 */
public record PickContext(String hashKey, RandomGenerator random) {}
