package dev.meshlog.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * A port the proxy is told to listen on that another process holds: the start fails with the
 * listener, the address and the flag that moves it, and releases what it had already bound.
 */
class ListenerInUseIT {

  @TempDir
  Path dir;

  @Test
  void anAdminPortInUseIsNamedWithItsFlagAndTheOtherListenersAreReleased() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
         ServerSocket inbound = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      int inboundPort = inbound.getLocalPort();
      inbound.close();
      StringWriter err = new StringWriter();
      CommandLine cli = ProxyMain.commandLine();
      cli.setErr(new PrintWriter(err, true));

      int code = cli.execute("--service", "reviews", "--app-port", "9", "--telemetry", "off",
          "--inbound-bind", "127.0.0.1", "--inbound-port", Integer.toString(inboundPort),
          "--outbound-port", "0", "--admin-port", Integer.toString(taken.getLocalPort()),
          "--snapshot-file", dir.resolve("p.views").toString());

      assertThat(code).isEqualTo(1);
      assertThat(err.toString()).isEqualTo("meshlog-proxy: admin port 127.0.0.1:"
          + taken.getLocalPort() + " is in use (another process listens there); choose another"
          + " with --admin-port (0: any free port)" + System.lineSeparator());
      // The inbound listener had bound before the admin port failed: it is closed again.
      try (ServerSocket again = new ServerSocket(inboundPort, 50,
          InetAddress.getLoopbackAddress())) {
        assertThat(again.getLocalPort()).isEqualTo(inboundPort);
      }
    }
  }
}
