package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.retrieval.audit.AuditFilter;
import io.carecontext.services.http.ApiException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The body of a break-glass review: the outcomes, when a note is required, and what a note must be. */
class ReviewBodyTest {

  static Map<String, Object> body(Object outcome, Object note) {
    Map<String, Object> m = new HashMap<>();
    m.put("outcome", outcome);
    if (note != null) {
      m.put("note", note);
    }
    return m;
  }

  static String refusal(Object parsed) {
    try {
      ReviewBody.of(parsed);
    } catch (ApiException e) {
      assertThat(e.status().getCode()).isEqualTo(400);
      return e.getMessage();
    }
    throw new AssertionError("accepted");
  }

  @Test
  void anAppropriateAccessNeedsNoNoteTheOthersDo() {
    assertThat(ReviewBody.of(body("appropriate", null))).isEqualTo(new ReviewBody("appropriate", null));
    assertThat(ReviewBody.of(body("appropriate", "checked with the ED"))).isEqualTo(
        new ReviewBody("appropriate", "checked with the ED"));
    assertThat(ReviewBody.of(body("inappropriate", "no emergency"))).isEqualTo(new ReviewBody("inappropriate", "no emergency"));
    assertThat(ReviewBody.of(body("needs_follow_up", "ask dr-a"))).isEqualTo(new ReviewBody("needs_follow_up", "ask dr-a"));
    assertThat(refusal(body("inappropriate", null))).contains("note is required for the outcome inappropriate");
    assertThat(refusal(body("needs_follow_up", null))).contains("note is required for the outcome needs_follow_up");
  }

  @Test
  void anOutcomeIsOneOfThreeAndNothingElseIsTaken() {
    for (Object outcome : new Object[] {null, "Appropriate", "ok", "", 1, true, List.of("appropriate")}) {
      assertThat(refusal(body(outcome, null))).contains("outcome is required: one of appropriate, inappropriate, "
          + "needs_follow_up");
    }
    Map<String, Object> extra = body("appropriate", null);
    extra.put("patientName", "Jane Doe");
    assertThat(refusal(extra)).contains("an unknown field").doesNotContain("patientName").doesNotContain("Jane");
    assertThat(refusal(List.of("appropriate"))).contains("must be a JSON object");
    assertThat(refusal(null)).contains("must be a JSON object");
  }

  @Test
  void aNoteSaysSomethingWithinAThousandCharactersAndIsNeverQuotedBack() {
    assertThat(refusal(body("inappropriate", ""))).contains("no letter or digit");
    assertThat(refusal(body("inappropriate", " .;-\n\t "))).contains("no letter or digit");
    assertThat(refusal(body("inappropriate", 42))).contains("note must be a string");
    String thousand = "a".repeat(1_000);
    assertThat(ReviewBody.of(body("inappropriate", thousand)).note()).hasSize(1_000);
    assertThat(refusal(body("inappropriate", thousand + "b"))).contains("at most 1000 characters")
        .doesNotContain("aaaa");
    // characters, not UTF-16 units: a thousand characters outside the BMP are a thousand
    String wide = "\uD835\uDC00".repeat(1_000);
    assertThat(ReviewBody.of(body("needs_follow_up", wide)).note()).hasSize(2_000);
    assertThat(ReviewBody.of(body("needs_follow_up", "Überprüfung nötig")).note()).isEqualTo("Überprüfung nötig");
    // a NUL or an escape is no part of what the next reviewer reads; newlines and tabs lay the note out
    assertThat(refusal(body("inappropriate", "Jane\u0000 Doe"))).contains("holds a control character")
        .doesNotContain("Jane");
    assertThat(ReviewBody.of(body("inappropriate", "seen twice\n\tno care link")).note()).contains("\n\t");
    // the note is not in what the body says of itself (a log line, an exception)
    assertThat(ReviewBody.of(body("inappropriate", "Jane Doe 1970-01-01")).toString()).doesNotContain("Jane");
  }

  @Test
  void theReviewedFilterIsBoundIntoTheCursorDigestAndRefusesBreakGlassFalse() {
    AuditFilter any = new AuditFilter(null, null, null, null, null, 10, true, null, null);
    java.util.function.Function<Boolean, AuditFilter> reviewed =
        state -> new AuditFilter(null, null, null, null, null, 10, true, null, null, state);
    assertThat(reviewed.apply(null).digest()).isEqualTo(any.digest()); // tokens given before stay valid
    assertThat(reviewed.apply(false).digest()).isNotEqualTo(any.digest())
        .isNotEqualTo(reviewed.apply(true).digest());
    assertThatThrownBy(() -> new AuditFilter(null, null, null, null, null, 10, false, null, null, false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("reviewed lists break-glass rows only");
    assertThat(AuditController.auditId("0190a0b0-0000-7000-8000-000000000001")).isNotNull();
    assertThat(AuditController.auditId("0190A0B0-0000-7000-8000-000000000001")).isNotNull(); // the same id
    assertThat(AuditController.auditId("1-1-1-1-1")).isNull(); // the parser takes it; no listing gives it
    assertThat(AuditController.auditId("Jane-Doe")).isNull();
  }
}
