package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class IdentifierCriteriaTest {

  @Test
  void oneIdentifierWithAValueIsTaken() {
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|4711")).contains(new IdentifierCriteria("urn:mrn", "4711"));
    assertThat(IdentifierCriteria.parse("identifier=|4711")).contains(new IdentifierCriteria(null, "4711"));
    // a '&' inside a value arrives encoded
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A%26B")).contains(new IdentifierCriteria("urn:mrn", "A&B"));
  }

  @Test
  void aSecondParameterOrAnEmptyValueIsRefusedNotTakenAsTheValue() {
    // taken as the value "4711&birthdate=1970-01-01", which matched nothing: every create created
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|4711&birthdate=1970-01-01")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|4711&")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|")).isEmpty();
    // FHIR reads it as the value in any system, which the index (system and value together) cannot
    // match: it was taken as "no system", and a create made a duplicate of a patient whose MRN has one
    assertThat(IdentifierCriteria.parse("identifier=4711")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=")).isEmpty();
    assertThat(IdentifierCriteria.parse("name=Smith")).isEmpty();
    assertThat(IdentifierCriteria.parse(null)).isEmpty();
  }

  @Test
  void aPercentThatStartsNoEscapeIsRefusedNotThrown() {
    // the decoder threw, quoting the value, and no handler took it: a 500
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%A")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|%ZZ12")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%25A")).contains(new IdentifierCriteria("urn:mrn", "12%A"));
  }
}
