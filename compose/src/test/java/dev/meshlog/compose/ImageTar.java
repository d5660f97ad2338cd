package dev.meshlog.compose;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * An image as Jib's {@code buildTar} writes it (the {@code docker save} layout): manifest.json,
 * the config, and the layers with every file's path, mode, size, digest and layer. Files of the
 * image are also written under a directory, so a test can run what the image would run.
 */
final class ImageTar {

  /** One file or directory of the image's filesystem. */
  record File(String path, boolean directory, int mode, long size, String sha256, int layer) {}

  private static final ObjectMapper JSON = new ObjectMapper();

  final List<String> repoTags;
  final JsonNode config;
  /** By absolute path, e.g. {@code /app/libs/avro-1.12.2.jar}; later layers win. */
  final Map<String, File> files = new LinkedHashMap<>();
  /** The history comment of each layer ("dependencies", "jvm arg files", ...). */
  final List<String> layerComments = new ArrayList<>();
  /** Where the image's files were unpacked. */
  final Path unpacked;

  private ImageTar(List<String> repoTags, JsonNode config, Path unpacked) {
    this.repoTags = repoTags;
    this.config = config;
    this.unpacked = unpacked;
  }

  /** Reads {@code tar} and unpacks its filesystem under {@code into}. */
  static ImageTar read(Path tar, Path into) {
    if (!Files.isRegularFile(tar)) {
      throw new IllegalStateException(tar + " does not exist: the module's build writes it at "
          + "package (jib:buildTar, execution image-contents)");
    }
    try {
      Map<String, byte[]> entries = new HashMap<>();
      try (TarArchiveInputStream in = new TarArchiveInputStream(Files.newInputStream(tar))) {
        TarArchiveEntry entry;
        while ((entry = in.getNextEntry()) != null) {
          if (!entry.isDirectory()) {
            entries.put(entry.getName(), in.readAllBytes());
          }
        }
      }
      JsonNode manifest = JSON.readTree(need(entries, "manifest.json", tar)).get(0);
      List<String> tags = new ArrayList<>();
      manifest.get("RepoTags").forEach(t -> tags.add(t.asText()));
      JsonNode config = JSON.readTree(need(entries, manifest.get("Config").asText(), tar));
      ImageTar image = new ImageTar(tags, config, into);
      config.path("history").forEach(h -> {
        if (!h.path("empty_layer").asBoolean(false)) {
          image.layerComments.add(h.path("comment").asText());
        }
      });
      int layer = 0;
      for (JsonNode name : manifest.get("Layers")) {
        image.readLayer(need(entries, name.asText(), tar), layer++);
      }
      return image;
    } catch (IOException e) {
      throw new UncheckedIOException(tar + ": " + e.getMessage(), e);
    }
  }

  private static byte[] need(Map<String, byte[]> entries, String name, Path tar) {
    byte[] bytes = entries.get(name);
    if (bytes == null) {
      throw new IllegalStateException(tar + " has no " + name + " (expected a docker-save layout)");
    }
    return bytes;
  }

  private void readLayer(byte[] gzipped, int layer) throws IOException {
    try (TarArchiveInputStream in = new TarArchiveInputStream(
        new GZIPInputStream(new ByteArrayInputStream(gzipped)))) {
      TarArchiveEntry entry;
      while ((entry = in.getNextEntry()) != null) {
        String path = "/" + entry.getName().replaceAll("^\\./", "").replaceAll("/$", "");
        if (entry.isDirectory()) {
          files.put(path, new File(path, true, entry.getMode() & 07777, 0, null, layer));
          Files.createDirectories(unpacked.resolve(path.substring(1)));
        } else {
          byte[] bytes = in.readAllBytes();
          files.put(path, new File(path, false, entry.getMode() & 07777, bytes.length,
              sha256(bytes), layer));
          Path target = unpacked.resolve(path.substring(1));
          Files.createDirectories(target.getParent());
          Files.write(target, bytes);
        }
      }
    }
  }

  /** The config's {@code config} object (Entrypoint, Cmd, Env, ExposedPorts, User, WorkingDir). */
  JsonNode runConfig() {
    return config.path("config");
  }

  List<String> strings(String field) {
    List<String> out = new ArrayList<>();
    runConfig().path(field).forEach(v -> out.add(v.asText()));
    return out;
  }

  /** The image's environment as a map. */
  Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    for (String pair : strings("Env")) {
      int eq = pair.indexOf('=');
      env.put(pair.substring(0, eq), pair.substring(eq + 1));
    }
    return env;
  }

  /** A file's text, read from where it was unpacked. */
  String text(String path) {
    try {
      return Files.readString(unpacked.resolve(path.substring(1)), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(path + " is not in the image", e);
    }
  }

  /** The path on this machine of a file of the image. */
  Path local(String path) {
    return unpacked.resolve(path.substring(1));
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  static String sha256(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      return sha256(in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
