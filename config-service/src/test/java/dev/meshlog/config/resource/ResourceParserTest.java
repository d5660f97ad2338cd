package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.PARSER;
import static dev.meshlog.config.resource.Fixtures.lines;
import static dev.meshlog.config.resource.Fixtures.parseProblems;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.meshlog.config.model.Resource;

class ResourceParserTest {

  private static final String REVIEWS = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata:
        name: reviews
        namespace: bookinfo
        labels:
          app: reviews
      spec:
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews, subset: v1}
      """;

  @Test
  void readsAResourceAsWritten() {
    List<ParsedDocument> documents = PARSER.parse(REVIEWS, "reviews.yaml", "default");

    assertThat(documents).hasSize(1);
    ParsedDocument document = documents.get(0);
    assertThat(document.hasProblems()).isFalse();
    assertThat(document.location()).isEqualTo("reviews.yaml:1");
    Resource resource = document.resource();
    assertThat(resource.apiVersion()).isEqualTo("networking.istio.io/v1");
    assertThat(resource.kind()).isEqualTo("VirtualService");
    assertThat(resource.namespace()).isEqualTo("bookinfo");
    assertThat(resource.name()).isEqualTo("reviews");
    assertThat(resource.labels()).isEqualTo(Map.of("app", "reviews"));
    assertThat(resource.spec().toString())
        .isEqualTo("{\"hosts\":[\"reviews\"],\"http\":[{\"route\":[{\"destination\":{\"host\":\"reviews\",\"subset\":\"v1\"}}]}]}");
  }

  @Test
  void defaultsNamespaceToTheOneGiven() {
    Resource resource = PARSER.parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
        """, "sidecar.yaml", "payments").get(0).resource();

    assertThat(resource.namespace()).isEqualTo("payments");
    assertThat(resource.spec().isEmpty()).isTrue();
  }

  @Test
  void readsEveryDocumentOfAMultiDocumentFileWithItsLine() {
    String text = """
        # Bookinfo routing
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: first
        ---

        ---   # nothing in this one
        # nor in this one
        ---
        ~
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: second
        ...
        --- {apiVersion: networking.istio.io/v1, kind: Sidecar, metadata: {name: third}}
        """;

    List<ParsedDocument> documents = PARSER.parse(text, "bookinfo.yaml", "default");

    assertThat(documents).extracting(d -> d.resource().name()).containsExactly("first", "second", "third");
    assertThat(documents).extracting(ParsedDocument::index).containsExactly(0, 1, 2);
    assertThat(documents).extracting(ParsedDocument::line).containsExactly(3, 14, 19);
  }

  @Test
  void readsWindowsLineEndingsAndAByteOrderMark() {
    String text = "\uFEFF" + (sidecar("first") + "---\n" + sidecar("second")).replace("\n", "\r\n");

    List<ParsedDocument> documents = PARSER.parse(text, "windows.yaml", "default");

    assertThat(documents).extracting(d -> d.resource().name()).containsExactly("first", "second");
    assertThat(documents).extracting(ParsedDocument::line).containsExactly(1, 6);
  }

  @Test
  void readsNothingFromAnEmptyFile() {
    assertThat(PARSER.parse("", "empty.yaml", "default")).isEmpty();
    assertThat(PARSER.parse("# just a comment\n---\n", "empty.yaml", "default")).isEmpty();
  }

  @Test
  void keepsAMarkerInsideABlockScalarIndentedAsContent() {
    Resource resource = PARSER.parse("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: banner
        spec:
          hosts: [banner]
          http:
          - directResponse:
              status: 200
              body:
                string: |
                  ---
                  welcome
        """, "banner.yaml", "default").get(0).resource();

    assertThat(resource.spec().at("/http/0/directResponse/body/string").textValue()).isEqualTo("---\nwelcome\n");
  }

  @Test
  void reportsMalformedYamlWithLineAndColumnInTheWholeFile() {
    String text = """
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: ok
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: broken
           namespace: bookinfo
        """;

    List<ParsedDocument> documents = PARSER.parse(text, "broken.yaml", "default");

    assertThat(documents).hasSize(2);
    assertThat(documents.get(0).hasProblems()).isFalse();
    assertThat(documents.get(1).line()).isEqualTo(6);
    assertThat(lines(documents.get(1).problems()))
        .containsExactly("document: line 10, column 13: mapping values are not allowed here");
  }

  @Test
  void reportsUnclosedFlowSequenceWithWhereItStarted() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
        spec:
          hosts: [reviews, ratings
          http: []
        """)).containsExactly("document: line 7, column 7: expected ',' or ']', but got : "
        + "(while parsing a flow sequence at line 6, column 10)");
  }

  @Test
  void reportsTabIndentation() {
    assertThat(parseProblems("apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n\tname: x\n"))
        .singleElement().asString().startsWith("document: line 4, column 1: found character '\\t(TAB)'");
  }

  @Test
  void rejectsDuplicateKeys() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: first
          labels:
            app: reviews
            app: ratings
        """)).containsExactly("document: line 7, column 8: Duplicate field 'app'");
  }

  @Test
  void rejectsYamlAliasesInsteadOfReadingTheAliasName() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
        spec:
          hosts: &hosts [reviews]
          gateways: *hosts
        """)).containsExactly(
        "spec.gateways: *hosts (expected: the value written out; YAML aliases are not supported)");
  }

  @Test
  void rejectsDocumentLargerThanTheLimit() {
    ResourceParser parser = new ResourceParser(200);
    String small = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: small\n";
    String large = small.replace("small", "large") + "spec:\n  egress:\n  - hosts: [\"" + "x".repeat(200) + "\"]\n";

    List<ParsedDocument> documents = parser.parse(small + "---\n" + large, "two.yaml", "default");

    assertThat(documents.get(0).hasProblems()).isFalse();
    assertThat(lines(documents.get(1).problems()))
        .containsExactly("document: Sidecar large: " + (large.length() + 4)
            + " bytes (expected: at most 200 bytes)");
  }

  @Test
  void readsDocumentsOfUpToOneMebibyteByDefault() {
    String padding = "# " + "x".repeat(1000) + "\n";
    String text = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: big\n"
        + padding.repeat(1000);
    assertThat(PARSER.parse(text, "big.yaml", "default").get(0).hasProblems()).isFalse();

    assertThat(lines(PARSER.parse(text + padding.repeat(100), "big.yaml", "default").get(0).problems()))
        .singleElement().asString().endsWith("bytes (expected: at most 1048576 bytes)");
  }

  @Test
  void aDocumentOfTwentyMegabytesIsNamedAndTheNextDocumentIsRead() {
    String huge = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: huge\n"
        + "  namespace: prod\nspec:\n  hosts: [reviews]\n  gateways: [\"" + "x".repeat(20_000_000)
        + "\"]\n";
    String next = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: next\n";

    List<ParsedDocument> documents = PARSER.parse(huge + "---\n" + next, "huge.yaml", "default");
    assertThat(lines(documents.get(0).problems())).singleElement().asString()
        .startsWith("document: VirtualService huge: 20000").endsWith(" bytes (expected: at most "
            + "1048576 bytes)");
    assertThat(documents.get(1).resource().name()).isEqualTo("next");
  }

  @Test
  void rejectsDocumentThatIsNotAnObject() {
    assertThat(parseProblems("- apiVersion: networking.istio.io/v1\n  kind: Sidecar\n"))
        .containsExactly("document: a list (expected: an object with apiVersion, kind, metadata and spec)");
    assertThat(parseProblems("just some text\n"))
        .containsExactly("document: just some text (expected: an object with apiVersion, kind, metadata and spec)");
  }

  @Test
  void reportsEveryMissingRequiredField() {
    assertThat(parseProblems("spec: {}\n"))
        .containsExactly("apiVersion: required", "kind: required", "metadata.name: required");
  }

  @Test
  void rejectsUnknownKindNamingTheKnownOnes() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualSerivce
        metadata:
          name: reviews
        """)).containsExactly("kind: VirtualSerivce (expected one of: VirtualService, DestinationRule, "
        + "ServiceEntry, Gateway, Sidecar, PeerAuthentication, AuthorizationPolicy, RequestAuthentication, RateLimit)");
  }

  @Test
  void rejectsApiVersionOfAnotherGroup() {
    assertThat(parseProblems("""
        apiVersion: security.istio.io/v1
        kind: VirtualService
        metadata:
          name: reviews
        """)).containsExactly("apiVersion: security.istio.io/v1 (expected one of: networking.istio.io/v1, "
        + "networking.istio.io/v1alpha3, networking.istio.io/v1beta1 for VirtualService)");
  }

  @Test
  void rejectsApiVersionWithUnknownVersion() {
    assertThat(parseProblems("""
        apiVersion: policy.meshlog.dev/v2
        kind: RateLimit
        metadata:
          name: ratings
        """)).containsExactly("apiVersion: policy.meshlog.dev/v2 (expected one of: policy.meshlog.dev/v1, "
        + "policy.meshlog.dev/v1alpha3, policy.meshlog.dev/v1beta1 for RateLimit)");
  }

  @Test
  void acceptsEveryIstioVersion() {
    for (String version : List.of("v1", "v1beta1", "v1alpha3")) {
      assertThat(PARSER.parse("apiVersion: networking.istio.io/" + version
          + "\nkind: Gateway\nmetadata:\n  name: gw\n", "gw.yaml", "default").get(0).hasProblems()).isFalse();
    }
  }

  @Test
  void rejectsStatusAndUnknownTopLevelFields() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
        spce: {}
        status:
          conditions: []
        """)).containsExactly(
        "spce: unknown field (expected one of: apiVersion, kind, metadata, spec)",
        "status: not supported");
  }

  @Test
  void rejectsServerManagedMetadata() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          uid: 6f1c1c2e-0b7a-4a0e-9f0e-3b1d2c1e4a5b
          resourceVersion: "12345"
          creationTimestamp: "2024-05-01T10:00:00Z"
          generation: 3
          finalizers: [meshlog.dev/cleanup]
          nmae: typo
        """)).containsExactly(
        "metadata.uid: not supported (server-managed field)",
        "metadata.resourceVersion: not supported (server-managed field)",
        "metadata.creationTimestamp: not supported (server-managed field)",
        "metadata.generation: not supported (server-managed field)",
        "metadata.finalizers: not supported",
        "metadata.nmae: unknown field (expected one of: name, namespace, labels, annotations)");
  }

  @Test
  void acceptsAndIgnoresAnnotations() {
    Resource resource = PARSER.parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          annotations:
            kubectl.kubernetes.io/last-applied-configuration: "{}"
        """, "sidecar.yaml", "default").get(0).resource();

    assertThat(resource.toDocument().path("metadata").has("annotations")).isFalse();
  }

  @Test
  void rejectsLabelValuesThatAreNotStrings() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          labels:
            version: 1.10
            canary: true
            tier: "1"
        """)).containsExactly(
        "metadata.labels[version]: 1.1 (expected: a string; quote numbers and booleans)",
        "metadata.labels[canary]: true (expected: a string; quote numbers and booleans)");
  }

  @Test
  void readsYesAndOnAsStringsAsYaml12Does() {
    Resource resource = PARSER.parse("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          labels:
            enabled: yes
            mode: on
        """, "sidecar.yaml", "default").get(0).resource();

    assertThat(resource.labels()).isEqualTo(Map.of("enabled", "yes", "mode", "on"));
  }

  @Test
  void rejectsNameAndSpecOfTheWrongType() {
    assertThat(parseProblems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: 42
        spec: [egress]
        """)).containsExactly(
        "metadata.name: 42 (expected: a non-empty string)",
        "spec: [\"egress\"] (expected: an object)");
  }

  @Test
  void readsJsonWhenTheSourceIsAJsonFile() {
    List<ParsedDocument> documents = PARSER.parse("""
        {
        \t"apiVersion": "networking.istio.io/v1",
        \t"kind": "Sidecar",
        \t"metadata": {"name": "from-json"}
        }
        """, "sidecar.json", "default");

    assertThat(documents).singleElement().extracting(d -> d.resource().name()).isEqualTo("from-json");
  }

  private static String sidecarJson(String name) {
    return "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", "
        + "\"metadata\": {\"name\": \"" + name + "\"}, \"spec\": {}}";
  }

  @Test
  void readsAStreamOfJsonObjectsAsKubectlDoes() {
    // Back to back, and one per line (what `kubectl get -o json | jq -c '.items[]'` prints).
    String backToBack = sidecarJson("a") + sidecarJson("b");
    String perLine = sidecarJson("a") + "\n" + sidecarJson("b") + "\n\n" + sidecarJson("c") + "\n";

    assertThat(PARSER.parse(backToBack, "s.json", "default"))
        .extracting(d -> d.resource().name()).containsExactly("a", "b");
    assertThat(PARSER.parse(perLine, "s.json", "default"))
        .extracting(d -> d.resource().name() + "@" + d.line()).containsExactly("a@1", "b@2", "c@4");
    // The HTTP API's body and YAML files are read as YAML, in which such a stream is no document.
    assertThat(PARSER.parse(perLine, "request", "default"))
        .extracting(d -> d.resource().name()).containsExactly("a", "b", "c");
  }

  @Test
  void anErrorInAJsonStreamNamesTheObjectAndTheOthersAreRead() {
    String text = sidecarJson("a") + "\n"
        + "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", \"spec\": {}}\n"
        + sidecarJson("c") + "\n"
        + "{\"kind\": \"Sidecar\",}\n";

    List<ParsedDocument> documents = PARSER.parse(text, "request", "default");
    assertThat(documents).hasSize(4);
    assertThat(documents.get(0).resource().name()).isEqualTo("a");
    assertThat(lines(documents.get(1).problems())).singleElement().asString()
        .startsWith("objects[1].metadata.name: ");
    assertThat(documents.get(1).line()).isEqualTo(2);
    assertThat(documents.get(2).resource().name()).isEqualTo("c");
    assertThat(lines(documents.get(3).problems())).singleElement().asString()
        .startsWith("objects[3]: line 4, column 20: Unexpected character ('}' (code 125))");
  }

  @Test
  void aSingleJsonObjectAndYamlFlowMappingsReadAsBefore() {
    assertThat(PARSER.parse(sidecarJson("a"), "request", "default"))
        .extracting(d -> d.resource().name()).containsExactly("a");
    assertThat(PARSER.parse("{apiVersion: networking.istio.io/v1, kind: Sidecar, metadata: {name: a},"
        + " spec: {}}\n---\n{apiVersion: networking.istio.io/v1, kind: Sidecar, metadata: {name: b},"
        + " spec: {}}\n", "request", "default"))
        .extracting(d -> d.resource().name()).containsExactly("a", "b");
    assertThat(PARSER.parse("{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\","
        + " \"metadata\": {\"name\": \"a\"}, \"spec\": {}}\n---\n" + sidecarJson("b"), "request",
        "default")).extracting(d -> d.resource().name()).containsExactly("a", "b");
  }

  @Test
  void reportsMalformedJsonWithLineAndColumn() {
    List<ParsedDocument> documents = PARSER.parse("{\n  \"kind\": \"Sidecar\",\n}\n", "bad.json", "default");

    assertThat(lines(documents.get(0).problems())).singleElement().asString()
        .startsWith("document: line 3, column 1: Unexpected character ('}' (code 125))");
  }

  @Test
  void readsAFile(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("reviews.yaml"), REVIEWS);

    List<ParsedDocument> documents = PARSER.parseFile(file, "default");

    assertThat(documents).singleElement().satisfies(d -> {
      assertThat(d.source()).isEqualTo(file.toString());
      assertThat(d.resource().name()).isEqualTo("reviews");
    });
  }

  @Test
  void reportsAFileThatIsNotUtf8(@TempDir Path dir) throws IOException {
    Path file = Files.write(dir.resolve("latin1.yaml"), new byte[] {'k', 'i', 'n', 'd', ':', ' ', (byte) 0xE9});

    assertThat(lines(PARSER.parseFile(file, "default").get(0).problems()))
        .containsExactly("document: not UTF-8 text (expected: a UTF-8 file)");
  }

  @Test
  void readsADirectoryRecursivelyInPathOrderSkippingHiddenAndOtherFiles(@TempDir Path dir) throws IOException {
    Files.createDirectories(dir.resolve("b/nested"));
    Files.createDirectories(dir.resolve(".git"));
    Files.writeString(dir.resolve("c.yml"), sidecar("c"));
    Files.writeString(dir.resolve("a.yaml"), sidecar("a1") + "---\n" + sidecar("a2"));
    Files.writeString(dir.resolve("b/nested/d.json"),
        "{\"apiVersion\": \"networking.istio.io/v1\", \"kind\": \"Sidecar\", \"metadata\": {\"name\": \"d\"}}");
    Files.writeString(dir.resolve("b/README.md"), "# not a resource");
    Files.writeString(dir.resolve(".hidden.yaml"), sidecar("hidden"));
    Files.writeString(dir.resolve(".git/config.yaml"), sidecar("git"));

    List<ParsedDocument> documents = PARSER.parseDirectory(dir, "default");

    assertThat(documents).extracting(d -> d.resource().name()).containsExactly("a1", "a2", "d", "c");
    assertThat(documents).extracting(ParsedDocument::location).containsExactly(
        dir.resolve("a.yaml") + ":1", dir.resolve("a.yaml") + ":6",
        dir.resolve("b/nested/d.json") + ":1", dir.resolve("c.yml") + ":1");
  }

  @Test
  void reportsNestingTooDeepInWordsAUserCanActOnAndReadsTheNextDocument() {
    String deep = "[".repeat(5000) + "]".repeat(5000);
    List<ParsedDocument> documents = PARSER.parse("apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
        + "metadata: {name: deep}\nspec: {egress: " + deep + "}\n---\n" + sidecar("next"), "deep.yaml",
        "default");

    // Was Jackson's "Document nesting depth (1001) exceeds the maximum allowed (1000, from
    // `StreamReadConstraints.getMaxNestingDepth()`)".
    assertThat(lines(documents.get(0).problems())).containsExactly(
        "document: nested more than 1000 levels deep (expected: at most 1000)");
    assertThat(documents.get(1).resource().name()).isEqualTo("next");
  }

  @Test
  void readsEachItemOfAKubernetesListAsADocument() {
    // What kubectl get -o yaml and meshctl get -o json print for several resources.
    List<ParsedDocument> documents = PARSER.parse("""
        apiVersion: v1
        kind: List
        metadata: {resourceVersion: ""}
        items:
        - apiVersion: networking.istio.io/v1
          kind: Sidecar
          metadata: {name: first}
        - apiVersion: networking.istio.io/v1
          kind: Sidecar
          metadata: {name: second, namespace: prod}
        ---
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata: {name: third}
        """, "list.yaml", "default");

    assertThat(documents).extracting(d -> d.resource().id().key())
        .containsExactly("Sidecar/default/first", "Sidecar/prod/second", "Sidecar/default/third");
    assertThat(documents).extracting(ParsedDocument::index).containsExactly(0, 1, 2);
    assertThat(documents).extracting(ParsedDocument::line).containsExactly(1, 1, 12);
  }

  @Test
  void reportsABadItemOfAListByItsIndexAndKeepsTheOthers() {
    List<ParsedDocument> documents = PARSER.parse("""
        {"apiVersion": "v1", "kind": "List", "items": [
          {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar", "metadata": {"name": "good"}},
          {"apiVersion": "networking.istio.io/v1", "kind": "Sidecar"},
          {"apiVersion": "v1", "kind": "List", "items": []}
        ]}
        """, "list.json", "default");

    assertThat(documents).hasSize(3);
    assertThat(documents.get(0).resource().name()).isEqualTo("good");
    assertThat(lines(documents.get(1).problems())).containsExactly("items[1].metadata.name: required");
    assertThat(lines(documents.get(2).problems())).containsExactly(
        "items[2].kind: List (expected: a resource; a List cannot hold a List)");
  }

  @Test
  void rejectsAListWithoutItemsOrWithOtherFields() {
    assertThat(parseProblems("apiVersion: v1\nkind: List\nitems: {a: 1}\n"))
        .containsExactly("items: {\"a\":1} (expected: a list of resources)");
    assertThat(parseProblems("apiVersion: v1\nkind: List\nitems: []\nspec: {}\n"))
        .containsExactly("spec: unknown field (expected one of: apiVersion, kind, metadata, items)");
  }

  @Test
  void reportsABrokenSymbolicLinkInADirectoryInsteadOfSkippingIt(@TempDir Path dir) throws IOException {
    Files.writeString(dir.resolve("a.yaml"), sidecar("a"));
    Files.createSymbolicLink(dir.resolve("b.yaml"), dir.resolve("gone.yaml"));
    Files.writeString(dir.resolve("c.yaml"), sidecar("c"));

    List<ParsedDocument> documents = PARSER.parseDirectory(dir, "default");

    assertThat(documents).hasSize(3);
    assertThat(documents.get(1).source()).isEqualTo(dir.resolve("b.yaml").toString());
    assertThat(lines(documents.get(1).problems())).containsExactly(
        "document: cannot read: a symbolic link to " + dir.resolve("gone.yaml") + ", which does not exist");
    assertThat(documents.get(2).resource().name()).isEqualTo("c");
  }

  @Test
  void refusesToReadAFileAsADirectory(@TempDir Path dir) throws IOException {
    Path file = Files.writeString(dir.resolve("a.yaml"), sidecar("a"));

    assertThatThrownBy(() -> PARSER.parseDirectory(file, "default")).isInstanceOf(NotDirectoryException.class);
  }

  private static String sidecar(String name) {
    return "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: " + name + "\n";
  }
}
