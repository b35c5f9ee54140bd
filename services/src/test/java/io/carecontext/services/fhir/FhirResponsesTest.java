package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class FhirResponsesTest {

  /**
   * Last-Modified in HTTP's date form (IMF-fixdate): the day of the month has two digits. Java's
   * RFC_1123_DATE_TIME wrote "Mon, 7 Dec 2026", which that form does not allow, for the first nine days of a month.
   */
  @Test
  void anHttpDateHasATwoDigitDayAndIsInGmtToTheSecond() {
    assertThat(FhirResponses.httpDate(Instant.parse("2026-12-07T15:40:30.123Z"))).isEqualTo("Mon, 07 Dec 2026 15:40:30 GMT");
    assertThat(FhirResponses.httpDate(Instant.parse("2024-02-29T00:00:00Z"))).isEqualTo("Thu, 29 Feb 2024 00:00:00 GMT");
  }
}
