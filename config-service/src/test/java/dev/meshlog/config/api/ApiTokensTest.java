package dev.meshlog.config.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The API's token file: the one-token form, the Kubernetes-style tokens file, and bad files. */
class ApiTokensTest {

  private static final String SOURCE = "--api-token-file /etc/meshlog/tokens";
  private static final String ANA = "ana-0123456789abcdef";
  private static final String CI = "ci-0123456789abcdef0";
  private static final String GRAFANA = "grafana-0123456789ab";

  @TempDir
  Path dir;

  private static ApiTokens parse(String text) {
    return ApiTokens.parse(SOURCE, text);
  }

  @Test
  void aFileOfOneTokenIsTheSharedTokenThatMayWriteAndNamesNobody() {
    ApiTokens tokens = parse("\n  s3cret-token-of-the-operator \n");

    assertThat(tokens.perUser()).isFalse();
    assertThat(tokens.caller("s3cret-token-of-the-operator")).contains(Caller.SHARED);
    assertThat(tokens.caller("s3cret-token-of-the-operatoR")).isEmpty();
    assertThat(tokens.summary()).isEqualTo("one shared token");
  }

  @Test
  void readsTheKubernetesTokenFileFormatWithRolesAsItsGroups() {
    ApiTokens tokens = parse("""
        # token,user,uid,"roles"
        %s,ana,1001,write
        %s,ci-deploy,,"read,write"

        %s,grafana,1003,read
        """.formatted(ANA, CI, GRAFANA));

    assertThat(tokens.perUser()).isTrue();
    assertThat(tokens.size()).isEqualTo(3);
    assertThat(tokens.caller(ANA)).contains(new Caller("ana", Access.WRITE));
    assertThat(tokens.caller(CI)).contains(new Caller("ci-deploy", Access.WRITE));
    assertThat(tokens.caller(GRAFANA)).contains(new Caller("grafana", Access.READ));
    assertThat(tokens.caller("someone-else-0123456789")).isEmpty();
    assertThat(tokens.summary()).isEqualTo(
        "3 tokens: ana (write), ci-deploy (write), grafana (read)")
        .doesNotContain(ANA, CI, GRAFANA);
  }

  @Test
  void oneUserMayHoldTwoTokensWhileOneIsRotated() {
    ApiTokens tokens = parse(ANA + ",ana,,write\r\n" + CI + ",ana,,write\r\n");

    assertThat(tokens.caller(ANA)).contains(new Caller("ana", Access.WRITE));
    assertThat(tokens.caller(CI)).contains(new Caller("ana", Access.WRITE));
    assertThat(tokens.summary()).isEqualTo("2 tokens: ana (write)");
  }

  @Test
  void aQuotedFieldMayHoldCommasAndQuotes() {
    assertThat(ApiTokens.fields("a, \"b,\"\"c\"\" \" ,,d,")).containsExactly("a", "b,\"c\"", "",
        "d", "");
  }

  @Test
  void refusesALineWithoutAUserNamingTheLineNotTheToken() {
    assertThatThrownBy(() -> parse(ANA + ",ana,,write\n" + CI + "\n"))
        .hasMessageStartingWith(SOURCE + ": line 2: no user (expected: token,user,uid,\"roles\"")
        .hasMessageNotContaining(CI);
    assertThatThrownBy(() -> parse(CI + ", ,,write\n"))
        .hasMessageStartingWith(SOURCE + ": line 1: no user");
  }

  @Test
  void refusesAnUnknownRole() {
    assertThatThrownBy(() -> parse(ANA + ",ana,,\"read,admin\""))
        .hasMessage(SOURCE + ": line 1: unknown role admin for user ana (expected: read or write)");
  }

  @Test
  void refusesALineWithoutRolesOrWithSeveralRolesUnquoted() {
    assertThatThrownBy(() -> parse(ANA + ",ana,1001"))
        .hasMessageStartingWith(SOURCE + ": line 1: no roles: 3 columns (expected 4");
    assertThatThrownBy(() -> parse(ANA + ",ana,1001,"))
        .hasMessage(SOURCE + ": line 1: no roles for user ana (expected: read or write)");
    assertThatThrownBy(() -> parse(ANA + ",ana,1001,read,write"))
        .hasMessageStartingWith(SOURCE + ": line 1: 5 columns (expected 4")
        .hasMessageContaining("several roles are quoted: \"read,write\"");
  }

  @Test
  void refusesADuplicateTokenNamingBothLines() {
    assertThatThrownBy(() -> parse(ANA + ",ana,,write\n# bob\n" + ANA + ",bob,,read\n"))
        .hasMessage(SOURCE + ": line 3: the same token as line 1 (expected: each token on one"
            + " line only)");
  }

  @Test
  void refusesATokenUnderSixteenCharacters() {
    assertThatThrownBy(() -> parse(ANA + ",ana,,write\nshort-token,bob,,read\n"))
        .hasMessage(SOURCE + ": line 2: the token has 11 characters (expected: at least 16)")
        .hasMessageNotContaining("short-token");
    assertThatThrownBy(() -> parse("\n\n  short\n"))
        .hasMessage(SOURCE + ": line 3: the token has 5 characters (expected: at least 16)");
  }

  @Test
  void aOneTokenFileWhoseTokenHoldsACommaIsRefusedWithoutShowingAnyPartOfIt() {
    assertThatThrownBy(() -> parse("first-half-0123456789,second-half-0123456789\n"))
        .hasMessageStartingWith(SOURCE + ": line 1: no roles: 2 columns (expected 4")
        .hasMessageNotContaining("first-half").hasMessageNotContaining("second-half");
  }

  @Test
  void refusesAnEmptyFileAndOneOfOnlyComments() {
    assertThatThrownBy(() -> parse(" \n\n"))
        .hasMessageStartingWith(SOURCE + ": empty (expected: one token, or lines");
    assertThatThrownBy(() -> parse("# token,user,uid,\"roles\"\n"))
        .hasMessageStartingWith(SOURCE + ": no tokens, only comments");
  }

  @Test
  void refusesAQuoteThatIsNotClosed() {
    assertThatThrownBy(() -> parse(ANA + ",ana,,\"read\n"))
        .hasMessageStartingWith(SOURCE + ": line 1: not a CSV line: a quote that is not closed")
        .hasMessageNotContaining(ANA);
  }

  @Test
  void refusesTextAfterAClosingQuoteWithoutQuotingTheLine() {
    assertThatThrownBy(() -> parse("\"" + ANA + "\"x,ana,,write\n"))
        .hasMessageStartingWith(SOURCE + ": line 1: not a CSV line")
        .hasMessageNotContaining(ANA);
  }

  @Test
  void aTokenFileThatCannotBeReadOrIsNotUtf8IsRefusedNamingIt() throws IOException {
    Path missing = dir.resolve("missing");
    assertThatThrownBy(() -> TokenFile.load(missing, "--api-token-file " + missing))
        .hasMessageStartingWith("--api-token-file " + missing + ": cannot read it");
    Path latin1 = Files.write(dir.resolve("latin1"), new byte[] {'c', 'a', 'f', (byte) 0xe9});
    assertThatThrownBy(() -> TokenFile.load(latin1, "F"))
        .hasMessage("F: not UTF-8 text (expected: a UTF-8 file)");
  }

  @Test
  void aRefreshPutsAChangedFileInForceSoARevokedTokenStopsWorking() throws IOException {
    Path file = Files.writeString(dir.resolve("tokens"),
        ANA + ",ana,,write\n" + GRAFANA + ",grafana,,read\n");
    TokenFile tokens = TokenFile.load(file, "F");
    assertThat(tokens.refresh()).as("unchanged").isFalse();

    Files.writeString(file, ANA + ",ana,,write\n");
    assertThat(tokens.refresh()).as("changed since the last read: not settled yet").isFalse();
    assertThat(tokens.get().caller(GRAFANA)).isPresent();
    assertThat(tokens.refresh()).as("the same bytes twice in a row").isTrue();

    assertThat(tokens.get().caller(GRAFANA)).isEmpty();
    assertThat(tokens.get().caller(ANA)).contains(new Caller("ana", Access.WRITE));
  }

  @Test
  void aRefreshIntervalIsFiveSecondsUnlessToldAndMustBePositive() throws IOException {
    Path file = Files.writeString(dir.resolve("tokens"), ANA + ",ana,,write\n");
    TokenFile tokens = TokenFile.load(file, "F");

    assertThat(tokens.refreshInterval()).isEqualTo(Duration.ofSeconds(5));
    assertThat(tokens.refreshingEvery(Duration.ofMillis(50)).refreshInterval())
        .isEqualTo(Duration.ofMillis(50));
    assertThatThrownBy(() -> tokens.refreshingEvery(Duration.ZERO))
        .hasMessage("refresh interval: PT0S (expected: more than 0)");
  }

  @Test
  void aMalformedEditKeepsTheTokensInForceUntilItIsFixed() throws IOException {
    Path file = Files.writeString(dir.resolve("tokens"), ANA + ",ana,,write\n");
    TokenFile tokens = TokenFile.load(file, "F");

    Files.writeString(file, ANA + ",ana,,write\n" + GRAFANA + ",grafana,,admin\n");
    assertThat(tokens.refresh()).isFalse();
    assertThat(tokens.get().caller(ANA)).isPresent();
    assertThat(tokens.get().caller(GRAFANA)).isEmpty();
    Files.delete(file);
    assertThat(tokens.refresh()).isFalse();
    assertThat(tokens.get().caller(ANA)).isPresent();

    Files.writeString(file, ANA + ",ana,,write\n" + GRAFANA + ",grafana,,read\n");
    assertThat(tokens.refresh()).isFalse();
    assertThat(tokens.refresh()).isTrue();
    assertThat(tokens.get().caller(GRAFANA)).contains(new Caller("grafana", Access.READ));
  }

  @Test
  void aFileCaughtHalfWrittenIsNeverPutInForce() throws IOException {
    Path file = Files.writeString(dir.resolve("tokens"),
        ANA + ",ana,,write\n" + GRAFANA + ",grafana,,read\n");
    TokenFile tokens = TokenFile.load(file, "F");

    // A rewrite in place, read when only its first line had been written: it parses, and would
    // revoke grafana's token until the next read.
    Files.writeString(file, ANA + ",ana,,write\n");
    assertThat(tokens.refresh()).isFalse();
    Files.writeString(file, ANA + ",ana,,write\n" + GRAFANA + ",grafana,,read\n");
    assertThat(tokens.refresh()).as("back to what is in force").isFalse();
    assertThat(tokens.refresh()).isFalse();
    assertThat(tokens.get().caller(GRAFANA)).contains(new Caller("grafana", Access.READ));
  }
}
