package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class AuditEntryTest {

  final AuditEntry base = AuditEntry.of("p", "k", List.of("care-coordinator"), "pt", "TREAT", "context",
      AuditEntry.Decision.ALLOWED, "allowed");

  @Test
  void aDetailIsAddedToEmptyAndToExistingDetails() {
    assertThat(base.withDetail("labelsByConsent", "[\"PSY\"]").details()).isEqualTo("{\"labelsByConsent\":[\"PSY\"]}");
    AuditEntry breakGlass = base.withBreakGlass(true, "{\"breakGlass\":true,\"reviewRequired\":true}");
    assertThat(breakGlass.withDetail("labelsByConsent", "[\"HIV\"]").details())
        .isEqualTo("{\"breakGlass\":true,\"reviewRequired\":true,\"labelsByConsent\":[\"HIV\"]}");
  }

  @Test
  void codesFromFhirInputAreEscaped() {
    assertThat(AuditEntry.jsonStrings(List.of("PSY", "a\"b", "c\\d", "e\nf")))
        .isEqualTo("[\"PSY\",\"a\\\"b\",\"c\\\\d\",\"e\\nf\"]");
    assertThat(AuditEntry.jsonStrings(List.of())).isEqualTo("[]");
  }

  /**
   * A patient id comes from the request path, where %00 decodes to a NUL that PostgreSQL text
   * cannot hold: the denial's row failed to write, so the attempt answered 503 and left no trace.
   * The row keeps the id with the NUL shown as U+FFFD, and a filter for the same id finds it.
   */
  @Test
  void aNulInAPatientIdCannotKeepTheAttemptOutOfTheTrail() {
    AuditEntry e = AuditEntry.of("p", "k", List.of("clinician"), "Synthetic\u0000Doe", "TREAT", "context",
        AuditEntry.Decision.DENIED, "unknown_patient");
    assertThat(e.patientId()).isEqualTo("Synthetic\uFFFDDoe");
    assertThat(e.withResult(AuditEntry.Decision.DENIED, "unknown_patient", List.of(), 1).patientId())
        .isEqualTo("Synthetic\uFFFDDoe");
    assertThat(new AuditFilter("Synthetic\u0000Doe", "a\u0000b", null, null, 10).patient())
        .isEqualTo("Synthetic\uFFFDDoe");
    assertThat(new AuditFilter("Synthetic\u0000Doe", "a\u0000b", null, null, 10).principal()).isEqualTo("a\uFFFDb");
  }

  /** An empty purpose is denied as purpose_missing; the row says no purpose, as for an absent one, not "(unknown)". */
  @Test
  void aBlankPurposeIsNoPurpose() {
    for (String blank : new String[] {null, "", "  "}) {
      assertThat(AuditEntry.of("p", "k", List.of("clinician"), "pt", blank, "context", AuditEntry.Decision.DENIED,
          "purpose_missing").purpose()).as("[%s]", blank).isNull();
    }
    assertThat(AuditEntry.of("p", "k", List.of("clinician"), "pt", "Quentin", "context", AuditEntry.Decision.DENIED,
        "purpose_unknown").purpose()).isEqualTo("(unknown)");
  }
}
