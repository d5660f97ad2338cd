package dev.meshlog.compose;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Constructor;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * A main's picocli command, loaded from an image's own classpath (its jib-classpath-file, resolved
 * against where the image was unpacked): the flags it accepts are its options, the environment
 * variables it reads are the ones its options' defaults ({@code ${env:NAME}}) or descriptions
 * ({@code $NAME}, {@code env NAME}) name, each standing for that option.
 */
final class PicocliModel implements ProcessModel {

  private static final Pattern ENV_NAME = Pattern.compile("\\b([A-Z][A-Z0-9]*_[A-Z0-9_]*[A-Z0-9])\\b");

  private final String mainClass;
  private final ClassLoader loader;

  private PicocliModel(String mainClass, ClassLoader loader) {
    this.mainClass = mainClass;
    this.loader = loader;
  }

  /** The main of {@code image}, or empty when the image's classpath does not hold it. */
  static Optional<ProcessModel> load(ImageTar image, String mainClass) {
    List<URL> urls = new ArrayList<>();
    for (String entry : image.text("/app/jib-classpath-file").strip().split(":")) {
      try {
        if (entry.endsWith("/*")) {
          try (Stream<Path> jars = Files.list(image.local(entry.substring(0, entry.length() - 2)))) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).sorted().toList()) {
              urls.add(jar.toUri().toURL());
            }
          }
        } else {
          urls.add(image.local(entry).toUri().toURL());
        }
      } catch (MalformedURLException e) {
        throw new IllegalStateException(entry, e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    // Parent first: picocli's classes are the test's, so its annotations and API are shared.
    ClassLoader loader = new URLClassLoader(urls.toArray(URL[]::new), PicocliModel.class.getClassLoader());
    try {
      loader.loadClass(mainClass);
    } catch (ClassNotFoundException e) {
      return Optional.empty();
    }
    return Optional.of(new PicocliModel(mainClass, loader));
  }

  /** A fresh command line of the main. */
  CommandLine commandLine() {
    // As when the image runs it: Kafka's config classes (loaded by the main's static set-up)
    // resolve their default classes through the thread's context class loader.
    Thread thread = Thread.currentThread();
    ClassLoader previous = thread.getContextClassLoader();
    thread.setContextClassLoader(loader);
    try {
      return newCommandLine();
    } finally {
      thread.setContextClassLoader(previous);
    }
  }

  private CommandLine newCommandLine() {
    try {
      Class<?> main = loader.loadClass(mainClass);
      if (main.isAnnotationPresent(CommandLine.Command.class)) {
        Constructor<?> constructor = main.getDeclaredConstructor();
        constructor.setAccessible(true);
        return new CommandLine(constructor.newInstance());
      }
      if (main.getName().equals("dev.meshlog.meshctl.MeshctlMain")) {
        // meshctl's command takes its environment; the root command is Meshctl.
        Class<?> environment = loader.loadClass("dev.meshlog.meshctl.Environment");
        Constructor<?> constructor = loader.loadClass("dev.meshlog.meshctl.Meshctl")
            .getDeclaredConstructor(environment);
        constructor.setAccessible(true);
        return new CommandLine(constructor.newInstance(environment.getMethod("system").invoke(null)));
      }
      throw new IllegalStateException(mainClass + " is not a picocli @Command; teach PicocliModel"
          + " which class is its command");
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(mainClass + ": " + e, e);
    }
  }

  /** Each environment variable the main reads, with the option it stands for. */
  Map<String, OptionSpec> environmentOptions() {
    Map<String, OptionSpec> byName = new LinkedHashMap<>();
    CommandSpec spec = commandLine().getCommandSpec();
    spec.interpolateVariables(false); // ${env:NAME} as written, not resolved
    for (OptionSpec option : spec.options()) {
      StringBuilder text = new StringBuilder();
      if (option.defaultValue() != null) {
        text.append(option.defaultValue()).append(' ');
      }
      for (String line : option.description()) {
        text.append(line).append(' ');
      }
      Matcher m = ENV_NAME.matcher(text);
      while (m.find()) {
        byName.putIfAbsent(m.group(1), spec.findOption(option.longestName()));
      }
    }
    return byName;
  }

  @Override
  public Parsed parse(List<String> args, Map<String, String> env) {
    Map<String, OptionSpec> readable = environmentOptions();
    List<String> all = new ArrayList<>();
    for (Map.Entry<String, String> variable : env.entrySet()) {
      if (variable.getKey().equals("JAVA_TOOL_OPTIONS")) {
        continue; // read by the JVM
      }
      if (variable.getKey().startsWith("MALLOC_")) {
        continue; // read by the C library (glibc's malloc tunables: MALLOC_ARENA_MAX, ...)
      }
      OptionSpec option = readable.get(variable.getKey());
      if (option == null) {
        throw new IllegalArgumentException(variable.getKey() + " is not read by " + mainClass
            + " (it reads: " + readable.keySet() + ")");
      }
      boolean given = args.stream().anyMatch(a -> List.of(option.names()).contains(a.split("=", 2)[0]));
      if (!given) {
        // A flag given wins over the variable, as in the process.
        all.add(option.longestName() + "=" + variable.getValue());
      }
    }
    all.addAll(args);
    CommandLine commandLine = commandLine();
    try {
      commandLine.parseArgs(all.toArray(String[]::new));
    } catch (CommandLine.ParameterException e) {
      throw new IllegalArgumentException(mainClass + " rejects " + all + ": " + e.getMessage(), e);
    }
    CommandSpec spec = commandLine.getCommandSpec();
    return new Parsed() {
      @Override
      public String value(String name) {
        OptionSpec option = spec.findOption(name);
        Object value = option == null ? null : option.getValue();
        return value == null ? null : value.toString();
      }

      @Override
      public Set<Integer> listeningPorts() {
        return ports(mainClass.substring(mainClass.lastIndexOf('.') + 1), this);
      }
    };
  }

  /** Which options are ports the process listens on (what the main does with them). */
  private static Set<Integer> ports(String main, Parsed parsed) {
    List<String> options = switch (main) {
      case "ConfigServiceMain" -> List.of("--api-port");
      case "TelemetryMain" -> List.of("--http-port");
      case "ProxyMain" -> parsed.value("--gateway") == null || parsed.value("--gateway").isBlank()
          ? List.of("--inbound-port", "--outbound-port", "--admin-port")
          : List.of("--port", "--admin-port");
      case "ExamplesMain" -> List.of("--port");
      case "MeshctlMain" -> List.of();
      default -> throw new IllegalStateException("which ports does " + main + " listen on? "
          + "teach PicocliModel.ports");
    };
    Set<Integer> ports = new LinkedHashSet<>();
    for (String option : options) {
      int port = Integer.parseInt(parsed.value(option));
      if (port > 0) {
        ports.add(port);
      }
    }
    return ports;
  }
}
