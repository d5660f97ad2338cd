package dev.meshlog.proxy.upstream;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;

/**
 * Certificates and keys read from PEM files, each failure an {@link IllegalArgumentException}
 * that names the config field and the file and says what was expected. Reads files: call off
 * the event loops.
 */
public final class PemFiles {

  private PemFiles() {}

  /** The certificates in {@code file}, at least one. */
  public static List<X509Certificate> certificates(String field, String file) {
    return certificates(field, file, read(field, file));
  }

  /**
   * The certificates in {@code bytes}, read from {@code file}, at least one: for a caller that
   * hands the same bytes on (a listener's options), so what is checked is what is used.
   */
  public static List<X509Certificate> certificates(String field, String file, byte[] bytes) {
    try {
      Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509")
          .generateCertificates(new ByteArrayInputStream(bytes));
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate cert : all) {
        out.add((X509Certificate) cert);
      }
      if (out.isEmpty()) {
        throw new CertificateException("no certificate in it");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(field + ": " + file + ": " + e.getMessage()
          + " (expected: PEM certificates)", e);
    }
  }

  /** The PKCS#8 key (EC, RSA or EdDSA) in {@code file}. */
  public static PrivateKey privateKey(String field, String file) {
    PrivateKey key = pkcs8Key(field, file, read(field, file));
    if (key == null) {
      throw new IllegalArgumentException(field + ": " + file
          + ": no PKCS#8 key in it (expected: a PEM \"BEGIN PRIVATE KEY\" block)");
    }
    return key;
  }

  /**
   * The PKCS#8 key (EC, RSA or EdDSA) in {@code bytes}, read from {@code file}, or {@code null}
   * when they hold no PKCS#8 block (another PEM form, such as PKCS#1, left to its reader).
   */
  public static PrivateKey pkcs8Key(String field, String file, byte[] bytes) {
    String pem = new String(bytes, StandardCharsets.US_ASCII);
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 && end < 0) {
      return null;
    }
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(field + ": " + file
          + ": no PKCS#8 key in it (expected: a PEM \"BEGIN PRIVATE KEY\" block)");
    }
    byte[] der;
    try {
      der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(field + ": " + file + ": " + e.getMessage()
          + " (expected: base64 in the PEM block)", e);
    }
    for (String algorithm : List.of("EC", "RSA", "Ed25519", "EdDSA")) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // the next algorithm
      }
    }
    throw new IllegalArgumentException(field + ": " + file
        + ": not an EC, RSA or EdDSA key (expected: a PKCS#8 key of one of them)");
  }

  /** The bytes of {@code file}. */
  public static byte[] read(String field, String file) {
    try {
      return Files.readAllBytes(Path.of(file));
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(field + ": " + file + " cannot be read: " + e
          + " (expected: a readable PEM file on the proxy)", e);
    }
  }

  /**
   * Fails unless {@code key} is the private key of {@code certificate} (a signature made with it
   * verifies with the certificate's public key): a certificate and key replaced one after the
   * other are caught between the two, rather than taken and failing every handshake.
   */
  public static void checkPair(X509Certificate certificate, String certFile, PrivateKey key,
                               String keyFile) {
    String algorithm = switch (key.getAlgorithm()) {
      case "EC" -> "SHA256withECDSA";
      case "RSA" -> "SHA256withRSA";
      case "Ed25519", "EdDSA" -> "Ed25519";
      default -> null;
    };
    if (algorithm == null) {
      return;
    }
    byte[] probe = "meshlog key check".getBytes(StandardCharsets.US_ASCII);
    boolean pair;
    try {
      Signature sign = Signature.getInstance(algorithm);
      sign.initSign(key);
      sign.update(probe);
      byte[] signature = sign.sign();
      Signature verify = Signature.getInstance(algorithm);
      verify.initVerify(certificate.getPublicKey());
      verify.update(probe);
      pair = verify.verify(signature);
    } catch (GeneralSecurityException e) {
      pair = false;
    }
    if (!pair) {
      throw new IllegalArgumentException("privateKey: " + keyFile + ": not the key of "
          + certFile + " (expected: the private key of the certificate's first entry)");
    }
  }
}
