package io.carecontext.fhir;

import static io.carecontext.fhir.Validated.issues;
import static io.carecontext.fhir.Validated.only;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Resource;
import org.junit.jupiter.api.Test;

/**
 * FHIR's invariant per-1 (a Period's start is no later than its end), whose violation changed access
 * decisions: refused as a 422 naming the element path, never a value; and what was stored before is
 * read so that it grants nothing.
 */
class InvertedPeriodsTest {

  static final String CONSENT = """
      {"resourceType":"Consent","id":"c1","status":"active",
       "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
       "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p1"},
       "provision":{"type":"deny","period":{"start":"%s","end":"%s"}}}""";

  @Test
  void aDenyConsentWhosePeriodEndsBeforeItStartsIsRefusedNamingThePathNotTheDates() {
    FhirIssue issue = only(CONSENT.formatted("2026-03-01", "2025-03-01"));
    assertThat(issue.code()).isEqualTo("invariant");
    assertThat(issue.path()).isEqualTo("Consent.provision.period");
    assertThat(issue.message()).startsWith("Consent.provision.period: end is before start")
        .doesNotContain("2026").doesNotContain("2025");
  }

  @Test
  void partialDatesAreComparedAsTheRangesTheyName() {
    for (String[] sound : new String[][] {{"2024", "2024-01-05"}, {"2024-01-05", "2024-01-05"}, {"2024-01", "2024"},
        {"2024-01-05", "2024"}, {"2024-01-05T10:00:00Z", "2024-01-05T10:00:00Z"}, {"2024-01-05T10:00:00Z", "2024-01-05"},
        {"2024-01-05", "2024-01-05T00:00:00Z"},
        // a date beside a time with a zone is read in that zone: one evening in New York, not inverted at UTC midnight
        {"2024-01-05T23:30:00-05:00", "2024-01-05"}, {"2024-01-05", "2024-01-05T00:30:00-05:00"},
        {"2024-01-05T10:00:00+02:00", "2024-01-05T08:00:00Z"}}) {
      assertThat(issues(CONSENT.formatted(sound[0], sound[1]))).as(String.join(" to ", sound)).isEmpty();
    }
    for (String[] inverted : new String[][] {{"2024-02", "2024-01-31"}, {"2025", "2024-12"}, {"2024-01-06", "2024-01-05"},
        {"2024-01-05T10:00:00Z", "2024-01-05T09:59:59Z"}, {"2024-01-06T00:00:00Z", "2024-01-05"},
        {"2024-01-06T00:30:00+01:00", "2024-01-05"}, {"2024-01-05T10:00:00+02:00", "2024-01-05T07:59:59Z"},
        {"2024-01-06", "2024-01-05T23:00:00+00:00"},
        // in New York, 23:30 on the 4th (the 5th at UTC) is before the 5th began there
        {"2024-01-05", "2024-01-04T23:30:00-05:00"}, {"2024-01-06", "2024-01-05T23:30:00-05:00"}}) {
      assertThat(issues(CONSENT.formatted(inverted[0], inverted[1]))).as(String.join(" to ", inverted))
          .extracting(FhirIssue::path).containsExactly("Consent.provision.period");
    }
  }

  @Test
  void everyPeriodThatBoundsCareIsChecked() {
    assertThat(only("""
        {"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},
         "period":{"start":"2024-03-02","end":"2024-03-01"}}""").path()).isEqualTo("Encounter.period");
    assertThat(only("""
        {"resourceType":"Encounter","status":"finished","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"},
         "participant":[{"individual":{"reference":"Practitioner/a"}},
                        {"individual":{"reference":"Practitioner/b"},"period":{"start":"2024-03-02","end":"2024-03-01"}}]}""")
        .path()).isEqualTo("Encounter.participant[1].period");
    assertThat(only("""
        {"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/p1"},
         "period":{"start":"2030","end":"2020"}}""").message()).startsWith("CareTeam.period: end is before start");
    assertThat(only("""
        {"resourceType":"CareTeam","status":"active","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/a"},"period":{"start":"2030-01-01T00:00:00Z","end":"2020"}}]}""")
        .path()).isEqualTo("CareTeam.participant[0].period");
    assertThat(only("""
        {"resourceType":"PractitionerRole","practitioner":{"reference":"Practitioner/a"},
         "period":{"start":"2030-01-01","end":"2020-01-01"}}""").path()).isEqualTo("PractitionerRole.period");
    // a nested provision's, a choice element's (by its JSON name), and a contained resource's too
    assertThat(only(CONSENT.formatted("2024", "2025").replace("\"type\":\"deny\",",
        "\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"period\":{\"start\":\"2025\",\"end\":\"2024\"}}],"))
        .path()).isEqualTo("Consent.provision.provision[0].period");
    assertThat(only("""
        {"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},
         "effectivePeriod":{"start":"2024-03-02","end":"2024-03-01"}}""").path()).isEqualTo("Observation.effectivePeriod");
    assertThat(only("""
        {"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/p1"},
         "contained":[{"resourceType":"Coverage","id":"c","status":"active","beneficiary":{"reference":"Patient/p1"},
                       "payor":[{"reference":"Organization/o"}],
                       "period":{"start":"2024-03-02","end":"2024-03-01"}}]}""").path())
        .isEqualTo("Observation.contained[0].period");
  }

  @Test
  void aBundleEntrysInvertedPeriodIsNamedByItsEntry() {
    Bundle bundle = (Bundle) Fhir.parseBundleBody("""
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"p1"},"request":{"method":"PUT","url":"Patient/p1"}},
          {"resource":%s,"request":{"method":"PUT","url":"Consent/c1"}}]}""".formatted(
        CONSENT.formatted("2026-03-01", "2025-03-01")));
    assertThat(BundleValidator.validate(bundle)).singleElement().satisfies(i -> {
      assertThat(i.entryIndex()).isEqualTo(1);
      assertThat(i.path()).isEqualTo("Bundle.entry[1].resource.provision.period");
      assertThat(i.message()).isEqualTo("bundle entry 1: Consent.provision.period: end is before start (FHIR "
          + "invariant per-1): send the period with its start on or before its end");
    });
  }

  @Test
  void aConsentStoredWithAnInvertedPeriodDeniesAtAllTimes() {
    // before, it was in force at no time: a deny that said nothing, and the record was served
    Consent deny = (Consent) Fhir.parseResource(CONSENT.formatted("2026-03-01", "2025-03-01"));
    Consent permit = (Consent) Fhir.parseResource(CONSENT.formatted("2026-03-01", "2025-03-01")
        .replace("\"type\":\"deny\"", "\"type\":\"permit\""));
    for (Consent c : List.of(deny, permit)) {
      ConsentDirective d = ConsentInterpreter.interpret(c).orElseThrow();
      assertThat(d.baseDecision()).isEqualTo(ConsentDirective.Decision.DENY);
      assertThat(d.periodStart()).isNull();
      assertThat(d.periodEnd()).isNull();
      assertThat(d.inForce(Instant.parse("2025-09-01T00:00:00Z"))).isTrue();
      assertThat(d.allows(Instant.parse("2025-09-01T00:00:00Z"), "TREAT", "Observation", List.of())).isFalse();
    }
  }

  @Test
  void aDateBesideATimeWithAZoneBoundsAConsentInThatZone() {
    ConsentDirective d = ConsentInterpreter.interpret((Consent) Fhir.parseResource(
        CONSENT.formatted("2024-01-05T23:30:00-05:00", "2024-01-05"))).orElseThrow();
    assertThat(d.periodStart()).isEqualTo(Instant.parse("2024-01-06T04:30:00Z"));
    assertThat(d.periodEnd()).isEqualTo(Instant.parse("2024-01-06T05:00:00Z"));
  }

  @Test
  void aParticipantsPeriodThatNeverHoldsLinksNoOneAndDoesNotWidenAnother() {
    // stored before per-1 was enforced: merged as "the widest", 2019 to 2020 was granted from a
    // period of 2019-01 and one that never held
    List<CareLink> links = CareLinks.of(Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"ct1","status":"active","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/pr-1"},"period":{"start":"2019-01","end":"2019-01"}},
                        {"member":{"reference":"Practitioner/pr-1"},"period":{"start":"2030","end":"2020"}},
                        {"member":{"reference":"Practitioner/pr-2"},"period":{"start":"2030","end":"2020"}}]}"""));
    assertThat(links).containsExactly(new CareLink("pr-1", "p1", "CareTeam", "ct1",
        Instant.parse("2019-01-01T00:00:00Z"), Instant.parse("2019-02-01T00:00:00Z")));
    // a team whose own period is outside the participant's: no moment in both
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"ct2","status":"active","subject":{"reference":"Patient/p1"},
         "period":{"start":"2020","end":"2020"},
         "participant":[{"member":{"reference":"Practitioner/pr-1"},"period":{"start":"2022","end":"2023"}}]}""")))
        .isEmpty();
    assertThat(CareLinks.practitionerOfRole(Fhir.parseResource("""
        {"resourceType":"PractitionerRole","id":"r1","practitioner":{"reference":"Practitioner/a"},
         "period":{"start":"2030-01-01","end":"2020-01-01"}}"""))).isEmpty();
  }

  /**
   * A bound sent with extensions alone (US Core's data-absent-reason) has no value: it bounds nothing.
   * Read as a date, it failed the write path with a NullPointerException.
   */
  @Test
  void aBoundWithoutAValueBoundsNothing() {
    String team = """
        {"resourceType":"CareTeam","id":"ct1","status":"active","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/a"},"period":{"_start":{"extension":[{
           "url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"end":"2030-01-01"}}]}""";
    Resource r = Fhir.parseResource(team);
    assertThat(ResourceValidator.validate(r)).isEmpty();
    assertThat(CareLinks.of(r)).containsExactly(new CareLink("a", "p1", "CareTeam", "ct1", null,
        Instant.parse("2030-01-02T00:00:00Z")));
    ConsentDirective d = ConsentInterpreter.interpret((Consent) Fhir.parseResource(CONSENT.formatted("x", "2030-01-01")
        .replace("\"start\":\"x\"", "\"_start\":{\"extension\":[{\"url\":"
            + "\"http://hl7.org/fhir/StructureDefinition/data-absent-reason\",\"valueCode\":\"unknown\"}]}"))).orElseThrow();
    assertThat(d.periodStart()).isNull();
    assertThat(d.periodEnd()).isEqualTo(Instant.parse("2030-01-02T00:00:00Z"));
  }
}
