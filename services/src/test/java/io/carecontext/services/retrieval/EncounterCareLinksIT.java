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
 * An Encounter links its practitioners to the patient until it ended plus the tenant's follow-up
 * (settings.encounterFollowUpDays, 30 days by default), not for good; a change of the setting reaches
 * the links already stored.
 */
class EncounterCareLinksIT {

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

  /** A patient with consent, a diagnosis, and an Encounter of pr-1 ({@code encounter}: status and period JSON). */
  static String patient(String id, String encounter) {
    return """
        {"resource":{"resourceType":"Patient","id":"%1$s"},"request":{"method":"PUT","url":"Patient/%1$s"}},
        {"resource":{"resourceType":"Consent","id":"cs-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
         "request":{"method":"PUT","url":"Consent/cs-%1$s"}},
        {"resource":{"resourceType":"Condition","id":"cn-%1$s","subject":{"reference":"Patient/%1$s"},
           "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}},
         "request":{"method":"PUT","url":"Condition/cn-%1$s"}},
        {"resource":{"resourceType":"Encounter","id":"en-%1$s",%2$s,"class":{"code":"AMB"},
           "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]},
         "request":{"method":"PUT","url":"Encounter/en-%1$s"}}""".formatted(id, encounter);
  }

  static String finished(int endedDaysAgo) {
    return "\"status\":\"finished\",\"period\":{\"start\":\"" + daysAgo(endedDaysAgo + 1) + "\",\"end\":\""
        + daysAgo(endedDaysAgo) + "\"}";
  }

  /** A tenant (created without settings) whose pr-1 saw pt-old 40 days ago and pt-recent 20; returns pr-1's key. */
  static String tenant(String tenant, String... more) {
    String ehr = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    String dr = app.tenantWithKey(tenant, "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    StringBuilder entries = new StringBuilder(patient("pt-old", finished(40))).append(",")
        .append(patient("pt-recent", finished(20)));
    for (String m : more) {
      entries.append(",").append(m);
    }
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, ehr,
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    return dr;
  }

  static int context(String key, String tenant, String patient) {
    HttpResponse<String> r = app.call("POST", "/v1/" + tenant + "/patients/" + patient + "/context", key, TREAT);
    if (r.statusCode() == 404) {
      assertThat(r.body()).contains("patient_not_found").doesNotContain(patient);
    }
    return r.statusCode();
  }

  static void followUp(String tenant, String days) {
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"encounterFollowUpDays\":" + days + "}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** The reason of the tenant's last context row for the patient. */
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

  @Test
  void anEncounterThatEndedBeyondTheFollowUpLinksNoOne() throws SQLException {
    String dr = tenant("seen");
    // created without settings: the database's default follow-up is the one the admin API shows
    assertThat(app.call("GET", "/admin/tenants/seen", app.adminKey(), null).body())
        .contains("\"encounterFollowUpDays\":30");
    assertThat(context(dr, "seen", "pt-old")).isEqualTo(404);
    assertThat(lastReason("seen", "pt-old")).isEqualTo("no_care_relationship");
    assertThat(context(dr, "seen", "pt-recent")).isEqualTo(200);
    assertThat(lastReason("seen", "pt-recent")).isEqualTo("allowed");
  }

  @Test
  void aChangedFollowUpReachesTheLinksAlreadyStored() throws SQLException {
    String dr = tenant("followed");
    followUp("followed", "60");
    assertThat(context(dr, "followed", "pt-old")).isEqualTo(200);
    followUp("followed", "10");
    assertThat(context(dr, "followed", "pt-old")).isEqualTo(404);
    assertThat(context(dr, "followed", "pt-recent")).isEqualTo(404);
    assertThat(lastReason("followed", "pt-recent")).isEqualTo("no_care_relationship");
    followUp("followed", "0");
    assertThat(context(dr, "followed", "pt-recent")).isEqualTo(404);
    followUp("followed", "null"); // back to the default
    assertThat(context(dr, "followed", "pt-old")).isEqualTo(404);
    assertThat(context(dr, "followed", "pt-recent")).isEqualTo(200);
    // and links written after the change carry the setting in force
    followUp("followed", "45");
    String ehr = app.tenantWithKey("followed", "feed-2", "[\"ehr-integration\"]", null);
    HttpResponse<String> r = app.call("POST", "/fhir/followed", ehr, "{\"resourceType\":\"Bundle\",\"type\":"
        + "\"transaction\",\"entry\":[" + patient("pt-later", finished(40)) + "]}", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("followed"));
    assertThat(context(dr, "followed", "pt-later")).isEqualTo(200);
  }

  /**
   * Under way without a period (arrived): the care is happening, the link stands until the feed sends
   * the end. Planned without a date: not yet care, and it would never lapse; no link.
   */
  @Test
  void anEncounterUnderWayLinksItsParticipantsAndAnUndatedPlanNoOne() throws SQLException {
    String dr = tenant("ward", patient("pt-here", "\"status\":\"arrived\""),
        patient("pt-planned", "\"status\":\"planned\""),
        patient("pt-booked", "\"status\":\"planned\",\"period\":{\"start\":\"" + daysAgo(-7) + "\"}"));
    assertThat(context(dr, "ward", "pt-here")).isEqualTo(200);
    assertThat(context(dr, "ward", "pt-planned")).isEqualTo(404);
    assertThat(lastReason("ward", "pt-planned")).isEqualTo("no_care_relationship");
    assertThat(context(dr, "ward", "pt-booked")).isEqualTo(200);
  }

  /** Encounter links stored before this release had no end: the worker derives them again at its start. */
  @Test
  void linksStoredWithoutAnEndGetItFromTheWorker() throws SQLException {
    String dr = tenant("upgraded");
    execute("UPDATE tenant_upgraded.care_links SET valid_until = NULL, status_checked = NULL "
        + "WHERE source_type = 'Encounter'");
    assertThat(context(dr, "upgraded", "pt-old")).as("as an earlier release stored it").isEqualTo(200);
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    assertThat(worker.enqueueUncheckedCareLinks(TenantId.of("upgraded"))).isEqualTo(2);
    worker.drain(TenantId.of("upgraded"));
    assertThat(context(dr, "upgraded", "pt-old")).isEqualTo(404);
    assertThat(context(dr, "upgraded", "pt-recent")).isEqualTo(200);
  }

  @Test
  void theFollowUpIsAWholeNumberOfDaysUpToAYear() {
    app.tenantWithKey("checked", "ta", "[\"tenant-admin\"]", null);
    for (String bad : new String[] {"-1", "366", "\"30\"", "2.5", "true"}) {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/checked", app.adminKey(),
          "{\"settings\":{\"encounterFollowUpDays\":" + bad + "}}");
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("settings.encounterFollowUpDays must be a whole number from 0 to 365");
    }
  }
}
