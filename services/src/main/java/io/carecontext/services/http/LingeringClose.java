package io.carecontext.services.http;

import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.channel.socket.DuplexChannel;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;

/**
 * A connection the server closes while its client may still be sending is closed the way HTTP/1.1
 * servers have long closed it (RFC 9112, section 9.6, "lingering close"): the answer is sent, then the
 * server's side is shut down (a FIN after the answer), and what the client still sends is read and
 * dropped until it closes its side, for at most {@link #LINGER_MILLIS} and {@link #LINGER_BYTES}; only
 * then is the socket closed.
 *
 * <p>Why: an answer given before the body was read (a 413 for a body whose {@code Content-Length} is over
 * the limit, which says {@code Connection: close}) left the body's bytes unread, and a socket closed with
 * unread bytes is reset, not closed. A client still sending, or not yet reading, then lost the answer it
 * had been sent: about one such request in 300 on a loaded machine ended in "header parser received no
 * bytes" instead of the 413 OperationOutcome that told the sender to split its file.
 */
@Singleton
final class LingeringClose implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {

  /** How long a closing connection drains its client's bytes at most. */
  static final long LINGER_MILLIS = 2_000;
  /** How many of them it drains at most: more is a sender that does not stop, closed at once. */
  static final long LINGER_BYTES = 64L * 1024 * 1024;

  @Override
  public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
    event.getBean().register(new Customizer(null));
    return event.getBean();
  }

  /** Adds {@link Handler} nearest the socket of every accepted connection. */
  private record Customizer(Channel connection) implements NettyServerCustomizer {
    @Override
    public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
      return role == ChannelRole.CONNECTION ? new Customizer(channel) : this;
    }

    @Override
    public void onInitialPipelineBuilt() {
      if (connection instanceof DuplexChannel && connection.pipeline().get(Handler.class) == null) {
        connection.pipeline().addFirst("carecontext-lingering-close", new Handler());
      }
    }
  }

  /**
   * Placed first in the pipeline, so it sees a close after every other handler has, and the client's
   * bytes before any other handler does. Public for its test, which runs it on a bare Netty server.
   */
  public static final class Handler extends ChannelDuplexHandler {
    private ChannelPromise closing;
    private ScheduledFuture<?> deadline;
    private long drained;
    private boolean finished;

    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
      if (closing != null) {
        // a second close while lingering: the first one's promise completes both
        closing.addListener(f -> promise.trySuccess());
        return;
      }
      if (!(ctx.channel() instanceof DuplexChannel duplex) || !ctx.channel().isActive() || duplex.isOutputShutdown()) {
        ctx.close(promise);
        return;
      }
      // a void promise takes no listener: the lingering needs one of its own
      closing = promise.isVoid() ? ctx.newPromise() : promise;
      // the deadline runs from the close, not from the answer's last byte: a client that reads nothing
      // never lets the empty write below complete, and the idle timeout's later closes fold into this one
      deadline = ctx.executor().schedule(() -> finish(ctx), LINGER_MILLIS, TimeUnit.MILLISECONDS);
      // an empty write completes once everything written before it is on the wire: shutting the output
      // down earlier would fail the answer's bytes still queued
      ctx.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(written -> {
        if (!written.isSuccess() || !ctx.channel().isActive()) {
          finish(ctx);
          return;
        }
        duplex.shutdownOutput().addListener(shut -> {
          if (!shut.isSuccess()) {
            finish(ctx);
            return;
          }
          ctx.channel().config().setAutoRead(true);
          ctx.read();
        });
      });
    }

    /** Closes the socket once, whichever of the deadline, the byte cap or the client ends the lingering. */
    private void finish(ChannelHandlerContext ctx) {
      if (!finished) {
        finished = true;
        if (deadline != null) {
          deadline.cancel(false);
        }
        ctx.close(closing);
      }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (closing == null) {
        ctx.fireChannelRead(msg);
        return;
      }
      if (msg instanceof io.netty.buffer.ByteBuf bytes) {
        drained += bytes.readableBytes();
      }
      ReferenceCountUtil.release(msg);
      if (drained > LINGER_BYTES) {
        finish(ctx);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      if (closing == null) {
        ctx.fireChannelReadComplete();
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      if (closing == null) {
        ctx.fireExceptionCaught(cause);
      } else {
        finish(ctx); // the client reset the connection while it lingered: nothing left to do
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
      if (closing == null) {
        ctx.fireUserEventTriggered(event);
      } else if (event instanceof io.netty.channel.socket.ChannelInputShutdownEvent) {
        finish(ctx); // the client closed its side: everything it sent was read
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
      if (deadline != null) {
        deadline.cancel(false);
      }
      if (closing != null) {
        finished = true;
        closing.trySuccess();
      }
      super.channelInactive(ctx);
    }
  }
}
