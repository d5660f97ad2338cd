package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.meshlog.config.testing.GitSshServer;
import org.apache.sshd.common.config.keys.KeyUtils;
import org.apache.sshd.common.config.keys.PublicKeyEntry;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GitSshKeyTest {

  @TempDir
  Path dir;

  @Test
  void readsAnOpenSshKeyAndPrintsOnlyItsFileAndFingerprint() throws Exception {
    KeyPair pair = GitSshServer.newKeyPair();
    Path file = GitSshServer.writePrivateKey(pair, dir.resolve("id_ecdsa"), null);

    GitSshKey key = GitSshKey.fromFile(file, "--git-ssh-key", null, null);

    assertThat(KeyUtils.compareKeys(key.keyPair().getPublic(), pair.getPublic())).isTrue();
    assertThat(key.fingerprint()).isEqualTo("ecdsa-sha2-nistp256 "
        + KeyUtils.getFingerPrint(pair.getPublic()));
    assertThat(key.toString()).isEqualTo("key " + file + " (" + key.fingerprint() + ")")
        .doesNotContain(Files.readAllLines(file).get(1));
    assertThat(GitCredentials.ssh(key, List.of()).toString()).isEqualTo("ssh " + key);
  }

  @Test
  void anEncryptedKeyWithoutItsPassphraseSaysSo() throws Exception {
    Path file = GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), dir.resolve("id"), "pw");

    assertThatThrownBy(() -> GitSshKey.fromFile(file, "--git-ssh-key", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--git-ssh-key " + file + ": the key is encrypted with a passphrase")
        .hasMessageContaining("--git-ssh-key-passphrase-file");
  }

  @Test
  void aWrongPassphraseSaysSo() throws Exception {
    Path file = GitSshServer.writePrivateKey(GitSshServer.newKeyPair(), dir.resolve("id"), "pw");
    Path passphrase = Files.writeString(dir.resolve("passphrase"), "not it\n");

    assertThatThrownBy(() -> GitSshKey.fromFile(file, "--git-ssh-key", passphrase, "--git-ssh-key-passphrase-file"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be decrypted with the passphrase in --git-ssh-key-passphrase-file "
            + passphrase);
  }

  @Test
  void aPublicKeyOrAMissingFileIsNoKey() throws Exception {
    Path pub = Files.writeString(dir.resolve("id.pub"),
        PublicKeyEntry.toString(GitSshServer.newKeyPair().getPublic()) + "\n");

    assertThatThrownBy(() -> GitSshKey.fromFile(pub, "--git-ssh-key", null, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("--git-ssh-key " + pub + ": ")
        .hasMessageContaining("not id_ed25519.pub");
    assertThatThrownBy(() -> GitSshKey.fromFile(dir.resolve("missing"), "--git-ssh-key", null, null))
        .hasMessageContaining("--git-ssh-key " + dir.resolve("missing") + ": cannot be read");
  }

  @Test
  void readsTheEd25519KeySshKeygenWrites() throws Exception {
    Path keygen = Path.of("/usr/bin/ssh-keygen");
    Assumptions.assumeTrue(Files.isExecutable(keygen), "ssh-keygen is not installed");
    Path file = dir.resolve("id_ed25519");
    Process process = new ProcessBuilder(keygen.toString(), "-q", "-t", "ed25519", "-N", "", "-f",
        file.toString()).redirectErrorStream(true).start();
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isZero();

    GitSshKey key = GitSshKey.fromFile(file, "--git-ssh-key", null, null);

    String printed = Files.readString(dir.resolve("id_ed25519.pub")).split(" ")[1];
    assertThat(PublicKeyEntry.toString(key.keyPair().getPublic())).contains(printed);
    assertThat(key.fingerprint()).startsWith("ssh-ed25519 SHA256:");
  }
}
