package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.compression.DecompressionException;
import io.netty.handler.codec.compression.ZlibCodecFactory;
import io.netty.handler.codec.compression.ZlibWrapper;
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
        assertHandedOnThenFailed(seen, cut, encoding + " cut to " + length + " of " + body.length + " bytes");
      }
    }
  }

  /**
   * What the check must agree with: the framework's gzip decoder (ZlibCodecFactory's, as Micronaut
   * makes it for a request body) reads a body of several members (RFC 1952; what {@code cat a.gz b.gz}
   * makes) to the end of the last, and takes a later member cut short as whatever it decoded, as it
   * does the first.
   */
  @Test
  void theFrameworksDecoderReadsEveryMemberAndSaysNothingOfALaterOneCutShort() throws Exception {
    byte[] first = compressed("gzip", NDJSON);
    byte[] second = compressed("gzip", "{\"resourceType\":\"Patient\",\"id\":\"p2\"}\n".getBytes(StandardCharsets.UTF_8));
    byte[] both = concat(first, second);
    assertThat(frameworkDecodes(both)).isEqualTo(concat(NDJSON, "{\"resourceType\":\"Patient\",\"id\":\"p2\"}\n"
        .getBytes(StandardCharsets.UTF_8)));
    for (int length : new int[] {first.length + 5, both.length - 8}) {
      byte[] decoded = frameworkDecodes(Arrays.copyOf(both, length));
      assertThat(decoded).as("cut to " + length).startsWith(NDJSON);
    }
  }

  @Test
  void aBodyOfSeveralWholeGzipMembersPassesAsItCame() throws Exception {
    byte[] a = compressed("gzip", "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n".getBytes(StandardCharsets.UTF_8));
    byte[] b = compressed("gzip", "{\"resourceType\":\"Patient\",\"id\":\"b\"}\n".getBytes(StandardCharsets.UTF_8));
    byte[] empty = compressed("gzip", new byte[0]);
    for (byte[] body : List.of(concat(a, b), concat(a, empty, b), concat(a, b, compressed("gzip", NDJSON)))) {
      // split anywhere: in a member, in its header or trailer, or just at a member's end
      for (int at = 0; at <= body.length; at++) {
        Recorder seen = send("gzip", Arrays.copyOfRange(body, 0, at), Arrays.copyOfRange(body, at, body.length));
        assertThat(seen.errors).as("split at " + at).isEmpty();
        assertThat(seen.bytes()).as("split at " + at).isEqualTo(body);
        assertThat(seen.ended).isTrue();
      }
      // and a byte a chunk
      byte[][] bytes = new byte[body.length][];
      for (int i = 0; i < body.length; i++) {
        bytes[i] = new byte[] {body[i]};
      }
      assertThat(send("gzip", bytes).errors).isEmpty();
    }
  }

  /**
   * Only the first member was checked to its end: a body whose second member was cut short (in its
   * header, its data or its trailer) passed, and the framework handed on what it had decoded of it.
   */
  @Test
  void aLaterGzipMemberCutShortIsADecompressionFailureBeforeTheEnd() throws Exception {
    byte[] first = compressed("gzip", "{\"resourceType\":\"Patient\",\"id\":\"a\"}\n".getBytes(StandardCharsets.UTF_8));
    byte[] second = compressed("gzip", NDJSON);
    byte[] body = concat(first, first, second);
    int start = 2 * first.length;
    for (int length : new int[] {start + 1, start + 9, start + 10, start + second.length / 2, body.length - 8,
        body.length - 1}) {
      byte[] cut = Arrays.copyOf(body, length);
      for (int at : new int[] {first.length, start, length / 2, length - 1}) {
        Recorder seen = send("gzip", Arrays.copyOfRange(cut, 0, at), Arrays.copyOfRange(cut, at, length));
        assertHandedOnThenFailed(seen, cut, "cut to " + length + " of " + body.length + " bytes, split at " + at);
      }
    }
  }

  /**
   * Every byte that came is handed on, so the lines before the cut are still read; then the failure,
   * before the end of the body.
   */
  private static void assertHandedOnThenFailed(Recorder seen, byte[] cut, String what) {
    assertThat(seen.bytes()).as(what).isEqualTo(cut);
    assertThat(seen.errors).as(what).hasSize(1);
    assertThat(seen.errors.get(0)).as(what).isInstanceOf(DecompressionException.class);
    assertThat(seen.errorBeforeEnd).as(what).isTrue();
    assertThat(seen.ended).as(what).isTrue();
  }

  @Test
  void whatFollowsTheEndOfADeflateStreamIsLeftAsTheFrameworkLeavesIt() throws Exception {
    // a zlib stream has no members: the framework's decoder skips what follows its end, and so does the check
    byte[] body = compressed("deflate", NDJSON);
    Recorder seen = send("deflate", concat(body, new byte[] {1, 2, 3}));
    assertThat(seen.errors).isEmpty();
    assertThat(seen.ended).isTrue();
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

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  /** What the framework's own decoder makes of a gzip body: its whole output, no failure. */
  private static byte[] frameworkDecodes(byte[] body) {
    EmbeddedChannel decoder = new EmbeddedChannel(ZlibCodecFactory.newZlibDecoder(ZlibWrapper.GZIP));
    decoder.writeInbound(Unpooled.wrappedBuffer(body));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (ByteBuf b; (b = decoder.readInbound()) != null; ) {
      byte[] copy = new byte[b.readableBytes()];
      b.readBytes(copy);
      b.release();
      out.writeBytes(copy);
    }
    decoder.finishAndReleaseAll();
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
