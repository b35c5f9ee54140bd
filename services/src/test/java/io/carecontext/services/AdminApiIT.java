package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The admin API and authentication of API.md, end to end over HTTP on real PostgreSQL. */
class AdminApiIT {

  static TestServer app;
  static String adminKeyA;
  static String clinicianA;

  @BeforeAll
  static void start() {
    app = new TestServer();
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"acme\",\"name\":\"Acme Health\"}")
        .statusCode()).isEqualTo(201);
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"bravo\",\"name\":\"Bravo\"}")
        .statusCode()).isEqualTo(201);
    adminKeyA = secret(createKey("acme", "{\"principal\":\"ops\",\"roles\":[\"tenant-admin\"]}"));
    clinicianA = secret(createKey("acme", "{\"principal\":\"dr-lee\",\"roles\":[\"clinician\"]}"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> createKey(String tenant, String body) {
    // made by the tenant's tenant-admin key: the operator key makes only that one (platform migration 11)
    HttpResponse<String> r = app.call("POST", "/admin/tenants/" + tenant + "/keys", app.tenantAdmin(tenant), body);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
    return r;
  }

  static String secret(HttpResponse<String> created) {
    return field(created.body(), "secret");
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    assertThat(m.find()).as("field " + name + " in response").isTrue();
    return m.group(1);
  }

  /** Two Authorization headers: the first was taken; which one a proxy reads is not the sender's to leave open. */
  @Test
  void twoAuthorizationHeadersAreNoKey() {
    assertThat(app.call("GET", "/admin/tenants", app.adminKey(), null, null, Map.of()).statusCode()).isEqualTo(200);
    HttpResponse<String> two = app.call("GET", "/admin/tenants", app.adminKey(), null, null,
        Map.of("Authorization", "Bearer " + app.adminKey()));
    assertThat(two.statusCode()).isEqualTo(401);
    assertThat(two.body()).doesNotContain(app.adminKey());
    // it was told its key was "missing, invalid, expired or revoked", and a valid key sent twice is none of those
    assertThat(two.body()).contains("send exactly one Authorization header");
    HttpResponse<String> fhir = app.call("GET", "/fhir/bravo/Patient/p1", app.adminKey(), null, null,
        Map.of("Authorization", "Bearer " + app.adminKey()));
    assertThat(fhir.statusCode()).isEqualTo(401);
    assertThat(fhir.body()).contains("OperationOutcome").contains("send exactly one Authorization header");
  }

  @Test
  void adminPathsRefuseQueryParametersInsteadOfIgnoringThem() {
    // GET /admin/tenants/bravo/keys?principal=dr-x listed every key of the tenant, as if filtered, and
    // GET /admin/offboardings?limit=10 answered up to 1,000: a parameter was dropped without a word
    for (String[] c : new String[][] {{"GET", "/admin/tenants?status=active"}, {"GET", "/admin/tenants/bravo?x=1"},
        {"GET", "/admin/tenants/bravo/keys?principal=Smith_John"}, {"GET", "/admin/offboardings?limit=10"},
        {"GET", "/admin/tenants/bravo/ingest?x=1"}, {"PATCH", "/admin/tenants/bravo?name=Other"}}) {
      HttpResponse<String> r = app.call(c[0], c[1], app.adminKey(), c[0].equals("PATCH") ? "{}" : null);
      assertThat(r.statusCode()).as(c[1] + " " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(c[1]).contains("\"error\":\"bad_request\"")
          .contains("this endpoint takes no query parameters").doesNotContain("Smith");
    }
    // a key is still checked first
    assertThat(app.call("GET", "/admin/tenants?status=active", null, null).statusCode()).isEqualTo(401);
    assertThat(app.call("GET", "/admin/tenants", app.adminKey(), null).statusCode()).isEqualTo(200);
  }

  /**
   * No answer may be kept by a cache, nor read as another content type than it declares: the answer
   * that shows a key's secret, a patient's FHIR resource, a streamed audit export, a refusal and a path
   * that does not exist went without Cache-Control and X-Content-Type-Options, so a browser's disk
   * cache or a shared proxy could keep the secret and the PHI.
   */
  @Test
  void noAnswerIsCacheableOrSniffable() {
    HttpResponse<String> created = createKey("acme", "{\"principal\":\"feed-cache\",\"roles\":[\"ehr-integration\"]}");
    String feed = secret(created);
    String auditor = secret(createKey("acme", "{\"principal\":\"aud-cache\",\"roles\":[\"auditor\"]}"));
    assertThat(app.call("PUT", "/fhir/acme/Patient/cache-1", feed, "{\"resourceType\":\"Patient\",\"id\":\"cache-1\","
        + "\"name\":[{\"family\":\"Quixotefield\"}]}", "application/fhir+json").statusCode()).isIn(200, 201);
    HttpResponse<String> read = app.call("GET", "/fhir/acme/Patient/cache-1", feed, null);
    assertThat(read.body()).contains("Quixotefield");
    HttpResponse<String> export = app.call("GET", "/v1/acme/audit/export", auditor, null);
    assertThat(export.statusCode()).isEqualTo(200);
    Map<String, HttpResponse<String>> answers = Map.of("key creation", created, "FHIR read", read,
        "audit export", export, "401", app.call("GET", "/v1/acme/audit", null, null),
        "404", app.call("GET", "/no/such/path", clinicianA, null),
        "health", app.call("GET", "/health", null, null));
    answers.forEach((what, r) -> {
      assertThat(r.headers().allValues("Cache-Control")).as(what).containsExactly("no-store");
      assertThat(r.headers().allValues("X-Content-Type-Options")).as(what).containsExactly("nosniff");
      // the export was dated Expires a minute ahead, which a cache that reads no Cache-Control honours: none
      // is, or one already past
      assertThat(r.headers().allValues("Expires")).as(what).allMatch("0"::equals);
      // plain HTTP: no HSTS, which a browser ignores here (TlsIT has it over HTTPS)
      assertThat(r.headers().allValues("Strict-Transport-Security")).as(what).isEmpty();
    });
  }

  @Test
  void healthNeedsNoKeyButEverythingElseDoes() {
    assertThat(app.call("GET", "/health", null, null).statusCode()).isEqualTo(200);
    HttpResponse<String> r = app.call("GET", "/admin/tenants/acme", null, null);
    assertThat(r.statusCode()).isEqualTo(401);
    assertThat(r.body()).contains("\"error\":\"unauthorized\"").contains("\"message\"");
    // a refused key is in the access log too (which sets this header)
    assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
    assertThat(app.call("GET", "/admin/tenants/acme", "cck_nonsense", null).statusCode()).isEqualTo(401);
  }

  @Test
  void creatingATenantTwiceIsIdempotent() {
    HttpResponse<String> again = app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"acme\",\"name\":\"Acme Health\"}");
    assertThat(again.statusCode()).isEqualTo(200);
    HttpResponse<String> other = app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"acme\",\"name\":\"Other\"}");
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(other.body()).contains("tenant_exists").contains("PATCH /admin/tenants/acme"); // how to rename it
  }

  @Test
  void aCreateAskingForOtherSettingsIsNotARetryAndABadEmbeddingSettingIsRefusedAtCreation() {
    String create = "{\"id\":\"retry\",\"name\":\"Retry\",\"settings\":{\"consentMode\":\"opt-out\"}}";
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), create).statusCode()).isEqualTo(201);
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), create).statusCode()).isEqualTo(200);
    HttpResponse<String> other = app.call("POST", "/admin/tenants", app.adminKey(), create.replace("opt-out", "opt-in"));
    assertThat(other.statusCode()).isEqualTo(409);
    assertThat(other.body()).contains("tenant_exists").contains("other settings").contains("PATCH /admin/tenants/retry");
    assertThat(app.call("GET", "/admin/tenants/retry", app.adminKey(), null).body()).contains("\"consentMode\":\"opt-out\"");

    HttpResponse<String> badModel = app.call("POST", "/admin/tenants", app.adminKey(),
        "{\"id\":\"badmodel\",\"settings\":{\"embedding\":{\"provider\":\"no-such-provider\"}}}");
    assertThat(badModel.statusCode()).as(badModel.body()).isEqualTo(400);
    assertThat(badModel.body()).contains("settings.embedding is not usable");
    assertThat(app.call("GET", "/admin/tenants/badmodel", app.adminKey(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void theIngestEndpointsOfAnUnknownTenantAre404ForTheOperator() {
    for (String path : List.of("", "/parked")) {
      HttpResponse<String> r = app.call("GET", "/admin/tenants/nosuch/ingest" + path, app.adminKey(), null);
      assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(404);
      // what to check: it said "no such tenant" and no more
      assertThat(r.body()).contains("\"tenant_not_found\"").contains("check the tenant id in the path")
          .contains("GET /admin/offboardings");
    }
    HttpResponse<String> retry = app.call("POST", "/admin/tenants/nosuch/ingest/parked/retry", app.adminKey(), "{}");
    assertThat(retry.statusCode()).as(retry.body()).isEqualTo(404);
  }

  @ParameterizedTest
  @ValueSource(strings = {"a;drop", "A", "", "x", "ab-c", "tenänt", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
  void badTenantIdsGet400AndCreateNothing(String id) throws SQLException {
    int schemasBefore = count("SELECT count(*) FROM pg_namespace");
    int rolesBefore = count("SELECT count(*) FROM pg_roles");
    HttpResponse<String> r = app.call("POST", "/admin/tenants", app.adminKey(),
        "{\"id\":\"" + id + "\",\"name\":\"Bad\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"error\":\"invalid_tenant_id\"").contains("^[a-z][a-z0-9_]{1,30}$");
    assertThat(count("SELECT count(*) FROM pg_namespace")).isEqualTo(schemasBefore);
    assertThat(count("SELECT count(*) FROM pg_roles")).isEqualTo(rolesBefore);
  }

  @Test
  void aTenantWithoutAnIdIsToldTheIdIsRequired() {
    HttpResponse<String> r = app.call("POST", "/admin/tenants", app.adminKey(), "{\"name\":\"No Id\"}");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.body()).contains("\"error\":\"invalid_tenant_id\"").contains("id is required");
  }

  @Test
  void aKeyOnAnotherTenantsPathLooksExactlyLikeAnUnknownTenant() {
    HttpResponse<String> other = app.call("GET", "/admin/tenants/bravo", adminKeyA, null);
    HttpResponse<String> unknown = app.call("GET", "/admin/tenants/nosuch", adminKeyA, null);
    assertThat(other.statusCode()).isEqualTo(404);
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(other.body()).isEqualTo(unknown.body());
    HttpResponse<String> otherKeys = app.call("GET", "/admin/tenants/bravo/keys", adminKeyA, null);
    HttpResponse<String> unknownKeys = app.call("GET", "/admin/tenants/nosuch/keys", adminKeyA, null);
    assertThat(otherKeys.statusCode()).isEqualTo(404);
    assertThat(otherKeys.body()).isEqualTo(unknownKeys.body());
    assertThat(app.call("GET", "/admin/tenants/acme", adminKeyA, null).statusCode()).isEqualTo(200);
  }

  @Test
  void aKeyWithoutTheRoleIsForbiddenOnItsOwnTenant() {
    HttpResponse<String> r = app.call("GET", "/admin/tenants/acme", clinicianA, null);
    assertThat(r.statusCode()).isEqualTo(403);
    assertThat(r.body()).contains("\"error\":\"forbidden\"");
    assertThat(app.call("POST", "/admin/tenants", clinicianA, "{\"id\":\"evil\"}").statusCode()).isEqualTo(403);
    // a tenant admin creating a tenant is told which key that takes
    HttpResponse<String> create = app.call("POST", "/admin/tenants", adminKeyA, "{\"id\":\"evil\"}");
    assertThat(create.statusCode()).isEqualTo(403);
    assertThat(create.body()).contains("only the platform operator key may do this").contains("CARECONTEXT_ADMIN_KEY");
  }

  /**
   * A tenant admin manages its own tenant's keys and settings and nothing of the platform's: it may
   * not list the tenants or their offboardings, nor offboard a tenant (its own included: that destroys
   * the data key and the trail), and another tenant's key id sent on its own tenant's path is no key of
   * its tenant (the lookup is by tenant too), so the other tenant's feed keeps working. These deny paths
   * had no test.
   */
  @Test
  void aTenantAdminReachesNoOperatorRouteAndNoOtherTenantsKey() {
    for (String[] call : new String[][] {{"GET", "/admin/tenants"}, {"GET", "/admin/offboardings"},
        {"DELETE", "/admin/tenants/acme"}, {"DELETE", "/admin/tenants/bravo"}}) {
      HttpResponse<String> r = app.call(call[0], call[1], adminKeyA, null);
      assertThat(r.statusCode()).as(call[0] + " " + call[1] + ": " + r.body()).isEqualTo(403);
      assertThat(r.body()).contains("only the platform operator key may do this").doesNotContain("bravo");
    }
    // creating a tenant is the operator's too, whatever the body: a tenant key was told to fix its JSON first
    for (String body : new String[] {"{\"id\":\"newco\"}", "{not json", "{\"id\":\"newco\",\"extra\":1}", ""}) {
      HttpResponse<String> r = app.call("POST", "/admin/tenants", adminKeyA, body);
      assertThat(r.statusCode()).as("POST /admin/tenants " + body + ": " + r.body()).isEqualTo(403);
      assertThat(r.body()).contains("only the platform operator key may do this");
    }
    assertThat(app.call("GET", "/admin/tenants/acme", app.adminKey(), null).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).statusCode()).isEqualTo(200);

    String bravoAdmin = app.tenantAdmin("bravo");
    HttpResponse<String> feed = app.call("POST", "/admin/tenants/bravo/keys", bravoAdmin,
        "{\"principal\":\"bravo-feed\",\"roles\":[\"ehr-integration\"]}");
    assertThat(feed.statusCode()).as(feed.body()).isEqualTo(201);
    String feedKey = secret(feed);
    HttpResponse<String> viaOwnPath = app.call("DELETE", "/admin/tenants/acme/keys/" + field(feed.body(), "keyId"),
        adminKeyA, null);
    HttpResponse<String> unknownKey = app.call("DELETE", "/admin/tenants/acme/keys/nosuchkey0000000000", adminKeyA, null);
    assertThat(viaOwnPath.statusCode()).isEqualTo(404);
    assertThat(viaOwnPath.body()).isEqualTo(unknownKey.body());
    assertThat(app.call("GET", "/fhir/bravo/Patient/nobody", feedKey, null, "application/fhir+json").statusCode())
        .isEqualTo(404); // the resource's 404: the key is live
    assertThat(app.call("GET", "/admin/tenants/bravo/keys", bravoAdmin, null).body())
        .doesNotContain("\"revokedAt\"");
  }

  /** ETREAT alone for a role that may not break the glass left its keys refused every request, after a 200. */
  @Test
  void aRoleLeftWithOnlyAPurposeItMayNotUseIsRefusedAndNothingIsStored() {
    String before = app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body();
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/bravo", app.tenantAdmin("bravo"),
        "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":{\"purposes\":[\"ETREAT\"],\"kMax\":3}}}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    assertThat(r.body()).contains("settings.rolePolicies.care-coordinator.purposes names only ETREAT")
        .contains("breakGlass.allowed is false");
    assertThat(field(app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body(), "updatedAt"))
        .isEqualTo(field(before, "updatedAt"));
    // with break-glass allowed it is a role for emergencies only, which is the tenant's to choose
    HttpResponse<String> ok = app.call("PATCH", "/admin/tenants/bravo", app.tenantAdmin("bravo"),
        "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":{\"purposes\":[\"ETREAT\"],"
            + "\"breakGlass\":{\"allowed\":true,\"maxMinutes\":15}}}}}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(app.call("PATCH", "/admin/tenants/bravo", app.tenantAdmin("bravo"),
        "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":null}}}").statusCode()).isEqualTo(200);
    // types filed under none of its categories: the role would read nothing, every answer empty
    String unchanged = app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body();
    HttpResponse<String> nowhere = app.call("PATCH", "/admin/tenants/bravo", app.tenantAdmin("bravo"),
        "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":{\"categories\":[\"administrative\"],"
            + "\"resourceTypes\":[\"Observation\"]}}}}");
    assertThat(nowhere.statusCode()).as(nowhere.body()).isEqualTo(400);
    assertThat(nowhere.body()).contains("none of its resourceTypes [Observation] is filed under any of its "
        + "categories [administrative] (Observation: [clinical, lab, note])");
    assertThat(field(app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body(), "updatedAt"))
        .isEqualTo(field(unchanged, "updatedAt"));
  }

  @Test
  void revokedKeysAreRefusedAtOnce() {
    HttpResponse<String> created = createKey("acme", "{\"principal\":\"temp\",\"roles\":[\"tenant-admin\"]}");
    String key = secret(created);
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(200);
    String keyId = field(created.body(), "keyId");
    assertThat(app.call("DELETE", "/admin/tenants/acme/keys/" + keyId, app.adminKey(), null).statusCode())
        .isEqualTo(204);
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(401);
    // a revoke retried (after a timeout, say) succeeds: it was a 404, and the client could not tell
    assertThat(app.call("DELETE", "/admin/tenants/acme/keys/" + keyId, app.adminKey(), null).statusCode())
        .isEqualTo(204);
    HttpResponse<String> never = app.call("DELETE", "/admin/tenants/acme/keys/nosuchkey0000000000", app.adminKey(), null);
    assertThat(never.statusCode()).isEqualTo(404);
    assertThat(never.body()).contains("key_not_found").contains("GET /admin/tenants/{tenant}/keys lists its keys");
    // the whole key pasted where its id goes (an admin retiring an app) is told so, and revokes nothing
    HttpResponse<String> live = createKey("acme", "{\"principal\":\"retired-app\",\"roles\":[\"billing\"]}");
    HttpResponse<String> whole = app.call("DELETE", "/admin/tenants/acme/keys/" + secret(live), app.adminKey(), null);
    assertThat(whole.statusCode()).isEqualTo(404);
    assertThat(whole.body()).contains("key_not_found").contains("a whole API key, not a key id")
        .contains("between cck_ and the next _").doesNotContain(secret(live));
    // still live (a billing key on the admin path: 403, a revoked one 401), until revoked by its id
    assertThat(app.call("GET", "/admin/tenants/acme", secret(live), null).statusCode()).isEqualTo(403);
    assertThat(app.call("DELETE", "/admin/tenants/acme/keys/" + field(live.body(), "keyId"), app.adminKey(), null)
        .statusCode()).isEqualTo(204);
    assertThat(app.call("GET", "/admin/tenants/acme", secret(live), null).statusCode()).isEqualTo(401);
    // a principal sent but not valid is not "required"
    HttpResponse<String> bad = app.call("POST", "/admin/tenants/acme/keys", app.adminKey(),
        "{\"principal\":\"bad principal!\",\"roles\":[\"auditor\"]}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("principal is not valid").doesNotContain("bad principal");
    // the trail's name for the operator's key is not a tenant key's to take
    HttpResponse<String> impostor = app.call("POST", "/admin/tenants/acme/keys", app.adminKey(),
        "{\"principal\":\"Platform-Admin\",\"roles\":[\"auditor\"]}");
    assertThat(impostor.statusCode()).isEqualTo(400);
    assertThat(impostor.body()).contains("is the platform operator's in the audit trail");
    // a DELETE has no body: a FHIR client's Content-Type on it is not refused (it was a 415)
    assertThat(app.call("DELETE", "/admin/tenants/acme/keys/nosuchkey0000000000", app.adminKey(), null, null,
        Map.of("Content-Type", "application/fhir+json")).statusCode()).isEqualTo(404);
  }

  @Test
  void aKeyIsRefusedWhileItsTenantIsNotActive() throws SQLException {
    HttpResponse<String> created = createKey("acme", "{\"principal\":\"while\",\"roles\":[\"tenant-admin\"]}");
    String key = secret(created);
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(200);
    // as while the tenant is being deleted: its keys stop working at once, before its rows are gone
    execute("UPDATE platform.tenants SET status = 'deleting' WHERE tenant_id = 'acme'");
    try {
      assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(401);
    } finally {
      execute("UPDATE platform.tenants SET status = 'active' WHERE tenant_id = 'acme'");
    }
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(200);
  }

  @Test
  void expiredKeysAreRefused() throws SQLException {
    HttpResponse<String> created = createKey("acme",
        "{\"principal\":\"short\",\"roles\":[\"tenant-admin\"],\"expiresAt\":\"2099-01-01T00:00:00Z\"}");
    String key = secret(created);
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(200);
    execute("UPDATE platform.api_keys SET expires_at = now() - interval '1 second' WHERE key_id = '"
        + field(created.body(), "keyId") + "'");
    assertThat(app.call("GET", "/admin/tenants/acme", key, null).statusCode()).isEqualTo(401);
    HttpResponse<String> past = app.call("POST", "/admin/tenants/acme/keys", app.adminKey(),
        "{\"principal\":\"p\",\"roles\":[\"clinician\"],\"expiresAt\":\"2001-01-01T00:00:00Z\"}");
    assertThat(past.statusCode()).isEqualTo(400);
  }

  @Test
  void keysAreValidatedAndOnlyTheirHashIsStored() throws SQLException {
    assertThat(app.call("POST", "/admin/tenants/acme/keys", app.adminKey(), "{\"principal\":\"p\",\"roles\":[\"god\"]}")
        .statusCode()).isEqualTo(400);
    assertThat(app.call("POST", "/admin/tenants/acme/keys", app.adminKey(), "{\"roles\":[\"clinician\"]}")
        .statusCode()).isEqualTo(400);
    String secret = secret(createKey("acme", "{\"principal\":\"hash-check\",\"roles\":[\"auditor\"]}"));
    // cck_<keyId>_<random>: the random part is base64url and may itself contain '_'
    String secretPart = secret.split("_", 3)[2];
    assertThat(count("SELECT count(*) FROM platform.api_keys WHERE encode(secret_hash, 'escape') LIKE '%"
        + secretPart + "%'")).isZero();
    String list = app.call("GET", "/admin/tenants/acme/keys", app.adminKey(), null).body();
    assertThat(list).contains("hash-check").contains("\"roles\":[\"auditor\"]").doesNotContain(secretPart);
  }

  @Test
  void valuesTheDatabaseCannotHoldAre400sNot500s() throws SQLException {
    // Each was a 500 whose log line quoted PostgreSQL's message about the value (timestamp out of
    // range: "..."), and the far-off expiry left a key-create row in the trail for a key never made.
    for (String[] bad : new String[][] {
        {"POST", "/admin/tenants/bravo/keys",
            "{\"principal\":\"far-future\",\"roles\":[\"clinician\"],\"expiresAt\":\"+999999999-12-31T23:59:59Z\"}",
            "expiresAt must be before the year 10000"},
        {"POST", "/admin/tenants/bravo/keys",
            "{\"principal\":\"far-future\",\"roles\":[\"clinician\"],\"expiresAt\":\"+10000-01-01T00:00:00Z\"}",
            "expiresAt must be before the year 10000"},
        {"POST", "/admin/tenants", "{\"id\":\"acme4\",\"name\":\"A\\u0000B\"}", "tenant name must not hold control characters"},
        {"PATCH", "/admin/tenants/bravo", "{\"name\":\"Bravo\\u0000\"}", "tenant name must not hold control characters"},
        {"PATCH", "/admin/tenants/bravo", "{\"name\":\"Bra\\u0007vo\"}", "tenant name must not hold control characters"},
        // a lone surrogate was stored as "?" and answered 200 with the name changed to it
        {"POST", "/admin/tenants", "{\"id\":\"acme4\",\"name\":\"A\\ud800B\"}", "tenant name must be valid Unicode"},
        {"PATCH", "/admin/tenants/bravo", "{\"name\":\"Bravo\\udfff\"}", "tenant name must be valid Unicode"},
        // settings that are not an object were "the request is malformed", naming nothing
        {"PATCH", "/admin/tenants/bravo", "{\"settings\":\"opt-out\"}", "field 'settings' must be an object"},
        {"POST", "/admin/tenants", "{\"id\":\"acme4\",\"settings\":[]}", "field 'settings' must be an object"}}) {
      HttpResponse<String> r = app.call(bad[0], bad[1], app.adminKey(), bad[2]);
      assertThat(r.statusCode()).as(bad[2] + " " + r.body()).isEqualTo(400);
      assertThat(r.body()).as(bad[2]).contains(bad[3]);
    }
    // no allowed row for a key never made (it was a 500 after that row); each refusal is a denied row
    assertThat(count("SELECT count(*) FROM tenant_bravo.audit_log WHERE action = 'key-create' "
        + "AND details LIKE '%far-future%' AND decision <> 'denied'")).isZero();
    assertThat(count("SELECT count(*) FROM tenant_bravo.audit_log WHERE action = 'key-create' "
        + "AND details LIKE '%far-future%' AND reason = 'key_request_invalid'")).isEqualTo(2);
    assertThat(count("SELECT count(*) FROM platform.tenants WHERE tenant_id = 'acme4'")).isZero();
    assertThat(field(app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body(), "name")).doesNotContain("?");
    HttpResponse<String> farButFine = app.call("POST", "/admin/tenants/bravo/keys", app.tenantAdmin("bravo"),
        "{\"principal\":\"far\",\"roles\":[\"clinician\"],\"expiresAt\":\"9999-12-31T23:59:59Z\"}");
    assertThat(farButFine.statusCode()).as(farButFine.body()).isEqualTo(201);
  }

  // The answer echoed the nanoseconds sent while the database kept (and expires the key at) microseconds.
  @Test
  void aKeysExpiryIsAnsweredAsItIsStored() {
    HttpResponse<String> made = app.call("POST", "/admin/tenants/bravo/keys", app.tenantAdmin("bravo"),
        "{\"principal\":\"nanos\",\"roles\":[\"clinician\"],\"expiresAt\":\"2099-01-01T00:00:00.123456789Z\"}");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    assertThat(field(made.body(), "expiresAt")).isEqualTo("2099-01-01T00:00:00.123456Z");
    String listed = app.call("GET", "/admin/tenants/bravo/keys", app.tenantAdmin("bravo"), null).body();
    assertThat(listed).contains("\"principal\":\"nanos\"").contains("2099-01-01T00:00:00.123456Z")
        .doesNotContain("123456789");
  }

  /**
   * A new tenant's updatedAt is its createdAt until its first change, whether it was created with settings or
   * without: it was the end of provisioning (seconds later for a slow provisioning), or the moment the settings it
   * was created with were stored, and read as a change made after creation.
   */
  @Test
  void aNewTenantsUpdatedAtIsItsCreatedAtUntilItsFirstChange() {
    for (String body : new String[] {"{\"id\":\"fresh_plain\"}",
        "{\"id\":\"fresh_set\",\"settings\":{\"consentMode\":\"opt-out\"}}"}) {
      HttpResponse<String> made = app.call("POST", "/admin/tenants", app.adminKey(), body);
      assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
      assertThat(field(made.body(), "updatedAt")).as(body).isEqualTo(field(made.body(), "createdAt"));
      String id = field(body, "id");
      String read = app.call("GET", "/admin/tenants/" + id, app.adminKey(), null).body();
      assertThat(field(read, "updatedAt")).as(body).isEqualTo(field(read, "createdAt"));
    }
    HttpResponse<String> renamed = app.call("PATCH", "/admin/tenants/fresh_plain", app.adminKey(),
        "{\"name\":\"Fresh\"}");
    assertThat(renamed.statusCode()).as(renamed.body()).isEqualTo(200);
    assertThat(java.time.Instant.parse(field(renamed.body(), "updatedAt")))
        .isAfter(java.time.Instant.parse(field(renamed.body(), "createdAt")));
  }

  @Test
  void unknownTopLevelFieldsAndMistypedFieldsAreRefusedAndNamed() throws SQLException {
    // a PATCH with a misspelt "settings" answered 200, changed nothing and moved updatedAt
    String before = field(app.call("GET", "/admin/tenants/bravo", app.adminKey(), null).body(), "updatedAt");
    for (String[] bad : new String[][] {
        {"PATCH", "/admin/tenants/bravo", "{\"setting\":{\"consentMode\":\"opt-in\"}}", "an unknown field: this body takes only the fields name, settings"},
        {"PATCH", "/admin/tenants/bravo", "{\"MRN4471902\":1}", "an unknown field: this body takes only the fields name, settings"},
        {"PATCH", "/admin/tenants/bravo", "{\"name\":7}", "field 'name' must be a string"},
        // a merge patch's null removes: a name cannot go, and resetting every setting at once is not offered
        // (both answered 200 and changed nothing)
        {"PATCH", "/admin/tenants/bravo", "{\"name\":null}", "would remove the tenant's name"},
        {"PATCH", "/admin/tenants/bravo", "{\"settings\":null}", "reset one with null for its key"},
        {"POST", "/admin/tenants", "{\"id\":\"acme3\",\"name\":\"A3\",\"bogus\":true}", "the fields id, name, settings"},
        {"POST", "/admin/tenants", "{\"id\":\"acme3\",\"name\":33}", "field 'name' must be a string"},
        // a blank name was taken as the id on POST while PATCH refused it
        {"POST", "/admin/tenants", "{\"id\":\"acme3\",\"name\":\" \"}", "tenant name must be 1 to 200 characters"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":[\"clinician\"],\"expires\":\"2099-01-01T00:00:00Z\"}",
            "an unknown field: this body takes only the fields principal, roles, expiresAt, practitionerId"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":42,\"roles\":[\"clinician\"]}", "field 'principal' must be a string"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":[5]}", "field 'roles' must be an array of role names"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":\"clinician\"}",
            "field 'roles' must be an array of role names"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":[\"nurse\"]}", "unknown role"},
        // content after the object was ignored: an auditor key was created (201) from the first object
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":[\"auditor\"]} {\"roles\":[\"tenant-admin\"]}",
            "the request is malformed"},
        {"POST", "/admin/tenants", "{\"id\":\"acme3\",\"name\":\"A3\"} trailing", "the request is malformed"},
        {"PATCH", "/admin/tenants/bravo", "{\"name\":\"Bravo\"} {\"settings\":{\"consentMode\":\"opt-out\"}}",
            "the request is malformed"},
        // sound JSON past the parser's depth said only "the request is malformed": there was no syntax to fix
        {"PATCH", "/admin/tenants/bravo", "{\"settings\":{\"rolePolicies\":" + "{\"a\":".repeat(1200) + "1"
            + "}".repeat(1200) + "}}", "the body nests objects and arrays deeper than 1000 levels"},
        {"POST", "/admin/tenants/bravo/keys", "{\"principal\":\"p\",\"roles\":" + "[".repeat(3000) + "]".repeat(3000)
            + "}", "the body nests objects and arrays deeper than 1000 levels"}}) {
      HttpResponse<String> r = app.call(bad[0], bad[1], app.adminKey(), bad[2]);
      assertThat(r.statusCode()).as(bad[2]).isEqualTo(400);
      assertThat(r.body()).as(bad[2]).contains("\"error\":\"bad_request\"").contains(bad[3]);
    }
    assertThat(count("SELECT count(*) FROM platform.tenants WHERE tenant_id = 'acme3'")).isZero();
    assertThat(count("SELECT count(*) FROM platform.api_keys WHERE tenant_id = 'bravo' AND principal IN ('p', '42')"))
        .isZero();
    // and a PATCH that changes nothing leaves updatedAt alone
    HttpResponse<String> same = app.call("PATCH", "/admin/tenants/bravo", app.adminKey(), "{\"name\":\"Bravo\"}");
    assertThat(same.statusCode()).as(same.body()).isEqualTo(200);
    assertThat(field(same.body(), "updatedAt")).isEqualTo(before);

    // RFC 7386's own media type, as merge-patch clients send it (it was a 415); another type still is one
    HttpResponse<String> merge = app.call("PATCH", "/admin/tenants/bravo", app.adminKey(), "{\"name\":\"Bravo\"}",
        "application/merge-patch+json");
    assertThat(merge.statusCode()).as(merge.body()).isEqualTo(200);
    assertThat(app.call("PATCH", "/admin/tenants/bravo", app.adminKey(), "{\"name\":\"Bravo\"}", "text/plain")
        .statusCode()).isEqualTo(415);
  }

  @Test
  void settingsArePatchedAndValidated() {
    HttpResponse<String> ok = app.call("PATCH", "/admin/tenants/acme", adminKeyA,
        "{\"settings\":{\"consentMode\":\"opt-out\",\"retentionYears\":7}}");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).contains("\"consentMode\":\"opt-out\"").contains("\"retentionYears\":7");
    HttpResponse<String> bad = app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{\"settings\":{\"consentMod\":\"x\"}}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("settings has an unknown setting; known settings: consentMode,").doesNotContain("consentMod'");
    assertThat(app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{not json").statusCode()).isEqualTo(400);
    HttpResponse<String> badModel = app.call("PATCH", "/admin/tenants/acme", adminKeyA,
        "{\"settings\":{\"embedding\":{\"provider\":\"no-such-provider\"}}}");
    assertThat(badModel.statusCode()).isEqualTo(400);
    assertThat(badModel.body()).contains("settings.embedding is not usable");
  }

  @Test
  void theModelAllowlistIsCheckedBeforeItIsStored() {
    // before, any JSON object was stored: a misspelt field left no endpoint, or an endpoint not marked BAA-covered
    Map<String, String> refused = Map.of(
        "{\"endpoints\":\"x\"}", "settings.llm.endpoints must be a JSON array",
        "{\"endpointz\":[]}", "settings.llm has an unknown field; its fields are",
        "{\"endpoints\":[{\"baseUrl\":\"ftp://models\",\"model\":\"m\"}]}", "llm.endpoints[0].baseUrl must be an http(s) URL",
        "{\"endpoints\":[{\"baseUrl\":\"https://m.example\"}]}", "llm.endpoints[0].model is required",
        "{\"endpoints\":[{\"baseUrl\":\"http://models.internal/v1\",\"model\":\"m\"}]}", "plain http to a remote host",
        "{\"endpoints\":[{\"baseUrl\":\"https://m.example\",\"model\":\"m\",\"baaCoverd\":true}]}",
        "llm.endpoints[0] has an unknown field; its fields are",
        "{\"endpoints\":[{\"baseUrl\":\"https://m.example\",\"model\":\"m\",\"apiKeySecret\":\"sk-live-123\"}]}",
        "apiKeySecret must be the name of an environment variable",
        "{\"endpoints\":[{\"baseUrl\":\"https://m.example\",\"model\":\"m\"}],\"default\":\"other\"}",
        "llm.default names no endpoint",
        "{\"allowDeidentifiedToNonBaa\":\"yes\"}", "llm.allowDeidentifiedToNonBaa must be true or false");
    refused.forEach((llm, message) -> {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{\"settings\":{\"llm\":" + llm + "}}");
      assertThat(r.statusCode()).as(llm).isEqualTo(400);
      assertThat(r.body()).as(llm).contains(message).doesNotContain("sk-live-123");
    });
    String azure = """
        {"settings":{"llm":{"endpoints":[{"name":"azure","baseUrl":"https://m.example/openai/v1","model":"gpt-4o",
          "baaCovered":true,"apiKeySecret":"AZURE_OPENAI_KEY","timeoutSeconds":20,"maxRetries":2}],"default":"azure",
          "dailyTokenBudgetPerKey":50000}}}""";
    // a variable the operator has not granted to this tenant: its admin names the host it is sent to
    HttpResponse<String> notGranted = app.call("PATCH", "/admin/tenants/acme", adminKeyA, azure);
    assertThat(notGranted.statusCode()).isEqualTo(400);
    // named from settings, as every other refusal of a setting is (it said "llm.endpoints[0]…" alone)
    assertThat(notGranted.body()).contains("\"settings.llm.endpoints[0].apiKeySecret names a variable the platform operator "
        + "has not granted to this tenant").contains("CARECONTEXT_TENANT_SECRETS");
    HttpResponse<String> embedding = app.call("PATCH", "/admin/tenants/acme", adminKeyA, """
        {"settings":{"embedding":{"provider":"openai-compatible","baseUrl":"https://e.example/v1","model":"e",
          "dimensions":384,"apiKeySecret":"HOME","baaCovered":true}}}""");
    assertThat(embedding.statusCode()).isEqualTo(400);
    assertThat(embedding.body()).contains("settings.embedding.apiKeySecret names a variable the platform operator");
    System.setProperty("carecontext.tenant.secrets", "other:AZURE_OPENAI_KEY,acme:AZURE_OPENAI_KEY");
    try {
      // a host the operator has not approved for this tenant: its admin's baaCovered is its own word, and
      // the prompts (for an embedding endpoint, every chunk text) go to whatever host it names
      HttpResponse<String> notApproved = app.call("PATCH", "/admin/tenants/acme", adminKeyA, azure);
      assertThat(notApproved.statusCode()).as(notApproved.body()).isEqualTo(400);
      assertThat(notApproved.body()).contains("\"settings.llm.endpoints[0].baseUrl names a host the platform operator has not "
          + "approved for this tenant").contains("CARECONTEXT_MODEL_HOSTS").doesNotContain("m.example");
      System.setProperty("carecontext.model.hosts", "other:m.example");
      assertThat(app.call("PATCH", "/admin/tenants/acme", adminKeyA, azure).statusCode()).isEqualTo(400);
      HttpResponse<String> exfiltrate = app.call("PATCH", "/admin/tenants/acme", adminKeyA, """
          {"settings":{"embedding":{"provider":"openai-compatible","baseUrl":"https://collector.example/v1","model":"e",
            "dimensions":384,"baaCovered":true}}}""");
      assertThat(exfiltrate.statusCode()).as(exfiltrate.body()).isEqualTo(400);
      assertThat(exfiltrate.body()).contains("settings.embedding.baseUrl names a host the platform operator has not approved");
      System.setProperty("carecontext.model.hosts", "acme:m.example");
      HttpResponse<String> ok = app.call("PATCH", "/admin/tenants/acme", adminKeyA, azure);
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    } finally {
      System.clearProperty("carecontext.tenant.secrets");
      System.clearProperty("carecontext.model.hosts");
    }
  }

  @Test
  void rolePoliciesAreCheckedBeforeTheyAreStored() {
    // before, {"kMax": 0} was stored and then every context query of the tenant failed with a 500
    Map<String, String> refused = pairs(
        "{\"clinician\":{\"kMax\":0}}", "settings.rolePolicies.clinician.kMax must be a whole number from 1 to 100",
        "{\"clinician\":{\"kMax\":\"ten\"}}", "settings.rolePolicies.clinician.kMax must be a whole number",
        "{\"clinician\":{\"purpose\":[\"TREAT\"]}}", "settings.rolePolicies.clinician has an unknown field; its fields are",
        "{\"clinician\":{\"purposes\":[\"TREATMENT\"]}}", "settings.rolePolicies.clinician.purposes takes only",
        "{\"nurse\":{\"kMax\":5}}", "settings.rolePolicies: unknown role; the roles that take a policy are clinician, "
            + "care-coordinator, billing, researcher",
        "{\"billing\":{\"resourceTypes\":[\"Claims\"]}}", "takes only FHIR R4 resource type names",
        "{\"billing\":{\"labels\":[\"N,R\"]}}", "labels takes security label codes",
        "{\"care-coordinator\":{\"labelsWithConsent\":[\"P S Y\"]}}",
        "rolePolicies.care-coordinator.labelsWithConsent takes security label codes",
        // a code the platform does not know granted nothing and was stored all the same
        "{\"clinician\":{\"labels\":[\"N\",\"R\",\"psy\"]}}",
        "settings.rolePolicies.clinician.labels[2] is not a security label code the platform knows",
        "{\"care-coordinator\":{\"labelsWithConsent\":[\"MRN4471902\"]}}",
        "settings.rolePolicies.care-coordinator.labelsWithConsent[0] is not a security label code",
        "{\"clinician\":{\"breakGlass\":{\"maxMinutes\":0}}}", "breakGlass.maxMinutes must be a whole number from 1",
        "{\"clinician\":{\"categories\":\"clinical\"}}", "categories must be a JSON array of strings",
        // the platform's limits (platform migration 9): no patient policy for a role without one, and a
        // researcher is never re-identified
        "{\"tenant-admin\":{\"categories\":[\"clinical\"],\"purposes\":[\"TREAT\"],\"careRelationship\":false}}",
        "settings.rolePolicies.tenant-admin: this role reads no patient data",
        "{\"auditor\":{\"purposes\":[\"TREAT\"]}}", "settings.rolePolicies.auditor: this role reads no patient data",
        "{\"researcher\":{\"deidentifiedOnly\":false}}",
        "settings.rolePolicies.researcher.deidentifiedOnly cannot be false",
        // platform migration 16: a researcher reads for research, with consent; treatment purposes and
        // break-glass (which reads without consent) are not a tenant admin's to give it
        "{\"researcher\":{\"purposes\":[\"HRESCH\",\"TREAT\",\"ETREAT\"],\"breakGlass\":{\"allowed\":true,"
            + "\"overrideConsent\":true}}}",
        "settings.rolePolicies.researcher.purposes[1] is not a research purpose: the platform serves this role "
            + "de-identified only, for research, and its purposes may be only HRESCH",
        "{\"researcher\":{\"breakGlass\":{\"allowed\":true,\"overrideConsent\":true}}}",
        "settings.rolePolicies.researcher.breakGlass.allowed cannot be true: break-glass is for emergency treatment",
        "{\"researcher\":{\"breakGlass\":{\"overrideConsent\":true}}}",
        "settings.rolePolicies.researcher.breakGlass.overrideConsent cannot be true");
    refused.forEach((policies, message) -> {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/acme", adminKeyA,
          "{\"settings\":{\"rolePolicies\":" + policies + "}}");
      assertThat(r.statusCode()).as(policies).isEqualTo(400);
      assertThat(r.body()).as(policies).contains(message);
    });
    HttpResponse<String> ok = app.call("PATCH", "/admin/tenants/acme", adminKeyA, """
        {"settings":{"rolePolicies":{"care-coordinator":{"kMax":5,"labels":["N"],"resourceTypes":["Observation","*"],
          "breakGlass":{"allowed":false}}}}}""");
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    assertThat(ok.body()).contains("\"kMax\":5");
    // a second role's override merges in (it replaced the first's), and the policies in force are shown whole
    HttpResponse<String> billing = app.call("PATCH", "/admin/tenants/acme", adminKeyA,
        "{\"settings\":{\"rolePolicies\":{\"billing\":{\"kMax\":3}}}}");
    assertThat(billing.statusCode()).as(billing.body()).isEqualTo(200);
    String shown = app.call("GET", "/admin/tenants/acme", adminKeyA, null).body();
    assertThat(shown).contains("\"care-coordinator\":{\"kMax\":5,\"labels\":[\"N\"]").contains("\"billing\":{\"kMax\":3}")
        .contains("\"effectiveRolePolicies\":{\"billing\":{\"categories\":[")
        .containsPattern("\"care-coordinator\":\\{\"categories\":\\[[^]]*\\],\"resourceTypes\":\\[\"Observation\",\"\\*\"\\],"
            + "\"purposes\":\\[[^]]*\\],\"labels\":\\[\"N\"\\],\"labelsWithConsent\":\\[[^]]*\\],\"kMax\":5,")
        .containsPattern("\"billing\":\\{\"categories\":\\[[^]]*\\],[^}]*\"kMax\":3,");
    // a researcher's narrower settings are still the tenant's to make (then reset: other tests read as researcher)
    HttpResponse<String> research = app.call("PATCH", "/admin/tenants/acme", adminKeyA, """
        {"settings":{"rolePolicies":{"researcher":{"kMax":5,"categories":["lab","medication"],"purposes":["HRESCH"],
          "breakGlass":{"allowed":false,"overrideConsent":false}}}}}""");
    assertThat(research.statusCode()).as(research.body()).isEqualTo(200);
    assertThat(research.body()).containsPattern("\"researcher\":\\{\"categories\":\\[\"lab\",\"medication\"\\],"
        + "\"resourceTypes\":\\[[^]]*\\],\"purposes\":\\[\"HRESCH\"\\],[^}]*\"kMax\":5,[^}]*\"breakGlass\":\\{\"allowed\":false,"
        + "\"overrideConsent\":false,");
    HttpResponse<String> reset = app.call("PATCH", "/admin/tenants/acme", adminKeyA,
        "{\"settings\":{\"rolePolicies\":{\"researcher\":null}}}");
    assertThat(reset.statusCode()).as(reset.body()).isEqualTo(200);
  }

  /**
   * A researcher policy an earlier version stored beyond platform migration 16's limits (treatment purposes,
   * break-glass) grants nothing, and the database refuses every write of the tenant's row while it is stored:
   * a PATCH of another setting answered a 500. It is a 400 naming the field until the admin corrects it.
   */
  @Test
  void aResearcherPolicyStoredBeyondThePlatformsLimitsIsNamedUntilCorrected() throws SQLException {
    app.tenantWithKey("oldres", "res-o", "[\"researcher\"]", null);
    String admin = app.tenantAdmin("oldres");
    // written past both checks, as a version before them could have stored it
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute("ALTER TABLE platform.tenants DISABLE TRIGGER tenants_role_policies_within_limits");
      try {
        st.executeUpdate("UPDATE platform.tenants SET settings = settings || '{\"rolePolicies\":{\"researcher\":"
            + "{\"purposes\":[\"HRESCH\",\"TREAT\",\"ETREAT\"],\"breakGlass\":{\"allowed\":true,\"overrideConsent\":true}}}}'"
            + "::jsonb WHERE tenant_id = 'oldres'");
      } finally {
        st.execute("ALTER TABLE platform.tenants ENABLE TRIGGER tenants_role_policies_within_limits");
      }
      try (ResultSet rs = st.executeQuery("SELECT purposes::text, break_glass, overrides_consent FROM platform.role_scopes "
          + "WHERE tenant_id = 'oldres' AND role = 'researcher'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("{HRESCH}");
        assertThat(rs.getBoolean(2)).isFalse();
        assertThat(rs.getBoolean(3)).isFalse();
      }
    }
    HttpResponse<String> other = app.call("PATCH", "/admin/tenants/oldres", admin, "{\"settings\":{\"retentionYears\":8}}");
    assertThat(other.statusCode()).as(other.body()).isEqualTo(400);
    assertThat(other.body()).contains("\"error\"")
        .contains("settings.rolePolicies.researcher.purposes[1] is not a research purpose");
    HttpResponse<String> renamed = app.call("PATCH", "/admin/tenants/oldres", admin, "{\"name\":\"Old Research\"}");
    assertThat(renamed.statusCode()).as(renamed.body()).isEqualTo(400);
    HttpResponse<String> corrected = app.call("PATCH", "/admin/tenants/oldres", admin,
        "{\"settings\":{\"retentionYears\":8,\"rolePolicies\":{\"researcher\":null}}}");
    assertThat(corrected.statusCode()).as(corrected.body()).isEqualTo(200);
    assertThat(corrected.body()).contains("\"retentionYears\":8")
        .containsPattern("\"researcher\":\\{\"categories\":\\[[^]]*\\],\"resourceTypes\":\\[[^]]*\\],\"purposes\":\\[\"HRESCH\"\\],");
  }

  @Test
  void theResearchIndexIsBuiltInTheBackgroundAndDroppedWithItsSetting() throws Exception {
    String index = "SELECT count(*) FROM pg_indexes WHERE schemaname = 'tenant_acme' AND indexname = 'chunks_embedding_hnsw'";
    assertThat(app.call("GET", "/admin/tenants/acme/ingest", adminKeyA, null).body())
        .contains("\"researchIndex\":{\"state\":\"absent\"}")
        .contains("\"retrying\":0").doesNotContain("lastError"); // nothing has failed
    HttpResponse<String> on = app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{\"settings\":{\"researchIndex\":true}}");
    assertThat(on.statusCode()).as(on.body()).isEqualTo(200);
    assertThat(on.body()).contains("\"researchIndex\":true");
    String state = "";
    String ready = "\"researchIndex\":{\"state\":\"ready\"}";
    // ready and nothing pending: a chunk another test wrote can land after the build made its embeddings, and
    // then the status is ready with it pending until the worker's sweep (every five seconds) makes it
    for (int i = 0; i < 600 && !state.contains(ready); i++) {
      Thread.sleep(100);
      state = app.call("GET", "/admin/tenants/acme/ingest", adminKeyA, null).body();
    }
    assertThat(state).contains(ready);
    assertThat(count(index)).isEqualTo(1);
    HttpResponse<String> bad = app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{\"settings\":{\"researchIndex\":\"yes\"}}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("settings.researchIndex must be true or false");
    assertThat(app.call("PATCH", "/admin/tenants/acme", adminKeyA, "{\"settings\":{\"researchIndex\":false}}")
        .statusCode()).isEqualTo(200);
    assertThat(count(index)).isZero();
    assertThat(app.call("GET", "/admin/tenants/acme/ingest", adminKeyA, null).body())
        .contains("\"researchIndex\":{\"state\":\"absent\"}");
  }

  /**
   * Research ranks on research embeddings (tenant migration 64), which ingest never makes: a server that
   * runs embedding worker threads also sweeps the tenants with research on and makes them for the chunks
   * written since, so the build's status comes back to ready without anyone asking.
   */
  @Test
  void aServerWithWorkerThreadsMakesTheResearchEmbeddingsOfChunksWrittenWhileResearchIsOn() throws Exception {
    String feed = app.tenantWithKey("sweeping", "feed-s", "[\"ehr-integration\"]", null);
    HttpResponse<String> on = app.call("PATCH", "/admin/tenants/sweeping", app.adminKey(),
        "{\"settings\":{\"researchIndex\":true}}");
    assertThat(on.statusCode()).as(on.body()).isEqualTo(200);
    HttpResponse<String> stored = app.call("PUT", "/fhir/sweeping/Condition/cn-1", feed, """
        {"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},
         "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}}""",
        "application/fhir+json");
    assertThat(stored.statusCode()).as(stored.body()).isIn(200, 201);
    String made = "SELECT count(*) FROM tenant_sweeping.chunks WHERE research_embedding IS NOT NULL";
    String pending = "SELECT count(*) FROM tenant_sweeping.chunks WHERE research_embedding IS NULL";
    String state = "";
    // until the status itself says nothing is pending (read before the counts, it could still show the last chunk)
    for (int i = 0; i < 600 && !(count(made) > 0 && count(pending) == 0
        && state.contains("\"researchIndex\":{\"state\":\"ready\"}")); i++) {
      Thread.sleep(100);
      state = app.call("GET", "/admin/tenants/sweeping/ingest", app.adminKey(), null).body();
    }
    assertThat(count(made)).isPositive();
    assertThat(count(pending)).isZero();
    assertThat(state).contains("\"researchIndex\":{\"state\":\"ready\"}");
  }

  @Test
  void deletingATenantRemovesItsSchemaRoleAndKeys() throws SQLException {
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"leaving\"}").statusCode()).isEqualTo(201);
    String key = secret(createKey("leaving", "{\"principal\":\"x\",\"roles\":[\"tenant-admin\"]}"));
    assertThat(app.call("DELETE", "/admin/tenants/leaving", app.adminKey(), null).statusCode()).isEqualTo(204);
    assertThat(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_leaving'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_roles WHERE rolname LIKE '%_tenant_leaving'")).isZero();
    assertThat(app.call("GET", "/admin/tenants/leaving", key, null).statusCode()).isEqualTo(401);
    assertThat(app.call("DELETE", "/admin/tenants/leaving", app.adminKey(), null).statusCode()).isEqualTo(404);
    // what remains: that it was offboarded, when and by whom (platform migration 10), for the operator only
    HttpResponse<String> left = app.call("GET", "/admin/offboardings", app.adminKey(), null);
    assertThat(left.statusCode()).isEqualTo(200);
    assertThat(left.body()).contains("\"tenant\":\"leaving\"", "\"offboardedBy\":\"platform-admin\"", "\"createdAt\"",
        "\"offboardedAt\"");
    assertThat(count("SELECT count(*) FROM platform.tenant_offboardings WHERE tenant_id = 'leaving'")).isEqualTo(1);
    assertThat(app.call("GET", "/admin/offboardings", adminKeyA, null).statusCode()).isEqualTo(403);
    // the application role reads the record and may not change it
    assertThat(count("SELECT count(*) FROM information_schema.role_table_grants WHERE table_schema = 'platform' "
        + "AND table_name = 'tenant_offboardings' AND grantee = '" + app.database.appUser()
        + "' AND privilege_type <> 'SELECT'")).isZero();
  }

  @Test
  void aTenantWhoseRoleNameAnotherInstallationUsesIsRefusedWith409() throws SQLException {
    String taken = app.database.readerRole(io.carecontext.migrations.TenantId.of("shared"));
    execute("CREATE ROLE " + taken + " NOLOGIN"); // as another installation on the cluster would have it
    HttpResponse<String> r = app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"shared\"}");
    assertThat(r.statusCode()).isEqualTo(409);
    assertThat(field(r.body(), "error")).isEqualTo("role_name_taken");
    assertThat(field(r.body(), "message")).contains(taken).contains("CARECONTEXT_DB_ROLE_PREFIX");
    assertThat(count("SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_shared'")).isZero();
    assertThat(count("SELECT count(*) FROM pg_roles WHERE rolname = '" + taken + "'")).isEqualTo(1);
    assertThat(app.call("GET", "/admin/tenants/shared", app.adminKey(), null).statusCode()).isEqualTo(404);
  }

  @Test
  void unknownRoutesAndMethodsAnswerWithTheErrorShape() {
    HttpResponse<String> r = app.call("GET", "/nope", app.adminKey(), null);
    assertThat(r.statusCode()).isEqualTo(404);
    assertThat(r.body()).contains("\"error\"").contains("\"message\"");
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(app.database, sql);
  }

  static void execute(String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(sql);
    }
  }

  /** Key, value, key, value…, in order: more pairs than Map.of takes. */
  static Map<String, String> pairs(String... kv) {
    Map<String, String> m = new java.util.LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return m;
  }
}
