package io.carecontext.migrations;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketOption;
import javax.net.SocketFactory;
import jdk.net.ExtendedSocketOptions;

/**
 * The sockets of the platform's pools: TCP keepalive after {@value #IDLE_SECONDS} s without
 * traffic, a probe every {@value #INTERVAL_SECONDS} s, the connection given up after
 * {@value #PROBES} unanswered ones. A database that vanishes without closing its connections (a
 * failed-over host, a cut network) otherwise leaves every query in flight, and the pooled
 * connection it holds, waiting for the operating system's retransmission limit, about a quarter of
 * an hour. A query that is merely slow is unaffected: the server's kernel answers the probes. The
 * JDBC driver instantiates this class by name ({@code socketFactory}); with {@code tcpKeepAlive}
 * set, it leaves keepalive on.
 */
public final class KeepAliveSocketFactory extends SocketFactory {

  static final int IDLE_SECONDS = 10;
  static final int INTERVAL_SECONDS = 5;
  static final int PROBES = 3;

  @Override
  public Socket createSocket() throws IOException {
    Socket socket = new Socket();
    socket.setKeepAlive(true);
    set(socket, ExtendedSocketOptions.TCP_KEEPIDLE, IDLE_SECONDS);
    set(socket, ExtendedSocketOptions.TCP_KEEPINTERVAL, INTERVAL_SECONDS);
    set(socket, ExtendedSocketOptions.TCP_KEEPCOUNT, PROBES);
    return socket;
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
    return connected(new InetSocketAddress(host, port), new InetSocketAddress(localHost, localPort));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return connected(new InetSocketAddress(address, port), new InetSocketAddress(localAddress, localPort));
  }

  private Socket connected(InetSocketAddress remote, InetSocketAddress... local) throws IOException {
    Socket socket = createSocket();
    if (local.length > 0) {
      socket.bind(local[0]);
    }
    socket.connect(remote);
    return socket;
  }

  /** Where the platform lacks the option, keepalive still works, on the system's timings. */
  private static void set(Socket socket, SocketOption<Integer> option, int value) throws IOException {
    if (socket.supportedOptions().contains(option)) {
      socket.setOption(option, value);
    }
  }
}
