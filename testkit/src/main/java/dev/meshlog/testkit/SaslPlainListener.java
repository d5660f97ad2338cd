package dev.meshlog.testkit;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import javax.security.auth.callback.Callback;
import javax.security.auth.callback.NameCallback;
import javax.security.auth.callback.UnsupportedCallbackException;
import javax.security.auth.login.AppConfigurationEntry;

import org.apache.kafka.common.security.auth.AuthenticateCallbackHandler;
import org.apache.kafka.common.security.plain.PlainAuthenticateCallback;

/**
 * An embedded broker's extra {@code SASL_PLAINTEXT} listener with the {@code PLAIN} mechanism,
 * for tests of processes that must authenticate to their Kafka. Its users are added by the tests
 * at any time ({@link #addUser}); the broker checks them through {@link Users}, a server callback
 * handler reading this JVM's user table. No authorizer runs: an authenticated user may do
 * anything. The broker's own (PLAINTEXT) listener and its controller listener are unchanged.
 */
public final class SaslPlainListener {

  /** The listener's name in the broker's config. */
  static final String NAME = "SASL";

  /** Users of every embedded broker in this JVM (one per JVM, as {@link KafkaExtension} keeps). */
  private static final Map<String, String> USERS = new ConcurrentHashMap<>();

  /** Users who authenticated at least once, so tests can tell which process came in how. */
  private static final Set<String> AUTHENTICATED = ConcurrentHashMap.newKeySet();

  private final int port;

  SaslPlainListener(int port) {
    this.port = port;
  }

  /** Broker settings adding the listener on {@code port} to {@code props}. */
  static void configure(Properties props, int port) {
    String prefix = "listener.name." + NAME.toLowerCase(java.util.Locale.ROOT) + ".";
    props.put("listeners", props.getProperty("listeners") + "," + NAME + "://127.0.0.1:" + port);
    props.put("advertised.listeners", props.getProperty("advertised.listeners") + "," + NAME
        + "://127.0.0.1:" + port);
    props.put("listener.security.protocol.map", props.getProperty("listener.security.protocol.map")
        + "," + NAME + ":SASL_PLAINTEXT");
    props.put(prefix + "sasl.enabled.mechanisms", "PLAIN");
    props.put(prefix + "plain.sasl.jaas.config",
        "org.apache.kafka.common.security.plain.PlainLoginModule required;");
    props.put(prefix + "plain.sasl.server.callback.handler.class", Users.class.getName());
  }

  /** The {@code bootstrap.servers} value of this listener. */
  public String bootstrapServers() {
    return "127.0.0.1:" + port;
  }

  /** Lets {@code user} in with {@code password} from now on (replacing an earlier password). */
  public void addUser(String user, String password) {
    USERS.put(user, password);
  }

  /** Whether {@code user} has authenticated on this listener since the broker started. */
  public boolean hasAuthenticated(String user) {
    return AUTHENTICATED.contains(user);
  }

  /**
   * The client settings of {@code user} with {@code password} on this listener, as a client
   * properties file holds them ({@code security.protocol}, {@code sasl.mechanism},
   * {@code sasl.jaas.config}; no bootstrap servers).
   */
  public static Properties clientProperties(String user, String password) {
    Properties props = new Properties();
    props.setProperty("security.protocol", "SASL_PLAINTEXT");
    props.setProperty("sasl.mechanism", "PLAIN");
    props.setProperty("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule"
        + " required username=\"" + user + "\" password=\"" + password + "\";");
    return props;
  }

  /** Writes {@link #clientProperties} to {@code file} and returns it. */
  public static Path writeClientProperties(Path file, String user, String password)
      throws IOException {
    try (var out = Files.newOutputStream(file)) {
      clientProperties(user, password).store(out, "Kafka client settings of " + user);
    }
    return file;
  }

  /** The broker's check of a {@code PLAIN} user against the table tests fill. */
  public static final class Users implements AuthenticateCallbackHandler {

    @Override
    public void configure(Map<String, ?> configs, String mechanism,
                          List<AppConfigurationEntry> jaasConfigEntries) {
    }

    @Override
    public void handle(Callback[] callbacks) throws UnsupportedCallbackException {
      String user = null;
      for (Callback callback : callbacks) {
        if (callback instanceof NameCallback name) {
          user = name.getDefaultName();
        } else if (callback instanceof PlainAuthenticateCallback plain) {
          String expected = user == null ? null : USERS.get(user);
          boolean ok = expected != null && Arrays.equals(expected.toCharArray(), plain.password());
          plain.authenticated(ok);
          if (ok) {
            AUTHENTICATED.add(user);
          }
        } else {
          throw new UnsupportedCallbackException(callback);
        }
      }
    }

    @Override
    public void close() {
    }
  }
}
