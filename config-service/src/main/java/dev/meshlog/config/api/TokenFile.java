package dev.meshlog.config.api;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Supplier;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API's token file ({@code --api-token-file}): read at start, where a bad file stops the
 * start, and read again by {@link #refresh()} (every {@link #refreshInterval()}, by default
 * {@link #REFRESH_INTERVAL}, under {@link ConfigApi}) so that a revoked token stops working without a restart. A file that is
 * unreadable or malformed on a refresh is logged (its line, never a token) and the tokens read
 * last stay in force: an edit in progress must not lock every caller out.
 */
public final class TokenFile implements Supplier<ApiTokens> {

  private static final Logger LOG = LoggerFactory.getLogger(TokenFile.class);

  /** How often {@link ConfigApi} reads the file again, unless told otherwise. */
  public static final Duration REFRESH_INTERVAL = Duration.ofSeconds(5);

  private final Path path;
  private final String source;
  private final Duration refreshInterval;
  private volatile ApiTokens current;
  /** The bytes {@link #current} was read from, and the last problem logged: each logged once. */
  private byte[] read;
  private String problem;
  /** Bytes read once and different from {@link #read}: put in force if the next read agrees. */
  private byte[] pending;

  private TokenFile(Path path, String source, Duration refreshInterval, ApiTokens current,
                    byte[] read) {
    this.path = path;
    this.source = source;
    this.refreshInterval = refreshInterval;
    this.current = current;
    this.read = read;
  }

  /**
   * Reads the file.
   *
   * @param path the file
   * @param source how errors name it, e.g. {@code --api-token-file /etc/meshlog/tokens}
   * @throws IllegalArgumentException the file cannot be read or is malformed: the message names
   *     {@code source} and the line
   */
  public static TokenFile load(Path path, String source) {
    Objects.requireNonNull(path, "path");
    byte[] bytes = bytes(path, source);
    return new TokenFile(path, source, REFRESH_INTERVAL,
        ApiTokens.parse(source, text(bytes, source)), bytes);
  }

  /** This file, read again every {@code interval} instead (tests: a revocation seen at once). */
  public synchronized TokenFile refreshingEvery(Duration interval) {
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("refresh interval: " + interval
          + " (expected: more than 0)");
    }
    return new TokenFile(path, source, interval, current, read);
  }

  /** How often {@link ConfigApi} reads the file again. */
  public Duration refreshInterval() {
    return refreshInterval;
  }

  private static byte[] bytes(Path path, String source) {
    try {
      return Files.readAllBytes(path);
    } catch (IOException e) {
      throw new IllegalArgumentException(source + ": cannot read it (" + e + ")");
    }
  }

  private static String text(byte[] bytes, String source) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException(source + ": not UTF-8 text (expected: a UTF-8 file)");
    }
  }

  /** The tokens in force. */
  @Override
  public ApiTokens get() {
    return current;
  }

  /**
   * Reads the file again (blocking I/O: not on an event loop) and puts its tokens in force if it
   * changed, the change has settled and the file is well formed; otherwise logs a problem once
   * and keeps the tokens in force. A change settles when two reads in a row (one
   * {@link #refreshInterval()} apart) find the same bytes: a file caught half-written, which
   * may well parse with tokens missing, is never put in force, at the price of one interval
   * more before a change takes effect.
   *
   * @return whether the tokens in force changed
   */
  public synchronized boolean refresh() {
    try {
      byte[] bytes = bytes(path, source);
      if (Arrays.equals(bytes, read)) {
        pending = null;
        problem = null;
        return false;
      }
      if (!Arrays.equals(bytes, pending)) {
        pending = bytes; // changed since the last read: still being written, perhaps
        return false;
      }
      ApiTokens tokens = ApiTokens.parse(source, text(bytes, source));
      current = tokens;
      read = bytes;
      pending = null;
      problem = null;
      LOG.info("{}: read again, {} in force", source, tokens.summary());
      return true;
    } catch (IllegalArgumentException e) {
      if (!e.getMessage().equals(problem)) {
        problem = e.getMessage();
        LOG.error("{}; the tokens read before stay in force until the file is fixed",
            e.getMessage());
      }
      return false;
    }
  }

  /** How errors name the file. */
  public String source() {
    return source;
  }
}
