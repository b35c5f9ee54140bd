package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.fhir.KnownIdentifiers.Name;
import io.carecontext.fhir.KnownIdentifiers.NameKind;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A span found from a known name carries the identity of that name, and the token map keys on it, so
 * that one person's spellings share a token. Two people must never share one: a form of a name that
 * another known name also takes (the family alone, for two Kowalskis) and a word one edit from a name
 * (a wife's Kowalska) keep tokens of their own text. Tied to the person listed first, they read, to the
 * model and in the re-identified answer, as that person.
 */
class DistinctPeopleTokenTest {

  private static KnownIdentifiers known(Name... names) {
    return new KnownIdentifiers(List.of(names), List.of(), List.of(), List.of(), List.of());
  }

  @Test
  void theFatherNamedByFamilyAloneIsNotTheMotherToken() {
    KnownIdentifiers parents = known(
        new Name(NameKind.RELATED_PERSON, "Kowalski", List.of("Anna"), null),
        new Name(NameKind.RELATED_PERSON, "Kowalski", List.of("Jan"), null));
    DeidResult r = Deidentifier.deidentify(List.of(
        "Mother Anna Kowalski, father Jan Kowalski. Mr. Kowalski reports the fall."), parents, DatePolicy.TOKEN, 0);
    String text = r.texts().get(0);
    String mother = text.replaceAll(".*Mother (\\[[A-Z_0-9]+\\]).*", "$1");
    String mrKowalski = text.replaceAll(".*Mr\\. (\\[[A-Z_0-9]+\\]).*", "$1");
    assertThat(mrKowalski).as(text).isNotEqualTo(mother);
    // and the answer about Mr. Kowalski must not name the mother
    assertThat(Reidentifier.reidentify(mrKowalski + " reports the fall.", r.tokens()))
        .doesNotContain("Anna");
  }

  @Test
  void aRelativeWhoseNameIsOneEditFromThePatientsIsNotThePatient() {
    // the patient's wife, not in the record, written with the feminine form of his family name
    KnownIdentifiers patient = known(new Name(NameKind.PATIENT, "Kowalski", List.of("Jan"), null));
    DeidResult r = Deidentifier.deidentify(List.of(
        "Jan Kowalski admitted. His wife, Mrs. Kowalska, stayed at bedside; Kowalska signed the consent."), patient, DatePolicy.TOKEN, 0);
    String text = r.texts().get(0);
    String jan = text.substring(0, text.indexOf(" "));
    assertThat(text.substring(text.indexOf("His wife"))).as(text).doesNotContain(jan);
  }
}
