package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * An encounter under way (arrived, triaged, in progress, on leave) whose end the feed never sends (a
 * lost discharge message) linked its participants to the patient for good. It now links them for the
 * tenant's openEncounterMaxDays (90 unless set) after the time the feed last stored it (or, since tenant
 * migration 63, sent it again unchanged), with no follow-up after that (tenant migration 60): a stay the feed keeps updating keeps
 * its link, one the feed forgot lapses, and a change of the setting reaches the links stored at its
 * commit. The time the feed stored the encounter is moved back in the database here, as waiting 90
 * days would.
 */
class OpenEncounterCareLinksIT {

  static TestServer app;
  static final String TREAT = "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static String daysAgo(int days) {
    return LocalDate.now(ZoneOffset.UTC).minusDays(days).toString();
  }

  /** A patient with consent and a diagnosis, and an in-progress Encounter of {@code participant} ({@code more}: JSON members). */
  static String patient(String id, String participant, String more) {
    return """
        {"resource":{"resourceType":"Patient","id":"%1$s"},"request":{"method":"PUT","url":"Patient/%1$s"}},
        {"resource":{"resourceType":"Consent","id":"cs-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
         "request":{"method":"PUT","url":"Consent/cs-%1$s"}},
        {"resource":{"resourceType":"Condition","id":"cn-%1$s","subject":{"reference":"Patient/%1$s"},
           "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}},
         "request":{"method":"PUT","url":"Condition/cn-%1$s"}},
        %2$s""".formatted(id, encounter(id, participant, more));
  }

  static String encounter(String patient, String participant, String more) {
    return """
        {"resource":{"resourceType":"Encounter","id":"en-%1$s","status":"in-progress","class":{"code":"IMP"}%3$s,
           "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"%2$s"}}]},
         "request":{"method":"PUT","url":"Encounter/en-%1$s"}}""".formatted(patient, participant, more);
  }

  static void post(String tenant, String key, String entries) {
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, key,
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
  }

  static HttpResponse<String> context(String key, String tenant, String patient) {
    return app.call("POST", "/v1/" + tenant + "/patients/" + patient + "/context", key, TREAT);
  }

  static void setting(String tenant, String name, String value) {
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"" + name + "\":" + value + "}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** As if the feed had last stored the patient's encounter {@code days} ago (its links' open_since). */
  static void storedDaysAgo(String tenant, String patient, int days) throws SQLException {
    execute("UPDATE tenant_" + tenant + ".care_links SET open_since = now() - interval '" + days + " days' "
        + "WHERE source_id = 'en-" + patient + "'");
  }

  /**
   * As if the feed had stored everything of the patient's encounter {@code days} earlier: every date of
   * its links moved back (an end, the time it is open since), as waiting would move now() forward.
   */
  static void shiftedBack(String tenant, String patient, int days) throws SQLException {
    execute("UPDATE tenant_" + tenant + ".care_links SET open_since = open_since - interval '" + days + " days', "
        + "valid_until = valid_until - interval '" + days + " days' WHERE source_id = 'en-" + patient + "'");
  }

  static String single(String tenant, String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("SET search_path = tenant_" + tenant);
      try (ResultSet rs = st.executeQuery(sql)) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    }
  }

  static String lastReason(String tenant, String patient) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT reason FROM tenant_" + tenant + ".audit_log WHERE action = 'context' "
             + "AND patient_id = '" + patient + "' ORDER BY at DESC, seq DESC LIMIT 1")) {
      assertThat(rs.next()).isTrue();
      return rs.getString(1);
    }
  }

  static void execute(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** The 404 of a patient the key may not see, told as that of one the tenant does not have, and audited so. */
  static void refused(String key, String tenant, String patient) throws SQLException {
    HttpResponse<String> r = context(key, tenant, patient);
    HttpResponse<String> unknown = context(key, tenant, "pt-nobody");
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(r.body()).isEqualTo(unknown.body()).contains("patient_not_found").doesNotContain(patient);
    assertThat(lastReason(tenant, patient)).isEqualTo("no_care_relationship");
  }

  static void served(String key, String tenant, String patient) throws SQLException {
    HttpResponse<String> r = context(key, tenant, patient);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(lastReason(tenant, patient)).isEqualTo("allowed");
  }

  @Test
  void anEncounterUnderWayLinksWithinTheBoundAndAnUpdateByTheFeedExtendsIt() throws SQLException {
    String ehr = app.tenantWithKey("ward", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("ward", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    assertThat(app.call("GET", "/admin/tenants/ward", app.adminKey(), null).body())
        .contains("\"openEncounterMaxDays\":90");
    post("ward", ehr, patient("pt-forgot", "Practitioner/pr-1", ",\"period\":{\"start\":\"" + daysAgo(200) + "\"}")
        + "," + patient("pt-stay", "Practitioner/pr-1", "") + "," + patient("pt-recent", "Practitioner/pr-1", ""));
    served(dr, "ward", "pt-forgot"); // stored now: within the bound, whenever it began
    storedDaysAgo("ward", "pt-forgot", 100); // the discharge lost, and nothing since
    storedDaysAgo("ward", "pt-stay", 100);
    storedDaysAgo("ward", "pt-recent", 60);
    refused(dr, "ward", "pt-forgot");
    refused(dr, "ward", "pt-stay");
    served(dr, "ward", "pt-recent");
    // the feed updates the stay (a new version stored): its link runs from this store
    post("ward", ehr, encounter("pt-stay", "Practitioner/pr-1", ",\"period\":{\"start\":\"" + daysAgo(100) + "\"}"));
    served(dr, "ward", "pt-stay");
    refused(dr, "ward", "pt-forgot");
  }

  @Test
  void aChangedBoundReachesTheLinksStoredAtItsCommitAndNoFollowUpIsAdded() throws SQLException {
    String ehr = app.tenantWithKey("bound", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("bound", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    post("bound", ehr, patient("pt-long", "Practitioner/pr-1", "") + "," + patient("pt-short", "Practitioner/pr-1", ""));
    storedDaysAgo("bound", "pt-long", 100);
    storedDaysAgo("bound", "pt-short", 20);
    refused(dr, "bound", "pt-long");
    setting("bound", "openEncounterMaxDays", "120");
    served(dr, "bound", "pt-long");
    setting("bound", "openEncounterMaxDays", "10");
    refused(dr, "bound", "pt-long");
    refused(dr, "bound", "pt-short");
    // the follow-up is after an end, and these never ended: it adds nothing to the bound
    setting("bound", "encounterFollowUpDays", "365");
    refused(dr, "bound", "pt-short");
    setting("bound", "openEncounterMaxDays", "null"); // back to 90
    refused(dr, "bound", "pt-long");
    served(dr, "bound", "pt-short");
    assertThat(app.call("GET", "/admin/tenants/bound", app.adminKey(), null).body())
        .contains("\"openEncounterMaxDays\":90");
  }

  /**
   * A participant named by its PractitionerRole links the role's Practitioner (tenant migration 47),
   * within the role's period: a role that ends next year did not end the open encounter's link early,
   * and must not keep it beyond the bound either.
   */
  @Test
  void aLinkThroughARoleIsBoundedToo() throws SQLException {
    String ehr = app.tenantWithKey("viarole", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("viarole", "dr-b", "[\"clinician\"]", "\"practitionerId\":\"pr-2\"");
    post("viarole", ehr, """
        {"resource":{"resourceType":"PractitionerRole","id":"prr-1","practitioner":{"reference":"Practitioner/pr-2"},
           "period":{"end":"%s"}},"request":{"method":"PUT","url":"PractitionerRole/prr-1"}},""".formatted(daysAgo(-365))
        + patient("pt-role", "PractitionerRole/prr-1", "") + "," + patient("pt-role-2", "PractitionerRole/prr-1", ""));
    served(dr, "viarole", "pt-role");
    storedDaysAgo("viarole", "pt-role", 100);
    refused(dr, "viarole", "pt-role");
    served(dr, "viarole", "pt-role-2");
    // and a role written after the encounter copies the bound with the link
    post("viarole", ehr, """
        {"resource":{"resourceType":"PractitionerRole","id":"prr-1","practitioner":{"reference":"Practitioner/pr-2"},
           "period":{"end":"%s"}},"request":{"method":"PUT","url":"PractitionerRole/prr-1"}}""".formatted(daysAgo(-300)));
    refused(dr, "viarole", "pt-role");
    served(dr, "viarole", "pt-role-2");
  }

  /**
   * A CareTeam's or PractitionerRole's end years ahead needs no bound, unlike an encounter's: a team or role with
   * no end links for as long as it is active, so one ending in 2099 links no longer than that, and the feed ends
   * either as it ends one without an end (the team sent inactive, the role {@code active: false}). An encounter
   * is different: it is over by its nature, feeds lose its discharge, and its end was trusted past the bound that
   * holds an open one (tenant migrations 60 and 63).
   */
  @Test
  void aTeamOrRoleEndingFarAheadLinksNoLongerThanOneWithoutAnEnd() throws SQLException {
    String ehr = app.tenantWithKey("teams", "feed", "[\"ehr-integration\"]", null);
    String drTeam = app.tenantWithKey("teams", "dr-t", "[\"clinician\"]", "\"practitionerId\":\"pr-t\"");
    String drRole = app.tenantWithKey("teams", "dr-r", "[\"clinician\"]", "\"practitionerId\":\"pr-r\"");
    String team = """
        {"resource":{"resourceType":"CareTeam","id":"ct-%1$s","status":"%3$s","subject":{"reference":"Patient/%1$s"}%4$s,
           "participant":[{"member":{"reference":"%2$s"}}]},"request":{"method":"PUT","url":"CareTeam/ct-%1$s"}}""";
    String role = """
        {"resource":{"resourceType":"PractitionerRole","id":"prr-far","active":%s,"practitioner":{"reference":"Practitioner/pr-r"},
           "period":{"end":"2099-12-31"}},"request":{"method":"PUT","url":"PractitionerRole/prr-far"}}""";
    String far = ",\"period\":{\"end\":\"2099-12-31\"}";
    post("teams", ehr, role.formatted("true") + ","
        + patient("pt-far", "Practitioner/pr-other", "") + "," + team.formatted("pt-far", "Practitioner/pr-t", "active", far)
        + "," + patient("pt-open", "Practitioner/pr-other", "") + ","
        + team.formatted("pt-open", "Practitioner/pr-t", "active", "") + ","
        + patient("pt-via", "Practitioner/pr-other", "") + ","
        + team.formatted("pt-via", "PractitionerRole/prr-far", "active", ""));
    for (String p : new String[] {"pt-far", "pt-open"}) {
      served(drTeam, "teams", p);
    }
    served(drRole, "teams", "pt-via");
    // stored as sent: the far end (inclusive at its precision: through the whole of its day), and no end at all
    assertThat(single("teams", "SELECT (valid_until > '2099-12-31'::date AND valid_until <= '2100-01-02'::date)::text "
        + "FROM care_links WHERE source_id = 'ct-pt-far'")).isEqualTo("true");
    assertThat(single("teams", "SELECT coalesce(valid_until::text, 'none') FROM care_links WHERE source_id = 'ct-pt-open'"))
        .isEqualTo("none");
    // the feed ends the far one as it ends the open one
    post("teams", ehr, team.formatted("pt-far", "Practitioner/pr-t", "inactive", far) + ","
        + team.formatted("pt-open", "Practitioner/pr-t", "inactive", "") + "," + role.formatted("false"));
    for (String p : new String[] {"pt-far", "pt-open"}) {
      refused(drTeam, "teams", p);
    }
    refused(drRole, "teams", "pt-via");
  }

  /**
   * Dates after the feed stored the encounter were trusted (tenant migration 63): one under way whose
   * start was typed 2099 was open since 2099, a finished one ending 2099 linked until then plus the
   * follow-up, and one under way or planned whose end lay decades ahead linked until that end. Stored
   * now, each links; 100 days of silence later (every date moved back as waiting would move now()),
   * none does, as for any encounter under way the feed forgot.
   */
  @Test
  void datesAfterTheStoringAreNotTrusted() throws SQLException {
    String ehr = app.tenantWithKey("future", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("future", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String typo = ",\"period\":{\"start\":\"2099-01-05T08:00:00Z\"}";
    String endTypo = ",\"period\":{\"start\":\"" + daysAgo(3) + "\",\"end\":\"2099-01-05\"}";
    post("future", ehr, patient("pt-start", "Practitioner/pr-1", typo) + ","
        + patient("pt-end", "Practitioner/pr-1", endTypo).replace("in-progress", "finished") + ","
        + patient("pt-ahead", "Practitioner/pr-1", endTypo) + ","
        + patient("pt-plan", "Practitioner/pr-1", typo).replace("in-progress", "planned") + ","
        + patient("pt-near", "Practitioner/pr-1", ""));
    for (String p : new String[] {"pt-start", "pt-end", "pt-ahead", "pt-plan", "pt-near"}) {
      served(dr, "future", p);
    }
    // the finished one ended no later than it was stored as over: its follow-up (30 days) counts from then
    assertThat(single("future", "SELECT (valid_until <= now() AND follow_up_until < now() + interval '31 days')::text "
        + "FROM care_links WHERE source_id = 'en-pt-end'")).isEqualTo("true");
    for (String p : new String[] {"pt-start", "pt-end", "pt-ahead", "pt-plan"}) {
      shiftedBack("future", p, 100);
      refused(dr, "future", p);
    }
    shiftedBack("future", "pt-near", 60);
    served(dr, "future", "pt-near");
  }

  /**
   * A feed that sends the same encounter under way again (the server finds it unchanged and stores no
   * version) says the stay goes on: its link is open since that resend. It stayed open since the last
   * change, and lapsed during a long stay whose feed only re-sends.
   */
  @Test
  void anUnchangedResendKeepsAnOpenEncounterLinkedWithoutANewVersion() throws SQLException {
    String ehr = app.tenantWithKey("resend", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("resend", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String period = ",\"period\":{\"start\":\"" + daysAgo(100) + "\"}";
    post("resend", ehr, patient("pt-long", "Practitioner/pr-1", period) + ","
        + patient("pt-over", "Practitioner/pr-1", period).replace("in-progress", "finished"));
    storedDaysAgo("resend", "pt-long", 100);
    refused(dr, "resend", "pt-long");
    post("resend", ehr, encounter("pt-long", "Practitioner/pr-1", period));
    served(dr, "resend", "pt-long");
    assertThat(single("resend", "SELECT max(version_id)::text FROM resource_versions WHERE resource_id = 'en-pt-long'"))
        .isEqualTo("1");
    // an ended encounter sent again is still ended: nothing to extend
    shiftedBack("resend", "pt-over", 100);
    refused(dr, "resend", "pt-over");
    post("resend", ehr, encounter("pt-over", "Practitioner/pr-1", period).replace("in-progress", "finished"));
    refused(dr, "resend", "pt-over");
  }

  /**
   * A PractitionerRole's period stored before a date bound was read in the zone of the other bound
   * (FHIR per-1 fix) was read in UTC: up to 14 hours wider, and every link through it with it. Tenant
   * migration 63 marks such roles unchecked; the worker derives them again at its next start, in one
   * transaction, so the old links hold until the new ones are written. The wider reading is set here
   * as it was stored (an end ahead), beside a role whose period, read today, has ended.
   */
  @Test
  void aRoleStoredBeforeItsPeriodWasReadInItsZoneIsDerivedAgainWithoutAGap() throws SQLException {
    String ehr = app.tenantWithKey("oldrole", "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey("oldrole", "dr-r", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    String role = """
        {"resource":{"resourceType":"PractitionerRole","id":"%1$s","practitioner":{"reference":"Practitioner/pr-9"},
           "period":{"start":"%2$sT08:00:00+14:00","end":"%3$s"}},"request":{"method":"PUT","url":"PractitionerRole/%1$s"}},""";
    String team = """
        {"resource":{"resourceType":"CareTeam","id":"ct-%1$s","status":"active","subject":{"reference":"Patient/%1$s"},
           "participant":[{"member":{"reference":"PractitionerRole/%2$s"}}]},"request":{"method":"PUT","url":"CareTeam/ct-%1$s"}}""";
    post("oldrole", ehr, role.formatted("prr-ended", daysAgo(30), daysAgo(1)) + role.formatted("prr-held", daysAgo(30),
        daysAgo(-30)) + patient("pt-ended", "Practitioner/pr-other", "") + "," + patient("pt-held", "Practitioner/pr-other", "")
        + "," + team.formatted("pt-ended", "prr-ended") + "," + team.formatted("pt-held", "prr-held"));
    refused(dr, "oldrole", "pt-ended");
    served(dr, "oldrole", "pt-held");
    // as a release before the fix stored them: the role's end and its copies' hours later, and unchecked
    execute("UPDATE tenant_oldrole.practitioner_roles SET valid_until = now() + interval '1 hour', "
        + "periods_checked = NULL; UPDATE tenant_oldrole.care_links SET valid_until = now() + interval '1 hour' "
        + "WHERE via_role IS NOT NULL");
    served(dr, "oldrole", "pt-ended"); // the wider reading holds until the worker replaces it
    served(dr, "oldrole", "pt-held");
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    assertThat(worker.enqueueRolesWithoutHolder(TenantId.of("oldrole"))).isEqualTo(2);
    worker.drain(TenantId.of("oldrole"));
    assertThat(worker.enqueueRolesWithoutHolder(TenantId.of("oldrole"))).as("checked once").isZero();
    refused(dr, "oldrole", "pt-ended");
    served(dr, "oldrole", "pt-held");
  }
}
