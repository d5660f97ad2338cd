package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The proxy refuses names that would make telemetry's edge keys ambiguous, before it starts anything. */
class ProxyMainNamesTest {

  @TempDir
  Path dir;

  private void assertRefused(String flag, String value, String... more) {
    List<String> args = new ArrayList<>(flag.equals("--service") ? List.of() : List.of("--service", "s"));
    args.addAll(List.of("--app-port", "1", "--inbound-port", "0",
        "--outbound-port", "0", "--admin-port", "0", "--snapshot-file", dir.resolve("refused.views").toString()));
    args.addAll(List.of(more));
    args.addAll(List.of(flag, value));
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs(args.toArray(String[]::new));
    assertThatThrownBy(main::start).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessage(flag + ": '" + value + "' (expected: no '/', '@' or '->', which separate the parts of"
            + " telemetry's edge keys; Kubernetes names never hold them)");
  }

  @Test
  void refusesServiceNamespaceAndVersionNamesHoldingAnEdgeKeySeparator() {
    assertRefused("--service", "reviews->ratings");
    assertRefused("--service", "shop/reviews");
    assertRefused("--namespace", "default@east");
    assertRefused("--version", "v1->default/c/v1");
  }
}
