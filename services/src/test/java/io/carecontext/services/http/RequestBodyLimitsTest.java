package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.micronaut.http.body.stream.BodySizeLimits;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpContent;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.DefaultLastHttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.util.ReferenceCountUtil;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link RequestBodyLimits}: which limit a path has, read from the request line as the framework reads
 * the path, and the {@link RequestBodyLimits.Handler} closing a connection whose small body stopped
 * arriving (on an embedded channel, its clock moved by hand), never one whose body is FHIR's or whole.
 */
class RequestBodyLimitsTest {

  private static final long FHIR = 50L * 1024 * 1024;

  @Test
  void fhirPathsKeepTheirLimitAndEveryOtherPathHasTheSmallOne() {
    assertThat(RequestBodyLimits.limit("/fhir/acme", FHIR)).isEqualTo(FHIR);
    assertThat(RequestBodyLimits.limit("/fhir/acme/$import", FHIR)).isEqualTo(FHIR);
    assertThat(RequestBodyLimits.limit("/v1/acme/patients/p-1/context", FHIR)).isEqualTo(RequestBodyLimits.SMALL_BODY_BYTES);
    assertThat(RequestBodyLimits.limit("/admin/tenants", FHIR)).isEqualTo(RequestBodyLimits.SMALL_BODY_BYTES);
    assertThat(RequestBodyLimits.limit("/fhirx/acme", FHIR)).isEqualTo(RequestBodyLimits.SMALL_BODY_BYTES);
    // a FHIR limit set under the small one is every path's
    assertThat(RequestBodyLimits.limit("/v1/acme/audit/verify", 200_000)).isEqualTo(200_000);
  }

  @Test
  void thePathIsReadAsTheFrameworkReadsIt() {
    assertThat(RequestBodyLimits.pathOf("/fhir/acme/Patient/1?_format=json")).isEqualTo("/fhir/acme/Patient/1");
    assertThat(RequestBodyLimits.pathOf("http://host:8080/v1/acme/research/search?x=/fhir/"))
        .isEqualTo("/v1/acme/research/search");
    assertThat(RequestBodyLimits.pathOf("http://host")).isEqualTo("/");
    // not decoded, as the framework's path is not: /%66hir/ is no /fhir/ path to it either
    assertThat(RequestBodyLimits.pathOf("/%66hir/acme")).isEqualTo("/%66hir/acme");
    assertThat(RequestBodyLimits.pathOf("")).isEqualTo("");
  }

  private static EmbeddedChannel channel() {
    BodySizeLimits any = new BodySizeLimits(FHIR, FHIR);
    return new EmbeddedChannel(new RequestBodyLimits.Handler(any, any, 15, 60));
  }

  private static HttpRequest post(String path, String... headers) {
    HttpRequest r = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, path);
    r.headers().set(HttpHeaderNames.CONTENT_LENGTH, 1000);
    for (int i = 0; i < headers.length; i += 2) {
      r.headers().set(headers[i], headers[i + 1]);
    }
    return r;
  }

  private static void send(EmbeddedChannel ch, Object msg) {
    ch.writeInbound(msg);
    for (Object in; (in = ch.readInbound()) != null; ) {
      ReferenceCountUtil.release(in);
    }
  }

  private static DefaultHttpContent bytes(int n) {
    return new DefaultHttpContent(Unpooled.wrappedBuffer(new byte[n]));
  }

  @Test
  void aSmallBodyThatStopsArrivingClosesItsConnection() {
    EmbeddedChannel ch = channel();
    send(ch, post("/v1/acme/patients/p-1/context"));
    send(ch, bytes(10));
    elapse(ch, 14);
    assertThat(ch.isOpen()).isTrue();
    send(ch, bytes(10)); // a byte came: the pause starts again
    elapse(ch, 14);
    assertThat(ch.isOpen()).isTrue();
    elapse(ch, 2);
    assertThat(ch.isOpen()).isFalse();
  }

  /**
   * The framework stops reading while two answers are outstanding (a request pipelined behind a chat
   * whose model call runs for a minute): the body's bytes wait unread in the socket. That pause is the
   * server's, and the connection (the chat's answer with it) is not closed for it; once the server reads
   * again, a client that sends nothing is timed as before.
   */
  @Test
  void aPauseWhileTheServerIsNotReadingIsNotTheClients() {
    EmbeddedChannel ch = channel();
    ch.config().setAutoRead(false);
    send(ch, post("/v1/acme/patients/p-1/chat"));
    send(ch, bytes(10)); // and the framework asks for no more
    elapse(ch, 120);
    assertThat(ch.isOpen()).isTrue();
    ch.read(); // the first answer went out: it reads again
    elapse(ch, 14);
    assertThat(ch.isOpen()).isTrue();
    elapse(ch, 2);
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aSmallBodyTrickledPastItsWholeDeadlineClosesItsConnection() {
    EmbeddedChannel ch = channel();
    send(ch, post("/v1/acme/patients/p-1/chat"));
    for (int s = 0; s < 60; s += 10) {
      assertThat(ch.isOpen()).as("after %d s", s).isTrue();
      send(ch, bytes(1));
      elapse(ch, 10);
    }
    assertThat(ch.isOpen()).isFalse();
  }

  @Test
  void aWholeSmallBodyAndAFhirBodyAreNeverTimedHere() {
    EmbeddedChannel ch = channel();
    send(ch, post("/v1/acme/patients/p-1/context"));
    send(ch, new DefaultLastHttpContent(Unpooled.wrappedBuffer(new byte[1000])));
    // the handler may take its time (a chat's model call): the body is whole
    elapse(ch, 120);
    assertThat(ch.isOpen()).isTrue();
    send(ch, post("/fhir/acme/$import"));
    send(ch, bytes(10));
    elapse(ch, 120);
    assertThat(ch.isOpen()).isTrue(); // the server's idle timeout (5 minutes) is FHIR's
    ch.finishAndReleaseAll();
  }

  @Test
  void aClientWaitingForContinueIsTimedFromTheContinue() {
    EmbeddedChannel ch = channel();
    send(ch, post("/v1/acme/audit/verify", "Expect", "100-continue"));
    // the service takes its time to decide (the key, the refusal's audit row): the client is waiting on it
    elapse(ch, 30);
    assertThat(ch.isOpen()).isTrue();
    ch.writeOutbound(new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.CONTINUE));
    elapse(ch, 16);
    assertThat(ch.isOpen()).isFalse();
  }

  /** {@code seconds} pass on the channel's clock and the timers due by then run. */
  private static void elapse(EmbeddedChannel ch, long seconds) {
    ch.advanceTimeBy(seconds, TimeUnit.SECONDS);
    ch.runScheduledPendingTasks();
  }
}
