package dev.meshlog.proxy.lb;

import java.util.Arrays;
import java.util.BitSet;
import java.util.List;

/**
 * Consistent hashing on a ring (Envoy's RING_HASH): every endpoint of the cluster owns virtual
 * nodes in proportion to its weight; a request goes to the owner of the first node at or after
 * its key's hash. The ring is built over all members, so when some are unusable a key moves only
 * if its own endpoint is unusable, to the next usable one on the ring. Requests without a key go
 * to a random candidate.
 */
public final class RingHash implements LoadBalancer {

  private final long[] hashes;
  private final int[] owners;
  private final int memberCount;

  /** A ring over {@code members} with about {@code minimumRingSize} virtual nodes in total. */
  public RingHash(List<Upstream> members, long minimumRingSize) {
    memberCount = members.size();
    int totalWeight = members.stream().mapToInt(u -> u.endpoint().weight()).sum();
    long size = Math.max(minimumRingSize, members.size());
    int n = 0;
    long[][] nodes = new long[members.size()][];
    for (Upstream u : members) {
      int count = (int) Math.max(1, Math.round((double) size * u.endpoint().weight()
          / Math.max(1, totalWeight)));
      long[] h = new long[count];
      for (int i = 0; i < count; i++) {
        h[i] = Hashing.hash64(u.endpoint().hostPort() + "_" + i);
      }
      nodes[u.index()] = h;
      n += count;
    }
    long[][] pairs = new long[n][];
    int k = 0;
    for (Upstream u : members) {
      for (long h : nodes[u.index()]) {
        pairs[k++] = new long[] {h, u.index()};
      }
    }
    Arrays.sort(pairs, (x, y) -> x[0] != y[0] ? Long.compareUnsigned(x[0], y[0])
        : Long.compare(x[1], y[1]));
    hashes = new long[n];
    owners = new int[n];
    for (int i = 0; i < n; i++) {
      hashes[i] = pairs[i][0];
      owners[i] = (int) pairs[i][1];
    }
  }

  @Override
  public Upstream choose(List<Upstream> candidates, PickContext context) {
    if (context.hashKey() == null || hashes.length == 0) {
      return candidates.get(context.random().nextInt(candidates.size()));
    }
    BitSet usable = new BitSet();
    Upstream[] byIndex = new Upstream[memberCount];
    for (Upstream u : candidates) {
      if (u.index() < byIndex.length) {
        usable.set(u.index());
        byIndex[u.index()] = u;
      }
    }
    int start = firstAtOrAfter(Hashing.hash64(context.hashKey()));
    for (int i = 0; i < hashes.length; i++) {
      int owner = owners[(start + i) % hashes.length];
      if (usable.get(owner)) {
        return byIndex[owner];
      }
    }
    return candidates.get(0);
  }

  private int firstAtOrAfter(long h) {
    int lo = 0;
    int hi = hashes.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (Long.compareUnsigned(hashes[mid], h) < 0) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == hashes.length ? 0 : lo;
  }
}
