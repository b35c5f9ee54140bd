package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import org.junit.jupiter.api.Test;

/** An endpoint's Retry-After, as RFC 9110 writes it: seconds or an HTTP date. */
class ModelHttpClientRetryAfterTest {

  @Test
  void secondsAndHttpDatesAreReadAndAnythingElseIsNone() {
    assertThat(ModelHttpClient.retryAfter("7")).isEqualTo(7);
    assertThat(ModelHttpClient.retryAfter(" 120 ")).isEqualTo(120);
    String inAMinute = DateTimeFormatter.RFC_1123_DATE_TIME.format(ZonedDateTime.now(ZoneOffset.UTC).plusSeconds(65));
    assertThat(ModelHttpClient.retryAfter(inAMinute)).isBetween(60L, 65L);
    assertThat(ModelHttpClient.retryAfter("Wed, 21 Oct 2015 07:28:00 GMT")).isZero(); // past: at once
    for (String none : new String[] {null, "", "-1", "1.5", "soon", "+5", "\u0661\u0662", "Wed, 32 Oct 2015 07:28:00 GMT"}) {
      assertThat(ModelHttpClient.retryAfter(none)).as(String.valueOf(none)).isEqualTo(-1);
    }
  }

  /**
   * A wait too long for a long is the longest wait, not none: "99999999999999999999" was read as no
   * Retry-After at all, and the endpoint asked again half a second later. Far-future dates and leading
   * zeros read the same way, and nothing read is large enough for a caller's sums to overflow.
   */
  @Test
  void aHugeWaitIsTheLongestWaitNotNone() {
    long max = ModelHttpClient.MAX_RETRY_AFTER_SECONDS;
    for (String huge : new String[] {"99999999999999999999", "9999999999999999999999", "9223372036854775807",
        "9223372036854775808", "1000000001", "Fri, 31 Dec 9999 23:59:59 GMT"}) {
      assertThat(ModelHttpClient.retryAfter(huge)).as(huge).isEqualTo(max);
    }
    assertThat(ModelHttpClient.retryAfter("0000000000000000000000007")).isEqualTo(7);
    assertThat(ModelHttpClient.retryAfter("0")).isZero();
    assertThat(java.time.Duration.ofSeconds(max).plusSeconds(1).toNanos()).isPositive();
  }

  /**
   * A refusal with a body over the answer limit is still a refusal, with its Retry-After: it was taken
   * for an answer too large to read (which the chat gateway charges as written), and its wait was lost.
   */
  @Test
  void aRefusalWithALargeBodyIsARefusalWithItsWait() throws Exception {
    com.sun.net.httpserver.HttpServer server = com.sun.net.httpserver.HttpServer.create(
        new java.net.InetSocketAddress("127.0.0.1", 0), 0);
    byte[] huge = "x".repeat(1024 * 1024).getBytes(java.nio.charset.StandardCharsets.UTF_8);
    server.createContext("/", exchange -> {
      exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().add("Retry-After", "30");
      exchange.sendResponseHeaders(429, huge.length);
      try (var out = exchange.getResponseBody()) {
        out.write(huge);
      } catch (java.io.IOException closedByTheClient) {
        // the client reads the start only
      }
    });
    server.start();
    try {
      dev.langchain4j.http.client.HttpClient client = ModelHttpClient.builder(4096).build();
      dev.langchain4j.http.client.HttpRequest request = dev.langchain4j.http.client.HttpRequest.builder()
          .method(dev.langchain4j.http.client.HttpMethod.POST)
          .url("http://127.0.0.1:" + server.getAddress().getPort() + "/v1/chat/completions").body("{}").build();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> client.execute(request))
          .isInstanceOfSatisfying(ModelHttpClient.Refused.class, r -> {
            assertThat(r.statusCode()).isEqualTo(429);
            assertThat(r.retryAfterSeconds()).isEqualTo(30);
            assertThat(r.getMessage().length()).isLessThanOrEqualTo(4096);
          });
    } finally {
      server.stop(0);
    }
  }

  /** Of several Retry-After headers, the longest wait that can be read; none when none can be. */
  @Test
  void ofSeveralHeadersTheLongestWaitIsKept() {
    assertThat(ModelHttpClient.retryAfter(java.util.List.of("1", "3600"))).isEqualTo(3600);
    assertThat(ModelHttpClient.retryAfter(java.util.List.of("3600", "soon"))).isEqualTo(3600);
    assertThat(ModelHttpClient.retryAfter(java.util.List.of("soon"))).isEqualTo(-1);
    assertThat(ModelHttpClient.retryAfter(java.util.List.<String>of())).isEqualTo(-1);
  }
}
