package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditCursorTest {

  @Test
  void aTokenNamesItsRowsTimeToTheMicrosecondAndItsId() {
    UUID id = UUID.randomUUID();
    AuditFilter any = new AuditFilter(null, null, null, null, null, 10);
    AuditCursor c = new AuditCursor(Instant.parse("2026-01-01T00:00:00.000001Z"), id, any);
    AuditCursor back = AuditCursor.parse(c.token());
    assertThat(back).isEqualTo(c);
    assertThat(back.at()).isEqualTo(Instant.parse("2026-01-01T00:00:00.000001Z"));
    assertThat(c.token()).matches("[A-Za-z0-9_-]+");
    // before the epoch too (a row's time is its writer's to state)
    AuditCursor old = new AuditCursor(Instant.parse("1969-12-31T23:59:59.999999Z"), id, any);
    assertThat(AuditCursor.parse(old.token())).isEqualTo(old);
  }

  /** A made-up token with the right digest and a time no row can have (the database holds none before 4713 BC). */
  @Test
  void aTokenOfATimeNoRowCanHaveIsRefused() {
    String digest = new AuditFilter(null, null, null, null, null, 10).digest();
    for (long micros : new long[] {-300_000_000_000_000_000L, Long.MIN_VALUE, Long.MAX_VALUE}) {
      String token = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
          ("v2:" + micros + ":0190a1b2-0000-7000-8000-000000000001:" + digest).getBytes());
      assertThatThrownBy(() -> AuditCursor.parse(token)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("after must be the next token of an earlier listing, as it was given");
    }
  }

  @Test
  void anythingElseIsRefusedWithoutEchoingIt() {
    for (String bad : new String[] {"", "not-a-token", "djE6eDp5", "djI6MTox", "%%%", "x".repeat(200)}) {
      assertThatThrownBy(() -> AuditCursor.parse(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("after must be the next token of an earlier listing, as it was given");
    }
  }

  @Test
  void aFilterCarriesItsCursorAndSaysOnlyItsTime() {
    AuditFilter unbound = new AuditFilter("p1", null, null, null, null, 10);
    AuditCursor c = new AuditCursor(Instant.parse("2026-01-01T00:00:00Z"), UUID.randomUUID(), unbound);
    AuditFilter f = unbound.after(c);
    assertThat(f.after()).isEqualTo(c);
    assertThat(f.toString()).doesNotContain("p1").contains("2026-01-01T00:00:00Z");
  }

  /**
   * A cursor continues only the listing whose filters made it: another patient, principal, action, time bound or
   * break-glass flag is another listing; the limit and the cursor itself are not filters, and a filter is compared
   * as the listing normalises it (an instant's offset).
   */
  @Test
  void aCursorIsBoundToTheFiltersOfTheListingThatMadeIt() {
    Instant from = Instant.parse("2026-01-01T00:00:00Z");
    AuditFilter listing = new AuditFilter("p1", "dr-a", "context", from, null, 5, true);
    AuditCursor c = AuditCursor.parse(new AuditCursor(Instant.parse("2026-02-01T00:00:00Z"), UUID.randomUUID(),
        listing).token());
    assertThat(c.continues(listing)).isTrue();
    assertThat(c.continues(new AuditFilter("p1", "dr-a", "context", from, null, 50, true).after(c))).isTrue();
    assertThat(c.continues(new AuditFilter("p1", "dr-a", "context", java.time.OffsetDateTime.parse(
        "2026-01-01T01:00:00+01:00").toInstant(), null, 5, true))).isTrue();
    for (AuditFilter other : List.of(new AuditFilter("p2", "dr-a", "context", from, null, 5, true),
        new AuditFilter(null, "dr-a", "context", from, null, 5, true),
        new AuditFilter("p1", "dr-b", "context", from, null, 5, true),
        new AuditFilter("p1", "dr-a", "chat", from, null, 5, true),
        new AuditFilter("p1", "dr-a", "context", null, null, 5, true),
        new AuditFilter("p1", "dr-a", "context", from, from.plusSeconds(1), 5, true),
        new AuditFilter("p1", "dr-a", "context", from, null, 5, false),
        new AuditFilter("p1", "dr-a", "context", from, null, 5, null))) {
      assertThat(c.continues(other)).as(other.toString()).isFalse();
    }
    // values that run together are still told apart
    assertThat(new AuditFilter("ab", "c", null, null, null, 5).digest())
        .isNotEqualTo(new AuditFilter("a", "bc", null, null, null, 5).digest());
    // a token of before the binding names no filters: it continues none
    String v1 = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        ("v1:1:" + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    assertThat(AuditCursor.parse(v1).continues(new AuditFilter(null, null, null, null, null, 5))).isFalse();
    // the token names no filter value
    assertThat(new String(java.util.Base64.getUrlDecoder().decode(c.token()), java.nio.charset.StandardCharsets.US_ASCII))
        .doesNotContain("p1").doesNotContain("dr-a").doesNotContain("context");
  }
}
