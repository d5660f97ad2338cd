package dev.meshlog.schemas;

import java.util.List;

import org.apache.avro.SystemLimitException;
import org.apache.avro.util.ClassSecurityValidator;

/**
 * Process-wide Avro settings every Meshlog process needs before it decodes anything: Meshlog's
 * generated classes are trusted (Avro refuses to instantiate untrusted classes), and the lengths
 * a corrupt record can claim for a string, a byte array or a collection are bounded, so a bad
 * length prefix is an error rather than an out-of-memory.
 */
public final class AvroLimits {

  /** Largest string or bytes value a Meshlog record may hold: 8 MiB (Kafka's default message is 1 MiB). */
  public static final long MAX_BYTES = 8L << 20;
  /** Largest number of items in one array or map. */
  public static final long MAX_COLLECTION_ITEMS = 1_000_000L;

  private static final String TRUSTED_PACKAGE = "dev.meshlog.";
  private static volatile boolean installed;

  private AvroLimits() {}

  /**
   * Applies the settings once per JVM. Limits are read by Avro when it first loads its limit
   * class, so an explicit system property always wins and this must run before Avro decodes.
   */
  public static synchronized void install() {
    if (installed) {
      return;
    }
    for (String property : List.of(SystemLimitException.MAX_BYTES_LENGTH_PROPERTY,
        SystemLimitException.MAX_STRING_LENGTH_PROPERTY)) {
      if (System.getProperty(property) == null) {
        System.setProperty(property, Long.toString(MAX_BYTES));
      }
    }
    if (System.getProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY) == null) {
      System.setProperty(SystemLimitException.MAX_COLLECTION_LENGTH_PROPERTY,
          Long.toString(MAX_COLLECTION_ITEMS));
    }
    ClassSecurityValidator.ClassSecurityPredicate previous = ClassSecurityValidator.getGlobal();
    ClassSecurityValidator.setGlobal(ClassSecurityValidator.composite(previous,
        type -> type.getName().startsWith(TRUSTED_PACKAGE)));
    installed = true;
  }
}
