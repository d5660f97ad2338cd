package dev.meshlog.config.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CopyOnWriteArraySet;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyEncryptionContext;
import org.apache.sshd.common.config.keys.writer.openssh.OpenSSHKeyPairResourceWriter;
import org.apache.sshd.common.keyprovider.KeyPairProvider;
import org.apache.sshd.server.Environment;
import org.apache.sshd.server.ExitCallback;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.channel.ChannelSession;
import org.apache.sshd.server.command.Command;
import org.apache.sshd.server.command.CommandFactory;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.UploadPack;

/**
 * A real SSH git server on loopback (port 0): Apache MINA SSHD's server (the classes JGit's SSH
 * transport brings, {@code sshd-osgi}) with public-key authentication only, answering
 * {@code git-upload-pack '/name'} with JGit's {@code UploadPack} on the repository in
 * {@code root/name}. Its host key is generated and can be replaced while it runs (a re-keyed host,
 * or someone in the middle), and the keys it accepts can be changed. It records the users and key
 * fingerprints that tried to log in.
 */
public final class GitSshServer implements AutoCloseable {

  private final Path root;
  private final SshServer server;
  private final AtomicReference<KeyPair> hostKey = new AtomicReference<>(newKeyPair());
  private final Set<PublicKey> authorized = new CopyOnWriteArraySet<>();
  private final List<String> logins = new CopyOnWriteArrayList<>();

  private GitSshServer(Path root) throws IOException {
    this.root = root;
    server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    server.setKeyPairProvider(session -> List.of(hostKey.get()));
    server.setPasswordAuthenticator(null);
    server.setKeyboardInteractiveAuthenticator(null);
    server.setGSSAuthenticator(null);
    server.setHostBasedAuthenticator(null);
    server.setPublickeyAuthenticator((user, key, session) -> {
      logins.add(user + " " + KeyUtils.getFingerPrint(key));
      return authorized.stream().anyMatch(k -> KeyUtils.compareKeys(k, key));
    });
    server.setCommandFactory(new UploadPackFactory());
    server.start();
  }

  /** A server of the repositories under {@code root}, accepting {@code keys}. */
  public static GitSshServer start(Path root, PublicKey... keys) throws IOException {
    GitSshServer server = new GitSshServer(root);
    server.authorized.addAll(List.of(keys));
    return server;
  }

  /** A new ECDSA P-256 key pair (fast to make; any type OpenSSH reads would do). */
  public static KeyPair newKeyPair() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(256);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Writes {@code key} as an OpenSSH private key file, encrypted if {@code passphrase} is set. */
  public static Path writePrivateKey(KeyPair key, Path file, String passphrase) throws IOException {
    OpenSSHKeyEncryptionContext encryption = null;
    if (passphrase != null) {
      encryption = new OpenSSHKeyEncryptionContext();
      encryption.setPassword(passphrase);
      encryption.setCipherName("AES");
      encryption.setCipherMode("CTR");
      encryption.setCipherType("256");
    }
    try (OutputStream out = Files.newOutputStream(file)) {
      OpenSSHKeyPairResourceWriter.INSTANCE.writePrivateKey(key, "deploy@meshlog-test", encryption,
          out);
    } catch (GeneralSecurityException e) {
      throw new IOException(e);
    }
    return file;
  }

  /** The URL of the repository in {@code root/name} for {@code user}. */
  public String url(String user, String name) {
    return "ssh://" + user + "@127.0.0.1:" + port() + "/" + name;
  }

  /** The port it listens on. */
  public int port() {
    return server.getPort();
  }

  /** The known_hosts line of its current host key, as {@code ssh-keyscan} prints it. */
  public String knownHostsLine() {
    return "[127.0.0.1]:" + port() + " " + PublicKeyEntry.toString(hostKey.get().getPublic());
  }

  /** Its current host key's SHA-256 fingerprint, as ssh prints it. */
  public String hostKeyFingerprint() {
    return KeyUtils.getFingerPrint(hostKey.get().getPublic());
  }

  /** Gives it a new host key from the next connection on. */
  public void changeHostKey() {
    hostKey.set(newKeyPair());
  }

  /** Accepts {@code key} from now on. */
  public void authorize(PublicKey key) {
    authorized.add(key);
  }

  /** Every login attempt, as {@code user SHA256:fingerprint}. */
  public List<String> logins() {
    return List.copyOf(logins);
  }

  @Override
  public void close() throws IOException {
    server.stop(true);
  }

  /** {@code git-upload-pack '/name'} (what git and JGit send over SSH) on {@code root/name}. */
  private final class UploadPackFactory implements CommandFactory {
    @Override
    public Command createCommand(ChannelSession channel, String command) throws IOException {
      List<String> words = CommandFactory.split(command);
      if (words.size() != 2 || !words.get(0).equals("git-upload-pack")) {
        throw new IOException("not supported: " + command);
      }
      String name = words.get(1).replaceAll("^'|'$", "").replaceAll("^/+", "");
      Path dir = root.resolve(name).normalize();
      if (!dir.startsWith(root) || !Files.isDirectory(dir)) {
        throw new IOException("no repository " + name);
      }
      return new UploadPackCommand(dir);
    }
  }

  private static final class UploadPackCommand implements Command {
    private final Path dir;
    private InputStream in;
    private OutputStream out;
    private OutputStream err;
    private ExitCallback exit;

    UploadPackCommand(Path dir) {
      this.dir = dir;
    }

    @Override
    public void setInputStream(InputStream in) {
      this.in = in;
    }

    @Override
    public void setOutputStream(OutputStream out) {
      this.out = out;
    }

    @Override
    public void setErrorStream(OutputStream err) {
      this.err = err;
    }

    @Override
    public void setExitCallback(ExitCallback callback) {
      this.exit = callback;
    }

    @Override
    public void start(ChannelSession channel, Environment env) {
      Thread thread = new Thread(() -> {
        int code = 0;
        try (Repository repo = open(dir)) {
          new UploadPack(repo).upload(in, out, err);
          out.flush();
        } catch (IOException | RuntimeException e) {
          code = 1;
          try {
            err.write((e + "\n").getBytes(StandardCharsets.UTF_8));
            err.flush();
          } catch (IOException ignored) {
            // the client is gone
          }
        }
        exit.onExit(code);
      }, "git-upload-pack");
      thread.setDaemon(true);
      thread.start();
    }

    private static Repository open(Path dir) throws IOException {
      FileRepositoryBuilder builder = new FileRepositoryBuilder();
      Path git = dir.resolve(".git");
      return (Files.isDirectory(git) ? builder.setGitDir(git.toFile())
          : builder.setGitDir(dir.toFile()).setBare()).build();
    }

    @Override
    public void destroy(ChannelSession channel) {
      // upload-pack ends when the client closes the channel
    }
  }

  /** For a test's messages: where it serves. */
  @Override
  public String toString() {
    return "git over ssh at 127.0.0.1:" + port() + " serving " + root;
  }

  /** The address it listens on. */
  public InetSocketAddress address() {
    return new InetSocketAddress("127.0.0.1", port());
  }
}
