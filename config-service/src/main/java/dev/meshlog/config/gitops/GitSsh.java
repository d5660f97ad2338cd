package dev.meshlog.config.gitops;

import java.io.File;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.eclipse.jgit.api.TransportConfigCallback;
import org.eclipse.jgit.internal.transport.sshd.OpenSshServerKeyDatabase;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

/**
 * One SSH connection's settings for JGit's Apache MINA SSHD transport: the one key given (never
 * the user's {@code ~/.ssh/id_*}, an ssh-agent, or {@code ~/.ssh/config}), public-key
 * authentication only, and the server's key checked strictly against the known hosts
 * ({@code StrictHostKeyChecking=yes}: an unknown or changed key fails the connection, nothing is
 * ever added to a known_hosts file). Made for each fetch, so a key or known_hosts file rewritten
 * under a running watch is read again; it remembers why it refused a host key, for the error.
 */
final class GitSsh implements TransportConfigCallback, AutoCloseable {

  /** The user's known_hosts files, as ssh and git read them when none is given. */
  static List<Path> defaultKnownHosts(Path home) {
    return List.of(home.resolve(".ssh").resolve("known_hosts"),
        Path.of("/etc/ssh/ssh_known_hosts"));
  }

  private final GitCredentials credentials;
  private final List<Path> knownHosts;
  private final SshdSessionFactory factory;
  private volatile String hostKeyRefusal;

  GitSsh(GitCredentials credentials) {
    this.credentials = credentials;
    File home = new File(System.getProperty("user.home"));
    this.knownHosts = credentials.knownHosts().isEmpty()
        ? defaultKnownHosts(home.toPath()) : credentials.knownHosts();
    List<java.security.KeyPair> keys = credentials.sshKey() == null ? List.of()
        : List.of(credentials.sshKey().keyPair());
    // JGit reads ~/.ssh only through these hooks; each is pointed away from it.
    this.factory = new SshdSessionFactoryBuilder()
        .setHomeDirectory(home)
        .setSshDirectory(new File(home, ".ssh"))
        .setConfigFile(dir -> null)
        .setDefaultIdentities(dir -> List.of())
        .setDefaultKeysProvider(dir -> keys)
        .setDefaultKnownHostsFiles(dir -> knownHosts)
        .setServerKeyDatabase((homeDir, sshDir) -> new StrictKnownHosts())
        .setPreferredAuthentications("publickey")
        .build(null);
  }

  @Override
  public void configure(org.eclipse.jgit.transport.Transport transport) {
    if (transport instanceof SshTransport ssh) {
      ssh.setSshSessionFactory(factory);
    }
  }

  /** Why the server's key was refused, or null if it was not. */
  String hostKeyRefusal() {
    return hostKeyRefusal;
  }

  /** The known_hosts files the server's key is looked up in. */
  List<Path> knownHosts() {
    return knownHosts;
  }

  @Override
  public void close() {
    factory.close();
  }

  private static String describe(PublicKey key) {
    return KeyUtils.getKeyType(key) + " " + KeyUtils.getFingerPrint(key);
  }

  /** JGit's OpenSSH known_hosts reader, with StrictHostKeyChecking=yes whatever is asked. */
  private final class StrictKnownHosts implements ServerKeyDatabase {
    private final OpenSshServerKeyDatabase delegate = new OpenSshServerKeyDatabase(false, knownHosts);

    private Configuration strict(Configuration asked) {
      List<String> files = knownHosts.stream().map(Path::toString).collect(Collectors.toList());
      return new Configuration() {
        @Override
        public List<String> getUserKnownHostsFiles() {
          return files;
        }

        @Override
        public List<String> getGlobalKnownHostsFiles() {
          return List.of();
        }

        @Override
        public StrictHostKeyChecking getStrictHostKeyChecking() {
          return StrictHostKeyChecking.REQUIRE_MATCH;
        }

        @Override
        public boolean getHashKnownHosts() {
          return false;
        }

        @Override
        public String getUsername() {
          return asked.getUsername();
        }
      };
    }

    @Override
    public List<PublicKey> lookup(String connectAddress, InetSocketAddress remoteAddress,
                                  Configuration config) {
      return delegate.lookup(connectAddress, remoteAddress, strict(config));
    }

    @Override
    public boolean accept(String connectAddress, InetSocketAddress remoteAddress,
                          PublicKey serverKey, Configuration config, CredentialsProvider provider) {
      Configuration strict = strict(config);
      boolean accepted;
      try {
        accepted = delegate.accept(connectAddress, remoteAddress, serverKey, strict, null);
      } catch (RuntimeException e) {
        accepted = false;
      }
      if (accepted) {
        return true;
      }
      String host = connectAddress;
      List<PublicKey> known;
      try {
        known = delegate.lookup(connectAddress, remoteAddress, strict);
      } catch (RuntimeException e) {
        known = List.of();
      }
      List<Path> existing = new ArrayList<>();
      for (Path file : knownHosts) {
        if (Files.isRegularFile(file)) {
          existing.add(file);
        }
      }
      String files = existing.isEmpty() ? "no known_hosts file (looked for " + join(knownHosts) + ")"
          : join(existing);
      Path target = credentials.knownHosts().isEmpty() ? knownHosts.get(0)
          : credentials.knownHosts().get(0);
      String keyscan = keyscan(remoteAddress, connectAddress, target);
      if (known.isEmpty()) {
        hostKeyRefusal = "the host key of " + host + " (" + describe(serverKey) + ") is not in "
            + files + "; nothing was trusted or written (expected: the host's key in a known_hosts"
            + " file, checked out of band: " + keyscan + ", then compare its fingerprint with the"
            + " one the git host publishes, and pass the file with --git-known-hosts or"
            + " $MESHLOG_GIT_KNOWN_HOSTS_FILE)";
      } else {
        hostKeyRefusal = "the host key of " + host + " CHANGED: the server offered "
            + describe(serverKey) + ", " + files + " hold "
            + known.stream().map(GitSsh::describe).collect(Collectors.joining(", "))
            + " (expected: the known key; this is someone in the middle, or the host was given a"
            + " new key: confirm the new key with its owner out of band, then replace the host's"
            + " line in the known_hosts file)";
      }
      return false;
    }
  }

  private static String keyscan(InetSocketAddress remote, String connectAddress, Path target) {
    String host = remote == null ? connectAddress : remote.getHostString();
    int port = remote == null ? 22 : remote.getPort();
    return "ssh-keyscan " + (port == 22 ? "" : "-p " + port + " ") + host + " >> " + target;
  }

  private static String join(List<Path> files) {
    return files.stream().map(Path::toString).collect(Collectors.joining(", "));
  }
}
