package dev.meshlog.config.resource;

import static dev.meshlog.config.resource.Fixtures.problems;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Istio's documented examples of what Meshlog does not support (istio.io, networking reference:
 * VirtualService {@code delegate}, fault {@code http2Error}): each
 * is one error, the field that is not supported, not that error and what its absence implies;
 * and examples of fields once refused that now apply cleanly ({@code corsPolicy}, fault
 * {@code grpcStatus}, a hash on a query parameter, Gateway {@code httpsRedirect}).
 */
class IstioExamplesValidationTest {

  @Test
  void httpsRedirectOnAnHttpServerBesideItsHttpsServerIsAccepted() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: my-gateway}
        spec:
          selector: {app: my-gateway-controller}
          servers:
          - port: {number: 80, name: http, protocol: HTTP}
            hosts: [uk.bookinfo.com, eu.bookinfo.com]
            tls:
              httpsRedirect: true # sends 301 redirect for http requests
          - port: {number: 443, name: https-443, protocol: HTTPS}
            hosts: [uk.bookinfo.com, eu.bookinfo.com]
            tls:
              mode: SIMPLE # enables HTTPS on this port
              serverCertificate: /etc/certs/servercert.pem
              privateKey: /etc/certs/privatekey.pem
        """)).isEmpty();
  }

  @Test
  void aCredentialNameIsOneErrorNotAlsoTheFilesItReplaces() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: Gateway
        metadata: {name: my-gateway}
        spec:
          selector: {app: gw}
          servers:
          - port: {number: 443, name: https, protocol: HTTPS}
            hosts: [b.example.com]
            tls: {mode: SIMPLE, credentialName: b-cred}
        """)).containsExactly("spec.servers[0].tls.credentialName: not supported");
  }

  @Test
  void aDelegateIsOneErrorAndItsDelegateSaysWhyHostsAreRequired() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bookinfo}
        spec:
          hosts: ["*.bookinfo.com"]
          gateways: [mygateway]
          http:
          - match:
            - uri: {prefix: "/productpage"}
            delegate:
              name: productpage
              namespace: nsa
          - match:
            - uri: {prefix: "/reviews"}
            route:
            - destination: {host: reviews}
        """)).containsExactly(
        "spec.http[0].delegate: not supported (write the delegate's routes here)");
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: productpage, namespace: nsa}
        spec:
          http:
          - match:
            - uri: {prefix: "/productpage/v1/"}
            route:
            - destination: {host: productpage-v1.nsa.svc.cluster.local}
        """)).containsExactly("spec.hosts: required (Istio leaves hosts out only in a delegate "
        + "VirtualService, and Meshlog does not support delegation)");
  }

  @Test
  void istiosGrpcStatusAbortExampleAppliesAndAnHttp2ErrorIsOneError() {
    String example = """
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings-route}
        spec:
          hosts: [ratings.prod.svc.cluster.local]
          http:
          - route:
            - destination: {host: ratings.prod.svc.cluster.local, subset: v1}
            fault:
              abort:
                %s
                percentage: {value: 0.1}
        """;
    assertThat(problems(example.formatted("grpcStatus: \"UNAVAILABLE\""))).isEmpty();
    assertThat(problems(example.formatted("http2Error: REFUSED_STREAM"))).containsExactly(
        "spec.http[0].fault.abort.http2Error: not supported (use httpStatus or grpcStatus)");
  }

  @Test
  void istiosCorsPolicyExampleApplies() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ratings-route}
        spec:
          hosts:
          - ratings.prod.svc.cluster.local
          http:
          - route:
            - destination:
                host: ratings.prod.svc.cluster.local
                subset: v1
            corsPolicy:
              allowOrigins:
              - exact: https://example.com
              allowMethods:
              - POST
              - GET
              allowCredentials: false
              allowHeaders:
              - X-Foo-Bar
              maxAge: "24h"
        """)).isEmpty();
  }

  @Test
  void tlsRoutesAloneAreOneError() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: bookinfo-sni}
        spec:
          hosts: ["*.bookinfo.com"]
          gateways: [mygateway]
          tls:
          - match:
            - port: 443
              sniHosts: [login.bookinfo.com]
            route:
            - destination: {host: login.prod.svc.cluster.local}
        """)).isEmpty();
  }

  @Test
  void istiosHashOnAQueryParameterExampleApplies() {
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: DestinationRule
        metadata: {name: bookinfo-ratings}
        spec:
          host: ratings.prod.svc.cluster.local
          trafficPolicy:
            loadBalancer:
              consistentHash:
                httpQueryParameterName: user
        """)).isEmpty();
  }

  @Test
  void anIpAddressAsAHostSaysThatIpAddressesAreNotSupportedAndWhy() {
    // Istio: "IP addresses are allowed only for services defined via the Gateway"; Meshlog's
    // proxies find a VirtualService by the name a client asks for.
    assertThat(problems("""
        apiVersion: networking.istio.io/v1
        kind: VirtualService
        metadata: {name: ip}
        spec:
          hosts: [10.0.0.5, "2001:db8::1"]
          http:
          - route:
            - destination: {host: 10.0.0.5}
        """)).containsExactly(
        "spec.hosts[0]: 10.0.0.5 (expected: a DNS name such as reviews or reviews.prod.svc.cluster"
            + ".local, or one starting with *.; not an IP address: Meshlog's proxies route by the "
            + "name a client asks for, and Istio takes an IP address as a host only for a "
            + "Gateway's traffic, which Meshlog routes by name too)",
        "spec.hosts[1]: 2001:db8::1 (expected: a DNS name such as reviews or reviews.prod.svc"
            + ".cluster.local, or one starting with *.; not an IP address: Meshlog's proxies route "
            + "by the name a client asks for, and Istio takes an IP address as a host only for a "
            + "Gateway's traffic, which Meshlog routes by name too)",
        "spec.http[0].route[0].destination.host: 10.0.0.5 (expected: a DNS name such as reviews or"
            + " reviews.prod.svc.cluster.local; not an IP address: it names no service; "
            + "give it a ServiceEntry (endpoints: [{address: ...}]) and use that entry's host)");
  }
}
