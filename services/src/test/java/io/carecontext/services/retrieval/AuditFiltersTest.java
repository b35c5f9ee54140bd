package io.carecontext.services.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carecontext.services.http.ApiException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The audit list refuses filters it would otherwise ignore or match nothing with. */
class AuditFiltersTest {

  @Test
  void knownFiltersGivenOnceWithAValuePass() {
    AuditController.requireWellFormedFilters(Map.of("patient", List.of("zq-1"), "limit", List.of("5"),
        "from", List.of("2026-01-01T00:00:00Z"), "includeBodies", List.of("false")));
    AuditController.requireWellFormedFilters(Map.of());
  }

  @Test
  void aMisspeltFilterIsRefusedWithTheParametersItTakesNeverItsName() {
    // a parameter named like an MRN or a name was quoted back when it looked like a name
    for (String name : List.of("patientId", "MRN4471902", "Jane Doe 1970", "jane.doe")) {
      assertEquals("an unknown query parameter; this endpoint takes patient, patientIdentifier, principal, action, "
          + "from, to, limit, includeBodies, breakGlass, after, requestId, reviewed", refusal(Map.of(name, List.of("x"))), name);
    }
    assertEquals("an unknown query parameter; this endpoint takes none (the whole trail is verified)",
        assertThrows(io.carecontext.services.http.ApiException.class,
            () -> AuditController.requireNoParameters(Map.of("MRN4471902", List.of("1")))).getMessage());
  }

  @Test
  void aRepeatedOrEmptyFilterIsRefused() {
    assertEquals("query parameter 'patient' may be given only once", refusal(Map.of("patient", List.of("a", "b"))));
    assertEquals("query parameter 'principal' must not be empty: leave it out not to filter by it",
        refusal(Map.of("principal", List.of(""))));
  }

  private static String refusal(Map<String, List<String>> parameters) {
    return assertThrows(ApiException.class, () -> AuditController.requireWellFormedFilters(parameters)).getMessage();
  }

  /**
   * Instant.parse takes years up to ±999,999,999, PostgreSQL's timestamptz does not: such a bound
   * failed the request with a 500 (and a logged stack trace quoting it) instead of a 400.
   */
  @Test
  void aBoundOutsideTheDatabasesTimeRangeIsRefused() {
    for (String bound : List.of("+999999999-12-31T23:59:59Z", "-999999999-01-01T00:00:00Z", "+10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z")) {
      ApiException e = assertThrows(ApiException.class, () -> AuditController.instant(bound, "from"), bound);
      assertEquals("from must be an ISO-8601 instant from year 1 to 9999, e.g. 2025-01-31T00:00:00Z", e.getMessage());
    }
    assertEquals(java.time.Instant.parse("2025-01-31T00:00:00Z"), AuditController.instant("2025-01-31T00:00:00Z", "to"));
    // "…T00:00:00+01:00" unencoded in a query arrives with a space for its +
    ApiException plus = assertThrows(ApiException.class, () -> AuditController.instant("2025-01-01T00:00:00 01:00", "from"));
    assertEquals("from must be an ISO-8601 instant from year 1 to 9999, e.g. 2025-01-31T00:00:00Z (an offset's + must be "
        + "sent as %2B in a query string)", plus.getMessage());
    assertEquals(java.time.Instant.parse("2024-12-31T23:00:00Z"), AuditController.instant("2025-01-01T00:00:00+01:00", "to"));
    // any other text with a space is no unencoded offset: the hint was given to "last month" and to a name
    for (String words : List.of("last month", "Jane Doe", "2025-01-01 00:00:00")) {
      assertEquals("from must be an ISO-8601 instant from year 1 to 9999, e.g. 2025-01-31T00:00:00Z",
          assertThrows(ApiException.class, () -> AuditController.instant(words, "from"), words).getMessage());
    }
  }

  /**
   * A patient filter is the patient's FHIR id. A name, a birth date or an MRN was read as the trail's marker for a
   * patient named by no id, so the "accounting" it answered listed other requests (another patient's probes): now a
   * 400 that does not quote it. The marker itself still lists those requests.
   */
  @Test
  void aPatientFilterThatIsNoFhirIdIsRefusedWithoutQuotingIt() {
    for (String sent : List.of("Jane Doe 1950-01-01", "MRN:4471902", "doe, jane", "x".repeat(65), "p\u0000")) {
      ApiException e = assertThrows(ApiException.class,
          () -> AuditController.filter(sent, null, null, null, null, null, null, null, null), sent);
      assertEquals(AuditController.PATIENT_NOT_AN_ID, e.getMessage());
      assertEquals(400, e.status().getCode());
    }
    assertEquals("pt-1.a", AuditController.filter("pt-1.a", null, null, null, null, null, null, null, null).patient());
    assertEquals(io.carecontext.retrieval.audit.AuditEntry.NOT_A_FHIR_ID, AuditController.filter(
        io.carecontext.retrieval.audit.AuditEntry.NOT_A_FHIR_ID, null, null, null, null, null, null, null, null).patient());
  }

  /**
   * A principal filter takes only what a row's principal can be (a key's, as the platform database's check has it, or
   * the platform's own): a patient's name typed there was matched against nothing and kept in the listing's own row.
   */
  @Test
  void aPrincipalFilterThatNoRowCanNameIsRefusedWithoutQuotingIt() {
    for (String sent : List.of("Jane Doe", "doe, jane", "1950/01/01", "x".repeat(101), "dr-a\u0000")) {
      ApiException e = assertThrows(ApiException.class,
          () -> AuditController.filter(null, sent, null, null, null, null, null, null, null), sent);
      assertEquals(400, e.status().getCode());
      assertTrue(e.getMessage().startsWith("principal must be a principal as the rows name it"), e.getMessage());
      assertFalse(e.getMessage().contains(sent.strip()), e.getMessage());
    }
    for (String principal : List.of("dr-a", "jane.doe@hospital.example", "platform-admin",
        io.carecontext.retrieval.audit.AuditEntry.SYSTEM_PRINCIPAL)) {
      assertEquals(principal, AuditController.filter(null, principal, null, null, null, null, null, null, null).principal());
    }
  }
}
