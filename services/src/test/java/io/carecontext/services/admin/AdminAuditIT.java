package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Who gave whom access: creating and revoking a tenant's keys, and changing its settings (role
 * policies, consent mode, care relationship), are recorded in that tenant's audit trail with who
 * did it (the platform operator or a tenant admin). The platform operator key reads no patient
 * data itself, but it can make a key that does; without these rows the reads of such a key showed
 * only the principal name it was given, and a widened policy left no trace.
 */
class AdminAuditIT {

  static TestServer app;
  static String tenantAdmin;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    tenantAdmin = app.tenantWithKey("keyed", "ta-1", "[\"tenant-admin\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static List<String> trail() throws SQLException {
    return trail("keyed");
  }

  static List<String> trail(String tenant) throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action || ' ' || decision || ' ' || reason || ' ' || principal || ' ' "
            + "|| coalesce(key_id, '-') || ' ' || details FROM tenant_" + tenant + ".audit_log ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }

  static String keyId(HttpResponse<String> created) {
    return created.body().replaceAll("(?s).*\"keyId\":\"([a-z0-9]+)\".*", "$1");
  }

  @Test
  void creatingAndRevokingKeysIsRecordedWithWhoDidIt() throws SQLException {
    // the operator key makes a tenant's first tenant-admin key, which makes the others (platform migration 11)
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"founded\"}").statusCode()).isEqualTo(201);
    HttpResponse<String> byOperator = app.call("POST", "/admin/tenants/founded/keys", app.adminKey(),
        "{\"principal\":\"ta-first\",\"roles\":[\"tenant-admin\"]}");
    assertThat(byOperator.statusCode()).as(byOperator.body()).isEqualTo(201);
    String founder = byOperator.body().replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1");
    HttpResponse<String> byAdmin = app.call("POST", "/admin/tenants/founded/keys", founder,
        "{\"principal\":\"dr-new\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-1\"}");
    assertThat(byAdmin.statusCode()).as(byAdmin.body()).isEqualTo(201);
    assertThat(app.call("DELETE", "/admin/tenants/founded/keys/" + keyId(byAdmin), founder, null).statusCode())
        .isEqualTo(204);
    assertThat(app.call("DELETE", "/admin/tenants/founded/keys/" + keyId(byOperator), app.adminKey(), null).statusCode())
        .isEqualTo(204);
    String founderId = keyId(byOperator);
    assertThat(trail("founded")).containsExactly(
        "key-create allowed key_created platform-admin bootstrap {\"keyId\":\"" + founderId
            + "\",\"keyPrincipal\":\"ta-first\",\"roles\":[\"tenant-admin\"]}",
        "key-create allowed key_created ta-first " + founderId + " {\"keyId\":\"" + keyId(byAdmin)
            + "\",\"keyPrincipal\":\"dr-new\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-1\"}",
        "key-revoke allowed key_revoked ta-first " + founderId + " {\"keyId\":\"" + keyId(byAdmin) + "\"}",
        "key-revoke allowed key_revoked platform-admin bootstrap {\"keyId\":\"" + founderId + "\"}");
  }

  /**
   * A key whose role needs a care relationship and that names no practitioner can see no patient but
   * by break-glass: it is made as asked, and the answer says so and what to do (its secret is shown
   * only once, and a key cannot be changed).
   */
  @Test
  void aKeyThatCanSeeNoPatientIsMadeWithAWarning() {
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"warned\"}").statusCode()).isEqualTo(201);
    String admin = app.tenantAdmin("warned");
    HttpResponse<String> unlinked = app.call("POST", "/admin/tenants/warned/keys", admin,
        "{\"principal\":\"dr-x\",\"roles\":[\"clinician\",\"auditor\"]}");
    assertThat(unlinked.statusCode()).isEqualTo(201);
    assertThat(unlinked.body()).contains("\"warnings\":[\"role 'clinician' needs a care relationship")
        .contains("revoke it and create a key with the id of the Practitioner").doesNotContain("'auditor'");
    for (String fine : new String[] {"{\"principal\":\"dr-y\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-1\"}",
        "{\"principal\":\"co\",\"roles\":[\"care-coordinator\"]}"}) {
      HttpResponse<String> r = app.call("POST", "/admin/tenants/warned/keys", admin, fine);
      assertThat(r.statusCode()).isEqualTo(201);
      assertThat(r.body()).doesNotContain("warnings");
    }
    // with the tenant's care relationship off, nobody needs a practitioner
    assertThat(app.call("PATCH", "/admin/tenants/warned", app.adminKey(),
        "{\"settings\":{\"careRelationship\":false}}").statusCode()).isEqualTo(200);
    assertThat(app.call("POST", "/admin/tenants/warned/keys", admin,
        "{\"principal\":\"dr-z\",\"roles\":[\"clinician\"]}").body()).doesNotContain("warnings");
  }

  @Test
  void changingSettingsIsRecordedWithWhatChangedAndNotTheValues() throws SQLException {
    List<String> before = trail();
    HttpResponse<String> widened = app.call("PATCH", "/admin/tenants/keyed", tenantAdmin,
        "{\"settings\":{\"careRelationship\":false,\"rolePolicies\":{\"billing\":{\"kMax\":3}}}}");
    assertThat(widened.statusCode()).as(widened.body()).isEqualTo(200);
    // the same again changes nothing, and records nothing
    assertThat(app.call("PATCH", "/admin/tenants/keyed", tenantAdmin,
        "{\"settings\":{\"careRelationship\":false}}").statusCode()).isEqualTo(200);
    assertThat(app.call("PATCH", "/admin/tenants/keyed", app.adminKey(), "{\"name\":\"Keyed Clinic\"}").statusCode())
        .isEqualTo(200);
    String adminKeyId = tenantAdmin.split("_")[1];
    List<String> rows = trail();
    // each row also names the digest of the name and settings it allowed (platform migration 5)
    String digest = ",\"settingsDigest\":\"[0-9a-f]{64}\"}";
    assertThat(rows.subList(before.size(), rows.size())).hasSize(2);
    assertThat(rows.get(before.size())).matches(Pattern.quote("tenant-settings allowed settings_changed ta-1 "
        + adminKeyId + " {\"changed\":[\"settings.careRelationship\",\"settings.rolePolicies.billing.kMax\"]") + digest);
    assertThat(rows.get(before.size() + 1)).matches(Pattern.quote(
        "tenant-settings allowed settings_changed platform-admin bootstrap {\"changed\":[\"name\"]") + digest);
    assertThat(rows.get(rows.size() - 1)).contains(query(
        "SELECT platform.tenant_change_digest(name, settings) FROM platform.tenants WHERE tenant_id = 'keyed'"));
  }

  /**
   * A change of settings refused for its body (400) is recorded too, denied, in the tenant's trail: an
   * attempt to turn consent the wrong way, cut retention below six years or give researchers break-glass
   * that failed is what a privacy officer reviews beside the changes that went through. These left no row.
   * The row names the known settings the body named, never a value, nor a name the platform does not know
   * (one named like a patient would be PHI in the trail); the tenant is unchanged.
   */
  @Test
  void refusedChangesOfSettingsAreRecordedWithTheSettingsTheyNamedAndNotTheirValues() throws SQLException {
    String tenantAdminKeyId = tenantAdmin.split("_")[1];
    List<String> before = trail();
    String[] refusedBodies = {
        "{\"settings\":{\"consentMode\":\"opt-maybe\"}}",
        "{\"settings\":{\"retentionYears\":1,\"careRelationship\":false}}",
        "{\"settings\":{\"rolePolicies\":{\"researcher\":{\"breakGlass\":{\"allowed\":true}}}}}",
        "{\"settings\":{\"Alex Example\":\"1961-03-04\"}}",
        "{\"name\":\"\"}",
        "{\"settings\":{\"consentMode\":",
        "{\"Alex Example\":true}"};
    sendRefused("PATCH", "/admin/tenants/keyed", refusedBodies);
    HttpResponse<String> byOperator = app.call("PATCH", "/admin/tenants/keyed", app.adminKey(),
        "{\"settings\":{\"consentMode\":\"none\"}}");
    assertThat(byOperator.statusCode()).isEqualTo(400);
    // a tenant that does not exist has no trail to record in: the same 400 as before, not a 503
    assertThat(app.call("PATCH", "/admin/tenants/nosuch", app.adminKey(), "{\"nope\":1}").statusCode()).isEqualTo(400);

    String byAdmin = "tenant-settings denied %s ta-1 " + tenantAdminKeyId
        + " {\"route\":\"/admin/tenants/keyed\",\"method\":\"PATCH\"%s}";
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        byAdmin.formatted("settings_invalid", ",\"asked\":[\"settings.consentMode\"]"),
        byAdmin.formatted("settings_invalid", ",\"asked\":[\"settings.careRelationship\",\"settings.retentionYears\"]"),
        byAdmin.formatted("settings_invalid", ",\"asked\":[\"settings.rolePolicies\"]"),
        byAdmin.formatted("settings_invalid", ""),
        byAdmin.formatted("settings_invalid", ",\"asked\":[\"name\"]"),
        byAdmin.formatted("body_malformed", ""),
        byAdmin.formatted("body_malformed", ""),
        "tenant-settings denied settings_invalid platform-admin bootstrap {\"route\":\"/admin/tenants/keyed\","
            + "\"method\":\"PATCH\",\"asked\":[\"settings.consentMode\"]}");
    assertThat(String.join("\n", rows)).doesNotContain("Alex").doesNotContainPattern("\\b1961\\b").doesNotContain("opt-maybe");
    // nothing changed
    assertThat(app.call("GET", "/admin/tenants/keyed", tenantAdmin, null).body())
        .contains("\"consentMode\":\"opt-in\"").contains("\"retentionYears\":6");
  }

  /**
   * A role policy that empties what the role reads (categories, resource types, purposes) is refused like any
   * other bad setting, recorded denied, and stored nothing: a clinician with no categories answered 200 with no
   * chunks, one with no purposes a 403 telling it to ask for a clinician key.
   */
  @Test
  void aRolePolicyThatEmptiesWhatTheRoleReadsIsRefusedRecordedAndStoresNothing() throws SQLException {
    String tenantAdminKeyId = tenantAdmin.split("_")[1];
    String policyBefore = query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'keyed'");
    List<String> before = trail();
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/keyed", tenantAdmin,
        "{\"settings\":{\"rolePolicies\":{\"clinician\":{\"categories\":[]}}}}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"error\":\"bad_request\"")
        .contains("settings.rolePolicies.clinician.categories is empty").contains("revoke its keys");
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly("tenant-settings denied settings_invalid ta-1 "
        + tenantAdminKeyId + " {\"route\":\"/admin/tenants/keyed\",\"method\":\"PATCH\",\"asked\":[\"settings.rolePolicies\"]}");
    assertThat(query("SELECT settings::text FROM platform.tenants WHERE tenant_id = 'keyed'")).isEqualTo(policyBefore);
    assertThat(app.call("GET", "/admin/tenants/keyed", tenantAdmin, null).body())
        .contains("\"categories\":[\"demographic\",\"clinical\",\"lab\",\"medication\",\"note\"]");
  }

  /**
   * A key creation refused for its body (400) is recorded denied in the tenant's trail, with the principal and
   * roles it asked for when they are ones a key may have, never a value it does not take; nothing is made.
   * These left no row, while a refused PATCH of the settings did.
   */
  @Test
  void keyCreationsRefusedForTheirBodyAreRecordedWithWhatTheyAskedForAndMakeNothing() throws SQLException {
    String tenantAdminKeyId = tenantAdmin.split("_")[1];
    String keysBefore = query("SELECT count(*) FROM platform.api_keys WHERE tenant_id = 'keyed'");
    List<String> before = trail();
    String[] refusedBodies = {
        "{\"principal\":\"dr-past\",\"roles\":[\"clinician\"],\"expiresAt\":\"2020-01-01T00:00:00Z\"}",
        "{\"principal\":\"dr-typo\",\"roles\":[\"Alex Example\"]}",
        "{\"principal\":\"Alex Example 1961\",\"roles\":[\"billing\"]}",
        "{\"principal\":\"dr-x\",\"roles\":[\"clinician\"],\"expiresAt\":\"2030-01-01\"}",
        "{\"principal\":"};
    sendRefused("POST", "/admin/tenants/keyed/keys", refusedBodies);
    String byAdmin = "key-create denied %s ta-1 " + tenantAdminKeyId
        + " {\"route\":\"/admin/tenants/keyed/keys\",\"method\":\"POST\"%s}";
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        byAdmin.formatted("key_request_invalid", ",\"keyPrincipal\":\"dr-past\",\"roles\":[\"clinician\"]"),
        byAdmin.formatted("key_request_invalid", ",\"keyPrincipal\":\"dr-typo\""),
        byAdmin.formatted("key_request_invalid", ",\"roles\":[\"billing\"]"),
        byAdmin.formatted("body_malformed", ""),
        byAdmin.formatted("body_malformed", ""));
    assertThat(String.join("\n", rows)).doesNotContain("Alex").doesNotContainPattern("\\b1961\\b");
    assertThat(query("SELECT count(*) FROM platform.api_keys WHERE tenant_id = 'keyed'")).isEqualTo(keysBefore);
  }

  /**
   * An admin request with a query parameter is refused 400, and recorded denied with that reason under the action
   * it asked for, its route and method, never the parameter (the caller's text): the authentication filter refused
   * it before any controller and it left no row. A key that may not make the request at all is refused for that
   * first, with that reason.
   */
  @Test
  void adminRequestsRefusedForAQueryParameterAreRecorded() throws SQLException {
    String tenantAdminKeyId = tenantAdmin.split("_")[1];
    HttpResponse<String> clinician = app.call("POST", "/admin/tenants/keyed/keys", tenantAdmin,
        "{\"principal\":\"qp-clin\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-qp\"}");
    assertThat(clinician.statusCode()).isEqualTo(201);
    String clinicianKey = clinician.body().replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1");
    List<String> before = trail();
    String[][] refused = {{"GET", "/admin/tenants/keyed/keys?x"}, {"GET", "/admin/tenants/keyed?principal=Alex_Example"},
        {"PATCH", "/admin/tenants/keyed?name=Other"}, {"GET", "/admin/tenants/keyed/ingest?x=1"}};
    for (String[] c : refused) {
      for (String key : new String[] {tenantAdmin, app.adminKey()}) {
        HttpResponse<String> r = app.call(c[0], c[1], key, c[0].equals("PATCH") ? "{}" : null);
        assertThat(r.statusCode()).as(c[1] + " " + r.body()).isEqualTo(400);
        assertThat(r.body()).contains("this endpoint takes no query parameters").doesNotContain("Alex");
      }
    }
    assertThat(app.call("GET", "/admin/tenants/keyed/keys?x", clinicianKey, null).statusCode()).isEqualTo(403);
    String row = "%s denied query_parameters_refused %s {\"route\":\"%s\",\"method\":\"%s\"}";
    String byAdmin = "ta-1 " + tenantAdminKeyId;
    String byOperator = "platform-admin bootstrap";
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        row.formatted("key-list", byAdmin, "/admin/tenants/keyed/keys", "GET"),
        row.formatted("key-list", byOperator, "/admin/tenants/keyed/keys", "GET"),
        row.formatted("tenant-read", byAdmin, "/admin/tenants/keyed", "GET"),
        row.formatted("tenant-read", byOperator, "/admin/tenants/keyed", "GET"),
        row.formatted("tenant-settings", byAdmin, "/admin/tenants/keyed", "PATCH"),
        row.formatted("tenant-settings", byOperator, "/admin/tenants/keyed", "PATCH"),
        row.formatted("admin-request", byAdmin, "/admin/tenants/keyed/ingest", "GET"),
        row.formatted("admin-request", byOperator, "/admin/tenants/keyed/ingest", "GET"),
        "key-list denied role_not_allowed qp-clin " + keyId(clinician)
            + " {\"route\":\"/admin/tenants/keyed/keys\",\"method\":\"GET\"}");
    assertThat(String.join("\n", rows)).doesNotContain("Alex");
  }

  /**
   * Sends each body as the tenant admin: each a 400 whose answer names neither what was sent as a value nor a name
   * the platform does not know.
   */
  private static void sendRefused(String method, String path, String[] bodies) {
    for (String body : bodies) {
      HttpResponse<String> r = app.call(method, path, tenantAdmin, body);
      assertThat(r.statusCode()).as(body).isEqualTo(400);
      assertThat(r.body()).as(body).doesNotContain("Alex").doesNotContainPattern("\\b1961\\b").doesNotContain("opt-maybe");
    }
  }

  /**
   * A revoke of a key id the tenant does not have (another tenant's, a guess, a malformed one) is a 404 recorded
   * denied in the tenant's trail, naming the id only when it has a key id's form. It left no row.
   */
  @Test
  void revokesOfKeysTheTenantDoesNotHaveAreRecorded() throws SQLException {
    String tenantAdminKeyId = tenantAdmin.split("_")[1];
    List<String> before = trail();
    for (String keyId : new String[] {"0123456789abcdef0123", "Alex%20Example"}) {
      HttpResponse<String> r = app.call("DELETE", "/admin/tenants/keyed/keys/" + keyId, tenantAdmin, null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
      assertThat(r.body()).contains("key_not_found");
    }
    String byAdmin = "key-revoke denied key_not_found ta-1 " + tenantAdminKeyId
        + " {\"route\":\"/admin/tenants/keyed/keys/{keyId}\",\"method\":\"DELETE\"%s}";
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        byAdmin.formatted(",\"keyId\":\"0123456789abcdef0123\""), byAdmin.formatted(""));
  }

  /** A key sending refused settings in a loop adds a bounded number of rows, as other refusals do. */
  @Test
  void refusedChangesOfSettingsInALoopAddABoundedNumberOfRows() throws Exception {
    String admin = app.tenantWithKey("keyed", "ta-loop", "[\"tenant-admin\"]", null);
    String keyId = admin.split("_")[1];
    long started = System.nanoTime();
    for (int i = 0; i < 40; i++) {
      assertThat(app.call("PATCH", "/admin/tenants/keyed", admin, "{\"settings\":{\"retentionYears\":2}}")
          .statusCode()).isEqualTo(400);
    }
    long took = System.nanoTime() - started;
    assertThat(column("reason", "reason = 'settings_invalid' AND key_id = '" + keyId + "'").size())
        .isBetween(30, 30 + refills(took));
  }

  /** Settings given at creation are a change like a PATCH's, recorded in the new tenant's trail. */
  @Test
  void settingsGivenAtCreationAreRecorded() throws SQLException {
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(),
        "{\"id\":\"created_set\",\"settings\":{\"consentMode\":\"opt-out\",\"retentionYears\":7}}").statusCode())
        .isEqualTo(201);
    assertThat(query("SELECT string_agg(action || ' ' || principal || ' ' || details, '|') FROM "
        + "tenant_created_set.audit_log")).matches(Pattern.quote("tenant-settings platform-admin "
        + "{\"changed\":[\"settings.consentMode\",\"settings.retentionYears\"]") + ",\"settingsDigest\":\"[0-9a-f]{64}\"}");
    assertThat(query("SELECT settings->>'consentMode' || ' ' || (settings->>'retentionYears') FROM platform.tenants "
        + "WHERE tenant_id = 'created_set'")).isEqualTo("opt-out 7");
    // with the defaults, nothing changed and nothing is recorded
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"created_plain\"}").statusCode())
        .isEqualTo(201);
    assertThat(query("SELECT count(*) FROM tenant_created_plain.audit_log")).isEqualTo("0");
  }

  static String query(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }

  /**
   * The platform operator key on a tenant's patient data: refused by each path (403, naming the
   * key to use instead) and recorded in that tenant's trail as platform_operator. On a tenant that
   * does not exist there is no trail to write to, and the answer is the same.
   */
  @Test
  void thePlatformOperatorsAttemptsOnPatientDataAreRefusedAndRecorded() throws SQLException {
    List<String> before = trail();
    String body = "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}";
    assertThat(app.call("POST", "/v1/keyed/patients/p1/context", app.adminKey(), body).statusCode()).isEqualTo(403);
    assertThat(app.call("POST", "/v1/keyed/patients/p1/chat", app.adminKey(),
        "{\"question\":\"x\",\"purposeOfUse\":\"TREAT\"}").statusCode()).isEqualTo(403);
    assertThat(app.call("POST", "/v1/keyed/research/search", app.adminKey(),
        "{\"query\":\"x\",\"purposeOfUse\":\"HRESCH\"}").statusCode()).isEqualTo(403);
    assertThat(app.call("GET", "/fhir/keyed/Patient/p1", app.adminKey(), null).statusCode()).isEqualTo(403);
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "context denied platform_operator platform-admin bootstrap {}",
        "chat denied platform_operator platform-admin bootstrap {}",
        "research denied platform_operator platform-admin bootstrap {}",
        "fhir-read denied platform_operator platform-admin bootstrap {}");
    assertThat(app.call("POST", "/v1/nosuchtenant/patients/p1/context", app.adminKey(), body).statusCode())
        .isEqualTo(403);
    // with the patient the path names, so that ?patient=p1 finds the attempt
    List<String> patients = column("patient_id", "reason = 'platform_operator' AND action IN ('context', 'chat', "
        + "'fhir-read')"); // a FHIR Patient/{id} path names its patient too
    assertThat(patients.subList(patients.size() - 3, patients.size())).containsExactly("p1", "p1", "p1");
  }

  /**
   * The audit trail read by a key without the auditor role, or by the operator: refused as before,
   * and now recorded. These attempts left no row, unlike the same attempts on FHIR data.
   */
  @Test
  void attemptsOnTheAuditTrailWithoutTheAuditorRoleAreRecorded() throws SQLException {
    String clinician = app.tenantWithKey("keyed", "dr-peek", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    List<String> before = trail();
    assertThat(app.call("GET", "/v1/keyed/audit?patient=p4", clinician, null).statusCode()).isEqualTo(403);
    assertThat(app.call("GET", "/v1/keyed/audit/verify", clinician, null).statusCode()).isEqualTo(403);
    assertThat(app.call("GET", "/v1/keyed/audit/export", clinician, null).statusCode()).isEqualTo(403);
    assertThat(app.call("GET", "/v1/keyed/audit", app.adminKey(), null).statusCode()).isEqualTo(403);
    String clinicianKey = clinician.split("_")[1];
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "audit-read denied role_not_allowed dr-peek " + clinicianKey + " {}",
        "audit-verify denied role_not_allowed dr-peek " + clinicianKey + " {}",
        "audit-export denied role_not_allowed dr-peek " + clinicianKey + " {}",
        "audit-read denied platform_operator platform-admin bootstrap {}");
    assertThat(column("patient_id", "action = 'audit-read' AND reason = 'role_not_allowed'")).containsExactly("p4");
  }

  /**
   * The trail's own rows (a listing, a check, an export, a refused filter) name the key's roles as every
   * other row does. They named ["auditor"] whatever the key held, so a key that is also tenant-admin read
   * the trail as if it were an auditor's alone.
   */
  @Test
  void theTrailsOwnRowsNameAllTheReadersRoles() throws SQLException {
    String both = app.tenantWithKey("keyed", "aud-admin", "[\"auditor\",\"tenant-admin\"]", null);
    String keyId = both.split("_")[1];
    assertThat(app.call("GET", "/v1/keyed/audit?limit=1", both, null).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/v1/keyed/audit?limit=1&includeBodies=true", both, null).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/v1/keyed/audit/verify", both, null).statusCode()).isEqualTo(200);
    HttpResponse<String> export = app.call("GET", "/v1/keyed/audit/export", both, null);
    assertThat(export.statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/v1/keyed/audit?limit=none", both, null).statusCode()).isEqualTo(400);
    assertThat(column("action || ' ' || reason || ' ' || array_to_string(roles, ',')",
        "key_id = '" + keyId + "' AND action LIKE 'audit-%'")).containsExactly(
            "audit-read list tenant-admin,auditor",
            "audit-read include_bodies tenant-admin,auditor",
            "audit-verify chain_valid tenant-admin,auditor",
            "audit-export export tenant-admin,auditor",
            "audit-read filter_malformed tenant-admin,auditor");
  }

  /**
   * A key of the tenant without tenant-admin that tries to make a key, revoke one or change the
   * settings (a clinician minting itself an auditor key, turning consent to opt-out) is refused as
   * before, and now recorded in its tenant's trail as role_not_allowed; a key of another tenant, in its
   * own tenant's trail as other_tenant, and the answer stays that of a tenant that does not exist. Only
   * the operator key's refused key creations were recorded: the attempts of the tenant's own keys to
   * widen their access left no row.
   */
  @Test
  void attemptsToChangeKeysOrSettingsWithoutTenantAdminAreRecorded() throws SQLException {
    String clinician = app.tenantWithKey("keyed", "dr-climb", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String clinicianKey = clinician.split("_")[1];
    String victim = app.tenantWithKey("keyed", "dr-victim", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String victimKey = victim.split("_")[1];
    String outsider = app.tenantWithKey("elsewhere", "ta-out", "[\"tenant-admin\"]", null);
    String outsiderKey = outsider.split("_")[1];
    List<String> before = trail();
    List<String> outsiderBefore = trail("elsewhere");

    HttpResponse<String> mint = app.call("POST", "/admin/tenants/keyed/keys", clinician,
        "{\"principal\":\"dr-climb-2\",\"roles\":[\"auditor\",\"clinician\"]}");
    assertThat(mint.statusCode()).isEqualTo(403);
    assertThat(app.call("DELETE", "/admin/tenants/keyed/keys/" + victimKey, clinician, null).statusCode())
        .isEqualTo(403);
    assertThat(app.call("PATCH", "/admin/tenants/keyed", clinician, "{\"settings\":{\"consentMode\":\"opt-out\"}}")
        .statusCode()).isEqualTo(403);
    // a body that cannot be read is refused for the key first: it was told to fix its body, and left no row
    assertThat(app.call("PATCH", "/admin/tenants/keyed", clinician, "{not json").statusCode()).isEqualTo(403);

    HttpResponse<String> otherMint = app.call("POST", "/admin/tenants/keyed/keys", outsider,
        "{\"principal\":\"spy\",\"roles\":[\"auditor\"]}");
    HttpResponse<String> unknownMint = app.call("POST", "/admin/tenants/nosuch/keys", outsider,
        "{\"principal\":\"spy\",\"roles\":[\"auditor\"]}");
    assertThat(otherMint.statusCode()).isEqualTo(404);
    assertThat(otherMint.body()).isEqualTo(unknownMint.body());
    assertThat(app.call("DELETE", "/admin/tenants/keyed/keys/" + victimKey, outsider, null).statusCode()).isEqualTo(404);
    assertThat(app.call("PATCH", "/admin/tenants/keyed", outsider, "{\"settings\":{\"consentMode\":\"opt-out\"}}")
        .statusCode()).isEqualTo(404);

    // nothing changed: the victim's key works, the consent mode is the default
    assertThat(app.call("GET", "/admin/tenants/keyed", tenantAdmin, null).body()).contains("\"consentMode\":\"opt-in\"");
    assertThat(app.call("POST", "/v1/keyed/patients/p1/context", victim, "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}")
        .statusCode()).isEqualTo(404);

    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size()).stream().filter(r -> !r.contains("dr-victim"))
        .filter(r -> !r.startsWith("tenant-read allowed")).toList()) // the check below that nothing changed
        .containsExactly(
            "key-create denied role_not_allowed dr-climb " + clinicianKey + " {\"route\":\"/admin/tenants/keyed/keys\","
                + "\"method\":\"POST\",\"keyPrincipal\":\"dr-climb-2\",\"roles\":[\"auditor\",\"clinician\"]}",
            "key-revoke denied role_not_allowed dr-climb " + clinicianKey
                + " {\"route\":\"/admin/tenants/keyed/keys/{keyId}\",\"method\":\"DELETE\"}",
            "tenant-settings denied role_not_allowed dr-climb " + clinicianKey
                + " {\"route\":\"/admin/tenants/keyed\",\"method\":\"PATCH\"}",
            "tenant-settings denied role_not_allowed dr-climb " + clinicianKey
                + " {\"route\":\"/admin/tenants/keyed\",\"method\":\"PATCH\"}");
    List<String> outsiderRows = trail("elsewhere");
    assertThat(outsiderRows.subList(outsiderBefore.size(), outsiderRows.size())).containsExactly(
        "key-create denied other_tenant ta-out " + outsiderKey + " {\"route\":\"/admin/tenants/keyed/keys\",\"method\":\"POST\"}",
        "key-create denied other_tenant ta-out " + outsiderKey + " {\"route\":\"/admin/tenants/nosuch/keys\",\"method\":\"POST\"}",
        "key-revoke denied other_tenant ta-out " + outsiderKey
            + " {\"route\":\"/admin/tenants/keyed/keys/{keyId}\",\"method\":\"DELETE\"}",
        "tenant-settings denied other_tenant ta-out " + outsiderKey + " {\"route\":\"/admin/tenants/keyed\",\"method\":\"PATCH\"}");
    // a tenant that does not exist is recorded alike (as on the patient paths): whether it exists is not
    // the key's to learn, from the answer or from what its trail shows
  }

  /**
   * A tenant key refused the operator's list of offboardings is recorded under that route: the row said
   * {@code /admin/{id}}, as for a mistyped path, so a reviewer could not tell which operator route it tried.
   */
  @Test
  void aTenantKeyRefusedTheOffboardingsIsRecordedUnderTheirRoute() throws SQLException {
    String taKey = tenantAdmin.split("_")[1];
    List<String> before = trail();
    assertThat(app.call("GET", "/admin/offboardings", tenantAdmin, null).statusCode()).isEqualTo(403);
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly("admin-request denied role_not_allowed ta-1 "
        + taKey + " {\"route\":\"/admin/offboardings\",\"method\":\"GET\"}");
  }

  /**
   * A tenant admin's list of parked ingest items names each resource by its id, which may be an MRN:
   * a read that lists any item is recorded (ingest-parked-read) with the resources it named; an empty
   * list reads nothing and leaves no row, and the operator's key, which sees types only, leaves none.
   */
  @Test
  void aTenantAdminsReadOfParkedResourcesIsRecordedWithTheResourcesItNamed() throws SQLException {
    String listed = "ingest-parked-read allowed parked_listed ta-1 ";
    // nothing parked: nothing read, no row
    assertThat(app.call("GET", "/admin/tenants/keyed/ingest/parked", tenantAdmin, null).body()).isEqualTo("[]");
    assertThat(trail()).noneMatch(r -> r.startsWith(listed));
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_keyed.outbox (resource_type, resource_id, version_id, operation, attempts, "
          + "parked_at, last_error) VALUES ('Observation', 'mrn-0042-obs', 1, 'index', 5, now(), 'IllegalStateException')");
    }
    try {
      HttpResponse<String> read = app.call("GET", "/admin/tenants/keyed/ingest/parked", tenantAdmin, null);
      assertThat(read.statusCode()).isEqualTo(200);
      assertThat(read.body()).contains("Observation/mrn-0042-obs");
      assertThat(trail()).filteredOn(r -> r.startsWith(listed)).singleElement().asString()
          .endsWith("{\"listed\":1,\"resources\":[\"Observation/mrn-0042-obs\"]}");
      // the operator's key sees no id, and reads none
      HttpResponse<String> operator = app.call("GET", "/admin/tenants/keyed/ingest/parked", app.adminKey(), null);
      assertThat(operator.body()).contains("Observation/{id}").doesNotContain("mrn-0042");
      assertThat(trail()).filteredOn(r -> r.startsWith("ingest-parked-read")).hasSize(1);
    } finally {
      try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
        st.execute("DELETE FROM tenant_keyed.outbox WHERE resource_id = 'mrn-0042-obs'");
      }
    }
  }

  /**
   * The retry of parked items takes no body: it requeues every parked item of the tenant. A body that
   * named some of them was ignored and every item requeued, answered 200 as if it had applied; it is a
   * 400 that quotes none of it, and nothing is requeued or recorded as requeued.
   */
  @Test
  void aRetryOfParkedItemsRefusesABodyAndRequeuesNothing() throws SQLException {
    String requeued = "ingest-parked-retry allowed parked_requeued ta-1 ";
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("INSERT INTO tenant_keyed.outbox (resource_type, resource_id, version_id, operation, attempts, "
          + "parked_at, last_error) VALUES ('Observation', 'mrn-0077-obs', 1, 'index', 5, now(), 'IllegalStateException')");
    }
    try {
      long before = trail().stream().filter(r -> r.startsWith(requeued)).count();
      for (String body : new String[] {"{\"resources\":[\"Observation/mrn-0077-obs\"]}", "[]", "Smith, John"}) {
        HttpResponse<String> r = app.call("POST", "/admin/tenants/keyed/ingest/parked/retry", tenantAdmin, body);
        assertThat(r.statusCode()).as(body + ": " + r.body()).isEqualTo(400);
        assertThat(r.body()).contains("this endpoint takes no body").doesNotContain("mrn-0077").doesNotContain("Smith");
      }
      assertThat(parkedCount("mrn-0077-obs")).isEqualTo(1);
      assertThat(trail().stream().filter(r -> r.startsWith(requeued)).count()).isEqualTo(before);
      // an empty object, which some clients send on every POST, is no body
      HttpResponse<String> retried = app.call("POST", "/admin/tenants/keyed/ingest/parked/retry", tenantAdmin, " { } ");
      assertThat(retried.statusCode()).as(retried.body()).isEqualTo(200);
      assertThat(retried.body()).isEqualTo("{\"requeued\":1}");
      assertThat(parkedCount("mrn-0077-obs")).isZero();
    } finally {
      try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
        st.execute("DELETE FROM tenant_keyed.outbox WHERE resource_id = 'mrn-0077-obs'");
      }
    }
  }

  private static long parkedCount(String resourceId) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM tenant_keyed.outbox WHERE parked_at IS NOT NULL "
            + "AND resource_id = '" + resourceId + "'")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * A key that authentication refuses — revoked, expired, or with a secret that is not its own — is
   * answered 401 as before, and the attempt is recorded in the key's tenant: before, it left nothing
   * but an access-log line without tenant or principal, so a revoked (perhaps stolen) key used on a
   * patient was invisible to the auditor. A token that names no key leaves no row: there is no tenant.
   */
  @Test
  void aRefusedKeyIsRecordedInItsTenantsTrail() throws Exception {
    String revoked = app.tenantWithKey("keyed", "dr-gone", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String revokedId = revoked.split("_")[1];
    assertThat(app.call("DELETE", "/admin/tenants/keyed/keys/" + revokedId, tenantAdmin, null).statusCode())
        .isEqualTo(204);
    HttpResponse<String> expiring = app.call("POST", "/admin/tenants/keyed/keys", tenantAdmin,
        "{\"principal\":\"dr-brief\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-1\",\"expiresAt\":\""
            + "2099-01-01T00:00:00Z\"}");
    assertThat(expiring.statusCode()).as(expiring.body()).isEqualTo(201);
    String expired = expiring.body().replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1");
    // expired in the database, as time would: one made to expire a second after "now" was refused as already
    // past whenever the machine took longer than that to answer its creation
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE platform.api_keys SET expires_at = now() - interval '1 second' "
          + "WHERE key_id = '" + keyId(expiring) + "'")).isEqualTo(1);
    }
    String adminKeyId = tenantAdmin.split("_")[1];
    String wrongSecret = "cck_" + adminKeyId + "_" + revoked.split("_", 3)[2];
    List<String> before = trail();
    String body = "{\"query\":\"x\",\"purposeOfUse\":\"TREAT\"}";
    String shortSecret = "cck_" + adminKeyId + "_short"; // a secret of another length is a wrong one too
    for (String token : new String[] {revoked, expired, wrongSecret, "cck_nosuchkey00000000000_" + revoked.split("_", 3)[2],
        shortSecret}) {
      HttpResponse<String> r = app.call("POST", "/v1/keyed/patients/p9/context", token, body);
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.body()).contains("\"error\":\"unauthorized\"");
    }
    assertThat(app.call("GET", "/fhir/keyed/Patient/p9", revoked, null).statusCode()).isEqualTo(401);
    String route = " {\"route\":\"/v1/keyed/patients/{id}/context\",\"method\":\"POST\"}";
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactly(
        "authenticate denied key_revoked dr-gone " + revokedId + route,
        "authenticate denied key_expired dr-brief " + keyId(expiring) + route,
        "authenticate denied key_secret_mismatch ta-1 " + adminKeyId + route,
        "authenticate denied key_secret_mismatch ta-1 " + adminKeyId + route,
        "authenticate denied key_revoked dr-gone " + revokedId + " {\"route\":\"/fhir/keyed/Patient/{id}\",\"method\":\"GET\"}");
    List<String> patients = column("patient_id", "action = 'authenticate'");
    assertThat(patients.subList(patients.size() - 5, patients.size())).containsExactly("p9", "p9", "p9", "p9", null);
  }

  /**
   * Refusals of one key add at most a burst of rows, then about 30 a minute: anyone who has seen a key
   * id could otherwise grow the trail without limit with wrong secrets. The next row written says how
   * many were not.
   */
  @Test
  void aFloodOfWrongSecretsForOneKeyIsBoundedAndCounted() throws Exception {
    String key = app.tenantWithKey("keyed", "dr-flood", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String keyId = key.split("_")[1];
    String wrong = "cck_" + keyId + "_wrong";
    String where = "action = 'authenticate' AND key_id = '" + keyId + "'";
    long started = System.nanoTime();
    for (int i = 0; i < 45; i++) {
      assertThat(app.call("GET", "/v1/keyed/audit", wrong, null).statusCode()).isEqualTo(401);
    }
    long took = System.nanoTime() - started;
    int recorded = column("reason", where).size();
    assertThat(recorded).isBetween(30, 30 + refills(took));
    Thread.sleep(2_500); // the budget refills at one row every 2 s
    assertThat(app.call("GET", "/v1/keyed/audit", wrong, null).statusCode()).isEqualTo(401);
    List<String> details = column("details", where);
    assertThat(details).hasSize(recorded + 1);
    assertThat(details.get(details.size() - 1)).contains(recorded < 45 ? "\"unrecordedBefore\":" : "");
    // every refusal is a row or counted in a later one: a row a refill let through while the loop ran (on a busy
    // machine it outlasts a refill) counts those before it, and the last row only those since
    assertThat(details.stream().mapToInt(AdminAuditIT::unrecordedBefore).sum()).isEqualTo(45 - recorded);
  }

  /**
   * A tenant key without tenant-admin trying in a loop to mint itself keys (or change settings) adds
   * at most a burst of rows, as a flood of wrong secrets does; every attempt is still refused, and the
   * next row says how many were not recorded.
   */
  @Test
  void aKeyRefusedKeyCreationsInALoopAddsABoundedNumberOfRows() throws Exception {
    String key = app.tenantWithKey("keyed", "dr-mint", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    String keyId = key.split("_")[1];
    String where = "action = 'key-create' AND reason = 'role_not_allowed' AND key_id = '" + keyId + "'";
    long started = System.nanoTime();
    for (int i = 0; i < 45; i++) {
      HttpResponse<String> r = app.call("POST", "/admin/tenants/keyed/keys", key,
          "{\"principal\":\"dr-mint\",\"roles\":[\"auditor\"]}");
      assertThat(r.statusCode()).isEqualTo(403);
    }
    long took = System.nanoTime() - started;
    int recorded = column("reason", where).size();
    assertThat(recorded).isBetween(30, 30 + refills(took));
    Thread.sleep(2_500); // the budget refills at one row every 2 s
    assertThat(app.call("PATCH", "/admin/tenants/keyed", key, "{\"settings\":{\"consentMode\":\"opt-out\"}}")
        .statusCode()).isEqualTo(403);
    List<String> details = column("details", "reason = 'role_not_allowed' AND key_id = '" + keyId + "'"
        + " AND action IN ('key-create', 'tenant-settings')");
    assertThat(details).hasSize(recorded + 1);
    assertThat(details.get(details.size() - 1)).contains(recorded < 45 ? "\"unrecordedBefore\":" : "");
    assertThat(details.stream().mapToInt(AdminAuditIT::unrecordedBefore).sum()).isEqualTo(45 - recorded);
  }

  /** How many rows a key's refusal budget can have refilled in {@code nanos}: one every 2 s. */
  static int refills(long nanos) {
    return (int) (nanos / (60_000_000_000L / io.carecontext.retrieval.RefusalRows.PER_MINUTE));
  }

  static int unrecordedBefore(String details) {
    if (details == null) {
      return 0;
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"unrecordedBefore\":(\\d+)").matcher(details);
    return m.find() ? Integer.parseInt(m.group(1)) : 0;
  }

  /** One column of the tenant's audit rows that match {@code where}, oldest first. */
  static List<String> column(String name, String where) throws SQLException {
    List<String> values = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT " + name + " FROM tenant_keyed.audit_log WHERE " + where
            + " ORDER BY at, seq")) {
      while (rs.next()) {
        values.add(rs.getString(1));
      }
    }
    return values;
  }
}
