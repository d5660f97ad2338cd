package dev.meshlog.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A real headless Chromium (Debian's {@code chromium} package) for tests of web pages: loads a
 * page, lets its scripts run for a virtual-time budget, and returns the DOM they left or writes
 * a screenshot. One fresh profile directory per call, so runs do not share cookies or caches.
 */
public final class HeadlessChromium {

  /** Where Debian's package puts the browser. */
  public static final Path BINARY = Path.of("/usr/bin/chromium");

  private static final long EXIT_SECONDS = 90;

  private final Path profiles;

  /**
   * @param profiles a directory for the browser's throw-away profiles (a test's temp dir)
   */
  public HeadlessChromium(Path profiles) {
    this.profiles = profiles;
  }

  /** Whether the browser is installed here; tests skip (with this reason) when it is not. */
  public static boolean installed() {
    return Files.isExecutable(BINARY);
  }

  /** The DOM of {@code url} after its scripts ran for {@code budgetMillis} of virtual time. */
  public String dumpDom(String url, int budgetMillis) throws IOException, InterruptedException {
    return run(url, budgetMillis, "--dump-dom");
  }

  /** A 1280×900 screenshot of {@code url} after {@code budgetMillis} of virtual time. */
  public void screenshot(String url, int budgetMillis, Path png)
      throws IOException, InterruptedException {
    Files.createDirectories(png.toAbsolutePath().getParent());
    run(url, budgetMillis, "--screenshot=" + png.toAbsolutePath(), "--hide-scrollbars");
  }

  private String run(String url, int budgetMillis, String... extra)
      throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(profiles, "chromium");
    List<String> command = new ArrayList<>(List.of(BINARY.toString(), "--headless",
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run",
        "--disable-dev-shm-usage", "--user-data-dir=" + profile, "--window-size=1280,900",
        "--virtual-time-budget=" + budgetMillis));
    command.addAll(List.of(extra));
    command.add(url);
    Process process = new ProcessBuilder(command)
        .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    byte[] out = process.getInputStream().readAllBytes();
    if (!process.waitFor(EXIT_SECONDS, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new IOException("chromium did not exit within " + EXIT_SECONDS + " s: " + url);
    }
    if (process.exitValue() != 0) {
      throw new IOException("chromium exited with " + process.exitValue() + ": " + url);
    }
    return new String(out, StandardCharsets.UTF_8);
  }
}
