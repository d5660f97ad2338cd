package dev.meshlog.config.resource;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;

/**
 * Reads resources from YAML (several documents separated by {@code ---}) or JSON, as users write
 * them for {@code kubectl apply}: files, directories or text.
 *
 * <p>Each document becomes a {@link ParsedDocument} holding either a {@link Resource} or the
 * problems that kept it from being one. This checks the document's structure only: well-formed
 * YAML without duplicate keys or aliases, within the size limit, an object with {@code apiVersion},
 * a known {@code kind}, {@code metadata.name} and an object {@code spec}. The spec's fields are
 * checked by {@link ResourceValidator}. A Kubernetes {@code kind: List} (what {@code kubectl get -o
 * yaml} and {@code meshctl get -o json} print for several resources) is read as one document per
 * item, each item's problems under {@code items[i]}.
 *
 * <p>Metadata: {@code name}, {@code namespace} (defaults to the namespace the caller gives) and
 * {@code labels} are kept. {@code annotations} are accepted and ignored: they do not become part
 * of the resource, its revision or its hash. Fields the Kubernetes API server manages
 * ({@code uid}, {@code resourceVersion}, {@code creationTimestamp}, ...) are rejected, as are a
 * top-level {@code status} and any other top-level field.
 *
 * <p>Booleans follow YAML 1.2: {@code true} and {@code false} are booleans, while {@code yes},
 * {@code no}, {@code on} and {@code off} stay strings. Immutable and thread-safe.
 */
public final class ResourceParser {

  /** The largest document read by default: 1 MiB, Kubernetes' limit on one object. */
  public static final int DEFAULT_MAX_DOCUMENT_BYTES = 1024 * 1024;

  private static final List<String> TOP_LEVEL_FIELDS = List.of("apiVersion", "kind", "metadata", "spec");
  /** Jackson's limit on nesting (StreamReadConstraints' default), far beyond any real resource. */
  private static final int MAX_NESTING = com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_DEPTH;
  private static final String LIST_KIND = "List";
  private static final List<String> LIST_FIELDS = List.of("apiVersion", "kind", "metadata", "items");
  private static final List<String> METADATA_FIELDS = List.of("name", "namespace", "labels", "annotations");
  private static final Set<String> SERVER_MANAGED_METADATA = Set.of("uid", "resourceVersion", "generation",
      "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "selfLink");
  private static final Set<String> UNSUPPORTED_METADATA = Set.of("generateName", "ownerReferences", "finalizers");

  private final int maxDocumentBytes;
  private final ObjectMapper yaml;
  private final ObjectMapper json;

  /** A parser with the default document size limit. */
  public ResourceParser() {
    this(DEFAULT_MAX_DOCUMENT_BYTES);
  }

  /** A parser that rejects documents larger than {@code maxDocumentBytes} (UTF-8). */
  public ResourceParser(int maxDocumentBytes) {
    if (maxDocumentBytes <= 0) {
      throw new IllegalArgumentException("maxDocumentBytes: " + maxDocumentBytes + " (expected: more than 0)");
    }
    this.maxDocumentBytes = maxDocumentBytes;
    LoaderOptions loaderOptions = new LoaderOptions();
    // Documents are size-checked before parsing; SnakeYAML's own limit (3 MB) must not be lower.
    loaderOptions.setCodePointLimit(Math.max(maxDocumentBytes, loaderOptions.getCodePointLimit()));
    this.yaml = mapper(YAMLFactory.builder()
        .loaderOptions(loaderOptions)
        .enable(YAMLParser.Feature.PARSE_BOOLEAN_LIKE_WORDS_AS_STRINGS)
        .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL)
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build());
    this.json = mapper(JsonFactory.builder()
        .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build());
  }

  private static ObjectMapper mapper(JsonFactory factory) {
    return new ObjectMapper(factory).enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  }

  /**
   * Reads every document of {@code text}; empty documents (blank, comments only, or {@code null})
   * are skipped. The text is JSON when {@code sourceName} ends in {@code .json}, YAML otherwise.
   *
   * @param sourceName where the text came from, as it should appear in messages
   * @param defaultNamespace the namespace of resources whose metadata names none
   */
  public List<ParsedDocument> parse(String text, String sourceName, String defaultNamespace) {
    Objects.requireNonNull(sourceName, "sourceName");
    Objects.requireNonNull(defaultNamespace, "defaultNamespace");
    String content = text.startsWith("\uFEFF") ? text.substring(1) : text;
    boolean isJson = sourceName.toLowerCase(Locale.ROOT).endsWith(".json");
    // Several JSON objects one after another ({...}{...}, or one per line) are read as
    // kubectl reads them, each on its own; in a .json file, or in text whose first object is
    // JSON with more after it and no --- (a YAML stream of flow mappings is not JSON's).
    List<Chunk> stream = isJson || (content.stripLeading().startsWith("{") && !hasSeparator(content))
        ? jsonStream(content) : List.of();
    boolean isStream = stream.size() > 1;
    List<Chunk> chunks = isStream ? stream
        : isJson ? List.of(new Chunk(content, 1)) : Chunk.split(content);
    ObjectMapper mapper = isJson || isStream ? json : yaml;
    List<ParsedDocument> documents = new ArrayList<>();
    for (int index = 0; index < chunks.size(); index++) {
      Chunk chunk = chunks.get(index);
      int line = chunk.firstContentLine();
      if (line < 0) {
        continue;
      }
      Problems problems = new Problems();
      JsonNode tree = read(chunk, mapper, problems);
      if (problems.size() == 0 && (tree.isMissingNode() || tree.isNull())) {
        continue;
      }
      if (problems.size() == 0 && isList(tree)) {
        readList(tree, sourceName, line, defaultNamespace, documents);
        continue;
      }
      Resource resource = problems.size() == 0 ? toResource(tree, defaultNamespace, problems) : null;
      documents.add(resource != null
          ? ParsedDocument.of(sourceName, documents.size(), line, resource)
          : ParsedDocument.withProblems(sourceName, documents.size(), line,
              isStream ? under(Problems.index("objects", index), problems.toList())
                  : problems.toList()));
    }
    return documents;
  }

  /** {@code problems} with their paths under {@code prefix} ({@code items[2]}, {@code objects[1]}). */
  private static List<FieldProblem> under(String prefix, List<FieldProblem> problems) {
    return problems.stream()
        .map(p -> new FieldProblem(p.path().isEmpty() || p.path().equals("document") ? prefix
            : prefix + "." + p.path(), p.value(), p.message()))
        .toList();
  }

  private static boolean hasSeparator(String text) {
    return text.startsWith("---") || text.contains("\n---");
  }

  /**
   * The top-level JSON values of {@code text}, each with the line it starts on; from a value
   * that is not well-formed JSON on, the rest of the text is one last chunk, which reading then
   * reports. Empty when the first value is not JSON (YAML, then) and for an empty text.
   */
  private List<Chunk> jsonStream(String text) {
    List<Chunk> values = new ArrayList<>();
    int start = -1;
    int line = 1;
    int counted = 0;
    try (JsonParser parser = json.getFactory().createParser(text)) {
      while (parser.nextToken() != null) {
        start = (int) parser.currentTokenLocation().getCharOffset();
        parser.skipChildren();
        int end = (int) parser.currentLocation().getCharOffset();
        for (; counted < start; counted++) {
          if (text.charAt(counted) == '\n') {
            line++;
          }
        }
        values.add(new Chunk(text.substring(start, end), line));
        start = -1;
      }
    } catch (JsonProcessingException e) {
      if (values.isEmpty()) {
        return List.of();
      }
      int from = start >= 0 ? start : (int) e.getLocation().getCharOffset();
      from = Math.max(0, Math.min(from, text.length()));
      for (; counted < from; counted++) {
        if (text.charAt(counted) == '\n') {
          line++;
        }
      }
      values.add(new Chunk(text.substring(from), line));
    } catch (IOException e) {
      throw new UncheckedIOException("reading from a string cannot fail", e);
    }
    return values;
  }

  /** Kubernetes' {@code kind: List} (any apiVersion), as {@code kubectl get -o yaml} prints several objects. */
  private static boolean isList(JsonNode tree) {
    return tree.isObject() && LIST_KIND.equals(tree.path("kind").textValue());
  }

  /**
   * Adds one document per item of a {@code List}, each at the List's line, its problems' paths
   * under {@code items[i]}; a List that is not well-formed is one document with its problems.
   */
  private static void readList(JsonNode list, String sourceName, int line, String defaultNamespace,
                               List<ParsedDocument> documents) {
    Problems problems = new Problems();
    list.fieldNames().forEachRemaining(field -> {
      if (!LIST_FIELDS.contains(field)) {
        problems.add(Problems.field("", field), Problems.text(list.get(field)),
            "unknown field (expected one of: " + String.join(", ", LIST_FIELDS) + ")");
      }
    });
    JsonNode items = list.path("items");
    if (!items.isArray()) {
      if (items.isMissingNode() || items.isNull()) {
        problems.required("items");
      } else {
        problems.invalid("items", items, "a list of resources");
      }
    }
    if (problems.size() > 0) {
      documents.add(ParsedDocument.withProblems(sourceName, documents.size(), line, problems.toList()));
      return;
    }
    for (int i = 0; i < items.size(); i++) {
      JsonNode item = items.get(i);
      Problems itemProblems = new Problems();
      Resource resource = null;
      if (isList(item)) {
        itemProblems.add("kind", LIST_KIND, LIST_KIND + " (expected: a resource; a List cannot hold a List)");
      } else {
        resource = toResource(item, defaultNamespace, itemProblems);
      }
      documents.add(resource != null
          ? ParsedDocument.of(sourceName, documents.size(), line, resource)
          : ParsedDocument.withProblems(sourceName, documents.size(), line,
              under(Problems.index("items", i), itemProblems.toList())));
    }
  }

  /** Reads every document of a UTF-8 file; its path is the source name. */
  public List<ParsedDocument> parseFile(Path file, String defaultNamespace) throws IOException {
    String source = file.toString();
    if (Files.isSymbolicLink(file) && !Files.exists(file)) {
      return List.of(ParsedDocument.withProblems(source, 0, 1, List.of(FieldProblem.of("document",
          "cannot read: a symbolic link to " + Files.readSymbolicLink(file) + ", which does not exist"))));
    }
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(Files.readAllBytes(file))).toString();
    } catch (CharacterCodingException e) {
      return List.of(ParsedDocument.withProblems(source, 0, 1,
          List.of(FieldProblem.of("document", "not UTF-8 text (expected: a UTF-8 file)"))));
    }
    return parse(text, source, defaultNamespace);
  }

  /**
   * Reads every {@code .yaml}, {@code .yml} and {@code .json} file under {@code directory},
   * recursively, in order of path, skipping hidden files and directories (names starting with
   * {@code .}, such as {@code .git}). Symbolic links to files are read; one whose target does not
   * exist is a document with that problem; links to directories are not followed.
   */
  public List<ParsedDocument> parseDirectory(Path directory, String defaultNamespace) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new NotDirectoryException(directory.toString());
    }
    List<Path> files = new ArrayList<>();
    Files.walkFileTree(directory, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
        return !dir.equals(directory) && isHidden(dir) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) {
        // A link whose target is gone is read (and reported), not skipped: a file left out of
        // a directory without a word is a resource silently missing from the batch.
        boolean brokenLink = attributes.isSymbolicLink() && !Files.exists(file);
        if (!isHidden(file) && isResourceFile(file) && (Files.isRegularFile(file) || brokenLink)) {
          files.add(file);
        }
        return FileVisitResult.CONTINUE;
      }
    });
    Collections.sort(files);
    List<ParsedDocument> documents = new ArrayList<>();
    for (Path file : files) {
      documents.addAll(parseFile(file, defaultNamespace));
    }
    return documents;
  }

  private static boolean isHidden(Path path) {
    return path.getFileName().toString().startsWith(".");
  }

  private static boolean isResourceFile(Path file) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    return name.endsWith(".yaml") || name.endsWith(".yml") || name.endsWith(".json");
  }

  /** The tree of one document, or null after adding to {@code problems} why it cannot be read. */
  private JsonNode read(Chunk chunk, ObjectMapper mapper, Problems problems) {
    int bytes = chunk.text().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxDocumentBytes) {
      String name = nameOf(chunk, mapper);
      problems.invalid("document", (name == null ? "" : name + ": ") + bytes + " bytes",
          "at most " + maxDocumentBytes + " bytes");
      return null;
    }
    try {
      if (hasAlias(mapper, chunk, problems)) {
        return null;
      }
      JsonNode tree = mapper.readTree(chunk.text());
      return tree == null ? MissingNode.getInstance() : tree;
    } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
      // Jackson's own words name its configuration method; say what the user can change.
      problems.add("document", null, e.getMessage() != null && e.getMessage().contains("nesting depth")
          ? "nested more than " + MAX_NESTING + " levels deep (expected: at most " + MAX_NESTING + ")"
          : syntaxError(e, chunk.firstLine()));
      return null;
    } catch (JsonProcessingException e) {
      problems.add("document", null, syntaxError(e, chunk.firstLine()));
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("reading from a string cannot fail", e);
    }
  }

  /**
   * {@code Kind name} of a document too large to read, from its first fields (streamed: reading
   * stops once both are found, as they usually are before the spec), or null.
   */
  private static String nameOf(Chunk chunk, ObjectMapper mapper) {
    String kind = null;
    String name = null;
    try (JsonParser parser = mapper.getFactory().createParser(chunk.text())) {
      if (parser.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return null;
      }
      while ((kind == null || name == null)
          && parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        com.fasterxml.jackson.core.JsonToken value = parser.nextToken();
        if (field.equals("kind") && value == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
          kind = parser.getText();
        } else if (field.equals("metadata") && value == com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
          while (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
            String metadataField = parser.currentName();
            if (parser.nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING
                && metadataField.equals("name")) {
              name = parser.getText();
            } else {
              parser.skipChildren();
            }
          }
        } else {
          parser.skipChildren();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Whatever was found before the document stopped being readable is still its name.
    }
    return name == null ? null : (kind == null ? "" : kind + " ") + name;
  }

  /**
   * Jackson reads a YAML alias ({@code *name}) as the string {@code name}, which would silently
   * change the resource; aliases are rejected instead (which also rules out alias bombs).
   */
  private static boolean hasAlias(ObjectMapper mapper, Chunk chunk, Problems problems) throws IOException {
    try (JsonParser parser = mapper.getFactory().createParser(chunk.text())) {
      if (!(parser instanceof YAMLParser yamlParser)) {
        return false;
      }
      while (yamlParser.nextToken() != null) {
        if (yamlParser.isCurrentAlias()) {
          String path = pathOf(yamlParser.getParsingContext());
          problems.invalid(path.isEmpty() ? "document" : path, "*" + yamlParser.getText(),
              "the value written out; YAML aliases are not supported");
          return true;
        }
      }
      return false;
    }
  }

  private static String pathOf(JsonStreamContext context) {
    if (context == null || context.inRoot()) {
      return "";
    }
    String parent = pathOf(context.getParent());
    return context.inArray()
        ? Problems.index(parent, context.getCurrentIndex())
        : Problems.field(parent, context.getCurrentName());
  }

  /** {@code line 4, column 9: <the parser's reason>}, with lines counted in the whole source. */
  private static String syntaxError(JsonProcessingException e, int firstLine) {
    String message;
    if (e.getCause() instanceof MarkedYAMLException yamlError && yamlError.getProblemMark() != null) {
      message = position(yamlError.getProblemMark(), firstLine) + ": " + yamlError.getProblem();
      if (yamlError.getContext() != null) {
        message += " (" + yamlError.getContext()
            + (yamlError.getContextMark() == null ? "" : " at " + position(yamlError.getContextMark(), firstLine))
            + ")";
      }
    } else {
      JsonLocation at = e.getLocation();
      message = at == null || at.getLineNr() < 1
          ? e.getOriginalMessage()
          : "line " + (firstLine + at.getLineNr() - 1) + ", column " + at.getColumnNr() + ": " + e.getOriginalMessage();
    }
    return message;
  }

  private static String position(Mark mark, int firstLine) {
    return "line " + (firstLine + mark.getLine()) + ", column " + (mark.getColumn() + 1);
  }

  /** The resource in {@code document}, or null when {@code problems} says why there is none. */
  private static Resource toResource(JsonNode document, String defaultNamespace, Problems problems) {
    if (!document.isObject()) {
      String found = document.isArray() ? "a list" : Problems.text(document);
      problems.invalid("document", found, "an object with apiVersion, kind, metadata and spec");
      return null;
    }
    document.fieldNames().forEachRemaining(field -> {
      if (field.equals("status")) {
        problems.add("status", Problems.text(document.get(field)), "not supported");
      } else if (!TOP_LEVEL_FIELDS.contains(field)) {
        problems.add(Problems.field("", field), Problems.text(document.get(field)),
            "unknown field (expected one of: " + String.join(", ", TOP_LEVEL_FIELDS) + ")");
      }
    });
    String apiVersion = requiredString(document, "apiVersion", "apiVersion", problems);
    String kindName = requiredString(document, "kind", "kind", problems);
    Optional<Kind> kind = kindName == null ? Optional.empty() : ResourceValidator.checkKind(kindName, problems);
    if (apiVersion != null && kind.isPresent()) {
      ResourceValidator.checkApiVersion(apiVersion, kind.get(), problems);
    }
    JsonNode metadata = document.path("metadata");
    if (!metadata.isMissingNode() && !metadata.isNull() && !metadata.isObject()) {
      problems.invalid("metadata", metadata, "an object with " + String.join(", ", METADATA_FIELDS));
      return null;
    }
    String name = requiredString(metadata, "name", "metadata.name", problems);
    String namespace = optionalString(metadata, "namespace", "metadata.namespace", problems);
    Map<String, String> labels = labels(metadata.path("labels"), problems);
    JsonNode annotations = metadata.path("annotations");
    if (!annotations.isMissingNode() && !annotations.isNull() && !annotations.isObject()) {
      problems.invalid("metadata.annotations", annotations, "a map");
    }
    metadata.fieldNames().forEachRemaining(field -> {
      String path = Problems.field("metadata", field);
      String value = Problems.text(metadata.get(field));
      if (SERVER_MANAGED_METADATA.contains(field)) {
        problems.add(path, value, "not supported (server-managed field)");
      } else if (UNSUPPORTED_METADATA.contains(field)) {
        problems.add(path, value, "not supported");
      } else if (!METADATA_FIELDS.contains(field)) {
        problems.add(path, value, "unknown field (expected one of: " + String.join(", ", METADATA_FIELDS) + ")");
      }
    });
    JsonNode spec = document.path("spec");
    if (!spec.isMissingNode() && !spec.isNull() && !spec.isObject()) {
      problems.invalid("spec", spec, "an object");
    }
    if (problems.size() > 0) {
      return null;
    }
    return new Resource(apiVersion, kindName, namespace == null ? defaultNamespace : namespace, name, labels,
        spec.isObject() ? (ObjectNode) spec : null);
  }

  private static String requiredString(JsonNode object, String field, String path, Problems problems) {
    String value = optionalString(object, field, path, problems);
    if (value == null && (object.path(field).isMissingNode() || object.path(field).isNull())) {
      problems.required(path);
    }
    return value;
  }

  /** The string at {@code field}, or null when it is absent, null, empty or (reported) not a string. */
  private static String optionalString(JsonNode object, String field, String path, Problems problems) {
    JsonNode value = object.path(field);
    if (value.isMissingNode() || value.isNull()) {
      return null;
    }
    if (!value.isTextual() || value.textValue().isEmpty()) {
      problems.invalid(path, value, "a non-empty string");
      return null;
    }
    return value.textValue();
  }

  /** Labels are strings, as in Kubernetes: {@code version: 1} must be written {@code version: "1"}. */
  private static Map<String, String> labels(JsonNode labels, Problems problems) {
    Map<String, String> result = new TreeMap<>();
    if (labels.isMissingNode() || labels.isNull()) {
      return result;
    }
    if (!labels.isObject()) {
      problems.invalid("metadata.labels", labels, "a map of label names to string values");
      return result;
    }
    for (Map.Entry<String, JsonNode> entry : labels.properties()) {
      if (entry.getValue().isTextual()) {
        result.put(entry.getKey(), entry.getValue().textValue());
      } else {
        problems.invalid(Problems.key("metadata.labels", entry.getKey()), entry.getValue(),
            "a string; quote numbers and booleans");
      }
    }
    return result;
  }

  /**
   * The text of one YAML document, split off the source at {@code ---} lines as Kubernetes'
   * YAML reader does. A document marker can only start a line, even inside block scalars, so
   * splitting on lines is exact. The marker itself is blanked rather than removed so that
   * anything after it on its line keeps its column, and lines stay countable.
   */
  private record Chunk(String text, int firstLine) {

    static List<Chunk> split(String text) {
      List<Chunk> chunks = new ArrayList<>();
      String[] lines = text.split("\n", -1);
      StringBuilder current = new StringBuilder();
      int start = 1;
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i];
        if (isSeparator(line)) {
          chunks.add(new Chunk(current.toString(), start));
          current.setLength(0);
          start = i + 1;
          line = "   " + line.substring(3);
        }
        current.append(line);
        if (i < lines.length - 1) {
          current.append('\n');
        }
      }
      chunks.add(new Chunk(current.toString(), start));
      return chunks;
    }

    private static boolean isSeparator(String line) {
      return line.startsWith("---") && (line.length() == 3 || Character.isWhitespace(line.charAt(3)));
    }

    /** The line of the source where the first line that is neither blank nor a comment is, or -1. */
    int firstContentLine() {
      String[] lines = text.split("\n", -1);
      for (int i = 0; i < lines.length; i++) {
        String line = lines[i].strip();
        if (!line.isEmpty() && !line.startsWith("#")) {
          return firstLine + i;
        }
      }
      return -1;
    }
  }
}
