package io.carecontext.services.http;

import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.compression.JdkZlibDecoder;
import io.netty.handler.codec.compression.ZlibDecoder;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.util.Locale;

/**
 * A request body sent with {@code Content-Encoding: gzip} or {@code deflate} must end where its
 * compressed stream ends. The framework decodes such bodies with Netty's zlib decoder, which takes a
 * body that stops early as whatever it decoded so far, without a word: a gzip {@code $import} cut
 * short in transit answered 200 with the lines before the cut stored and the rest silently missing
 * (the summary counted only the lines it got), a Bundle without its gzip trailer was stored with its
 * checksum never checked, and a body shorter than a gzip header ({@code Content-Encoding: gzip} on 7
 * plain bytes) was "the request has no body".
 *
 * <p>{@link Handler} sits just before the framework's request handler and decodes a copy of each such
 * body as it passes, dropping the output, only to learn whether the stream ended (for gzip: its
 * trailer read and its CRC checked). The body itself passes unchanged. When the body ends before its
 * stream does, its last bytes are handed on as ordinary content, then a {@link DecompressionException}
 * (the failure the framework raises for a body that is not compressed that way at all, which the
 * handlers answer with a 400, and {@code $import} as the line it stopped at), then the end of the body.
 */
@Singleton
final class CompressedBodyEnd implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {

  /** The framework's request handler, which the check goes before. */
  static final String FRAMEWORK_HANDLER = "micronaut-inbound-handler";
  static final String NAME = "carecontext-compressed-body-end";

  static final String CUT_SHORT = "the request body ended before its compressed stream did (cut short, "
      + "or not compressed as its Content-Encoding says)";

  @Override
  public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
    event.getBean().register(new Customizer(null));
    return event.getBean();
  }

  private record Customizer(Channel channel) implements NettyServerCustomizer {
    @Override
    public NettyServerCustomizer specializeForChannel(Channel channel, ChannelRole role) {
      return role == ChannelRole.CONNECTION || role == ChannelRole.REQUEST_STREAM ? new Customizer(channel) : this;
    }

    @Override
    public void onInitialPipelineBuilt() {
      add();
    }

    @Override
    public void onStreamPipelineBuilt() {
      add();
    }

    private void add() {
      if (channel != null && channel.pipeline().get(FRAMEWORK_HANDLER) != null && channel.pipeline().get(NAME) == null) {
        channel.pipeline().addBefore(FRAMEWORK_HANDLER, NAME, new Handler());
      }
    }
  }

  /** Public for its test, which runs it on an embedded channel. */
  public static final class Handler extends ChannelInboundHandlerAdapter {
    /** Decodes a copy of the current request's body; null when it is not compressed, or its check is over. */
    private EmbeddedChannel shadow;
    private ZlibDecoder decoder;
    private long compressedBytes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest request && !(msg instanceof FullHttpRequest)) {
        dispose();
        ZlibWrapper wrapper = wrapper(request.headers().get(HttpHeaderNames.CONTENT_ENCODING));
        if (wrapper != null) {
          // the framework's decoder reads concatenated gzip members, and so never says a stream ended;
          // this one reads the first member to its trailer (a body of several members is checked to
          // the end of its first)
          decoder = new JdkZlibDecoder(wrapper, false, 0);
          shadow = new EmbeddedChannel(decoder);
          compressedBytes = 0;
        }
      }
      if (shadow == null || !(msg instanceof HttpContent content)) {
        ctx.fireChannelRead(msg);
        return;
      }
      ByteBuf bytes = content.content();
      if (bytes.isReadable()) {
        compressedBytes += bytes.readableBytes();
        try {
          shadow.writeInbound(bytes.retainedDuplicate());
          drain();
        } catch (DecompressionException e) {
          // not that encoding at all: the framework's own decoder fails on it too, and says so
          dispose();
          ctx.fireChannelRead(msg);
          return;
        }
      }
      if (!(msg instanceof LastHttpContent last)) {
        ctx.fireChannelRead(msg);
        return;
      }
      boolean ended = compressedBytes == 0 || decoder.isClosed();
      dispose();
      if (ended) {
        ctx.fireChannelRead(msg);
        return;
      }
      ctx.fireChannelRead(new DefaultHttpContent(last.content()));
      ctx.fireExceptionCaught(new DecompressionException(CUT_SHORT));
      ctx.fireChannelRead(LastHttpContent.EMPTY_LAST_CONTENT);
    }

    private void drain() {
      for (Object out; (out = shadow.readInbound()) != null; ) {
        ReferenceCountUtil.release(out);
      }
    }

    private void dispose() {
      if (shadow != null) {
        EmbeddedChannel done = shadow;
        shadow = null;
        decoder = null;
        try {
          done.finishAndReleaseAll();
        } catch (RuntimeException e) {
          // the copy's decoder failing at its close changes nothing for the request
        }
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      dispose();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      dispose();
      ctx.fireChannelInactive();
    }

    /** The framework's choice of decoder for the encoding (gzip, x-gzip, deflate), or null for none. */
    static ZlibWrapper wrapper(String encoding) {
      if (encoding == null) {
        return null;
      }
      return switch (encoding.strip().toLowerCase(Locale.ROOT)) {
        case "gzip", "x-gzip" -> ZlibWrapper.GZIP;
        case "deflate", "x-deflate" -> ZlibWrapper.ZLIB_OR_NONE;
        default -> null;
      };
    }
  }
}
