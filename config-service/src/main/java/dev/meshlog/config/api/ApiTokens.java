package dev.meshlog.config.api;

import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.RuntimeJsonMappingException;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import com.fasterxml.jackson.dataformat.csv.CsvParser;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The bearer tokens the HTTP API accepts, read from {@code --api-token-file}: either one shared
 * token (the file as it always was: one token, no comma, no line break; it may do everything and
 * names nobody) or a tokens file in the Kubernetes API server's static token format
 * ({@code --token-auth-file}), one line per token: {@code token,user,uid,"roles"}, where roles
 * are {@code read} or {@code write} (or both, quoted: {@code "read,write"}), the uid is kept for
 * the format's sake and may be empty, and {@code #} starts a comment line.
 *
 * <p>Only a SHA-256 digest of each token is kept; a presented token is hashed and compared with
 * every entry in constant time ({@link MessageDigest#isEqual} on equal-length digests, no early
 * exit), so neither a token's content, its length nor its place in the file shows in the timing.
 * No message of this class contains a token.
 */
public final class ApiTokens {

  /** The shortest token accepted: shorter ones are guessable. */
  public static final int MIN_TOKEN_LENGTH = 16;

  private static final String FORMAT = "token,user,uid,\"roles\" with roles read or write,"
      + " e.g. 3f9c...e1,ana,,write";

  /** One CSV line as an array of its fields, no header, spaces around unquoted fields dropped. */
  private static final ObjectReader CSV_LINE = new CsvMapper()
      .enable(CsvParser.Feature.WRAP_AS_ARRAY)
      .enable(CsvParser.Feature.TRIM_SPACES)
      .readerFor(String[].class)
      .with(CsvSchema.emptySchema());

  private record Entry(byte[] digest, Caller caller) {}

  private final List<Entry> entries;
  private final boolean perUser;

  private ApiTokens(List<Entry> entries, boolean perUser) {
    this.entries = List.copyOf(entries);
    this.perUser = perUser;
  }

  /** One shared token that may do everything and names nobody (the one-token file). */
  public static ApiTokens single(String token) {
    String stripped = token.strip();
    if (stripped.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException("the token has " + stripped.length()
          + " characters (expected: at least " + MIN_TOKEN_LENGTH + ")");
    }
    return new ApiTokens(List.of(new Entry(digest(stripped), Caller.SHARED)), false);
  }

  /**
   * Reads a token file's text. {@code source} names the file in errors ({@code --api-token-file
   * /etc/meshlog/tokens}); an error names it and the line, never the token.
   *
   * @throws IllegalArgumentException what is wrong, with the source and the line
   */
  public static ApiTokens parse(String source, String text) {
    String stripped = text.strip();
    if (stripped.isEmpty()) {
      throw new IllegalArgumentException(source + ": empty (expected: one token, or lines "
          + FORMAT + ")");
    }
    if (stripped.indexOf(',') < 0 && stripped.indexOf('\n') < 0 && stripped.indexOf('\r') < 0) {
      try {
        return single(stripped);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": line " + lineOf(text, stripped) + ": "
            + e.getMessage());
      }
    }
    List<Entry> entries = new ArrayList<>();
    Map<String, Integer> lineByDigest = new HashMap<>();
    String[] lines = text.split("\r?\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      int number = i + 1;
      try {
        Entry entry = entry(line);
        String key = java.util.HexFormat.of().formatHex(entry.digest());
        Integer earlier = lineByDigest.putIfAbsent(key, number);
        if (earlier != null) {
          throw new IllegalArgumentException("the same token as line " + earlier
              + " (expected: each token on one line only)");
        }
        entries.add(entry);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(source + ": line " + number + ": " + e.getMessage());
      }
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(source + ": no tokens, only comments (expected: lines "
          + FORMAT + ")");
    }
    return new ApiTokens(entries, true);
  }

  private static Entry entry(String line) {
    List<String> fields = fields(line);
    if (fields.size() < 2 || fields.get(1).isEmpty()) {
      throw new IllegalArgumentException("no user (expected: " + FORMAT + ")");
    }
    String token = fields.get(0);
    if (token.length() < MIN_TOKEN_LENGTH) {
      throw new IllegalArgumentException("the token has " + token.length()
          + " characters (expected: at least " + MIN_TOKEN_LENGTH + ")");
    }
    String user = fields.get(1);
    if (user.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException("the user has a control character (expected: a name"
          + " as it should appear in the audit log)");
    }
    // Not named in these two: in a line of the wrong shape the "user" may be part of a
    // secret, e.g. a one-token file's token that holds a comma.
    if (fields.size() < 4) {
      throw new IllegalArgumentException("no roles: " + fields.size() + " columns (expected 4: "
          + FORMAT + "; the uid may be empty)");
    }
    if (fields.size() > 4) {
      throw new IllegalArgumentException(fields.size() + " columns (expected 4: " + FORMAT
          + "; several roles are quoted: \"read,write\")");
    }
    Access access = Access.NONE;
    for (String role : fields.get(3).split(",", -1)) {
      Access granted = switch (role.strip()) {
        case "read" -> Access.READ;
        case "write" -> Access.WRITE;
        case "" -> throw new IllegalArgumentException("no roles for user " + user
            + " (expected: read or write)");
        default -> throw new IllegalArgumentException("unknown role " + role.strip()
            + " for user " + user + " (expected: read or write)");
      };
      access = granted.covers(access) ? granted : access;
    }
    return new Entry(digest(token), new Caller(user, access));
  }

  /**
   * A line's comma-separated fields, each stripped; a field may be double-quoted (a comma inside
   * it, {@code ""} for a quote), as in CSV and the Kubernetes token file (read with Jackson's CSV
   * parser). Jackson's own message is not passed on: it may quote the line, token and all.
   */
  static List<String> fields(String line) {
    try (MappingIterator<String[]> rows = CSV_LINE.readValues(line)) {
      String[] row = rows.hasNext() ? rows.next() : new String[] {""};
      if (rows.hasNext()) {
        throw new IllegalArgumentException("more than one row on one line (expected: "
            + FORMAT + ")");
      }
      return Arrays.stream(row).map(String::strip).toList();
    } catch (IOException | RuntimeJsonMappingException e) {
      throw new IllegalArgumentException("not a CSV line: a quote that is not closed, or text"
          + " after a closing quote (expected: " + FORMAT + ")");
    }
  }

  /** The 1-based line on which {@code stripped} starts in {@code text}. */
  private static int lineOf(String text, String stripped) {
    String before = text.substring(0, text.indexOf(stripped));
    return (int) before.chars().filter(c -> c == '\n').count() + 1;
  }

  private static byte[] digest(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-256", e);
    }
  }

  /** The caller a presented token stands for, if it is one of these. */
  public Optional<Caller> caller(String token) {
    byte[] presented = digest(token);
    Caller found = null;
    for (Entry entry : entries) {
      // every entry is compared: the time does not tell which one matched, or that one did
      if (MessageDigest.isEqual(entry.digest(), presented)) {
        found = entry.caller();
      }
    }
    return Optional.ofNullable(found);
  }

  /** Whether these are per-user tokens (a tokens file) rather than the one shared token. */
  public boolean perUser() {
    return perUser;
  }

  /** How many tokens there are. */
  public int size() {
    return entries.size();
  }

  /**
   * What the tokens grant, for a start-up line: {@code 3 tokens: ana (write), ci (write), grafana
   * (read)}, or {@code one shared token}; no token appears in it.
   */
  public String summary() {
    if (!perUser) {
      return "one shared token";
    }
    Map<String, Access> byUser = new LinkedHashMap<>();
    entries.forEach(e -> byUser.merge(e.caller().user(), e.caller().access(),
        (a, b) -> a.covers(b) ? a : b));
    return entries.size() + (entries.size() == 1 ? " token: " : " tokens: ")
        + byUser.entrySet().stream().map(e -> e.getKey() + " (" + e.getValue().label() + ")")
            .collect(Collectors.joining(", "));
  }
}
