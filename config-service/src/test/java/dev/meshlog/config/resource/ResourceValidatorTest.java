package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.VALIDATOR;
import static dev.meshlog.config.resource.Fixtures.lines;
import static dev.meshlog.config.resource.Fixtures.problems;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;

import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;

class ResourceValidatorTest {

  @Test
  void acceptsTheExampleOfEveryKind() throws IOException {
    List<ParsedDocument> documents = Fixtures.PARSER.parseDirectory(Fixtures.examples(), "default");

    assertThat(documents).allSatisfy(document -> {
      assertThat(document.problems()).as(document.location()).isEmpty();
      assertThat(lines(VALIDATOR.validate(document.resource()))).as(document.location()).isEmpty();
    });
    assertThat(documents).extracting(d -> d.resource().kind())
        .containsAll(List.of(Kind.values()).stream().map(Kind::kindName).toList());
  }

  @Test
  void rejectsNameThatIsNotADnsLabel() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: Reviews_V1
        spec: {}
        """)).containsExactly("metadata.name: Reviews_V1 (expected: lower-case letters, digits and '-', "
        + "starting and ending with a letter or digit, at most 63 characters)");
  }

  @Test
  void rejectsNameLongerThan63Characters() {
    String name = "r".repeat(64);
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: %s
        """.formatted(name))).singleElement().asString().startsWith("metadata.name: " + name + " (expected:");
  }

  @Test
  void rejectsNamespaceThatIsNotADnsLabel() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          namespace: -bookinfo
        """)).singleElement().asString().startsWith("metadata.namespace: -bookinfo (expected: lower-case");
  }

  @Test
  void rejectsLabelsKubernetesWouldReject() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Sidecar
        metadata:
          name: default
          labels:
            app: reviews
            "team/": payments
            tier: "front end"
        """)).containsExactly(
        "metadata.labels[team/]: team/ (expected: a label name: letters, digits, '-', '_' and '.', "
            + "at most 63 characters, optionally after a DNS prefix and '/')",
        "metadata.labels[tier]: front end (expected: a label value: at most 63 letters, digits, '-', '_' or '.', "
            + "starting and ending with a letter or digit)");
  }

  @Test
  void rejectsResourceOfUnknownKindBuiltOutsideTheParser() {
    Resource resource = new Resource("example.com/v1", "Widget", "default", "w", Map.of(),
        JsonNodeFactory.instance.objectNode());

    assertThat(lines(VALIDATOR.validate(resource))).containsExactly(
        "kind: Widget (expected one of: VirtualService, DestinationRule, ServiceEntry, Gateway, Sidecar, "
            + "PeerAuthentication, AuthorizationPolicy, RequestAuthentication, RateLimit)");
  }

  @Test
  void rejectsApiVersionOfAnotherGroupBuiltOutsideTheParser() {
    Resource resource = new Resource("security.istio.io/v1", "Gateway", "default", "gw", Map.of(),
        JsonNodeFactory.instance.objectNode());

    assertThat(lines(VALIDATOR.validate(resource))).startsWith(
        "apiVersion: security.istio.io/v1 (expected one of: networking.istio.io/v1, "
            + "networking.istio.io/v1alpha3, networking.istio.io/v1beta1 for Gateway)");
  }

  @Test
  void acceptsResourceReadBackFromItsDocument() {
    Resource resource = Fixtures.resource("""
        apiVersion: policy.meshlog.dev/v1
        kind: RateLimit
        metadata:
          name: ratings
        spec:
          host: ratings
          requestsPerUnit: 10
          unit: MINUTE
        """);

    assertThat(VALIDATOR.validate(Resource.fromDocument(resource.toDocument()))).isEmpty();
  }
}
