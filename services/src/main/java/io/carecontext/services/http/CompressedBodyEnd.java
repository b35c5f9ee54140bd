package io.carecontext.services.http;

import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.compression.JdkZlibDecoder;
import io.netty.handler.codec.compression.ZlibWrapper;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import jakarta.inject.Singleton;
import java.util.List;
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
 *
 * <p>A gzip body may hold several members, one after another (RFC 1952, 2.2): what {@code cat a.gz
 * b.gz} makes. The framework's decoder ({@code ZlibCodecFactory}'s, made with
 * {@code decompressConcatenated}) reads them all and hands on the content of each, so each is checked
 * to its end here too: the check ends only where a member ends, and a later member cut short (even
 * within its 10-byte header, which the framework's decoder waits for in silence) is a failure as the
 * first one is. A deflate body is one zlib stream: the framework's decoder skips whatever follows its
 * end, and so does the check.
 */
@Singleton
final class CompressedBodyEnd implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {

  static final String NAME = "carecontext-compressed-body-end";

  static final String CUT_SHORT = "the request body ended before its compressed stream did (cut short, "
      + "or not compressed as its Content-Encoding says)";

  @Override
  public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
    event.getBean().register(BeforeFrameworkHandler.of(NAME, framework -> true, Handler::new));
    return event.getBean();
  }

  /** Public for its test, which runs it on an embedded channel. */
  public static final class Handler extends ChannelInboundHandlerAdapter {
    /** The current request's encoding; null when it is not compressed, or its check is over. */
    private ZlibWrapper wrapper;
    /** Decodes a copy of the current member of the body (the whole body for deflate). */
    private EmbeddedChannel shadow;
    private MemberDecoder decoder;
    private long compressedBytes;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      if (msg instanceof HttpRequest request && !(msg instanceof FullHttpRequest)) {
        dispose();
        wrapper = wrapper(request.headers().get(HttpHeaderNames.CONTENT_ENCODING));
        if (wrapper != null) {
          startMember();
          compressedBytes = 0;
        }
      }
      if (wrapper == null || !(msg instanceof HttpContent content)) {
        ctx.fireChannelRead(msg);
        return;
      }
      ByteBuf bytes = content.content();
      if (bytes.isReadable()) {
        compressedBytes += bytes.readableBytes();
        try {
          check(bytes.retainedDuplicate());
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
      // the body ended where a member (or the deflate stream) did: a member begins only with bytes
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

    /** Decodes {@code bytes} (released here), member after member. */
    private void check(ByteBuf bytes) {
      for (ByteBuf next = bytes; next != null; next = decoder.takeRest()) {
        if (decoder.isClosed() && wrapper == ZlibWrapper.GZIP) {
          startMember(); // what follows a gzip member's end is the next member
        }
        shadow.writeInbound(next);
        drain();
      }
    }

    /** A decoder for the next member; the one before, whose member ended, is done with. */
    private void startMember() {
      closeShadow();
      decoder = new MemberDecoder(wrapper);
      shadow = new EmbeddedChannel(decoder);
    }

    private void drain() {
      for (Object out; (out = shadow.readInbound()) != null; ) {
        ReferenceCountUtil.release(out);
      }
    }

    private void dispose() {
      wrapper = null;
      closeShadow();
    }

    private void closeShadow() {
      if (shadow != null) {
        EmbeddedChannel done = shadow;
        MemberDecoder ended = decoder;
        shadow = null;
        decoder = null;
        ByteBuf rest = ended.takeRest();
        if (rest != null) {
          rest.release();
        }
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

    /**
     * Netty's zlib decoder, stopped at the end of one gzip member (or of the deflate stream), where
     * the framework's goes on to the next member. On its own it would skip what follows that end; the
     * bytes of a gzip body that follow it are kept instead, for the next member's decoder.
     */
    static final class MemberDecoder extends JdkZlibDecoder {
      private final boolean members;
      private ByteBuf rest;

      MemberDecoder(ZlibWrapper wrapper) {
        super(wrapper, false, 0);
        this.members = wrapper == ZlibWrapper.GZIP;
      }

      @Override
      protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) throws Exception {
        super.decode(ctx, in, out);
        // the member ended within these bytes: the decoder leaves what follows its trailer unread
        if (members && isClosed() && in.isReadable()) {
          rest = in.readBytes(in.readableBytes()); // once: a closed decoder reads nothing more
        }
      }

      /** What followed the member's end (the next member's first bytes), once; null if nothing did. */
      ByteBuf takeRest() {
        ByteBuf taken = rest;
        rest = null;
        return taken;
      }
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
