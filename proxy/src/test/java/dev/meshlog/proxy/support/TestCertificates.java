package dev.meshlog.proxy.support;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority made in a test (BouncyCastle), issuing server and client
 * certificates, written as PEM files the way a gateway reads them.
 */
public final class TestCertificates {

  private static final AtomicLong SERIAL = new AtomicLong(System.nanoTime());

  /** PEM files of one issued certificate: its chain and its key. */
  public record Issued(Path certificate, Path privateKey) {}

  private final Path dir;
  private final KeyPair caKeys;
  private final X509Certificate ca;
  private final Path caFile;

  private TestCertificates(Path dir, KeyPair caKeys, X509Certificate ca, Path caFile) {
    this.dir = dir;
    this.caKeys = caKeys;
    this.ca = ca;
    this.caFile = caFile;
  }

  /** A new CA named {@code name}, its certificate written to {@code dir/name-ca.pem}. */
  public static TestCertificates authority(Path dir, String name) {
    try {
      KeyPair keys = keyPair();
      X500Name subject = new X500Name("CN=" + name);
      X509v3CertificateBuilder b = builder(subject, subject, keys);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      X509Certificate cert = sign(b, keys);
      Path file = dir.resolve(name + "-ca.pem");
      Files.writeString(file, pem(cert));
      return new TestCertificates(dir, keys, cert, file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Replaces {@code target} with {@code content} the way certificates are rotated: written
   * beside it, then moved over it in one step (a new file, as a Kubernetes secret's swap).
   */
  public static void replace(Path target, String content) {
    try {
      Path next = target.resolveSibling(target.getFileName() + ".next");
      Files.writeString(next, content);
      Files.move(next, target, StandardCopyOption.ATOMIC_MOVE,
          StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Replaces {@code target} with a copy of {@code source}, as {@link #replace(Path, String)}. */
  public static void replace(Path target, Path source) {
    try {
      replace(target, Files.readString(source));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The CA's certificate (PEM). */
  public Path caFile() {
    return caFile;
  }

  /** A certificate for {@code dnsName} (its CN and only subject alternative name). */
  public Issued issue(String dnsName) {
    try {
      KeyPair keys = keyPair();
      X509v3CertificateBuilder b = builder(new X500Name(ca.getSubjectX500Principal().getName()),
          new X500Name("CN=" + dnsName), keys);
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.dNSName, dnsName)));
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      X509Certificate cert = sign(b, caKeys);
      String base = dnsName.replace('*', '_');
      Path certFile = dir.resolve(base + ".pem");
      Path keyFile = dir.resolve(base + "-key.pem");
      Files.writeString(certFile, pem(cert));
      Files.writeString(keyFile, pem(new JcaPKCS8Generator(keys.getPrivate(), null)));
      return new Issued(certFile, keyFile);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (GeneralSecurityException | OperatorCreationException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair keyPair() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(256);
    return g.generateKeyPair();
  }

  private static X509v3CertificateBuilder builder(X500Name issuer, X500Name subject,
                                                  KeyPair keys) {
    Instant now = Instant.now();
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.incrementAndGet()),
        Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(Duration.ofDays(1))),
        subject, keys.getPublic());
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer)
      throws OperatorCreationException, GeneralSecurityException {
    ContentSigner s = new JcaContentSignerBuilder("SHA256withECDSA").build(signer.getPrivate());
    return new JcaX509CertificateConverter().getCertificate(b.build(s));
  }

  private static String pem(Object o) throws IOException {
    StringWriter out = new StringWriter();
    try (JcaPEMWriter w = new JcaPEMWriter(out)) {
      w.writeObject(o);
    }
    return out.toString();
  }
}
