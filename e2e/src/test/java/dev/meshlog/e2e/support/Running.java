package dev.meshlog.e2e.support;

import java.util.ArrayList;
import java.util.List;

/**
 * What a test started (processes, apps, services), closed in the reverse order of starting —
 * callers before what they call — by {@link #close()}, which leaves it empty for the next test.
 */
public final class Running implements AutoCloseable {

  private final List<AutoCloseable> started = new ArrayList<>();

  /** Remembers {@code item} for {@link #close()}; returns it. */
  public <T extends AutoCloseable> T add(T item) {
    started.add(item);
    return item;
  }

  /** Closes everything added, last first, and forgets it. */
  @Override
  public void close() throws Exception {
    try {
      for (int i = started.size() - 1; i >= 0; i--) {
        started.get(i).close();
      }
    } finally {
      started.clear();
    }
  }
}
