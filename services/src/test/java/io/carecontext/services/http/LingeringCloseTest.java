package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.HttpVersion;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * {@link LingeringClose.Handler} on a bare Netty server that answers every request at once, before
 * its body, and closes the connection, as the FHIR endpoints answer a body over the size limit.
 */
class LingeringCloseTest {

  private static final int BODY_BYTES = 8 * 1024 * 1024;

  @Test
  void aClientStillSendingItsBodyGetsTheWholeAnswerAndAnOrderlyClose() throws Exception {
    try (Server server = new Server(LingeringClose.Handler::new)) {
      try (Socket socket = new Socket("127.0.0.1", server.port())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: " + BODY_BYTES + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        // the whole body, though the answer came after its first bytes: without the lingering the
        // server's close reset the connection, these writes failed and the answer was lost
        byte[] block = new byte[64 * 1024];
        for (int sent = 0; sent < BODY_BYTES; sent += block.length) {
          out.write(block);
        }
        out.flush();
        String answer = readToEnd(socket.getInputStream());
        assertThat(answer).startsWith("HTTP/1.1 413").contains("connection: close").endsWith("split it");
      }
    }
  }

  @Test
  void aClientThatSendsNothingMoreIsClosedAtOnceNotAfterTheLinger() throws Exception {
    try (Server server = new Server(LingeringClose.Handler::new)) {
      try (Socket socket = new Socket("127.0.0.1", server.port())) {
        socket.setSoTimeout(10_000);
        socket.getOutputStream().write("GET /small HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        long start = System.nanoTime();
        // the server's FIN ends the answer; the client's own close then ends the connection
        assertThat(readToEnd(socket.getInputStream())).startsWith("HTTP/1.1 413");
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(LingeringClose.LINGER_MILLIS);
      }
    }
  }

  @Test
  void aClientThatNeverStopsSendingIsClosedAfterTheLinger() throws Exception {
    try (Server server = new Server(LingeringClose.Handler::new)) {
      try (Socket socket = new Socket("127.0.0.1", server.port())) {
        socket.setSoTimeout(10_000);
        OutputStream out = socket.getOutputStream();
        out.write(("POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII));
        long start = System.nanoTime();
        byte[] block = new byte[1024];
        boolean cut = false;
        while (!cut && System.nanoTime() - start < 8_000_000_000L) {
          try {
            out.write(block);
            Thread.sleep(1); // a slow sender: it stays under the byte cap, so the deadline ends it
          } catch (java.io.IOException e) {
            cut = true;
          }
        }
        long millis = (System.nanoTime() - start) / 1_000_000;
        assertThat(cut).as("the server closed the connection").isTrue();
        assertThat(millis).isBetween(LingeringClose.LINGER_MILLIS - 100, LingeringClose.LINGER_MILLIS + 3_000);
      }
    }
  }

  /**
   * Review 37: a close that comes while an answer is still being written (Micronaut's idle timeout
   * closes a connection whose client stopped reading) waits for an empty write queued behind that
   * answer, which never completes; the linger's deadline is armed only after it, and every later close
   * is folded into the first. Before the handler the close was immediate: now the connection, and the
   * answer buffered for it, are held until the client goes away, however long that is.
   */
  @Test
  void aCloseWhileTheClientReadsNothingIsStillBounded() throws Exception {
    java.util.concurrent.CompletableFuture<Channel> accepted = new java.util.concurrent.CompletableFuture<>();
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    try {
      Channel listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(new LingeringClose.Handler(), new HttpServerCodec(),
                  new SimpleChannelInboundHandler<HttpObject>() {
                    @Override
                    protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                      if (msg instanceof HttpRequest) {
                        // a large answer, more than the socket buffers hold, to a client that reads none
                        DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                            HttpResponseStatus.OK, io.netty.buffer.Unpooled.wrappedBuffer(new byte[64 * 1024 * 1024]));
                        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
                        ctx.writeAndFlush(response);
                        // as the idle timeout does later, and again at each idle period
                        ctx.executor().schedule(() -> ctx.close(), 300, java.util.concurrent.TimeUnit.MILLISECONDS);
                        ctx.executor().schedule(() -> ctx.close(), 600, java.util.concurrent.TimeUnit.MILLISECONDS);
                        accepted.complete(ctx.channel());
                      }
                    }
                  });
            }
          }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
      try (Socket socket = new Socket("127.0.0.1", ((InetSocketAddress) listener.localAddress()).getPort())) {
        socket.getOutputStream().write("GET /big HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        Channel connection = accepted.get(5, java.util.concurrent.TimeUnit.SECONDS);
        // the client never reads: the server must still close within the linger and a margin
        assertThat(connection.closeFuture().await(LingeringClose.LINGER_MILLIS + 3_000))
            .as("the server closed the connection of a client that reads nothing").isTrue();
      } finally {
        listener.close().syncUninterruptibly();
      }
    } finally {
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
  }

  private static String readToEnd(InputStream in) throws java.io.IOException {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    in.transferTo(all);
    return all.toString(StandardCharsets.US_ASCII);
  }

  /** Answers 413 to the first part of every request and closes, as a server that reads no more. */
  private static final class Server implements AutoCloseable {
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
    private final Channel listener;

    Server(Supplier<LingeringClose.Handler> lingering) throws InterruptedException {
      listener = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              ch.pipeline().addLast(lingering.get(), new HttpServerCodec(), new SimpleChannelInboundHandler<HttpObject>() {
                @Override
                protected void channelRead0(ChannelHandlerContext ctx, HttpObject msg) {
                  if (msg instanceof HttpRequest) {
                    DefaultFullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
                        HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE,
                        io.netty.buffer.Unpooled.copiedBuffer("too large: split it", StandardCharsets.US_ASCII));
                    response.headers().set(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes())
                        .set(HttpHeaderNames.CONNECTION, "close");
                    ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
                  }
                }
              });
            }
          }).bind(new InetSocketAddress("127.0.0.1", 0)).sync().channel();
    }

    int port() {
      return ((InetSocketAddress) listener.localAddress()).getPort();
    }

    @Override
    public void close() {
      listener.close().syncUninterruptibly();
      group.shutdownGracefully(0, 1, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
  }
}
