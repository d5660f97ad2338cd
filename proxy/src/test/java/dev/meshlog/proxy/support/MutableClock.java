package dev.meshlog.proxy.support;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand, so timers are tested without sleeping. */
public final class MutableClock extends Clock {

  private final AtomicLong millis;

  /** A clock at {@code start}. */
  public MutableClock(Instant start) {
    this.millis = new AtomicLong(start.toEpochMilli());
  }

  /** A clock at 2026-11-24T12:00:00Z. */
  public MutableClock() {
    this(Instant.parse("2026-11-24T12:00:00Z"));
  }

  /** Moves the clock forward by {@code d}. */
  public void advance(Duration d) {
    millis.addAndGet(d.toMillis());
  }

  @Override
  public long millis() {
    return millis.get();
  }

  @Override
  public Instant instant() {
    return Instant.ofEpochMilli(millis.get());
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
