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
}
