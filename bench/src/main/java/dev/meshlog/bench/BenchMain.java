package dev.meshlog.bench;

import java.util.Arrays;

/** Entry point of the benchmark jar: {@code java -jar bench/target/meshlog-bench.jar <bench> [options]}. */
public final class BenchMain {

  private BenchMain() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0) {
      System.err.println("usage: meshlog-bench config-propagation [--services N] [--instances-per-service N] [--applies N]");
      System.err.println(ProxyBench.USAGE);
      System.err.println(TelemetryPipelineBench.USAGE);
      System.err.println(SketchAccuracyBench.USAGE);
      System.exit(2);
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "config-propagation" -> ConfigPropagationBench.main(rest);
      case "proxy" -> ProxyBench.main(rest);
      case "telemetry-pipeline" -> TelemetryPipelineBench.main(rest);
      case "sketch-accuracy" -> SketchAccuracyBench.main(rest);
      default -> {
        System.err.println("unknown benchmark: " + args[0] + " (expected: config-propagation, proxy, telemetry-pipeline or sketch-accuracy)");
        System.exit(2);
      }
    }
  }
}
