package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What these records print if anyone ever logs them, or puts them in an exception message: no PHI. */
class PhiFreeToStringTest {

  @Test
  void recordsThatCarryPatientDataPrintNoneOfIt() {
    var name = new KnownIdentifiers.Name(KnownIdentifiers.NameKind.PATIENT, "Okonkwo", List.of("Adaeze"), null);
    var address = new KnownIdentifiers.Address(List.of("12 Elm Street"), "Springfield", null, "IL", "62704", "US");
    var known = new KnownIdentifiers(List.of(name), List.of("MRN-0042"), List.of("555-0100"), List.of(address),
        List.of(LocalDate.of(1961, 4, 2)));
    var link = new CareLink("pract-7", "MRN-0042", "Encounter", "enc-MRN-0042");
    var consent = new ConsentDirective("consent-MRN-0042", "MRN-0042", "active", ConsentDirective.Decision.PERMIT,
        Instant.EPOCH, null, List.of(), List.of("DocumentReference"), List.of("PSY"), List.of(), List.of(),
        List.of("HIV"));
    var chunk = new ClinicalChunk("Observation", "MRN-0042-obs", "MRN-0042", Category.LAB, List.of(),
        ClinicalDate.ofDay(LocalDate.of(2024, 1, 1)), 0, "Adaeze Okonkwo, HbA1c 7.4 %");
    for (Object o : List.of(known, name, address, link, consent, chunk)) {
      assertThat(o.toString()).as(o.getClass().getSimpleName())
          .doesNotContain("Okonkwo", "Adaeze", "Elm", "Springfield", "62704", "MRN-0042", "555-0100", "1961", "HbA1c");
    }
    assertThat(known.toString()).contains("1 names");
    assertThat(consent.toString()).contains("PERMIT").contains("DocumentReference").contains("PSY").contains("HIV");
    assertThat(chunk.toString()).contains("Observation").contains("lab");
  }
}
