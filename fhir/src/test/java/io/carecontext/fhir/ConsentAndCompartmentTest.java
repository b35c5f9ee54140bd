package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.List;
import org.hl7.fhir.r4.model.Consent;
import org.junit.jupiter.api.Test;

class ConsentAndCompartmentTest {

  static final Instant NOW = Instant.parse("2025-06-01T00:00:00Z");

  Consent consent(String provision) {
    return (Consent) Fhir.parseResource("""
        {"resourceType":"Consent","id":"c1","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p1"},
         "provision":%s}""".formatted(provision));
  }

  @Test
  void permitWithNestedDenyByClassAndLabel() {
    ConsentDirective d = ConsentInterpreter.interpret(consent("""
        {"type":"permit","period":{"start":"2025-01-01","end":"2026-01-01"},
         "provision":[{"type":"deny","class":[{"code":"DocumentReference"}],"securityLabel":[{"code":"PSY"}]}]}""")).orElseThrow();
    assertThat(d.patientId()).isEqualTo("p1");
    assertThat(d.baseDecision()).isEqualTo(ConsentDirective.Decision.PERMIT);
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of())).isTrue();
    assertThat(d.allows(NOW, "TREAT", "DocumentReference", List.of())).isFalse();
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of("PSY"))).isFalse();
    assertThat(d.allows(Instant.parse("2026-02-01T00:00:00Z"), "TREAT", "Observation", List.of())).isFalse();
  }

  @Test
  void labelsNamedInAPermitAreExplicitlyConsentedAndDeniedOnesAreNot() {
    ConsentDirective d = ConsentInterpreter.interpret(consent("""
        {"type":"permit","securityLabel":[{"code":"HIV"}],
         "provision":[{"type":"permit","securityLabel":[{"code":"PSY"},{"code":"HIV"}]},
                      {"type":"deny","securityLabel":[{"code":"SUD"}],
                       "provision":[{"type":"permit","securityLabel":[{"code":"ETH"}]}]}]}""")).orElseThrow();
    assertThat(d.explicitLabels()).containsExactly("HIV", "PSY", "ETH");
    assertThat(d.deniedLabels()).containsExactly("SUD");
    ConsentDirective plain = ConsentInterpreter.interpret(consent("{\"type\":\"permit\"}")).orElseThrow();
    assertThat(plain.explicitLabels()).isEmpty();
    ConsentDirective denyBase = ConsentInterpreter.interpret(consent("""
        {"type":"deny","securityLabel":[{"code":"HIV"}],
         "provision":[{"type":"permit","securityLabel":[{"code":"PSY"}]}]}""")).orElseThrow();
    assertThat(denyBase.explicitLabels()).containsExactly("PSY");
  }

  @Test
  void denyByDefaultAndPurposes() {
    ConsentDirective none = ConsentInterpreter.interpret(consent("{}")).orElseThrow();
    assertThat(none.baseDecision()).isEqualTo(ConsentDirective.Decision.DENY);
    assertThat(none.allows(NOW, "TREAT", "Observation", List.of())).isFalse();
    ConsentDirective treatOnly = ConsentInterpreter.interpret(consent(
        "{\"type\":\"permit\",\"purpose\":[{\"code\":\"TREAT\"}]}")).orElseThrow();
    assertThat(treatOnly.allows(NOW, "TREAT", "Condition", List.of())).isTrue();
    assertThat(treatOnly.allows(NOW, "HRESCH", "Condition", List.of())).isFalse();
  }

  private ConsentDirective read(String provision) {
    return ConsentInterpreter.interpret(consent(provision)).orElseThrow();
  }

  private static boolean plainDeny(ConsentDirective d) {
    return d.baseDecision() == ConsentDirective.Decision.DENY && d.permittedClasses().isEmpty()
        && d.permittedLabels().isEmpty() && d.explicitLabels().isEmpty();
  }

  @Test
  void aNestedDenyThatNamesNoClassOrLabelIsNeverIgnored() {
    // Each of these answered as a plain permit: the patient's "not Dr Lee", "not this note", "not
    // this code" or a bare deny let everything through. What is not evaluated per request denies.
    for (String limit : List.of("\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr-lee\"}}]",
        "\"code\":[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"4548-4\"}]}]",
        "\"data\":[{\"meaning\":\"instance\",\"reference\":{\"reference\":\"DocumentReference/n1\"}}]",
        "\"dataPeriod\":{\"start\":\"2026-01-01\"}", "\"period\":{\"end\":\"2020-01-01\"}")) {
      ConsentDirective d = read("{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\"," + limit + "}]}");
      assertThat(plainDeny(d)).as(limit).isTrue();
      assertThat(d.allows(NOW, "TREAT", "Observation", List.of())).as(limit).isFalse();
    }
    assertThat(plainDeny(read("{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\"}]}"))).isTrue();
  }

  @Test
  void aNestedDenyOfAPurposeTakesThatPurposeOut() {
    // a patient's "not for research" inside a permit let research search return the record
    ConsentDirective d = read(
        "{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"}]}]}");
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of())).isTrue();
    assertThat(d.allows(NOW, "HRESCH", "Observation", List.of())).isFalse();
    assertThat(d.purposes()).doesNotContain("HRESCH").contains("TREAT");
    // every purpose the permit had taken out: nothing left, so it permits nothing
    assertThat(plainDeny(read("{\"type\":\"permit\",\"purpose\":[{\"code\":\"HRESCH\"}],"
        + "\"provision\":[{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"}]}]}"))).isTrue();
  }

  /**
   * The purposes a nested deny names are denied by a directive of their own: taken out of the permit alone, the Consent
   * said nothing of research, and a tenant of consent mode opt-out (allowed unless a Consent denies) searched the
   * patient who had said "not for research".
   */
  @Test
  void aNestedDenyOfAPurposeIsADenyOfItsOwnForThatPurpose() {
    List<ConsentDirective> all = ConsentInterpreter.interpretAll(consent(
        "{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"},"
            + "{\"code\":\"NOSUCH\"}]}]}"));
    assertThat(all).hasSize(2);
    ConsentDirective permit = all.get(0);
    ConsentDirective denial = all.get(1);
    assertThat(permit.consentId()).isEqualTo("c1");
    assertThat(permit.purposes()).doesNotContain("HRESCH");
    assertThat(denial.consentId()).isEqualTo("c1" + ConsentInterpreter.PURPOSES_DENIED);
    assertThat(denial.baseDecision()).isEqualTo(ConsentDirective.Decision.DENY);
    assertThat(denial.purposes()).containsExactly("HRESCH"); // known codes only: an unknown one is no request's
    assertThat(plainDeny(denial)).isTrue();
    assertThat(denial.patientId()).isEqualTo(permit.patientId());
    assertThat(denial.status()).isEqualTo(permit.status());
    // emergency treatment is a kind of treatment: a deny of TREAT denies ETREAT, a permit of TREAT permits it
    assertThat(ConsentInterpreter.interpretAll(consent("{\"type\":\"permit\",\"provision\":[{\"type\":\"deny\","
        + "\"purpose\":[{\"code\":\"TREAT\"}]}]}")).get(1).purposes()).containsExactly("TREAT", "ETREAT");
    assertThat(read("{\"type\":\"permit\",\"purpose\":[{\"code\":\"TREAT\"}]}").purposes())
        .containsExactly("TREAT", "ETREAT");
    // no purpose denied, or the whole Consent a deny already: one directive, as interpret gives it
    assertThat(ConsentInterpreter.interpretAll(consent("{\"type\":\"permit\"}"))).hasSize(1);
    assertThat(ConsentInterpreter.interpretAll(consent("{\"type\":\"permit\",\"purpose\":[{\"code\":\"HRESCH\"}],"
        + "\"provision\":[{\"type\":\"deny\",\"purpose\":[{\"code\":\"HRESCH\"}]}]}"))).hasSize(1);
    assertThat(ConsentInterpreter.interpretAll(consent("{\"type\":\"deny\",\"provision\":[{\"type\":\"deny\","
        + "\"purpose\":[{\"code\":\"HRESCH\"}]}]}"))).hasSize(1);
  }

  @Test
  void aNestedPermitLimitedByMoreThanClassAndLabelPermitsNothing() {
    // "PSY for operations only" or "PSY until 2020" let a care coordinator read PSY data for treatment today
    for (String limit : List.of("\"purpose\":[{\"code\":\"HOPERAT\"}]", "\"period\":{\"end\":\"2020-01-01\"}",
        "\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr-kim\"}}]")) {
      ConsentDirective underPermit = read("{\"type\":\"permit\",\"provision\":[{\"type\":\"permit\","
          + "\"securityLabel\":[{\"code\":\"PSY\"}]," + limit + "}]}");
      assertThat(underPermit.explicitLabels()).as(limit).isEmpty();
      ConsentDirective underDeny = read("{\"type\":\"deny\",\"provision\":[{\"type\":\"permit\","
          + "\"class\":[{\"code\":\"Observation\"}]," + limit + "}]}");
      assertThat(underDeny.allows(NOW, "TREAT", "Observation", List.of())).as(limit).isFalse();
    }
  }

  @Test
  void aRootPermitNamingClassesPermitsOnlyThose() {
    // it permitted everything: Conditions, medications and notes came back under "permit Observations"
    ConsentDirective d = read("{\"type\":\"permit\",\"class\":[{\"code\":\"Observation\"}]}");
    assertThat(d.baseDecision()).isEqualTo(ConsentDirective.Decision.PERMIT);
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of())).isTrue();
    assertThat(d.allows(NOW, "TREAT", "Condition", List.of())).isFalse();
    assertThat(d.allows(NOW, "TREAT", "DocumentReference", List.of())).isFalse();
    // a root permit limited to one practitioner is not evaluated per request: it permits nothing
    assertThat(plainDeny(read(
        "{\"type\":\"permit\",\"actor\":[{\"reference\":{\"reference\":\"Practitioner/pr-kim\"}}]}"))).isTrue();
  }

  @Test
  void aRootDenyOfSomeDataInAnOptInConsentDeniesOnlyThat() {
    // "opted in, but not my notes" hid the whole record behind a 404
    Consent optIn = consent("{\"type\":\"deny\",\"class\":[{\"code\":\"DocumentReference\"}],"
        + "\"securityLabel\":[{\"code\":\"PSY\"}]}");
    optIn.getPolicyRule().addCoding().setSystem("http://terminology.hl7.org/CodeSystem/v3-ActCode").setCode("OPTIN");
    ConsentDirective d = ConsentInterpreter.interpret(optIn).orElseThrow();
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of())).isTrue();
    assertThat(d.allows(NOW, "TREAT", "DocumentReference", List.of())).isFalse();
    assertThat(d.allows(NOW, "TREAT", "Observation", List.of("PSY"))).isFalse();
    // without an opt-in policy it is not a permission: the whole record stays denied, as before
    assertThat(plainDeny(read("{\"type\":\"deny\",\"class\":[{\"code\":\"DocumentReference\"}]}"))).isTrue();
  }

  @Test
  void aPeriodEndHoldsThroughTheDayMonthOrYearItNames() {
    // "end": "2026-12-04" lapsed at the first moment of that day
    assertThat(read("{\"type\":\"permit\",\"period\":{\"end\":\"2026-12-04\"}}").periodEnd())
        .isEqualTo(Instant.parse("2026-12-05T00:00:00Z"));
    assertThat(read("{\"type\":\"permit\",\"period\":{\"end\":\"2026-12\"}}").periodEnd())
        .isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    ConsentDirective year = read("{\"type\":\"permit\",\"period\":{\"start\":\"2026\",\"end\":\"2026\"}}");
    assertThat(year.periodStart()).isEqualTo(Instant.parse("2026-01-01T00:00:00Z"));
    assertThat(year.periodEnd()).isEqualTo(Instant.parse("2027-01-01T00:00:00Z"));
    assertThat(read("{\"type\":\"permit\",\"period\":{\"end\":\"2026-12-04T10:00:00Z\"}}").periodEnd())
        .isEqualTo(Instant.parse("2026-12-04T10:00:00Z"));
  }

  @Test
  void otherScopesAreIgnored() {
    Consent research = consent("{\"type\":\"permit\"}");
    research.getScope().getCodingFirstRep().setCode("research");
    assertThat(ConsentInterpreter.interpret(research)).isEmpty();
    // the same consent in the privacy scope is read: it is the scope that is ignored, not the consent
    assertThat(ConsentInterpreter.interpret(consent("{\"type\":\"permit\"}"))).get()
        .extracting(ConsentDirective::baseDecision).isEqualTo(ConsentDirective.Decision.PERMIT);
  }

  @Test
  void compartmentAndCareLinks() {
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(
        "{\"resourceType\":\"Coverage\",\"id\":\"x\",\"beneficiary\":{\"reference\":\"Patient/p7\"}}"))).contains("p7");
    assertThat(PatientCompartment.patientIdOf(Fhir.parseResource(
        "{\"resourceType\":\"Practitioner\",\"id\":\"pr\"}"))).isEmpty();
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e1","status":"in-progress","class":{"code":"AMB"},
         "meta":{"lastUpdated":"2025-05-06T07:08:09Z"},
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""")))
        .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, null,
            Instant.parse("2025-05-06T07:08:09Z")));
  }

  /**
   * An encounter under way with no end linked its participants until the feed sent one, and a feed
   * that lost the discharge had them linked for good. Its link is open since the feed stored that
   * version (the database bounds it by the tenant's openEncounterMaxDays), whatever start it names; its
   * start only when that is not known: an update the feed stores moves it; with neither date, nothing
   * bounds it, and it links no one.
   */
  @Test
  void anEncounterUnderWayWithoutAnEndIsOpenSinceItsStoring() {
    String encounter = """
        {"resourceType":"Encounter","id":"e1","status":"%s","class":{"code":"IMP"}%s,
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}},
          {"individual":{"reference":"Practitioner/pr-2"},"period":{"start":"2019-01-01","end":"2019-01-02"}},
          {"individual":{"reference":"Practitioner/pr-1"},"period":{"end":"2019-01-02"}}]}""";
    String stored = ",\"meta\":{\"lastUpdated\":\"2025-05-06T07:08:09Z\"}";
    Instant storedAt = Instant.parse("2025-05-06T07:08:09Z");
    for (String status : List.of("arrived", "triaged", "in-progress", "onleave")) {
      // started before it was stored: open since it was stored; pr-2's part ended, as before; pr-1,
      // named once ended and once not, keeps the open link
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status,
          stored + ",\"period\":{\"start\":\"2019-01-01\"}")))).as(status).containsExactly(
          new CareLink("pr-1", "p1", "Encounter", "e1", null, null, storedAt),
          new CareLink("pr-2", "p1", "Encounter", "e1", null, Instant.parse("2019-01-03T00:00:00Z"), null));
      // starting after it was stored: open since it was stored all the same (tenant migration 63: a
      // start typed 2099 counted the bound from 2099)
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status,
          stored + ",\"period\":{\"start\":\"2099-05-07T10:00:00Z\"}")))).as(status).extracting(CareLink::openSince)
          .containsExactly(storedAt, null);
      // not stored (no meta): its start is all there is (the database counts from no later than the write)
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status,
          ",\"period\":{\"start\":\"2025-05-07T10:00:00Z\"}")))).as(status).extracting(CareLink::openSince)
          .containsExactly(Instant.parse("2025-05-07T10:00:00Z"), null);
      // undated: since it was stored
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, stored)))).as(status)
          .extracting(CareLink::openSince).containsExactly(storedAt, null);
      // neither: no open link (pr-1's ended part still links, as it ended)
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, "")))).as(status).containsExactly(
          new CareLink("pr-2", "p1", "Encounter", "e1", null, Instant.parse("2019-01-03T00:00:00Z"), null),
          new CareLink("pr-1", "p1", "Encounter", "e1", null, Instant.parse("2019-01-03T00:00:00Z"), null));
    }
    // an end sent and past when stored: not open, whatever its status
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("in-progress",
        stored + ",\"period\":{\"start\":\"2019-01-01\",\"end\":\"2025-01-01\"}")))).extracting(CareLink::openSince)
        .containsExactly(null, null);
  }

  /**
   * Dates after the encounter was stored were trusted: a finished encounter ending 2099 (for 2029)
   * linked until then plus the follow-up, and an end still ahead when stored (a planned visit, an
   * expected discharge) until that end. A finished (or unknown-status) encounter ended no later than it
   * was stored as over; an end still ahead is bounded as an open encounter's, from its storing (the
   * database adds the tenant's openEncounterMaxDays, tenant migration 63).
   */
  @Test
  void datesAfterTheStoringAreNotTrusted() {
    String encounter = """
        {"resourceType":"Encounter","id":"e1","status":"%s","class":{"code":"IMP"},
         "meta":{"lastUpdated":"2025-05-06T07:08:09Z"},"period":{"start":"2025-05-01","end":"%s"},
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}},
          {"individual":{"reference":"Practitioner/pr-2"},"period":{"end":"2025-05-02"}}]}""";
    Instant storedAt = Instant.parse("2025-05-06T07:08:09Z");
    Instant may3 = Instant.parse("2025-05-03T00:00:00Z");
    for (String status : List.of("finished", "unknown")) {
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, "2099-12-31")))).as(status)
          .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, storedAt),
              new CareLink("pr-2", "p1", "Encounter", "e1", null, may3));
      // an end before the storing is its end, as before
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, "2025-05-04")))).as(status)
          .extracting(CareLink::validUntil).containsExactly(Instant.parse("2025-05-05T00:00:00Z"), may3);
    }
    for (String status : List.of("arrived", "triaged", "in-progress", "onleave")) {
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, "2099-12-31")))).as(status)
          .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, Instant.parse("2100-01-01T00:00:00Z"),
              storedAt), new CareLink("pr-2", "p1", "Encounter", "e1", null, may3));
    }
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e1","status":"planned","class":{"code":"AMB"},
         "meta":{"lastUpdated":"2025-05-06T07:08:09Z"},"period":{"start":"2099-02-03"},
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""")))
        .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, Instant.parse("2099-02-04T00:00:00Z"),
            storedAt));
  }

  /**
   * An Encounter sent as over (finished, or of unknown status) with no date at all linked its
   * participants with no end: a clinician of one undated visit kept the patient's context for good.
   * It ended no later than the feed said so, when that version was stored (meta.lastUpdated, which
   * every write sets); with nothing to bound it by, it links no one, as an undated plan does.
   */
  @Test
  void anEncounterOverWithNoDateAtAllLinksUntilItWasStoredAsOver() {
    String encounter = """
        {"resourceType":"Encounter","id":"e1","status":"%s","class":{"code":"AMB"}%s,
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""";
    String stored = ",\"meta\":{\"versionId\":\"2\",\"lastUpdated\":\"2025-05-06T07:08:09.123Z\"}";
    for (String status : List.of("finished", "unknown")) {
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, stored)))).as(status)
          .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, Instant.parse("2025-05-06T07:08:09.123Z")));
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status, "")))).as(status).isEmpty();
    }
    // under way, it has not ended: no end, and open since it was stored (the database bounds it)
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("in-progress", stored))))
        .containsExactly(new CareLink("pr-1", "p1", "Encounter", "e1", null, null,
            Instant.parse("2025-05-06T07:08:09.123Z")));
  }

  @Test
  void aCareTeamsLinksAreBoundedByItsPeriodAndEachParticipants() {
    // a team whose period ended in 2018, and a participant who left in 2016, still admitted the practitioner
    List<CareLink> links = CareLinks.of(Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"ct1","status":"active","subject":{"reference":"Patient/p1"},
         "period":{"start":"2015-01-01","end":"2018-01-01"},
         "participant":[{"member":{"reference":"Practitioner/pr-1"}},
                        {"member":{"reference":"Practitioner/pr-2"},"period":{"start":"2015-06","end":"2016"}},
                        {"member":{"reference":"Practitioner/pr-3"},"period":{"end":"2017-01-01"}},
                        {"member":{"reference":"Practitioner/pr-3"}}]}"""));
    assertThat(links).containsExactly(
        new CareLink("pr-1", "p1", "CareTeam", "ct1", Instant.parse("2015-01-01T00:00:00Z"), Instant.parse("2018-01-02T00:00:00Z")),
        new CareLink("pr-2", "p1", "CareTeam", "ct1", Instant.parse("2015-06-01T00:00:00Z"), Instant.parse("2017-01-01T00:00:00Z")),
        // named twice, once without an end: the wider period
        new CareLink("pr-3", "p1", "CareTeam", "ct1", Instant.parse("2015-01-01T00:00:00Z"), Instant.parse("2018-01-02T00:00:00Z")));
  }

  /**
   * A practitioner who saw a patient once, years ago, kept the patient's context for good: an
   * Encounter's links now end with it (the database adds the tenant's follow-up).
   */
  @Test
  void anEncountersLinksEndWithItOrWithTheParticipantsPart() {
    String encounter = """
        {"resourceType":"Encounter","id":"e1","status":"%s","class":{"code":"IMP"},"subject":{"reference":"Patient/p1"}
         %s,"participant":[{"individual":{"reference":"Practitioner/pr-1"}},
          {"individual":{"reference":"Practitioner/pr-2"},"period":{"start":"2019-01-01","end":"2019-01-02"}}]}""";
    Instant jan6 = Instant.parse("2019-01-06T00:00:00Z");
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("finished",
        ",\"period\":{\"start\":\"2019-01-01\",\"end\":\"2019-01-05\"}")))).containsExactly(
        new CareLink("pr-1", "p1", "Encounter", "e1", null, jan6),
        new CareLink("pr-2", "p1", "Encounter", "e1", null, Instant.parse("2019-01-03T00:00:00Z")));
    // a date end beside a start with a zone ends in that zone: read in UTC (as links stored before the
    // FHIR per-1 fix were, which tenant migration 60 has the worker derive again) it ended 10 hours later
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("finished",
        ",\"period\":{\"start\":\"2024-01-05T08:00:00+10:00\",\"end\":\"2024-01-05\"}"))))
        .extracting(CareLink::validUntil)
        .containsExactly(Instant.parse("2024-01-05T14:00:00Z"), Instant.parse("2019-01-03T00:00:00Z"));
    // over, its end not sent: it ended no later than the last start known
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("finished",
        ",\"period\":{\"start\":\"2019-01-01T10:30:00Z\"}")))).extracting(CareLink::validUntil)
        .containsExactly(Instant.parse("2019-01-01T10:30:00Z"), Instant.parse("2019-01-03T00:00:00Z"));
    // under way: it has not ended, whatever began when (open since its start: no meta here)
    for (String status : List.of("arrived", "triaged", "in-progress", "onleave")) {
      assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted(status,
          ",\"period\":{\"start\":\"2019-01-01\"}")))).as(status).extracting(CareLink::validUntil)
          .containsExactly(null, Instant.parse("2019-01-03T00:00:00Z"));
    }
    // planned: until its date, and without a date no one
    assertThat(CareLinks.of(Fhir.parseResource(encounter.formatted("planned",
        ",\"period\":{\"start\":\"2030-02-03\"}")))).extracting(CareLink::validUntil)
        .containsExactly(Instant.parse("2030-02-04T00:00:00Z"), Instant.parse("2019-01-03T00:00:00Z"));
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e1","status":"planned","class":{"code":"AMB"},
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""")))
        .isEmpty();
  }

  @Test
  void aPractitionerRoleParticipantLinksTheRole() {
    Instant may7 = Instant.parse("2025-05-07T00:00:00Z");
    // a feed that names PractitionerRoles (US Core does) gave its clinicians no care relationship at all
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"Encounter","id":"e1","status":"finished","class":{"code":"AMB"},
         "period":{"start":"2025-05-06","end":"2025-05-06"},
         "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"PractitionerRole/prr-1"}},
          {"individual":{"reference":"RelatedPerson/rp-1"}},{"individual":{"reference":"Practitioner/pr-1"}}]}""")))
        .containsExactly(new CareLink("PractitionerRole/prr-1", "p1", "Encounter", "e1", null, may7),
            new CareLink("pr-1", "p1", "Encounter", "e1", null, may7));
    assertThat(CareLinks.isPractitionerId("PractitionerRole/prr-1")).isTrue();
    assertThat(CareLinks.isPractitionerId("pr-1")).isTrue();
    assertThat(CareLinks.isPractitionerId("Organization/o-1")).isFalse();
    assertThat(CareLinks.isPractitionerId("PractitionerRole/")).isFalse();
  }

  @Test
  void aCareTeamOrEncounterThatIsNoLongerOrNeverWasCareLinksNoOne() {
    // An inactive CareTeam ("no longer participating in the coordination and delivery of care") and
    // an Encounter recorded in error or cancelled kept granting its practitioners the patient's
    // context as if they were treating it.
    for (String status : List.of("inactive", "entered-in-error")) {
      assertThat(CareLinks.of(Fhir.parseResource("""
          {"resourceType":"CareTeam","id":"ct1","status":"%s","subject":{"reference":"Patient/p1"},
           "participant":[{"member":{"reference":"Practitioner/pr-1"}}]}""".formatted(status)))).as(status).isEmpty();
    }
    for (String status : List.of("entered-in-error", "cancelled")) {
      assertThat(CareLinks.of(Fhir.parseResource("""
          {"resourceType":"Encounter","id":"e1","status":"%s","class":{"code":"AMB"},
           "subject":{"reference":"Patient/p1"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}"""
          .formatted(status)))).as(status).isEmpty();
    }
    // a proposed team has not begun to care for the patient (it admitted its members)
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"ct1","status":"proposed","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/pr-1"}}]}"""))).isEmpty();
    for (String status : List.of("active", "suspended")) {
      assertThat(CareLinks.of(Fhir.parseResource("""
          {"resourceType":"CareTeam","id":"ct1","status":"%s","subject":{"reference":"Patient/p1"},
           "participant":[{"member":{"reference":"Practitioner/pr-1"}}]}""".formatted(status))))
          .as(status).containsExactly(new CareLink("pr-1", "p1", "CareTeam", "ct1"));
    }
    assertThat(CareLinks.of(Fhir.parseResource("""
        {"resourceType":"CareTeam","id":"ct1","subject":{"reference":"Patient/p1"},
         "participant":[{"member":{"reference":"Practitioner/pr-1"}}]}"""))).hasSize(1);
  }
}
