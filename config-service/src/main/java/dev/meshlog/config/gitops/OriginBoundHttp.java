package dev.meshlog.config.gitops;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ProtocolException;
import java.net.Proxy;
import java.net.URL;
import java.security.GeneralSecurityException;
import java.security.KeyManagementException;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.List;
import java.util.Map;

import javax.net.ssl.HostnameVerifier;
import javax.net.ssl.KeyManager;
import javax.net.ssl.TrustManager;

import org.eclipse.jgit.transport.TransportHttp;
import org.eclipse.jgit.transport.http.HttpConnection;
import org.eclipse.jgit.transport.http.HttpConnectionFactory;
import org.eclipse.jgit.transport.http.HttpConnectionFactory2;

/**
 * Keeps an {@code Authorization} header to the origin (scheme, host, port) it was meant for.
 * JGit, once authenticated, keeps sending its Basic header after a redirect to the same host
 * name — another port included — without asking the credentials provider; curl (and so git)
 * sends credentials only to the origin they were given for. This wraps one transport's
 * connection factory and drops the header on a connection to any other origin, so the server
 * there gets no password and asks for one, which {@link GitCredentials#provider(String)} refuses.
 */
final class OriginBoundHttp implements HttpConnectionFactory2 {

  private final HttpConnectionFactory delegate;
  private final String origin;

  private OriginBoundHttp(HttpConnectionFactory delegate, String origin) {
    this.delegate = delegate;
    this.origin = origin;
  }

  /** Binds {@code transport}'s Authorization headers to the origin of {@code repositoryUri}. */
  static void bind(TransportHttp transport, String repositoryUri) {
    HttpConnectionFactory current = transport.getHttpConnectionFactory();
    if (!(current instanceof OriginBoundHttp)) {
      transport.setHttpConnectionFactory(new OriginBoundHttp(current,
          GitCredentials.OriginBoundCredentials.origin(repositoryUri)));
    }
  }

  @Override
  public HttpConnection create(URL url) throws IOException {
    return wrap(delegate.create(url), url);
  }

  @Override
  public HttpConnection create(URL url, Proxy proxy) throws IOException {
    return wrap(delegate.create(url, proxy), url);
  }

  private HttpConnection wrap(HttpConnection connection, URL url) {
    boolean sameOrigin = GitCredentials.OriginBoundCredentials.origin(url.toString()).equals(origin);
    return sameOrigin ? connection : new Bound(connection);
  }

  @Override
  public GitSession newSession() {
    if (!(delegate instanceof HttpConnectionFactory2 factory)) {
      return null; // JGit checks for HttpConnectionFactory2 first; unreachable with its factories
    }
    GitSession session = factory.newSession();
    return new GitSession() {
      @Override
      public HttpConnection configure(HttpConnection connection, boolean sslVerify)
          throws IOException, GeneralSecurityException {
        HttpConnection inner = connection instanceof Bound bound ? bound.inner : connection;
        session.configure(inner, sslVerify);
        return connection;
      }

      @Override
      public void close() {
        session.close();
      }
    };
  }

  /** A connection to another origin: every request property but Authorization goes through. */
  private static final class Bound implements HttpConnection {
    private final HttpConnection inner;

    Bound(HttpConnection inner) {
      this.inner = inner;
    }

    @Override
    public void setRequestProperty(String key, String value) {
      if (!"Authorization".equalsIgnoreCase(key)) {
        inner.setRequestProperty(key, value);
      }
    }

    @Override
    public int getResponseCode() throws IOException {
      return inner.getResponseCode();
    }

    @Override
    public URL getURL() {
      return inner.getURL();
    }

    @Override
    public String getResponseMessage() throws IOException {
      return inner.getResponseMessage();
    }

    @Override
    public Map<String, List<String>> getHeaderFields() {
      return inner.getHeaderFields();
    }

    @Override
    public void setRequestMethod(String method) throws ProtocolException {
      inner.setRequestMethod(method);
    }

    @Override
    public void setUseCaches(boolean usecaches) {
      inner.setUseCaches(usecaches);
    }

    @Override
    public void setConnectTimeout(int timeout) {
      inner.setConnectTimeout(timeout);
    }

    @Override
    public void setReadTimeout(int timeout) {
      inner.setReadTimeout(timeout);
    }

    @Override
    public String getContentType() {
      return inner.getContentType();
    }

    @Override
    public InputStream getInputStream() throws IOException {
      return inner.getInputStream();
    }

    @Override
    public String getHeaderField(String name) {
      return inner.getHeaderField(name);
    }

    @Override
    public List<String> getHeaderFields(String name) {
      return inner.getHeaderFields(name);
    }

    @Override
    public int getContentLength() {
      return inner.getContentLength();
    }

    @Override
    public void setInstanceFollowRedirects(boolean followRedirects) {
      inner.setInstanceFollowRedirects(followRedirects);
    }

    @Override
    public void setDoOutput(boolean dooutput) {
      inner.setDoOutput(dooutput);
    }

    @Override
    public void setFixedLengthStreamingMode(int contentLength) {
      inner.setFixedLengthStreamingMode(contentLength);
    }

    @Override
    public OutputStream getOutputStream() throws IOException {
      return inner.getOutputStream();
    }

    @Override
    public void setChunkedStreamingMode(int chunklen) {
      inner.setChunkedStreamingMode(chunklen);
    }

    @Override
    public String getRequestMethod() {
      return inner.getRequestMethod();
    }

    @Override
    public boolean usingProxy() {
      return inner.usingProxy();
    }

    @Override
    public void connect() throws IOException {
      inner.connect();
    }

    @Override
    public void configure(KeyManager[] km, TrustManager[] tm, SecureRandom random)
        throws NoSuchAlgorithmException, KeyManagementException {
      inner.configure(km, tm, random);
    }

    @Override
    public void setHostnameVerifier(HostnameVerifier hostnameVerifier)
        throws NoSuchAlgorithmException, KeyManagementException {
      inner.setHostnameVerifier(hostnameVerifier);
    }
  }
}
