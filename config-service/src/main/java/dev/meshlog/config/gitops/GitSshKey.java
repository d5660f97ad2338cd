package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import org.apache.sshd.common.NamedResource;
import org.apache.sshd.common.config.keys.FilePasswordProvider;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.util.security.SecurityUtils;

/**
 * The private key the bridge authenticates to an SSH git server with (a deploy key, as Argo CD's
 * {@code sshPrivateKey} and Flux's {@code identity} hold it), read from an OpenSSH or PEM key
 * file. Never printed: {@link #toString()} names the file and the public key's fingerprint.
 */
public final class GitSshKey {

  private final Path file;
  private final KeyPair keyPair;
  private final String fingerprint;

  private GitSshKey(Path file, KeyPair keyPair) {
    this.file = file;
    this.keyPair = keyPair;
    this.fingerprint = KeyUtils.getKeyType(keyPair.getPublic()) + " "
        + KeyUtils.getFingerPrint(keyPair.getPublic());
  }

  /**
   * The key in {@code file}, decrypted with the passphrase in {@code passphraseFile} if it is
   * encrypted.
   *
   * @param what how the user named the key file, for errors ({@code --git-ssh-key})
   * @param passphraseFile a file holding the key's passphrase on one line, or null for an
   *     unencrypted key
   * @param passphraseWhat how the user named the passphrase file, for errors
   * @throws IllegalArgumentException naming the file if it cannot be read, holds no private key
   *     (a public key, say), or is encrypted and no passphrase, or a wrong one, was given
   */
  public static GitSshKey fromFile(Path file, String what, Path passphraseFile,
                                   String passphraseWhat) {
    Objects.requireNonNull(file, "file");
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException | UncheckedIOException e) {
      throw new IllegalArgumentException(what + " " + file + ": cannot be read ("
          + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
          + ")", e);
    }
    String passphrase = null;
    if (passphraseFile != null) {
      try {
        passphrase = Files.readString(passphraseFile).strip();
      } catch (IOException | UncheckedIOException e) {
        throw new IllegalArgumentException(passphraseWhat + " " + passphraseFile + ": cannot be read ("
            + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage())
            + ")", e);
      }
      if (passphrase.isEmpty() || passphrase.lines().count() > 1) {
        throw new IllegalArgumentException(passphraseWhat + " " + passphraseFile + ": "
            + (passphrase.isEmpty() ? "empty" : "several lines")
            + " (expected: the key's passphrase, on one line)");
      }
    }
    List<String> asked = new ArrayList<>();
    String given = passphrase;
    FilePasswordProvider passwords = (session, resource, retry) -> {
      asked.add(resource.getName());
      return given;
    };
    Iterable<KeyPair> pairs;
    try (InputStream in = new java.io.ByteArrayInputStream(bytes)) {
      pairs = SecurityUtils.loadKeyPairIdentities(null, NamedResource.ofName(file.toString()), in,
          passwords);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      if (!asked.isEmpty() && given == null) {
        throw encrypted(file, what, e);
      }
      if (!asked.isEmpty()) {
        throw new IllegalArgumentException(what + " " + file + ": cannot be decrypted with the"
            + " passphrase in " + passphraseWhat + " " + passphraseFile
            + " (expected: the key's passphrase)", e);
      }
      throw new IllegalArgumentException(what + " " + file + ": not a private key ("
          + e.getClass().getSimpleName() + ") (expected: an OpenSSH private key, e.g. the file"
          + " ssh-keygen wrote as id_ed25519, not id_ed25519.pub)", e);
    }
    KeyPair pair = null;
    if (pairs != null) {
      for (KeyPair p : pairs) {
        pair = p;
        break;
      }
    }
    if (pair == null) {
      if (!asked.isEmpty() && given == null) {
        throw encrypted(file, what, null);
      }
      throw new IllegalArgumentException(what + " " + file + ": holds no private key (expected:"
          + " an OpenSSH private key, e.g. the file ssh-keygen wrote as id_ed25519, not"
          + " id_ed25519.pub)");
    }
    return new GitSshKey(file, pair);
  }

  private static IllegalArgumentException encrypted(Path file, String what, Exception cause) {
    return new IllegalArgumentException(what + " " + file + ": the key is encrypted with a"
        + " passphrase (expected: an unencrypted deploy key, or the passphrase in a file:"
        + " --git-ssh-key-passphrase-file FILE or $MESHLOG_GIT_SSH_KEY_PASSPHRASE_FILE)", cause);
  }

  /** The key pair, for the SSH client. */
  KeyPair keyPair() {
    return keyPair;
  }

  /** The file it was read from. */
  public Path file() {
    return file;
  }

  /** The public key's type and SHA-256 fingerprint, as {@code ssh-keygen -l} prints them. */
  public String fingerprint() {
    return fingerprint;
  }

  @Override
  public String toString() {
    return "key " + file + " (" + fingerprint + ")";
  }
}
