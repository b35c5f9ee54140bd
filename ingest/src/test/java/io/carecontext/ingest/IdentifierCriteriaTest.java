package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
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

  /** Query-string decoding, as HTTP clients' encoders send a space: '+' is a space, a plus is %2B (README). */
  @Test
  void aPlusIsASpaceAndAnEncodedPlusIsAPlus() {
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A+B")).contains(new IdentifierCriteria("urn:mrn", "A B"));
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A%2BB")).contains(new IdentifierCriteria("urn:mrn", "A+B"));
  }

  @Test
  void aPercentThatStartsNoEscapeIsRefusedNotThrown() {
    // the decoder threw, quoting the value, and no handler took it: a 500
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%A")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|%ZZ12")).isEmpty();
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|12%25A")).contains(new IdentifierCriteria("urn:mrn", "12%A"));
  }

  /** FHIR's search escapes ("Escaping Search Parameters"), which were taken literally. */
  @Test
  void searchEscapesStandForTheirCharacters() {
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A\\|B")).contains(new IdentifierCriteria("urn:mrn", "A|B"));
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A\\,B")).contains(new IdentifierCriteria("urn:mrn", "A,B"));
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A\\$B")).contains(new IdentifierCriteria("urn:mrn", "A$B"));
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A\\\\B")).contains(new IdentifierCriteria("urn:mrn", "A\\B"));
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A\\\\")).contains(new IdentifierCriteria("urn:mrn", "A\\"));
    // a '$' needs no escape outside composite parameters
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|A$B")).contains(new IdentifierCriteria("urn:mrn", "A$B"));
    // URL-encoded as criteria are: %5C is the backslash, %7C the bar, %2C the comma
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn%7CA%5C%7CB%5C%2CC"))
        .contains(new IdentifierCriteria("urn:mrn", "A|B,C"));
    assertThat(IdentifierCriteria.parse("identifier=|A\\|B")).contains(new IdentifierCriteria(null, "A|B"));
  }

  @Test
  void anOrListASecondBarABrokenEscapeAndABarInTheSystemAreRefusedSayingWhy() {
    // an OR list was taken as one value "1,urn:mrn|2", which no resource carries
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|1,urn:mrn|2")).isEmpty();
    assertThat(IdentifierCriteria.problem("identifier=urn:mrn|1,urn:mrn|2")).isEqualTo(IdentifierCriteria.OR_LIST);
    // an unescaped second bar: FHIR reads it as a separator, and the value "B|C" hashed as system
    // "urn:mrn|B" with value "C" did: it could match a resource stored with such a system
    assertThat(IdentifierCriteria.parse("identifier=urn:mrn|B|C")).isEmpty();
    assertThat(IdentifierCriteria.problem("identifier=urn:mrn|B|C")).isEqualTo(IdentifierCriteria.SECOND_BAR);
    for (String broken : List.of("identifier=urn:mrn|A\\B", "identifier=urn:mrn|A\\", "identifier=urn\\:mrn|A")) {
      assertThat(IdentifierCriteria.parse(broken)).as(broken).isEmpty();
      assertThat(IdentifierCriteria.problem(broken)).as(broken).isEqualTo(IdentifierCriteria.BAD_ESCAPE);
    }
    // no resource may carry such a system, and its hash could be that of another system and value
    assertThat(IdentifierCriteria.parse("identifier=urn:a\\|b|c")).isEmpty();
    assertThat(IdentifierCriteria.problem("identifier=urn:a\\|b|c")).isEqualTo(IdentifierCriteria.SYSTEM_BAR);
    // the other refusals keep their general advice
    assertThat(IdentifierCriteria.problem("identifier=4711")).isEqualTo(IdentifierCriteria.ENCODED);
    assertThat(IdentifierCriteria.problem("identifier=urn:mrn|12%A")).isEqualTo(IdentifierCriteria.ENCODED);
    for (String p : List.of(IdentifierCriteria.OR_LIST, IdentifierCriteria.SECOND_BAR, IdentifierCriteria.BAD_ESCAPE,
        IdentifierCriteria.SYSTEM_BAR)) {
      assertThat(p).doesNotContain("urn:mrn", "urn:a");
    }
  }
}
