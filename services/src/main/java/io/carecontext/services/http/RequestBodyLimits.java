package io.carecontext.services.http;

import io.carecontext.services.fhir.FhirPaths;
import io.micronaut.context.event.BeanCreatedEvent;
import io.micronaut.context.event.BeanCreatedEventListener;
import io.micronaut.http.body.stream.BodySizeLimits;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.http.server.netty.NettyServerCustomizer;
import io.micronaut.http.server.netty.handler.PipeliningServerHandler;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.concurrent.ScheduledFuture;
import jakarta.inject.Singleton;
import java.util.concurrent.TimeUnit;

/**
 * The body limit of each path, held while the body arrives. {@code CARECONTEXT_FHIR_MAX_BYTES} (50 MB
 * by default) is what a FHIR Bundle or an {@code $import} file needs; every other path takes a small
 * JSON body (the largest, {@code POST …/audit/verify} with its 1,000 anchors, is at most 256 KiB), and
 * is held to {@link #SMALL_BODY_BYTES}. The one limit was applied everywhere: the key is checked before
 * the body is read and the role after it, so any valid key (an auditor's on {@code /context}) had the
 * server buffer 50 MB per connection, off the heap, and a client that stopped sending kept it there
 * until the idle timeout (5 minutes): six such connections took the process from 470 to 803 MB.
 *
 * <p>{@link Handler} sits before the framework's request handler and, as each request's head passes,
 * sets the framework's own body limits for that request: the framework then refuses a
 * {@code Content-Length} over it at once and cuts a chunked body where it passes it, dropping what it
 * had buffered, with the 413 it gives every over-limit body (answered and audited as
 * {@code payload_too_large} by {@link ApiErrorProcessor} and the refusal filter). The framework keeps
 * one limit a connection, read when a request's body is set up, so setting it per request head is
 * exact: a pipelined request's head comes after the previous body has ended.
 *
 * <p>It also closes a connection whose small body stops arriving: no byte of it for
 * {@link #STALL_SECONDS} seconds, or not whole {@link #BODY_SECONDS} seconds after its head (counted
 * from the {@code 100 Continue}, when the client waited for one). FHIR bodies keep the server's idle
 * timeout (5 minutes), which a bulk {@code $import} over a slow link needs.
 */
@Singleton
public final class RequestBodyLimits implements BeanCreatedEventListener<NettyServerCustomizer.Registry> {

  /** The largest body of a path outside {@code /fhir/}: four times the largest such body the API takes. */
  public static final long SMALL_BODY_BYTES = 1024L * 1024;
  /** How long a small body may pause (no byte of it arriving) before its connection is closed. */
  static final long STALL_SECONDS = 15;
  /** How long a small body may take whole, from its head (or its 100 Continue), before its connection is closed. */
  static final long BODY_SECONDS = 60;

  static final String NAME = "carecontext-request-body-limits";

  private final BodySizeLimits fhir;
  private final BodySizeLimits small;

  RequestBodyLimits(HttpServerConfiguration server) {
    this.fhir = new BodySizeLimits(server.getMaxRequestSize(), server.getMaxRequestBufferSize());
    long limit = limit("/", server.getMaxRequestSize());
    this.small = new BodySizeLimits(limit, Math.min(limit, server.getMaxRequestBufferSize()));
  }

  /**
   * The body limit of {@code path} (the request's path as the framework reads it), given
   * {@code CARECONTEXT_FHIR_MAX_BYTES}: that on FHIR paths, {@link #SMALL_BODY_BYTES} on the others
   * (or the setting, when it is lower).
   */
  public static long limit(String path, long fhirLimit) {
    return FhirPaths.contains(path) ? fhirLimit : Math.min(SMALL_BODY_BYTES, fhirLimit);
  }

  /**
   * The path of a request line's target as the framework reads it (its {@code getPath()}): the target
   * up to its query, without scheme and host when it is absolute, not decoded.
   */
  static String pathOf(String uri) {
    if (uri.isEmpty()) {
      return "";
    }
    int start = 0;
    if (uri.charAt(0) != '/') {
      int scheme = uri.indexOf("://");
      if (scheme >= 0) {
        start = uri.indexOf('/', scheme + 3);
        if (start < 0) {
          return "/";
        }
      }
    }
    int query = uri.indexOf('?', start);
    return uri.substring(start, query < 0 ? uri.length() : query);
  }

  @Override
  public NettyServerCustomizer.Registry onCreated(BeanCreatedEvent<NettyServerCustomizer.Registry> event) {
    // only the HTTP/1.1 handler takes limits a request; the service serves no other protocol
    event.getBean().register(BeforeFrameworkHandler.of(NAME, framework -> framework instanceof PipeliningServerHandler,
        () -> new Handler(fhir, small, STALL_SECONDS, BODY_SECONDS)));
    return event.getBean();
  }

  /** Public for its test, which runs it on an embedded channel. */
  public static final class Handler extends ChannelDuplexHandler {
    private final BodySizeLimits fhir;
    private final BodySizeLimits small;
    private final long stallSeconds;
    private final long bodySeconds;
    /** A small body is on its way: its timers run. */
    private boolean watching;
    /** Its client waits for 100 Continue before it sends the body: the timers start with it. */
    private boolean awaitingContinue;
    private ScheduledFuture<?> stall;
    private ScheduledFuture<?> whole;
    /**
     * The framework has asked the socket for bytes and none has come since. It stops asking while it
     * has two answers outstanding (a request pipelined behind one whose handler still runs, a chat's
     * model call say): then the body's bytes wait in the socket unread, and that pause is the server's,
     * not the client's, so it is not counted.
     */
    private boolean readAsked;

    public Handler(BodySizeLimits fhir, BodySizeLimits small, long stallSeconds, long bodySeconds) {
      this.fhir = fhir;
      this.small = small;
      this.stallSeconds = stallSeconds;
      this.bodySeconds = bodySeconds;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      if (msg instanceof HttpRequest request) {
        stop();
        boolean isFhir = FhirPaths.contains(pathOf(request.uri()));
        if (ctx.pipeline().get(BeforeFrameworkHandler.FRAMEWORK_HANDLER) instanceof PipeliningServerHandler framework) {
          framework.setBodySizeLimits(isFhir ? fhir : small);
        }
        if (!isFhir && !(msg instanceof FullHttpRequest) && hasBody(request)) {
          watching = true;
          awaitingContinue = HttpUtil.is100ContinueExpected(request);
          if (!awaitingContinue) {
            start(ctx);
          }
        }
      }
      if (watching && msg instanceof HttpContent) {
        if (msg instanceof LastHttpContent) {
          stop();
        } else {
          if (awaitingContinue) {
            start(ctx); // a client that sends its body without waiting for the 100
          }
          restartStall(ctx);
        }
      }
      ctx.fireChannelRead(msg);
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      readAsked = false; // before the framework, which asks again here when it wants more
      ctx.fireChannelReadComplete();
    }

    @Override
    public void read(ChannelHandlerContext ctx) {
      if (!readAsked && watching && stall != null) {
        restartStall(ctx); // the pause is counted from when the server asks for bytes again
      }
      readAsked = true;
      ctx.read();
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
      if (watching && awaitingContinue && msg instanceof HttpResponse response
          && response.status().code() == HttpResponseStatus.CONTINUE.code()) {
        start(ctx);
      }
      ctx.write(msg, promise);
    }

    private void start(ChannelHandlerContext ctx) {
      awaitingContinue = false;
      whole = ctx.executor().schedule(() -> stalled(ctx, true), bodySeconds, TimeUnit.SECONDS);
      restartStall(ctx);
    }

    private void restartStall(ChannelHandlerContext ctx) {
      if (stall != null) {
        stall.cancel(false);
      }
      stall = ctx.executor().schedule(() -> stalled(ctx, false), stallSeconds, TimeUnit.SECONDS);
    }

    /** The body stopped arriving: the connection is closed, and what the framework held of it dropped. */
    private void stalled(ChannelHandlerContext ctx, boolean wholeDeadline) {
      if (!watching) {
        return;
      }
      if (!readAsked && ctx.channel().isActive()) {
        // the server is not reading (its own backpressure): the client is not the one that stopped
        if (wholeDeadline) { // looked at again once the server could have read
          whole = ctx.executor().schedule(() -> stalled(ctx, true), stallSeconds, TimeUnit.SECONDS);
        }
        return; // the stall timer starts again when the server asks for bytes
      }
      stop();
      ctx.channel().close();
    }

    private void stop() {
      watching = false;
      awaitingContinue = false;
      if (stall != null) {
        stall.cancel(false);
        stall = null;
      }
      if (whole != null) {
        whole.cancel(false);
        whole = null;
      }
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
      stop();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      stop();
      ctx.fireChannelInactive();
    }

    /** As the framework tells a request with a body: a Content-Length other than 0, or chunked. */
    static boolean hasBody(HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        return false;
      }
      long length;
      try {
        length = HttpUtil.getContentLength(request, 0L);
      } catch (NumberFormatException e) {
        length = 0;
      }
      return length != 0 || HttpUtil.isTransferEncodingChunked(request);
    }
  }
}
