package io.carecontext.services;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A TCP relay between the service and its PostgreSQL that a test can cut like a network: after
 * {@link #cut()} nothing passes in either direction and nothing is refused or reset, so every read
 * and every new login simply gets no answer (the case no driver notices by itself). Connections
 * from before a cut stay silent after {@link #restore()}; only new ones pass, so the service must
 * replace what it holds.
 */
final class DatabaseGate implements AutoCloseable {

  private static final Pattern HOST_PORT = Pattern.compile("^jdbc:postgresql://([^:/?]+):(\\d+)/");

  private final ServerSocket listener;
  private final String host;
  private final int port;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Set<Link> links = ConcurrentHashMap.newKeySet();
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "database-gate");
    t.setDaemon(true);
    return t;
  });
  private volatile boolean open = true;

  /** A gate in front of the database a JDBC URL names. */
  DatabaseGate(String jdbcUrl) {
    Matcher m = HOST_PORT.matcher(jdbcUrl);
    if (!m.find()) {
      throw new IllegalArgumentException("no host:port in the test database URL");
    }
    host = m.group(1);
    port = Integer.parseInt(m.group(2));
    try {
      listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    threads.execute(this::accept);
  }

  /** The same URL, through this gate. */
  String route(String jdbcUrl) {
    return HOST_PORT.matcher(jdbcUrl).replaceFirst("jdbc:postgresql://127.0.0.1:" + listener.getLocalPort() + "/");
  }

  /** From now on nothing passes: bytes sent on open connections and new logins go unanswered. */
  void cut() {
    open = false;
    links.forEach(l -> l.silent = true);
  }

  /** New connections pass again; those from before the cut stay silent. */
  void restore() {
    open = true;
  }

  private void accept() {
    while (!listener.isClosed()) {
      try {
        Socket client = listener.accept();
        sockets.add(client);
        if (!open) {
          threads.execute(() -> drain(client));
          continue;
        }
        Socket server = new Socket(host, port);
        sockets.add(server);
        Link link = new Link();
        links.add(link);
        threads.execute(() -> pump(client, server, link));
        threads.execute(() -> pump(server, client, link));
      } catch (IOException e) {
        // closed, or one connection failed: the service sees that connection fail
      }
    }
  }

  private static final class Link {
    volatile boolean silent;
  }

  private static void pump(Socket from, Socket to, Link link) {
    byte[] buffer = new byte[16_384];
    try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
      int n;
      while ((n = in.read(buffer)) >= 0) {
        if (!link.silent) {
          out.write(buffer, 0, n);
          out.flush();
        }
      }
    } catch (IOException e) {
      // one side closed: the other follows when its pump ends
    }
  }

  private static void drain(Socket s) {
    byte[] buffer = new byte[1024];
    try (InputStream in = s.getInputStream()) {
      while (in.read(buffer) >= 0) {
        // unanswered, as on a cut network
      }
    } catch (IOException e) {
      // closed
    }
  }

  @Override
  public void close() {
    try {
      listener.close();
    } catch (IOException e) {
      // closing anyway
    }
    for (Socket s : sockets) {
      try {
        s.close();
      } catch (IOException e) {
        // closing anyway
      }
    }
    threads.shutdownNow();
  }
}
