package dev.meshlog.compose;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
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

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

/**
 * compose/docker-compose.yml (the mesh) merged with docker-compose.override.yml (its Kafka), as
 * {@code docker compose up} runs them: every image is one the build produces (or the official
 * Kafka of the build's Kafka version), every flag and variable given to our images is one their
 * main accepts (read from the main in the image), and every address and port lines up with a
 * service that listens there. Checked without Docker; running the containers is not.
 */
class ComposeFileTest {

  private static final Path DIR = Build.root().resolve("compose");
  private static final ComposeFile BASE = ComposeFile.read(DIR.resolve("docker-compose.yml"));
  private static final ComposeFile MESH = ComposeFile.read(DIR.resolve("docker-compose.yml"),
      DIR.resolve("docker-compose.override.yml"));
  private static final Pattern KAFKA_LISTENER = Pattern.compile("(\\w+)://([^:,]*):(\\d+)");
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  @Test
  void everyImageIsOneTheBuildProducesOrTheOfficialKafkaOfTheBuildsVersion() {
    Set<String> built = new LinkedHashSet<>();
    Build.images().forEach(i -> built.add(i.reference()));
    for (String service : MESH.services().keySet()) {
      String image = MESH.image(service);
      if (image.startsWith("apache/kafka:")) {
        assertThat(image).as(service).isEqualTo("apache/kafka:" + Build.kafkaVersion());
      } else {
        assertThat(built).as(service + "'s image").contains(image);
      }
    }
    assertThat(MESH.services().values()).as("one Kafka").filteredOn(s -> s.path("image").asText()
        .startsWith("apache/kafka:")).hasSize(1);
  }

  @Test
  void everyFlagAndVariableGivenToOurImagesIsOneTheirMainAccepts() {
    List<String> problems = new ArrayList<>();
    for (String service : ours()) {
      try {
        parsed(service);
      } catch (IllegalArgumentException e) {
        problems.add(service + ": " + e.getMessage());
      }
    }
    assertThat(problems).isEmpty();
  }

  @Test
  void eachExampleAppHasASidecarInItsNetworkNamespaceThatRegistersItsName() {
    Map<String, List<String>> sidecars = new LinkedHashMap<>();
    for (String service : ours()) {
      String owner = MESH.networkOwner(service);
      if (!owner.equals(service)) {
        assertThat(MESH.services()).as(service + "'s network_mode").containsKey(owner);
        assertThat(MESH.image(service)).as(service).startsWith("meshlog/proxy:");
        assertThat(MESH.image(owner)).as(owner).startsWith("meshlog/examples:");
        assertThat(MESH.service(service).has("ports")).as(service + " publishes ports on "
            + owner + ", whose network it shares").isFalse();
        sidecars.computeIfAbsent(owner, o -> new ArrayList<>()).add(service);
      }
    }
    for (String app : ours()) {
      if (!MESH.image(app).startsWith("meshlog/examples:") || app.equals("traffic")) {
        continue;
      }
      assertThat(sidecars.get(app)).as(app + "'s sidecar").hasSize(1);
      String sidecar = sidecars.get(app).get(0);
      ProcessModel.Parsed proxy = parsed(sidecar);
      ProcessModel.Parsed example = parsed(app);
      assertThat(proxy.value("--gateway")).as(sidecar).isNull();
      // Other proxies reach the app's instance at the registered name: the app container's.
      assertThat(proxy.value("--advertise-address")).as(sidecar).isEqualTo(app);
      assertThat(Integer.parseInt(proxy.value("--app-port"))).as(sidecar + " --app-port")
          .isIn(example.listeningPorts());
      assertThat(proxy.value("--app-host")).as(sidecar).isIn("127.0.0.1", "localhost");
      assertThat(example.value("--sidecar")).as(app + " calls its sidecar's outbound port")
          .isEqualTo("127.0.0.1:" + proxy.value("--outbound-port"));
      assertThat(MESH.dependsOn(sidecar)).as(sidecar).containsKey(app);
    }
    // Instance ids (default service-version-inboundPort) tell the registry's instances apart.
    List<String> ids = new ArrayList<>();
    sidecars.values().forEach(list -> list.forEach(sidecar -> {
      ProcessModel.Parsed proxy = parsed(sidecar);
      ids.add(proxy.value("--instance-id") != null ? proxy.value("--instance-id")
          : proxy.value("--service") + "-" + proxy.value("--version") + "-"
              + proxy.value("--inbound-port"));
    }));
    assertThat(ids).doesNotHaveDuplicates();
  }

  @Test
  void everyAddressGivenNamesAServiceAndAPortItListensOn() {
    for (String service : ours()) {
      ProcessModel.Parsed parsed = parsed(service);
      List<String> addresses = new ArrayList<>();
      Optional.ofNullable(parsed.value("--bootstrap-server"))
          .ifPresent(v -> addresses.addAll(List.of(v.split(","))));
      if (!MESH.command(service).contains("traffic")) {
        // The traffic generator calls its target directly, as a user outside the mesh.
        Optional.ofNullable(parsed.value("--sidecar")).ifPresent(addresses::add);
      } else {
        // --target is the traffic generator's alone (the other apps carry its default unused).
        Optional.ofNullable(parsed.value("--target")).ifPresent(target -> {
          URI uri = URI.create(target);
          addresses.add(uri.getHost() + ":" + (uri.getPort() < 0 ? 80 : uri.getPort()));
        });
      }
      if (MESH.image(service).startsWith("meshlog/examples:") && service.equals("traffic")) {
        assertThat(parsed.value("--target")).as("traffic's target").isNotNull();
      }
      for (String address : addresses) {
        String host = address.substring(0, address.lastIndexOf(':'));
        int port = Integer.parseInt(address.substring(address.lastIndexOf(':') + 1));
        String target = host.equals("127.0.0.1") || host.equals("localhost")
            ? MESH.networkOwner(service) : host;
        assertThat(MESH.services()).as(service + " → " + address).containsKey(target);
        assertThat(MESH.networkOwner(target)).as(service + " → " + address + ": " + target
            + " shares another's network and has no name of its own").isEqualTo(target);
        assertThat(listening(target)).as(service + " → " + address).contains(port);
        if (MESH.image(target).startsWith("apache/kafka:")) {
          assertThat(kafkaListeners("KAFKA_ADVERTISED_LISTENERS")).as(service + " → " + address
              + " is advertised, so clients are sent back to it").contains(host + ":" + port);
        }
      }
    }
  }

  @Test
  void publishedPortsAndHealthchecksAreOnesTheirServiceListensOn() {
    Pattern devTcp = Pattern.compile("/dev/tcp/(127\\.0\\.0\\.1|localhost)/(\\d+)");
    Pattern local = Pattern.compile("localhost:(\\d+)");
    for (String service : MESH.services().keySet()) {
      for (String published : MESH.strings(service, "ports")) {
        String[] parts = published.replaceAll("/(tcp|udp)$", "").split(":");
        int port = Integer.parseInt(parts[parts.length - 1]);
        assertThat(listening(service)).as(service + " publishes " + published).contains(port);
      }
      for (String word : MESH.strings(service, "healthcheck").isEmpty()
          ? List.<String>of() : healthcheck(service)) {
        Matcher m = devTcp.matcher(word);
        Matcher l = local.matcher(word);
        if (m.find()) {
          assertThat(listening(service)).as(service + " healthcheck " + word)
              .contains(Integer.parseInt(m.group(2)));
        } else if (l.find()) {
          assertThat(listening(service)).as(service + " healthcheck " + word)
              .contains(Integer.parseInt(l.group(1)));
        }
      }
    }
  }

  @Test
  void dependenciesNameServicesThatCanMeetTheirCondition() {
    for (String service : MESH.services().keySet()) {
      MESH.dependsOn(service).forEach((dependency, condition) -> {
        assertThat(MESH.services()).as(service + " depends on").containsKey(dependency);
        switch (condition) {
          case "service_healthy" -> assertThat(MESH.service(dependency).has("healthcheck"))
              .as(dependency + " has a healthcheck (" + service + " waits for it)").isTrue();
          case "service_completed_successfully" -> assertThat(
              MESH.service(dependency).path("restart").asText("no")).as(dependency).isEqualTo("no");
          default -> assertThat(condition).as(service).isEqualTo("service_started");
        }
      });
    }
  }

  @Test
  void theMeshFileAloneRunsAgainstTheKafkaThatMeshlogBootstrapNames() {
    assertThat(BASE.services()).as("Kafka comes from the override file").doesNotContainKey("kafka");
    for (String service : BASE.services().keySet()) {
      assertThat(BASE.dependsOn(service)).as(service).doesNotContainKey("kafka");
      for (Map.Entry<String, String> env : BASE.environment(service, false).entrySet()) {
        if (env.getKey().startsWith("MESHLOG_BOOTSTRAP")) {
          assertThat(env.getValue()).as(service + " " + env.getKey())
              .isEqualTo("${MESHLOG_BOOTSTRAP:-kafka:9092}");
        }
      }
      assertThat(String.join(" ", BASE.command(service))).as(service)
          .doesNotContain("--bootstrap-server");
    }
    // Every process that talks to Kafka is told where it is.
    for (String service : ours()) {
      if (!MESH.image(service).startsWith("meshlog/examples:")) {
        assertThat(BASE.environment(service, false)).as(service)
            .containsValue("${MESHLOG_BOOTSTRAP:-kafka:9092}");
      }
    }
  }

  @Test
  void theConfigJobAppliesTheExamplesBookinfoDirectoryMountedReadOnly() {
    List<String> command = MESH.command("mesh-config");
    assertThat(MESH.image("mesh-config")).startsWith("meshlog/meshctl:");
    assertThat(command).startsWith("apply", "-f");
    String applied = command.get(2);
    Map<String, String> mounts = new LinkedHashMap<>();
    for (String volume : MESH.strings("mesh-config", "volumes")) {
      String[] parts = volume.split(":");
      assertThat(parts).as(volume).hasSize(3);
      assertThat(parts[2]).as(volume).isEqualTo("ro");
      mounts.put(parts[1], parts[0]);
    }
    assertThat(mounts).containsKey(applied);
    assertThat(DIR.resolve(mounts.get(applied)).normalize())
        .isEqualTo(Build.root().resolve("examples/bookinfo"));
    assertThat(mounts.values()).contains("../examples/walkthrough");
  }

  @Test
  void everyGatewayFollowsAGatewayResourceThatTheConfigJobAppliesWithARouteBoundToIt() {
    List<JsonNode> applied = appliedConfig();
    List<String> gateways = ours().stream().filter(s -> MESH.image(s).startsWith("meshlog/proxy:")
        && parsed(s).value("--gateway") != null).toList();
    assertThat(gateways).as("gateway services").isNotEmpty();
    for (String service : gateways) {
      String name = parsed(service).value("--gateway");
      String namespace =
          Optional.ofNullable(parsed(service).value("--namespace")).orElse("default");
      assertThat(applied).as(service + " follows Gateway " + namespace + "/" + name
              + ": the config job must apply it, else the gateway serves nothing")
          .anySatisfy(r -> {
            assertThat(r.path("kind").asText()).isEqualTo("Gateway");
            assertThat(r.path("metadata").path("name").asText()).isEqualTo(name);
            assertThat(r.path("metadata").path("namespace").asText("default")).isEqualTo(namespace);
          });
      assertThat(applied).as("a VirtualService bound to Gateway " + name + " (" + service + ")")
          .anySatisfy(r -> {
            assertThat(r.path("kind").asText()).isEqualTo("VirtualService");
            List<String> bound = new ArrayList<>();
            r.path("spec").path("gateways").forEach(g -> bound.add(g.asText()));
            assertThat(bound).containsAnyOf(name, namespace + "/" + name);
          });
    }
  }

  @Test
  void everyMeshlogProcessReadsKafkaClientSettingsFromTheMountedSecrets() {
    Path secrets = DIR.resolve("secrets");
    assertThat(secrets.resolve("README.md")).as("the default secrets directory").exists();
    for (String service : ours()) {
      if (MESH.image(service).startsWith("meshlog/examples:")) {
        continue;
      }
      assertThat(BASE.environment(service, false)).as(service)
          .containsEntry("MESHLOG_KAFKA_CONFIG", "${MESHLOG_KAFKA_CONFIG:-}");
      List<String> volumes = new ArrayList<>();
      BASE.service(service).path("volumes").forEach(v -> volumes.add(v.asText()));
      assertThat(volumes).as(service)
          .contains("${MESHLOG_SECRETS:-./secrets}:/etc/meshlog/secrets:ro");
    }
    assertThat(BASE.environment("config-service", false))
        .containsEntry("MESHLOG_API_TOKEN_FILE", "${MESHLOG_API_TOKEN_FILE:-}");
  }

  /** Every resource in the YAML files of the directory the config job applies. */
  private static List<JsonNode> appliedConfig() {
    String applied = MESH.command("mesh-config").get(2);
    Path dir = MESH.strings("mesh-config", "volumes").stream().map(v -> v.split(":"))
        .filter(parts -> parts[1].equals(applied)).map(parts -> DIR.resolve(parts[0]).normalize())
        .findFirst().orElseThrow(() -> new AssertionError("mesh-config mounts no " + applied));
    List<JsonNode> resources = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : files.filter(f -> f.toString().matches(".*\\.ya?ml")).sorted().toList()) {
        try (MappingIterator<JsonNode> documents =
                 YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
          documents.forEachRemaining(d -> {
            if (d != null && !d.isMissingNode() && !d.isNull()) {
              resources.add(d);
            }
          });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(dir + ": " + e.getMessage(), e);
    }
    return resources;
  }

  /** Our services (images the build produces), in file order. */
  private static List<String> ours() {
    return MESH.services().keySet().stream().filter(s -> MESH.image(s).startsWith("meshlog/")).toList();
  }

  private static Build.Image imageOf(String service) {
    String reference = MESH.image(service);
    return Build.images().stream().filter(i -> i.reference().equals(reference)).findFirst()
        .orElseThrow(() -> new AssertionError(service + ": " + reference + " is not built"));
  }

  /** The service's command line and environment as its image's main reads them. */
  private static ProcessModel.Parsed parsed(String service) {
    Build.Image image = imageOf(service);
    List<String> args = MESH.service(service).has("command") ? MESH.command(service)
        : Unpacked.tar(image).strings("Cmd");
    Map<String, String> env = new LinkedHashMap<>(Unpacked.tar(image).environment());
    env.putAll(MESH.environment(service));
    return Unpacked.model(image).parse(args, env);
  }

  /** The ports something listens on in the service's network namespace. */
  private static Set<Integer> listening(String service) {
    String owner = MESH.networkOwner(service);
    Set<Integer> ports = new LinkedHashSet<>();
    for (String s : MESH.services().keySet()) {
      if (!MESH.networkOwner(s).equals(owner)) {
        continue;
      }
      if (MESH.image(s).startsWith("apache/kafka:")) {
        kafkaListeners("KAFKA_LISTENERS").forEach(l -> ports.add(
            Integer.parseInt(l.substring(l.lastIndexOf(':') + 1))));
      } else if (MESH.image(s).startsWith("meshlog/")) {
        ports.addAll(parsed(s).listeningPorts());
      }
    }
    return ports;
  }

  /** host:port of each listener in the Kafka service's setting {@code name}. */
  private static List<String> kafkaListeners(String name) {
    String kafka = MESH.services().keySet().stream()
        .filter(s -> MESH.image(s).startsWith("apache/kafka:")).findFirst().orElseThrow();
    List<String> out = new ArrayList<>();
    Matcher m = KAFKA_LISTENER.matcher(MESH.environment(kafka).getOrDefault(name, ""));
    while (m.find()) {
      out.add(m.group(2) + ":" + m.group(3));
    }
    return out;
  }

  private static List<String> healthcheck(String service) {
    List<String> words = new ArrayList<>();
    JsonNode test = MESH.service(service).path("healthcheck").path("test");
    test.forEach(w -> words.add(w.asText()));
    return words;
  }
}
