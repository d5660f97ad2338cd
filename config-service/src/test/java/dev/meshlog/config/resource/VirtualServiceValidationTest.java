package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.specProblems;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.meshlog.config.model.FieldProblem;
import dev.meshlog.config.model.Kind;
import dev.meshlog.config.model.Resource;

class VirtualServiceValidationTest {

  private static List<String> problems(String spec) {
    return specProblems(Kind.VIRTUAL_SERVICE, spec);
  }

  @Test
  void acceptsAMinimalRoute() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
        """)).isEmpty();
  }

  @Test
  void requiresHosts() {
    assertThat(problems("""
        http:
        - route:
          - destination: {host: reviews}
        """)).containsExactly("spec.hosts: required (Istio leaves hosts out only in a delegate "
        + "VirtualService, and Meshlog does not support delegation)");
    assertThat(problems("""
        hosts: []
        http:
        - route:
          - destination: {host: reviews}
        """)).containsExactly("spec.hosts: [] (expected: at least one item)");
  }

  @Test
  void rejectsHostThatIsNotADnsName() {
    assertThat(problems("""
        hosts: ["*.bookinfo.com", "*", reviews_v1, "a.*.com"]
        http:
        - route:
          - destination: {host: reviews}
        """)).containsExactly(
        "spec.hosts[2]: reviews_v1 (expected: a DNS name such as reviews or reviews.prod.svc.cluster.local, "
            + "or one starting with *.)",
        "spec.hosts[3]: a.*.com (expected: a DNS name such as reviews or reviews.prod.svc.cluster.local, "
            + "or one starting with *.)");
  }

  @Test
  void requiresHttpOrTcpRoutes() {
    assertThat(problems("hosts: [reviews]\n"))
        .containsExactly("spec: none set (expected: at least one of http, tcp, tls)");
  }

  @Test
  void acceptsTlsRoutesBoundToAGatewayWhoseSniHostsAreAmongItsHosts() {
    assertThat(problems("""
        hosts: ["*.example.com", login.prod.svc.cluster.local]
        gateways: [edge]
        tls:
        - match:
          - port: 443
            sniHosts: [login.example.com, "*.shop.example.com", login.prod.svc.cluster.local]
          route:
          - destination: {host: login, port: {number: 8443}}
            weight: 90
          - destination: {host: login-canary}
            weight: 10
        """)).isEmpty();
  }

  @Test
  void rejectsTlsRoutesOnSidecarsSniHostsOutsideItsHostsAndWhatTheyCannotMatch() {
    assertThat(problems("""
        hosts: ["*.example.com"]
        gateways: [edge, mesh]
        tls:
        - match:
          - sniHosts: [login.example.org, "*.example.com", example.com]
            destinationSubnets: [10.0.0.0/8]
          route:
          - destination: {host: login}
            weight: 50
          - destination: {host: shop}
            weight: 40
        - match:
          - sniHosts: [a.example.com]
            gateways: [edge]
          - port: 443
          route:
          - destination: {host: login}
        - route:
          - destination: {host: login}
        """)).containsExactly(
        "spec.tls[0].match[0].destinationSubnets: not supported",
        "spec.tls[0].route: weights add up to 90 (expected: 100)",
        "spec.tls[1].match[1].sniHosts: required",
        "spec.tls[2].match: required",
        "spec.tls[0].match[0].sniHosts[0]: login.example.org (expected: a subset of one of the"
            + " VirtualService's hosts, *.example.com, as Istio requires)",
        "spec.tls[0].match[0].sniHosts[2]: example.com (expected: a subset of one of the"
            + " VirtualService's hosts, *.example.com, as Istio requires)",
        "spec.tls[0]: applies to sidecars (spec.gateways names mesh); tls routes apply only to"
            + " gateways yet (expected: gateways naming a Gateway, in spec.gateways or the match's)",
        "spec.tls[1]: applies to sidecars (spec.gateways names mesh); tls routes apply only to"
            + " gateways yet (expected: gateways naming a Gateway, in spec.gateways or the match's)");
  }

  @Test
  void rejectsVirtualServiceWithUnknownField() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
          foo: bar
        """)).containsExactly("spec.http[0].foo: unknown field (expected one of: name, match, route, redirect, "
        + "directResponse, rewrite, timeout, retries, fault, mirror, mirrorPercentage, headers, "
        + "corsPolicy)");
  }

  @Test
  void rejectsIstioFieldsMeshlogDoesNotSupport() {
    assertThat(problems("""
        hosts: [reviews]
        exportTo: ["."]
        http:
        - route:
          - destination: {host: reviews}
          mirrors: [{destination: {host: reviews}}]
          mirrorPercent: 10
        """)).containsExactly(
        "spec.exportTo: not supported (except [\"*\"], every namespace, Istio's default: "
            + "Meshlog has no per-namespace visibility)",
        "spec.http[0].mirrors: not supported",
        "spec.http[0].mirrorPercent: not supported (use mirrorPercentage)");
  }

  @Test
  void acceptsACorsPolicyWithEveryField() {
    assertThat(problems("""
        hosts: [ratings]
        http:
        - route:
          - destination: {host: ratings}
          corsPolicy:
            allowOrigins:
            - exact: https://example.com
            - prefix: https://app.
            - regex: "https://.*[.]example[.]org"
            allowMethods: [POST, GET]
            allowHeaders: [X-Foo-Bar, "*"]
            exposeHeaders: [x-request-id]
            maxAge: 24h
            allowCredentials: false
            unmatchedPreflights: IGNORE
        """)).isEmpty();
  }

  @Test
  void checksCorsPolicyAsIstioDoesNamingEachField() {
    assertThat(problems("""
        hosts: [ratings]
        http:
        - route:
          - destination: {host: ratings}
          corsPolicy:
            allowOrigins:
            - regex: "https://(.*"
            - {}
            allowMethods: [GET, FETCH]
            allowHeaders: ["X Foo", ""]
            exposeHeaders: [x.bar, "x:baz"]
            maxAge: 1.5s
            allowCredentials: "yes"
            unmatchedPreflights: DROP
        """)).containsExactly(
        "spec.http[0].corsPolicy.allowOrigins[0].regex: https://(.* (expected: RE2 syntax, as Istio "
            + "takes it; missing closing ): `https://(.*`)",
        "spec.http[0].corsPolicy.allowOrigins[1]: none set (expected: exactly one of exact, prefix, regex)",
        "spec.http[0].corsPolicy.allowMethods[1]: FETCH (expected one of: GET, HEAD, POST, PUT, DELETE, "
            + "CONNECT, OPTIONS, TRACE, PATCH, *)",
        "spec.http[0].corsPolicy.allowHeaders[0]: X Foo (expected: a header name: letters, "
            + "digits and !#$%&'*+-.^_`|~, or *)",
        "spec.http[0].corsPolicy.allowHeaders[1]: \"\" (expected: a header name: letters, "
            + "digits and !#$%&'*+-.^_`|~, or *)",
        "spec.http[0].corsPolicy.exposeHeaders[1]: x:baz (expected: a header name: letters, "
            + "digits and !#$%&'*+-.^_`|~, or *)",
        "spec.http[0].corsPolicy.maxAge: 1.5s (expected: a duration of whole seconds, at least 1s, "
            + "such as 24h or 600s)",
        "spec.http[0].corsPolicy.allowCredentials: yes (expected: true or false)",
        "spec.http[0].corsPolicy.unmatchedPreflights: DROP (expected one of: UNSPECIFIED, FORWARD, "
            + "IGNORE)");
  }

  @Test
  void refusesTheAllowOriginListIstioIgnoresSince16() {
    assertThat(problems("""
        hosts: [ratings]
        http:
        - route:
          - destination: {host: ratings}
          corsPolicy:
            allowOrigin: ["*"]
            allowMethods: [GET]
        """)).containsExactly("spec.http[0].corsPolicy.allowOrigin: not supported (use allowOrigins, "
        + "a list of StringMatch such as - exact: https://example.com; Istio ignores allowOrigin since 1.6)");
  }

  @Test
  void reportsWeightOutOfRange() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews, subset: v1}
            weight: -20
          - destination: {host: reviews, subset: v2}
            weight: 120
        """)).containsExactly(
        "spec.http[0].route[0].weight: -20 (expected: 0..100)",
        "spec.http[0].route[1].weight: 120 (expected: 0..100)");
  }

  @Test
  void reportsWeightsThatDoNotSumTo100() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews, subset: v1}
            weight: 50
          - destination: {host: reviews, subset: v2}
            weight: 40
          - destination: {host: reviews, subset: v3}
        """)).containsExactly("spec.http[0].route: weights add up to 90 (expected: 100)");
  }

  @Test
  void reportsPathValueAndMessageSeparately() {
    Resource resource = Fixtures.resource("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: reviews}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
            - destination: {host: reviews, subset: v2}
              weight: 120
        """);

    assertThat(Fixtures.VALIDATOR.validate(resource)).containsExactly(
        new FieldProblem("spec.http[0].route[1].weight", "120", "120 (expected: 0..100)"));
  }

  @Test
  void reportsIntegerTooLargeForIstiosFields() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
          retries: {attempts: 3000000000}
        """)).containsExactly("spec.http[0].retries.attempts: 3000000000 (expected: 0..2147483647)");
  }

  @Test
  void letsASingleDestinationOmitItsWeight() {
    assertThat(problems("""
        hosts: [reviews]
        tcp:
        - route:
          - destination: {host: reviews, port: {number: 9080}}
        """)).isEmpty();
  }

  @Test
  void reportsTcpWeightsThatDoNotSumTo100() {
    assertThat(problems("""
        hosts: [mongo]
        tcp:
        - match: [{port: 27017}]
          route:
          - destination: {host: mongo, subset: v1}
            weight: 70
          - destination: {host: mongo, subset: v2}
            weight: 70
        """)).containsExactly("spec.tcp[0].route: weights add up to 140 (expected: 100)");
  }

  @Test
  void rejectsWeightThatIsNotAnInteger() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
            weight: "50"
        """)).containsExactly("spec.http[0].route[0].weight: 50 (expected: an integer, 0..100)");
  }

  @Test
  void requiresDestinationHost() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {subset: v1}
          - weight: 0
        """)).containsExactly(
        "spec.http[0].route[0].destination.host: required",
        "spec.http[0].route[1].destination: required",
        "spec.http[0].route: weights add up to 0 (expected: 100)");
  }

  @Test
  void requiresExactlyOneOfRouteRedirectAndDirectResponse() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - name: both
          route:
          - destination: {host: reviews}
          redirect: {uri: /v2}
        - name: neither
          timeout: 1s
        """)).containsExactly(
        "spec.http[0]: route and redirect set (expected: exactly one of route, redirect, directResponse)",
        "spec.http[1]: none set (expected: exactly one of route, redirect, directResponse)");
  }

  @Test
  void rejectsRewriteTogetherWithRedirect() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - redirect: {uri: /v2, redirectCode: 308}
          rewrite: {uri: /v3}
        """)).containsExactly("spec.http[0].rewrite: not allowed with redirect");
  }

  @Test
  void checksRedirect() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - redirect: {redirectCode: 304, derivePort: FROM_REQUEST_PORT}
        """)).containsExactly(
        "spec.http[0].redirect.redirectCode: 304 (expected one of: 301, 302, 303, 307, 308)",
        "spec.http[0].redirect.derivePort: not supported (set port)");
  }

  @Test
  void checksDirectResponse() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - directResponse:
            status: 700
            body: {bytes: aGVsbG8=}
        - directResponse:
            body: {string: hello}
        """)).containsExactly(
        "spec.http[0].directResponse.status: 700 (expected: 200..599)",
        "spec.http[0].directResponse.body.bytes: not supported",
        "spec.http[1].directResponse.status: required");
  }

  @Test
  void checksStringMatches() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {prefix: /a, exact: /a}
            method: {}
            headers:
              x-version: {regex: "v(1|2"}
            queryParams:
              debug: {exact: "1"}
            sourceNamespace: bookinfo
          route:
          - destination: {host: reviews}
        """)).containsExactly(
        "spec.http[0].match[0].uri: exact and prefix set (expected: exactly one of exact, prefix, regex)",
        "spec.http[0].match[0].method: none set (expected: exactly one of exact, prefix, regex)",
        "spec.http[0].match[0].headers[x-version].regex: v(1|2 (expected: RE2 syntax, as Istio takes "
            + "it; missing closing ): `v(1|2`)",
        "spec.http[0].match[0].sourceNamespace: not supported");
  }

  @Test
  void acceptsExportToEveryNamespaceWhichIsIstiosDefault() {
    assertThat(problems("""
        hosts: [reviews]
        exportTo: ["*"]
        http:
        - route:
          - destination: {host: reviews}
        """)).isEmpty();
  }

  @Test
  void rejectsHostsNotInLowerCaseWhichWouldMatchNoService() {
    assertThat(problems("""
        hosts: [Reviews, "*.Example.com"]
        gateways: [istio-system/Ingress]
        http:
        - route:
          - destination: {host: Ratings.prod.svc.cluster.local}
        """)).containsExactly(
        "spec.hosts[0]: Reviews (expected: lower case, reviews (hosts are matched as written, and "
            + "services' hosts are lower case))",
        "spec.hosts[1]: *.Example.com (expected: lower case, *.example.com (hosts are matched as "
            + "written, and services' hosts are lower case))",
        "spec.http[0].route[0].destination.host: Ratings.prod.svc.cluster.local (expected: lower "
            + "case, ratings.prod.svc.cluster.local (hosts are matched as written, and services' "
            + "hosts are lower case))");
  }

  @Test
  void acceptsRegexesThatMeanTheSameInRe2AndJava() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {regex: "(?i)^/api/v[0-9]+/.*"}
            headers:
              x-user: {regex: '\\p{L}+(\\s\\w+)?\\z'}
              x-flags: {regex: '(?s:a.b)|[^\\d]{2,3}?'}
          route:
          - destination: {host: reviews}
        """)).isEmpty();
  }

  @Test
  void rejectsAnIntersectionOrANestedClassWhichOnlyJavaReadsAsSuch() {
    // RE2: [a-z&&[^aeiou]] is the characters a-z, &, [, ^, a, e, i, o, u then a literal ]. Java:
    // consonants. Escaped, both read the characters alike.
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {regex: '/[a-z&&[^aeiou]]+'}
          - uri: {regex: '/[a[b]'}
          - uri: {regex: '/[\\&\\&\\[]+[]&]&&'}
          route:
          - destination: {host: reviews}
        """)).containsExactly(
        "spec.http[0].match[0].uri.regex: /[a-z&&[^aeiou]]+ (expected: no && inside a character "
            + "class, which Java reads as an intersection and RE2 as characters; escape it (\\&\\&))",
        "spec.http[0].match[1].uri.regex: /[a[b] (expected: no [ inside a character class, which "
            + "Java reads as a nested class and RE2 as characters; escape it (\\[))");
  }

  @Test
  void acceptsRe2NamedGroupsAsEnvoyDoes() {
    // (?P<name>…) is RE2's spelling (Envoy takes it); the proxy compiles it through Re2Regex.
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {regex: '^/v(?P<v>\\d+)/(?P<rest_of_path>.*)$'}
          rewrite:
            uriRegexRewrite: {match: '^/v(?P<v>\\d+)/(.*)$', rewrite: '/\\2'}
          route:
          - destination: {host: reviews}
        """)).isEmpty();
  }

  @Test
  void rejectsANamedGroupRe2RefusesNamingRe2AsTheJudge() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {regex: '(?P<v>a)(?P<v>b)'}
          - uri: {regex: '(?P=v)'}
          route:
          - destination: {host: reviews}
        """)).containsExactly(
        "spec.http[0].match[0].uri.regex: (?P<v>a)(?P<v>b) (expected: RE2 syntax, as Istio takes it; "
            + "duplicate capture group name: `v`)",
        "spec.http[0].match[1].uri.regex: (?P=v) (expected: RE2 syntax, as Istio takes it; "
            + "invalid or unsupported Perl syntax: `(?P`)");
  }

  @Test
  void rejectsRegexesThatRe2RejectsOrReadsDifferently() {
    // Istio (Envoy) takes RE2; java.util.regex accepts these, or reads them otherwise.
    assertThat(problems("""
        hosts: [reviews]
        http:
        - match:
          - uri: {regex: '^/(a)\\1$'}
          - uri: {regex: "^/a*+b$"}
          - uri: {regex: "^(?!admin).*"}
          - uri: {regex: "^/[[:alpha:]]+$"}
          - uri: {regex: "(?U)a+"}
          route:
          - destination: {host: reviews}
        """)).containsExactly(
        "spec.http[0].match[0].uri.regex: ^/(a)\\1$ (expected: RE2 syntax, as Istio takes it; "
            + "invalid escape sequence: `\\1`)",
        "spec.http[0].match[1].uri.regex: ^/a*+b$ (expected: RE2 syntax, as Istio takes it; "
            + "invalid nested repetition operator: `*+`)",
        "spec.http[0].match[2].uri.regex: ^(?!admin).* (expected: RE2 syntax, as Istio takes it; "
            + "invalid or unsupported Perl syntax: `(?!`)",
        "spec.http[0].match[3].uri.regex: ^/[[:alpha:]]+$ (expected: no POSIX class such as "
            + "[:alpha:], which RE2 and Java read differently; write A-Za-z in its place)",
        "spec.http[0].match[4].uri.regex: (?U)a+ (expected: no U flag, which RE2 reads as ungreedy "
            + "and Java as Unicode classes)");
  }

  @Test
  void checksRetries() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
          retries:
            attempts: -1
            perTryTimeout: 2 seconds
            retryOn: 5xx,gateway-error,cancelled,429,teapot
            backoff: 0.5ms
            retryIgnorePreviousHosts: "no"
        """)).containsExactly(
        "spec.http[0].retries.attempts: -1 (expected: 0 or more)",
        "spec.http[0].retries.perTryTimeout: 2 seconds (expected: a duration such as 10s, 250ms or 1m30s)",
        "spec.http[0].retries.retryOn: cancelled not supported (expected: 5xx, gateway-error, connect-failure, "
            + "reset, retriable-4xx, refused-stream, retriable-status-codes or an HTTP status code)",
        "spec.http[0].retries.retryOn: teapot (expected: 5xx, gateway-error, connect-failure, "
            + "reset, retriable-4xx, refused-stream, retriable-status-codes or an HTTP status code)",
        "spec.http[0].retries.backoff: 0.5ms (expected: a duration of at least 1ms in whole "
            + "milliseconds, such as 25ms or 1s)",
        "spec.http[0].retries.retryIgnorePreviousHosts: no (expected: true or false)");
  }

  @Test
  void checksFaults() {
    assertThat(problems("""
        hosts: [ratings]
        http:
        - route:
          - destination: {host: ratings}
          fault:
            delay:
              percent: 10
              exponentialDelay: 1s
            abort:
              httpStatus: 999
              grpcStatus: UNAVAILABLE
              percentage: {value: 101}
        - route:
          - destination: {host: ratings}
          fault: {}
        """)).containsExactly(
        "spec.http[0].fault.delay.percent: not supported (use percentage)",
        "spec.http[0].fault.delay.exponentialDelay: not supported (use fixedDelay)",
        "spec.http[0].fault.abort.httpStatus: 999 (expected: 200..599)",
        "spec.http[0].fault.abort.percentage.value: 101 (expected: 0..100)",
        "spec.http[0].fault.abort: httpStatus and grpcStatus set (expected: exactly one of "
            + "httpStatus, grpcStatus)",
        "spec.http[1].fault: none set (expected: at least one of delay, abort)");
  }

  @Test
  void takesAGrpcStatusAbortByItsNameAsIstioDoes() {
    assertThat(problems("""
        hosts: [ratings]
        http:
        - route:
          - destination: {host: ratings}
          fault:
            abort: {grpcStatus: UNAVAILABLE, percentage: {value: 10}}
        - route:
          - destination: {host: ratings}
          fault:
            abort: {grpcStatus: "14"}
        - route:
          - destination: {host: ratings}
          fault:
            abort: {percentage: {value: 10}}
        """)).containsExactly(
        "spec.http[1].fault.abort.grpcStatus: 14 (expected one of: OK, CANCELLED, UNKNOWN, "
            + "INVALID_ARGUMENT, DEADLINE_EXCEEDED, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, "
            + "RESOURCE_EXHAUSTED, FAILED_PRECONDITION, ABORTED, OUT_OF_RANGE, UNIMPLEMENTED, "
            + "INTERNAL, UNAVAILABLE, DATA_LOSS, UNAUTHENTICATED)",
        "spec.http[2].fault.abort: none set (expected: exactly one of httpStatus, grpcStatus)");
  }

  @Test
  void checksRewriteMirrorAndHeaders() {
    assertThat(problems("""
        hosts: [reviews]
        http:
        - route:
          - destination: {host: reviews}
            headers:
              request:
                set: {x-a: 1}
                append: {x-b: b}
          rewrite:
            uri: /v2
            uriRegexRewrite: {match: "^/(.*", rewrite: /\\\\1}
          mirror: {host: "*.reviews"}
          mirrorPercentage: {value: high}
          timeout: 10
        """)).containsExactly(
        "spec.http[0].route[0].headers.request.set[x-a]: 1 (expected: a string)",
        "spec.http[0].route[0].headers.request.append: unknown field (expected one of: set, add, remove)",
        "spec.http[0].rewrite.uriRegexRewrite.match: ^/(.* (expected: RE2 syntax, as Istio takes it; "
            + "missing closing ): `^/(.*`)",
        "spec.http[0].rewrite: uri and uriRegexRewrite set (expected: at most one of uri, uriRegexRewrite)",
        "spec.http[0].mirror.host: *.reviews (expected: a DNS name such as reviews or "
            + "reviews.prod.svc.cluster.local)",
        "spec.http[0].mirrorPercentage.value: high (expected: a number, 0..100)",
        "spec.http[0].timeout: 10 (expected: a duration such as 10s, 250ms or 1m30s)");
  }

  @Test
  void checksTcpMatches() {
    assertThat(problems("""
        hosts: [mongo]
        tcp:
        - match:
          - port: 70000
            destinationSubnets: [10.0.0.0/8]
            sniHosts: [mongo]
          route:
          - destination: {host: mongo}
        """)).containsExactly(
        "spec.tcp[0].match[0].port: 70000 (expected: 1..65535)",
        "spec.tcp[0].match[0].destinationSubnets: not supported",
        "spec.tcp[0].match[0].sniHosts: unknown field (expected one of: port, sourceLabels, gateways)");
  }

  @Test
  void treatsNullAsAbsent() {
    assertThat(problems("""
        hosts: [reviews]
        gateways:
        http:
        - route:
          - destination: {host: reviews}
          timeout: ~
          corsPolicy: ~
          mirrors: ~
        """)).containsExactly("spec.http[0].mirrors: not supported");
  }

  @Test
  void whatThePosixClassErrorSaysToWriteInsteadIsTakenByRe2AndJavaAlike() {
    Shapes.POSIX_SPELLED.forEach((name, spelled) -> {
      String regex = "^/[" + spelled + "]+$";
      com.google.re2j.Pattern re2 = com.google.re2j.Pattern.compile(regex);
      java.util.regex.Pattern jdk = java.util.regex.Pattern.compile(regex);
      assertThat(Shapes.readDifferently(regex)).as(name).isNull();
      for (int c = 0; c < 128; c++) {
        String path = "/" + (char) c;
        assertThat(re2.matcher(path).matches()).as(name + " " + c)
            .isEqualTo(jdk.matcher(path).matches());
      }
      // and it holds what the POSIX class holds (Java's \p{...} is the ASCII POSIX class)
      String javaName = switch (name) {
        case "xdigit" -> "XDigit";
        case "ascii" -> "ASCII";
        case "word" -> null;
        default -> Character.toUpperCase(name.charAt(0)) + name.substring(1);
      };
      if (javaName != null) {
        java.util.regex.Pattern posix = java.util.regex.Pattern.compile("^/\\p{" + javaName + "}+$");
        for (int c = 0; c < 128; c++) {
          String path = "/" + (char) c;
          assertThat(jdk.matcher(path).matches()).as(name + " " + c)
              .isEqualTo(posix.matcher(path).matches());
        }
      }
    });
  }
}
