package dev.meshlog.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The process's start-up checks that need no broker: a bad token file ends the start. */
class ConfigServiceMainTest {

  @TempDir
  Path dir;

  private record Run(int code, String err) {}

  private static Run configService(String... args) {
    StringWriter err = new StringWriter();
    CommandLine cli = new CommandLine(new ConfigServiceMain());
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, err.toString());
  }

  @Test
  void aMalformedTokensFileStopsTheStartNamingTheFileAndLineButNotTheToken() throws Exception {
    Path file = Files.writeString(dir.resolve("tokens.csv"),
        "writer-token-0123456789,ana,1001,write\nreader-token-0123456789,grafana,1002,viewer\n");

    // the file is read before any Kafka is asked for: this address is never dialled
    Run run = configService("--api-token-file", file.toString(), "--bootstrap-server",
        "127.0.0.1:1", "--data-dir", dir.toString());

    assertThat(run.code()).isEqualTo(2);
    assertThat(run.err()).contains("--api-token-file " + file + ": line 2: unknown role viewer"
        + " for user grafana (expected: read or write)")
        .doesNotContain("reader-token-0123456789", "writer-token-0123456789");
  }

  @Test
  void anEmptyTokenFileNamedByTheEnvironmentStopsTheStart() throws Exception {
    Path file = Files.writeString(dir.resolve("tokens.csv"), "\n");
    ConfigServiceMain main = new ConfigServiceMain();
    new CommandLine(main); // injects the command spec the usage error names

    assertThatThrownBy(() -> main.apiTokens(null, Map.of("MESHLOG_API_TOKEN_FILE",
        file.toString())))
        .isInstanceOf(CommandLine.ParameterException.class)
        .hasMessageStartingWith("MESHLOG_API_TOKEN_FILE " + file + ": empty");
  }
}
