package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

  /** The patients a research row names, read back from its details whatever else they hold. */
  @Test
  void thePatientsOfAResearchRowAreReadFromItsDetails() {
    AuditEntry research = base.withDetail("breakGlass", "false").withDetail("nested", "{\"patients\":[\"x\"]}")
        .withDetail(AuditEntry.PATIENTS_DETAIL, AuditEntry.jsonStrings(List.of("p1", "p-2")));
    assertThat(AuditEntry.patientsIn(research.details())).containsExactly("p1", "p-2");
    assertThat(AuditEntry.patientsIn("{}")).isEmpty();
    assertThat(AuditEntry.patientsIn(null)).isEmpty();
    assertThat(AuditEntry.patientsIn("{\"patients\":")).isEmpty(); // no JSON: names no one
    assertThat(AuditEntry.patientsIn("[\"patients\"]")).isEmpty();
  }

  @Test
  void codesFromFhirInputAreEscaped() {
    assertThat(AuditEntry.jsonStrings(List.of("PSY", "a\"b", "c\\d", "e\nf")))
        .isEqualTo("[\"PSY\",\"a\\\"b\",\"c\\\\d\",\"e\\nf\"]");
    assertThat(AuditEntry.jsonStrings(List.of())).isEqualTo("[]");
  }

  /**
   * A patient id comes from the request path and may be anything: a NUL (%00) made the row fail to
   * write (503, no trace), and a name with a birth date was kept in plain text, shown without
   * includeBodies and exported. A row keeps only a FHIR id; any other is recorded as not one, and a
   * filter for such an id finds those rows.
   */
  @Test
  void aPatientIdThatIsNoFhirIdIsRecordedAsNotOne() {
    for (String sent : List.of("Synthetic\u0000Doe", "QXMu04 Zebulon Quixotefield", "p%201", "x".repeat(65))) {
      AuditEntry e = AuditEntry.of("p", "k", List.of("clinician"), sent, "TREAT", "context",
          AuditEntry.Decision.DENIED, "unknown_patient");
      assertThat(e.patientId()).as(sent).isEqualTo(AuditEntry.NOT_A_FHIR_ID);
      assertThat(e.withResult(AuditEntry.Decision.DENIED, "unknown_patient", List.of(), 1).patientId())
          .isEqualTo(AuditEntry.NOT_A_FHIR_ID);
      assertThat(new AuditFilter(sent, null, null, null, 10).patient()).isEqualTo(AuditEntry.NOT_A_FHIR_ID);
    }
    assertThat(AuditEntry.of("p", "k", List.of(), "pat-1.a", null, "context", AuditEntry.Decision.DENIED, "x")
        .patientId()).isEqualTo("pat-1.a");
    // a principal with a NUL is none a row can have (a key's principal is letters, digits and . _ @ -): refused
    assertThatThrownBy(() -> new AuditFilter(null, "a\u0000b", null, null, 10))
        .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("principal must be");
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
