package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The proxy refuses flags it cannot run with before it starts anything: names that would make
 * telemetry's edge keys ambiguous, a lease too short to heartbeat.
 */
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

  @Test
  void refusesALeaseShorterThanASecond() {
    for (String lease : new String[] {"0s", "500ms", "PT-5S"}) {
      ProxyMain main = new ProxyMain();
      new CommandLine(main).parseArgs("--service", "s", "--app-port", "1", "--inbound-port", "0",
          "--outbound-port", "0", "--admin-port", "0",
          "--snapshot-file", dir.resolve("lease.views").toString(), "--lease", lease);
      assertThatThrownBy(main::start).as(lease).isInstanceOf(CommandLine.ParameterException.class)
          .hasMessageStartingWith("--lease: ")
          .hasMessageContaining("(expected: at least 1s;");
    }
  }

  @Test
  void refusesAnUnknownOutboundTrafficPolicy() {
    ProxyMain main = new ProxyMain();
    new CommandLine(main).parseArgs("--service", "s", "--app-port", "1", "--inbound-port", "0",
        "--outbound-port", "0", "--admin-port", "0",
        "--snapshot-file", dir.resolve("mode.views").toString(),
        "--outbound-traffic-policy", "DENY_ALL");
    assertThatThrownBy(main::start).isInstanceOf(CommandLine.ParameterException.class)
        .hasMessage("--outbound-traffic-policy: DENY_ALL (expected: REGISTRY_ONLY or ALLOW_ANY)");
  }
}
