package dev.meshlog.config.gitops;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class GitUrlsTest {

  @Test
  void takesTheUserAndPasswordOutOfAnHttpsUrl() {
    String url = "https://alice:ghp_T0ken@git.example.com:8443/team/mesh.git?x=1";
    assertThat(GitUrls.withoutCredentials(url)).isEqualTo("https://git.example.com:8443/team/mesh.git?x=1");
    assertThat(GitUrls.credentials(url)).contains(new GitCredentials("alice", "ghp_T0ken"));
  }

  @Test
  void decodesPercentEncodedCredentialsAndKeepsAnAtSignInThePassword() {
    String url = "https://bob%40corp:p%2Fa@ss@git.example.com/mesh";
    assertThat(GitUrls.withoutCredentials(url)).isEqualTo("https://git.example.com/mesh");
    assertThat(GitUrls.credentials(url)).contains(new GitCredentials("bob@corp", "p/a@ss"));
  }

  @Test
  void aTokenAloneIsThePasswordOfUserGit() {
    assertThat(GitUrls.credentials("https://:tok@host/r")).contains(new GitCredentials("git", "tok"));
    assertThat(GitUrls.withoutCredentials("https://tok@host/r")).isEqualTo("https://host/r");
  }

  @Test
  void aUserAloneInAnHttpUrlIsTakenOutButIsNoCredential() {
    assertThat(GitUrls.withoutCredentials("http://alice@host/r")).isEqualTo("http://host/r");
    assertThat(GitUrls.credentials("http://alice@host/r")).isEmpty();
    assertThat(GitUrls.hasUserInfo("http://alice@host/r")).isTrue();
  }

  @Test
  void sshKeepsItsUserButLosesAPassword() {
    assertThat(GitUrls.withoutCredentials("ssh://git@host/r")).isEqualTo("ssh://git@host/r");
    assertThat(GitUrls.withoutCredentials("ssh://git:pw@host/r")).isEqualTo("ssh://git@host/r");
    assertThat(GitUrls.credentials("ssh://git:pw@host/r")).isEmpty();
  }

  @Test
  void pathsAndScpLikeAddressesAreLeftAsTheyAre() {
    for (String repository : new String[] {"/srv/git/mesh", "../mesh-config", "git@github.com:org/mesh.git",
        "https://host/path/with@sign", "file:///srv/git/mesh"}) {
      assertThat(GitUrls.withoutCredentials(repository)).isEqualTo(repository);
      assertThat(GitUrls.credentials(repository)).isEmpty();
    }
  }

  @Test
  void aSourceNeverKeepsCredentialsInItsKeyButRecognisesTheKeyAnEarlierReleaseWrote() {
    GitSource source = new GitSource("https://alice:tok@host/mesh", "main", "mesh");
    assertThat(source.repository()).isEqualTo("https://host/mesh");
    assertThat(source.key()).isEqualTo("https://host/mesh#main#mesh");
    assertThat(source.isKeyWithCredentials("https://alice:tok@host/mesh#main#mesh")).isTrue();
    assertThat(source.isKeyWithCredentials("https://alice:other@host/mesh#main#mesh")).isTrue();
    assertThat(source.isKeyWithCredentials("https://host/mesh#main#mesh")).isFalse();
    assertThat(source.isKeyWithCredentials("https://alice:tok@host/mesh#dev#mesh")).isFalse();
    assertThat(source.isKeyWithCredentials("https://alice:tok@other/mesh#main#mesh")).isFalse();
  }

  @Test
  void credentialsAreNeverPrintedAndMustComeInPairs() {
    assertThat(new GitCredentials("alice", "s3cret").toString()).doesNotContain("s3cret").contains("alice");
    assertThatThrownBy(() -> new GitCredentials("alice", ""))
        .hasMessageContaining("git password: empty for user alice");
    assertThatThrownBy(() -> new GitCredentials("alice", "tok\n"))
        .hasMessageContaining("line break");
  }

  @Test
  void sshUrlsAndScpLikeAddressesAreSshAndLocalPathsAreNot() {
    assertThat(GitUrls.isSsh("ssh://git@host/org/mesh.git")).isTrue();
    assertThat(GitUrls.isSsh("git+ssh://git@host/org/mesh.git")).isTrue();
    assertThat(GitUrls.isSsh("git@github.com:org/mesh.git")).isTrue();
    assertThat(GitUrls.isSsh("host:mesh")).isTrue();
    for (String other : new String[] {"https://host/mesh", "/srv/git/mesh", "../mesh", "C:/mesh",
        "C:\\mesh", "./a:b", "file:///srv/mesh"}) {
      assertThat(GitUrls.isSsh(other)).as(other).isFalse();
    }
    assertThat(GitUrls.sshUser("git@github.com:org/mesh.git")).contains("git");
    assertThat(GitUrls.sshUser("ssh://deploy:pw@host/mesh")).contains("deploy");
    assertThat(GitUrls.sshUser("ssh://host/mesh")).isEmpty();
  }

  @Test
  void theScpLikeAndSshUrlSpellingsOfARepositoryAreOneSource() {
    GitSource scp = new GitSource("git@GitHub.com:org/mesh.git", "main", "mesh");
    GitSource url = new GitSource("ssh://git@github.com/org/mesh.git", "main", "mesh");
    GitSource port22 = new GitSource("ssh://git@github.com:22/org/mesh.git", "main", "mesh");

    assertThat(scp.key()).isEqualTo("ssh://git@github.com/org/mesh.git#main#mesh")
        .isEqualTo(url.key()).isEqualTo(port22.key());
    assertThat(scp.transactionalId()).isEqualTo(url.transactionalId());
    assertThat(scp.repository()).as("fetched as written").isEqualTo("git@GitHub.com:org/mesh.git");
    assertThat(new GitSource("ssh://git@host:2222/mesh", "main", "").key())
        .isEqualTo("ssh://git@host:2222/mesh#main#");
    assertThat(new GitSource("git@host:/srv/mesh", "main", "").key())
        .isEqualTo("ssh://git@host/srv/mesh#main#");
    assertThat(new GitSource("ssh://git@host/other", "main", "mesh").key()).isNotEqualTo(url.key());
  }
}
