package dev.meshlog.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The executable jar's command-line contract, run as a process (as compose and up run it). */
class ExamplesJarIT {

  private static final Path JAR = Path.of("target/meshlog-examples.jar");

  private Process run(Map<String, String> env, String... args) throws Exception {
    assertThat(JAR).as("built by the package phase").exists();
    List<String> command = new java.util.ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx48m",
        "-jar", JAR.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(env);
    return builder.start();
  }

  private static int listeningPort(Process process) throws Exception {
    BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8));
    for (String line = out.readLine(); line != null; line = out.readLine()) {
      if (line.startsWith("listening on port ")) {
        return Integer.parseInt(line.substring("listening on port ".length()).trim());
      }
    }
    throw new AssertionError("no 'listening on port N' line; exit " + process.waitFor());
  }

  @Test
  void printsTheChosenPortAndTakesItsSettingsFromTheEnvironment() throws Exception {
    Process details = run(Map.of("EXAMPLE_PORT", "0", "EXAMPLE_VERSION", "v3",
        "EXAMPLE_BIND", "127.0.0.1"), "details");
    try {
      int port = listeningPort(details);
      HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
          URI.create("http://127.0.0.1:" + port + "/details/0")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(answer.statusCode()).isEqualTo(200);
      assertThat(answer.body()).contains("\"servedBy\":\"details v3\"");
    } finally {
      details.destroy();
      assertThat(details.waitFor(20, TimeUnit.SECONDS)).isTrue();
    }
  }

  @Test
  void refusesAnUnknownAppWithTheListOfApps() throws Exception {
    Process process = run(Map.of(), "shop", "--port", "0");
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

    assertThat(process.waitFor(20, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(out).contains("app: shop (expected one of: [productpage, details, reviews, ratings, traffic])");
    assertThat(Files.exists(JAR)).isTrue();
  }
}
