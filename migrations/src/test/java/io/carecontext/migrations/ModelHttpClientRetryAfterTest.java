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
    for (String none : new String[] {null, "", "-1", "1.5", "soon", "9999999999999999999999"}) {
      assertThat(ModelHttpClient.retryAfter(none)).as(String.valueOf(none)).isEqualTo(-1);
    }
  }
}
