package io.carecontext.services.bench;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The benchmark's HTTP client: HTTP/1.1 over kept-alive plain sockets, one request at a time on a
 * connection, written and read on the calling thread. The client shares the machine's cores with
 * the service it measures, and the JDK's {@code java.net.http.HttpClient} (a selector thread and
 * worker threads, futures and body subscribers for every exchange) used about a third of the
 * JVM's CPU in the HTTP runs on a 2-core machine (perf, 2026-12-02): CPU the service then did not
 * get. A real client of the service runs on another machine. This one does what a load generator
 * does, and nothing else: no TLS, no redirects, no HTTP/2.
 */
final class PlainHttp implements AutoCloseable {

  /** A status and body as sent. */
  record Response(int status, String body) {}

  private static final class Connection {
    final Socket socket;
    final OutputStream out;
    final InputStream in;

    Connection(String host, int port) throws IOException {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(host, port), 5_000);
      socket.setSoTimeout(60_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 16 * 1024);
    }
  }

  private final String host;
  private final int port;
  private final ConcurrentLinkedQueue<Connection> idle = new ConcurrentLinkedQueue<>();

  PlainHttp(String host, int port) {
    this.host = host;
    this.port = port;
  }

  /** Sends the request on an idle connection (a new one if none is idle) and reads the whole answer. */
  Response send(String method, String path, String bearer, String jsonBody) {
    byte[] body = jsonBody == null ? new byte[0] : jsonBody.getBytes(StandardCharsets.UTF_8);
    String head = method + " " + path + " HTTP/1.1\r\nHost: " + host + ":" + port + "\r\n"
        + (bearer == null ? "" : "Authorization: Bearer " + bearer + "\r\n")
        + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\n\r\n";
    Connection c = idle.poll();
    try {
      if (c == null) {
        c = new Connection(host, port);
      }
      byte[] headBytes = head.getBytes(StandardCharsets.US_ASCII);
      byte[] request = new byte[headBytes.length + body.length];
      System.arraycopy(headBytes, 0, request, 0, headBytes.length);
      System.arraycopy(body, 0, request, headBytes.length, body.length);
      c.out.write(request);
      c.out.flush();
      Response r = read(c.in);
      idle.add(c);
      return r;
    } catch (IOException e) {
      if (c != null) {
        close(c);
      }
      // Not the path: a context call's path carries a patient id.
      throw new UncheckedIOException(method + " request to port " + port + " failed", e);
    }
  }

  private static Response read(InputStream in) throws IOException {
    String status = line(in);
    if (!status.startsWith("HTTP/1.1 ") || status.length() < 12) {
      throw new IOException("not an HTTP/1.1 status line");
    }
    int code = Integer.parseInt(status.substring(9, 12));
    long length = -1;
    boolean chunked = false;
    for (String h = line(in); !h.isEmpty(); h = line(in)) {
      String lower = h.toLowerCase(Locale.ROOT);
      if (lower.startsWith("content-length:")) {
        length = Long.parseLong(h.substring(15).trim());
      } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
        chunked = true;
      }
    }
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    if (chunked) {
      for (int size; (size = chunkSize(in)) > 0; ) {
        body.write(in.readNBytes(size));
        line(in); // the CRLF after the chunk
      }
      while (!line(in).isEmpty()) {
        // trailers
      }
    } else if (length >= 0) {
      body.write(in.readNBytes((int) length));
    } else {
      throw new IOException("an answer without Content-Length or chunked encoding cannot be kept alive");
    }
    return new Response(code, body.toString(StandardCharsets.UTF_8));
  }

  /** A chunk's size line (hex, extensions after ';' ignored). */
  private static int chunkSize(InputStream in) throws IOException {
    return Integer.parseInt(line(in).split(";", 2)[0].trim(), 16);
  }

  /** One header line without its CRLF. */
  private static String line(InputStream in) throws IOException {
    StringBuilder b = new StringBuilder(64);
    for (int ch = in.read(); ch != '\n'; ch = in.read()) {
      if (ch < 0) {
        throw new IOException("connection closed mid-answer");
      }
      if (ch != '\r') {
        b.append((char) ch);
      }
    }
    return b.toString();
  }

  private static void close(Connection c) {
    try {
      c.socket.close();
    } catch (IOException ignored) {
      // closing a broken connection
    }
  }

  @Override
  public void close() {
    for (Connection c; (c = idle.poll()) != null; ) {
      close(c);
    }
  }
}
