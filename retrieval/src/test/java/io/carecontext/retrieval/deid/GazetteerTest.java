package io.carecontext.retrieval.deid;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.KnownIdentifiers;
import org.junit.jupiter.api.Test;

/** Towns named without a cue, from the gazetteer, and the clinical words that are also towns. */
class GazetteerTest {

  static String marked(String text) {
    return DetectorsTest.marked(text, KnownIdentifiers.empty());
  }

  // Before: a town not known from the record and without "lives in" before it passed into prompts.
  @Test
  void aTownWithoutACueIsACity() {
    assertThat(marked("Works nights, drove back from Duluth on Sunday."))
        .isEqualTo("Works nights, drove back from [CITY] on Sunday.");
    assertThat(marked("Springfield resident, works nights.")).isEqualTo("[CITY] resident, works nights.");
    assertThat(marked("Visited her son in Kalamazoo and Flagstaff last month."))
        .isEqualTo("Visited her son in [CITY] and [CITY] last month.");
    assertThat(marked("Denver EMS brought him in.")).isEqualTo("[CITY] EMS brought him in.");
    assertThat(marked("A Duluth-based trucker.")).isEqualTo("A [CITY]-based trucker.");
  }

  @Test
  void aTownAfterACueIsStillOne() {
    assertThat(marked("Lives in Bozeman with her sister.")).isEqualTo("Lives in [CITY] with her sister.");
    assertThat(marked("Moved here from Kalamazoo.")).isEqualTo("Moved here from [CITY].");
  }

  @Test
  void townsOfSeveralWordsAreOneSpan() {
    assertThat(marked("Flew in from Salt Lake City, then San Antonio, then St. Louis, then Saint Paul."))
        .isEqualTo("Flew in from [CITY], then [CITY], then [CITY], then [CITY].");
    assertThat(marked("Family in Winston-Salem and Coeur d'Alene and Ft. Worth and Fort Lauderdale."))
        .isEqualTo("Family in [CITY] and [CITY] and [CITY] and [CITY].");
    assertThat(marked("Grew up near Cañon City; later in Canon City.")).isEqualTo("Grew up near [CITY]; later in [CITY].");
  }

  @Test
  void eponymsStay() {
    String text = "Hx of Wilson's disease, Bell palsy, Addison's, Graves' disease and Huntington chorea. "
        + "Positive Murphy sign; Allen test normal; Glasgow Coma Scale 15; Richmond Agitation-Sedation Scale 0; "
        + "Hamilton Depression Rating Scale 12; Clark level II melanoma; Boston criteria met; Stanford type A "
        + "dissection excluded; Norwalk virus negative. Foley removed, Jackson-Pratt drain in place. Hx Addison.";
    assertThat(marked(text)).isEqualTo(text);
    // a line wrapped inside the eponym's name
    assertThat(marked("RASS per the Richmond\n  Agitation-Sedation Scale.")).doesNotContain("[CITY");
  }

  @Test
  void commonWordsStayUnlessTheirStateFollows() {
    String text = "Seen by the Mobile Crisis team; uses Reading glasses; given Normal saline 1 L; goal Independence "
        + "in ADLs; Temple tenderness; Hope to wean O2; Superior mesenteric artery patent; Normal OR findings.";
    assertThat(marked(text)).isEqualTo(text);
    assertThat(marked("Moved to Mobile, AL in May and then to Normal, Illinois."))
        .isEqualTo("Moved to [CITY], AL in May and then to [CITY], Illinois.");
  }

  @Test
  void capitalsAndLowerCaseAreNoTown() {
    String text = "SPRINGFIELD CLINIC NOTE. springfield was mentioned. BOSTON.";
    assertThat(marked(text)).isEqualTo(text);
  }

  @Test
  void aSentenceStartNeedsAPlaceNounOrItsState() {
    assertThat(marked("Boston was cold. Wilson disease excluded.")).isEqualTo("Boston was cold. Wilson disease excluded.");
    assertThat(marked("Duluth, MN is home.")).isEqualTo("[CITY], MN is home.");
  }

  @Test
  void aGivenNameTownIsCityOrNameAndAPersonBeforeAFamilyName() {
    assertThat(marked("Drove to Charlotte for the weekend.")).isEqualTo("Drove to [CITY_OR_NAME] for the weekend.");
    assertThat(marked("Spoke with Austin Miller about it.")).isEqualTo("Spoke with Austin Miller about it.");
    assertThat(marked("Drove to Charlotte, NC for the weekend.")).isEqualTo("Drove to [CITY], NC for the weekend.");
    // after a title a person, whom the courtesy-title rule marks, not a town
    assertThat(marked("Called Mrs. Madison and Mr. Tyler.")).isEqualTo("Called Mrs. [PERSON] and Mr. [PERSON].");
    assertThat(marked("Madison is home.")).isEqualTo("Madison is home.");
  }

  @Test
  void statesAndKnownPlacesKeepTheirClass() {
    assertThat(marked("Moved from Georgia to Washington, then Seen at Cleveland Clinic.")).doesNotContain("[CITY")
        .contains("[FACILITY]");
  }

  // Before: "Boston Scientific" (a pacemaker's maker) was "[CITY] Scientific". A town's name before a word of a
  // company or a newspaper is theirs; a real facility that carries one (Cleveland Clinic) stays a facility, and
  // "Johnson & Johnson" was never a town.
  @Test
  void aTownInACompanysNameIsNoTownAndAFacilityStaysAFacility() {
    String kept = "Pacemaker by Boston Scientific; leads from Medtronic and Boston Scientific; Johnson & Johnson "
        + "vaccine; read it in the Boston Globe.";
    assertThat(marked(kept)).isEqualTo(kept);
    assertThat(marked("Seen at Cleveland Clinic, then drove back to Boston.")).isEqualTo("Seen at [FACILITY], then drove "
        + "back to [CITY].");
    assertThat(marked("Works at Boston Scientific.")).isEqualTo("Works at [EMPLOYER].");
  }

  // Checked: "Dr. Houston" was already a person (the "Dr." rule). After a title that no name rule knows ("Nurse
  // Houston", "Professor Tyler") a town's name stayed as written, neither a town nor a person: it is a person.
  // "Fr" before a catheter's name is its French size.
  @Test
  void aTownsNameAfterATitleIsAPerson() {
    assertThat(marked("Seen by Dr. Houston; Mr. Houston called; Nurse Houston and Professor Tyler came; 14 Fr Foley."))
        .isEqualTo("Seen by Dr. [PERSON]; Mr. [PERSON] called; Nurse [PERSON] and Professor [PERSON] came; 14 Fr Foley.");
    assertThat(Detectors.find("Seen by Dr. Houston.", KnownIdentifiers.empty())).singleElement()
        .satisfies(s -> assertThat(s.cls()).isEqualTo(IdentifierClass.NAME));
  }

  @Test
  void theGazetteerIsLoaded() {
    assertThat(Gazetteer.size()[0]).isGreaterThan(3000);
    assertThat(Gazetteer.size()[1]).isGreaterThan(100);
  }
}
