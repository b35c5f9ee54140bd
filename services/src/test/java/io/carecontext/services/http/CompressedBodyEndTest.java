package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.DeflaterOutputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;

/**
 * {@link CompressedBodyEnd.Handler} in front of a recorder standing in for the framework's request
 * handler: a gzip or deflate body that ends before its compressed stream does (cut short in transit,
 * a client that stopped, fewer than the 10 bytes of a gzip header) reaches the framework as a
 * decompression failure, as a body that is not compressed that way at all does. The framework's own
 * decoder takes such a body as whatever it decoded so far: a $import cut in half answered 200 with
 * the first half's lines, a Bundle without its gzip trailer was stored unchecked, and a 7-byte "gzip"
 * body was "the request has no body".
 */
class CompressedBodyEndTest {

  private static final byte[] NDJSON = ("{\"resourceType\":\"Patient\",\"id\":\"p1\"}\n".repeat(200))
      .getBytes(StandardCharsets.UTF_8);

  @Test
  void aWholeGzipOrDeflateBodyPassesAsItCame() throws Exception {
    for (String encoding : List.of("gzip", "x-gzip", "deflate")) {
      byte[] body = compressed(encoding, NDJSON);
      Recorder seen = send(encoding, Arrays.copyOfRange(body, 0, body.length / 2),
          Arrays.copyOfRange(body, body.length / 2, body.length));
      assertThat(seen.errors).as(encoding).isEmpty();
      assertThat(seen.bytes()).as(encoding).isEqualTo(body);
      assertThat(seen.ended).as(encoding).isTrue();
    }
    // a raw deflate stream (no zlib header), which the framework also takes for deflate
    java.util.zip.Deflater raw = new java.util.zip.Deflater(6, true);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (DeflaterOutputStream d = new DeflaterOutputStream(out, raw)) {
      d.write(NDJSON);
    }
    Recorder seen = send("deflate", out.toByteArray());
    assertThat(seen.errors).isEmpty();
    assertThat(seen.bytes()).isEqualTo(out.toByteArray());
  }

  @Test
  void aBodyThatEndsBeforeItsCompressedStreamIsADecompressionFailureBeforeItsEnd() throws Exception {
    for (String encoding : List.of("gzip", "deflate")) {
      byte[] body = compressed(encoding, NDJSON);
      for (int length : new int[] {1, 7, 9, body.length / 2, body.length - 8, body.length - 1}) {
        byte[] cut = Arrays.copyOf(body, length);
        Recorder seen = send(encoding, Arrays.copyOfRange(cut, 0, length / 2), Arrays.copyOfRange(cut, length / 2, length));
        String what = encoding + " cut to " + length + " of " + body.length + " bytes";
        // every byte that came is handed on, so the lines before the cut are still read; then the failure
        assertThat(seen.bytes()).as(what).isEqualTo(cut);
        assertThat(seen.errors).as(what).hasSize(1);
        assertThat(seen.errors.get(0)).as(what).isInstanceOf(DecompressionException.class);
        assertThat(seen.errorBeforeEnd).as(what).isTrue();
        assertThat(seen.ended).as(what).isTrue();
      }
    }
  }

  @Test
  void anEmptyBodyOrOneWithoutContentEncodingIsNotChecked() throws Exception {
    assertThat(send("gzip").errors).isEmpty(); // no body: the handlers say so themselves
    byte[] plain = "{\"resourceType\":\"Patient\"}".getBytes(StandardCharsets.UTF_8);
    Recorder seen = send(null, plain);
    assertThat(seen.errors).isEmpty();
    assertThat(seen.bytes()).isEqualTo(plain);
    assertThat(send("identity", plain).errors).isEmpty();
  }

  @Test
  void aSecondRequestOnTheConnectionIsCheckedOnItsOwn() throws Exception {
    byte[] body = compressed("gzip", NDJSON);
    EmbeddedChannel channel = new EmbeddedChannel(new CompressedBodyEnd.Handler(), new Recorder());
    Recorder first = channel.pipeline().get(Recorder.class);
    write(channel, "gzip", Arrays.copyOf(body, 20));
    assertThat(first.errors).hasSize(1);
    first.errors.clear();
    write(channel, "gzip", body);
    write(channel, null, NDJSON);
    assertThat(first.errors).isEmpty();
    channel.finishAndReleaseAll();
  }

  private static byte[] compressed(String encoding, byte[] data) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (var z = encoding.contains("gzip") ? new GZIPOutputStream(out) : new DeflaterOutputStream(out)) {
      z.write(data);
    }
    return out.toByteArray();
  }

  private static Recorder send(String encoding, byte[]... parts) {
    Recorder recorder = new Recorder();
    EmbeddedChannel channel = new EmbeddedChannel(new CompressedBodyEnd.Handler(), recorder);
    write(channel, encoding, parts);
    channel.finishAndReleaseAll();
    return recorder;
  }

  private static void write(EmbeddedChannel channel, String encoding, byte[]... parts) {
    HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/fhir/t/$import");
    if (encoding != null) {
      request.headers().set(HttpHeaderNames.CONTENT_ENCODING, encoding);
    }
    channel.writeInbound(request);
    for (int i = 0; i < parts.length - 1; i++) {
      channel.writeInbound(new DefaultHttpContent(Unpooled.wrappedBuffer(parts[i])));
    }
    channel.writeInbound(parts.length == 0 ? LastHttpContent.EMPTY_LAST_CONTENT
        : new DefaultLastHttpContent(Unpooled.wrappedBuffer(parts[parts.length - 1])));
  }

  /** What the framework's handler would see. */
  private static final class Recorder extends ChannelInboundHandlerAdapter {
    final ByteArrayOutputStream body = new ByteArrayOutputStream();
    final List<Throwable> errors = new ArrayList<>();
    boolean ended;
    boolean errorBeforeEnd;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        if (msg instanceof HttpRequest) {
          body.reset();
          ended = false;
          errorBeforeEnd = false;
        }
        if (msg instanceof HttpContent content) {
          ByteBuf bytes = content.content();
          byte[] copy = new byte[bytes.readableBytes()];
          bytes.getBytes(bytes.readerIndex(), copy);
          body.writeBytes(copy);
          ended |= msg instanceof LastHttpContent;
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      errors.add(cause);
      errorBeforeEnd = !ended;
    }

    byte[] bytes() {
      return body.toByteArray();
    }
  }
}
