package dev.meshlog.proxy.upstream;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The certificate and key files the proxy originates or serves TLS with, followed on disk: a
 * check stats every watched file (modification time, size and file key, so an atomic replace or
 * a Kubernetes secret's symlink swap counts) and tells a watch's owner when one of its files
 * changed, as Envoy's SDS file watch does when Istio rotates a certificate. Checks run on a
 * thread of their own every {@link #interval()} (never on an event loop), or when
 * {@link #check()} is called.
 */
public final class CertificateFiles implements AutoCloseable {

  /** How often the proxy-wide instance stats the files. */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);

  private static final Logger LOG = LoggerFactory.getLogger(CertificateFiles.class);
  private static final CertificateFiles PROXY_WIDE = new CertificateFiles(DEFAULT_INTERVAL);

  private final Duration interval;
  private final List<Watch> watches = new CopyOnWriteArrayList<>();
  private ScheduledExecutorService timer;
  private boolean closed;

  /** Files checked every {@code interval} once something is watched. */
  public CertificateFiles(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval: " + interval + " (expected: > 0)");
    }
    this.interval = interval;
  }

  /** The instance every TLS setting and listener of this JVM's proxies is watched by. */
  public static CertificateFiles proxyWide() {
    return PROXY_WIDE;
  }

  /** How often the files are checked. */
  public Duration interval() {
    return interval;
  }

  /**
   * Watches {@code files} (empty paths are skipped) as they are now; {@code onChange} runs on
   * the checking thread after a check saw one of them change (appear, vanish, be rewritten or
   * replaced), once per change. Close the watch to stop.
   */
  public Watch watch(List<String> files, Runnable onChange) {
    List<Path> paths = new ArrayList<>();
    for (String f : files) {
      if (f != null && !f.isEmpty()) {
        paths.add(Path.of(f));
      }
    }
    Watch w = new Watch(List.copyOf(paths), onChange);
    watches.add(w);
    startTimer();
    return w;
  }

  /** Stats every watched file now and runs the owners' reactions to changes; off event loops. */
  public synchronized void check() {
    for (Watch w : watches) {
      w.checkHeld();
    }
  }

  private synchronized void startTimer() {
    if (timer != null || closed) {
      return;
    }
    timer = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "meshlog-certificate-files");
      t.setDaemon(true);
      return t;
    });
    long millis = interval.toMillis();
    timer.scheduleWithFixedDelay(this::check, millis, millis, TimeUnit.MILLISECONDS);
  }

  /** Stops checking. */
  @Override
  public synchronized void close() {
    closed = true;
    watches.clear();
    if (timer != null) {
      timer.shutdownNow();
    }
  }

  /** What a file looks like on disk: changed when any part differs. */
  private record Stamp(long modifiedNanos, long size, Object fileKey) {
    static final Stamp MISSING = new Stamp(-1, -1, null);
  }

  private static List<Stamp> stamps(List<Path> files) {
    List<Stamp> out = new ArrayList<>(files.size());
    for (Path p : files) {
      try {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class);
        out.add(new Stamp(a.lastModifiedTime().to(TimeUnit.NANOSECONDS), a.size(), a.fileKey()));
      } catch (IOException | RuntimeException e) {
        out.add(Stamp.MISSING);
      }
    }
    return out;
  }

  /** Some files watched for one owner. */
  public final class Watch implements AutoCloseable {
    private final List<Path> files;
    private final Runnable onChange;
    private volatile List<Stamp> seen;

    private Watch(List<Path> files, Runnable onChange) {
      this.files = files;
      this.onChange = Objects.requireNonNull(onChange, "onChange");
      this.seen = stamps(files);
    }

    /** Stats these files now and reacts if they changed, as {@link CertificateFiles#check()}. */
    public void check() {
      synchronized (CertificateFiles.this) {
        checkHeld();
      }
    }

    private void checkHeld() {
      List<Stamp> now = stamps(files);
      if (now.equals(seen)) {
        return;
      }
      seen = now;
      try {
        onChange.run();
      } catch (RuntimeException e) {
        LOG.warn("certificate files {}: reacting to their change failed: {}", files,
            e.toString());
      }
    }

    /** Stops watching these files. */
    @Override
    public void close() {
      watches.remove(this);
    }
  }
}
