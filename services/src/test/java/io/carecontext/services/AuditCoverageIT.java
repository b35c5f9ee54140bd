package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.synthetic.SyntheticPatients;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPostgres;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every route of the service's own OpenAPI document, and what it writes to a tenant's audit trail: a
 * route that reads or writes a tenant's data (its patients' records, its configuration, keys or trail)
 * records an allowed call, a call refused for the key's role, a call with a key of another tenant (in
 * that key's own tenant's trail, answered like a tenant that does not exist), the platform operator's
 * call and calls with a revoked and an expired key; a route that writes no row says why in {@link #ROUTES}. A route added to the service without a
 * decision here fails {@link #everyRouteOfTheDocumentHasADecision}, and one the document does not show
 * fails {@link #everyRouteTheServiceServesIsInTheDocument}.
 */
class AuditCoverageIT {

  /** The tenant whose trail is checked. */
  static final String T = "covered";
  /** Another tenant: its keys are refused on {@link #T}'s paths. */
  static final String O = "elsewhere";

  static TestServer app;
  /** {@link #T}'s keys by role, and {@link #O}'s. */
  static final Map<String, String> keys = new LinkedHashMap<>();
  static final Map<String, String> otherKeys = new LinkedHashMap<>();
  static String revoked;
  static String expired;
  static String patientId;
  static final AtomicInteger serial = new AtomicInteger();

  /** One HTTP call on {@link #T}'s paths with the key given. */
  interface Call {
    HttpResponse<String> send(String key);
  }

  /** What a route writes to the tenant's trail. */
  sealed interface Decision permits Audited, NoRow {}

  /**
   * A route that records its calls. {@code allowed}, made with the key of {@code role} (after
   * {@code prepare}, whose rows are not looked at), answers {@code allowedStatus} and writes
   * {@code allowedRow} ("action decision reason"), or no row when that is null ({@code why} says why; a
   * route that allows nothing has no {@code allowed} call either). {@code refused}, made with the key of
   * {@code refusedRole} (a key of the tenant without the route's role), answers {@code refusedStatus} and
   * writes {@code refusedRow}. The same call with a key of another tenant holding {@code role} answers
   * {@code otherStatus} and writes {@code otherRow} in that key's own tenant's trail, never in this one's
   * (no row when null, {@code why} says why).
   */
  record Audited(String route, String role, Runnable prepare, Call allowed, int allowedStatus, String allowedRow,
                 String refusedRole, Call refused, int refusedStatus, String refusedRow,
                 String otherRole, int otherStatus, String otherRow, int operatorStatus, String operatorRow, String why)
      implements Decision {

    /** Why a call writes no row, or the route allows nothing. */
    Audited because(String reason) {
      return register(new Audited(route, role, prepare, allowed, allowedStatus, allowedRow, refusedRole, refused,
          refusedStatus, refusedRow, otherRole, otherStatus, otherRow, operatorStatus, operatorRow, reason));
    }

    /**
     * The platform operator's key on the route answers {@code status} and writes {@code row} in this
     * tenant's trail (none when null; not called when {@code status} is 0, {@link #why} says why).
     */
    Audited operator(int status, String row) {
      return register(new Audited(route, role, prepare, allowed, allowedStatus, allowedRow, refusedRole, refused,
          refusedStatus, refusedRow, otherRole, otherStatus, otherRow, status, row, why));
    }

    /** The call with another tenant's key of {@code keyRole} answers {@code status} and writes {@code row} there. */
    Audited otherTenant(String keyRole, int status, String row) {
      return register(new Audited(route, role, prepare, allowed, allowedStatus, allowedRow, refusedRole, refused,
          refusedStatus, refusedRow, keyRole, status, row, operatorStatus, operatorRow, why));
    }

    /** This route's call with the key of {@code refusedRole}, when it is not the allowed call itself. */
    Audited refusedBy(Call call) {
      return register(new Audited(route, role, prepare, allowed, allowedStatus, allowedRow, refusedRole, call,
          refusedStatus, refusedRow, otherRole, otherStatus, otherRow, operatorStatus, operatorRow, why));
    }

    private static Audited register(Audited a) {
      ROUTES.put(a.route(), a);
      return a;
    }
  }

  /** A route that writes no row to a tenant's trail, and why. */
  record NoRow(String why) implements Decision {}

  /** Route ("METHOD /path" as the OpenAPI document writes it) → what it writes to the trail. */
  static final Map<String, Decision> ROUTES = new LinkedHashMap<>();

  /**
   * A route whose allowed call writes {@code row}, whose call with a key of the tenant without the role
   * is answered {@code refusedStatus} and recorded as {@code refusedRow}, and whose call with a key of
   * another tenant is answered 404, like a tenant that does not exist, recorded in that key's tenant as
   * {@code other_tenant} under the route's action.
   */
  static Audited audited(String route, String role, Runnable prepare, Call call, int status, String row,
                         String refusedRole, int refusedStatus, String refusedRow) {
    String action = refusedRow.split(" ")[0];
    return Audited.register(new Audited(route, role, prepare, call, status, row, refusedRole, call, refusedStatus,
        refusedRow, role, 404, action + " denied other_tenant", 403, action + " denied platform_operator", null));
  }

  static void noRow(String route, String why) {
    ROUTES.put(route, new NoRow(why));
  }

  static HttpResponse<String> fhir(String method, String path, String key, String body) {
    return app.call(method, "/fhir/" + T + path, key, body, "application/fhir+json");
  }

  static final String OBSERVATION = "{\"resourceType\":\"Observation\",\"id\":\"%s\",\"status\":\"final\","
      + "\"code\":{\"text\":\"glucose\"},\"subject\":{\"reference\":\"Patient/%s\"}}";

  static String observation(String id) {
    return OBSERVATION.formatted(id, patientId);
  }

  static {
    Runnable none = () -> {};
    // --- no tenant's data, or no tenant to record in ---
    noRow("GET /health", "liveness and readiness of the process: no key, no tenant, no data");
    noRow("GET /health/liveness", "the process's liveness: no key, no tenant, no data");
    noRow("GET /health/readiness", "whether the database answers: no key, no tenant, no data");
    noRow("GET /metrics", "the scrape token or the operator key only, 401 to a tenant's keys; counters, no tenant's data");
    noRow("GET /openapi.yml", "the API's description: no key, no tenant, no data");
    noRow("GET /fhir/{tenant}/metadata", "the CapabilityStatement: public, the same for every tenant id (it tells no "
        + "tenant apart), no data");
    // Platform operator only, no tenant in the path: a tenant key is refused 403 and its attempt recorded in its
    // own tenant's trail; the operator's allowed call reads or writes the platform schema, no tenant's data.
    audited("GET /admin/tenants", "platform-operator", none, null, 200, null,
        "tenant-admin", 403, "admin-request denied role_not_allowed")
        .refusedBy(k -> app.call("GET", "/admin/tenants", k, null))
        .otherTenant("tenant-admin", 403, "admin-request denied role_not_allowed")
        .operator(0, null)
        .because("allowed: the platform operator's list of tenants (platform schema), no tenant's data");
    audited("POST /admin/tenants", "platform-operator", none, null, 201, null,
        "tenant-admin", 403, "admin-request denied role_not_allowed")
        .refusedBy(k -> app.call("POST", "/admin/tenants", k, "{\"id\":\"climb_" + serial.incrementAndGet() + "\"}"))
        .otherTenant("tenant-admin", 403, "admin-request denied role_not_allowed")
        .operator(0, null)
        .because("allowed (platform operator only, not called here): provisions a tenant; settings other than the "
            + "defaults write a tenant-settings row in the new tenant's trail (AdminAuditIT)");
    audited("GET /admin/offboardings", "platform-operator", none, null, 200, null,
        "tenant-admin", 403, "admin-request denied role_not_allowed")
        .refusedBy(k -> app.call("GET", "/admin/offboardings", k, null))
        .otherTenant("tenant-admin", 403, "admin-request denied role_not_allowed")
        .operator(0, null)
        .because("allowed: what remains of offboarded tenants, platform schema only (platform operator)");

    // --- the tenant's configuration, keys and ingest state (tenant-admin; the operator key too) ---
    audited("GET /admin/tenants/{tenant}", "tenant-admin", none,
        k -> app.call("GET", "/admin/tenants/" + T, k, null), 200, "tenant-read allowed settings_read",
        "clinician", 403, "tenant-read denied role_not_allowed")
        .operator(200, "tenant-read allowed settings_read");
    audited("PATCH /admin/tenants/{tenant}", "tenant-admin", none,
        k -> app.call("PATCH", "/admin/tenants/" + T, k,
            "{\"settings\":{\"contextTokenBudget\":" + (2_000 + serial.incrementAndGet()) + "}}"),
        200, "tenant-settings allowed settings_changed", "clinician", 403, "tenant-settings denied role_not_allowed")
        .operator(200, "tenant-settings allowed settings_changed");
    audited("DELETE /admin/tenants/{tenant}", "platform-operator", none, null, 204, null,
        "tenant-admin", 403, "admin-request denied role_not_allowed")
        .refusedBy(k -> app.call("DELETE", "/admin/tenants/" + T, k, null))
        .otherTenant("tenant-admin", 403, "admin-request denied other_tenant")
        .operator(0, null)
        .because("allowed (platform operator only, so not called here): offboarding drops the tenant's schema and "
            + "its trail with it, in the transaction that writes the platform's offboarding row (GET "
            + "/admin/offboardings); export the trail first. A tenant key is refused 403 whichever tenant the path names");
    audited("GET /admin/tenants/{tenant}/ingest", "tenant-admin", none,
        k -> app.call("GET", "/admin/tenants/" + T + "/ingest", k, null), 200, null,
        "clinician", 403, "admin-request denied role_not_allowed")
        .because("allowed: counts and states only (no patient, key or setting), the kind /metrics publishes, and "
            + "polled by `tenant wait`")
        .operator(200, null);
    audited("GET /admin/tenants/{tenant}/ingest/parked", "tenant-admin", AuditCoverageIT::park,
        k -> app.call("GET", "/admin/tenants/" + T + "/ingest/parked", k, null), 200,
        "ingest-parked-read allowed parked_listed", "clinician", 403, "ingest-parked-read denied role_not_allowed")
        .operator(200, null)
        .because("the operator key sees each parked item's type, never its id (no patient data), and its list "
            + "writes no row; an empty list reads nothing and writes none either (AdminAuditIT)");
    audited("POST /admin/tenants/{tenant}/ingest/parked/retry", "tenant-admin", AuditCoverageIT::park,
        k -> app.call("POST", "/admin/tenants/" + T + "/ingest/parked/retry", k, null), 200,
        "ingest-parked-retry allowed parked_requeued", "clinician", 403, "ingest-parked-retry denied role_not_allowed")
        .operator(200, "ingest-parked-retry allowed parked_requeued");
    audited("POST /admin/tenants/{tenant}/patients/{patientId}/erase", "tenant-admin", none,
        k -> app.call("POST", "/admin/tenants/" + T + "/patients/erased-" + serial.incrementAndGet() + "/erase", k,
            "{\"reason\":\"coverage\"}"), 200, "patient-erase allowed erased",
        "clinician", 403, "patient-erase denied role_not_allowed");
    audited("GET /admin/tenants/{tenant}/keys", "tenant-admin", none,
        k -> app.call("GET", "/admin/tenants/" + T + "/keys", k, null), 200, "key-list allowed keys_listed",
        "clinician", 403, "key-list denied role_not_allowed")
        .operator(200, "key-list allowed keys_listed");
    audited("POST /admin/tenants/{tenant}/keys", "tenant-admin", none,
        k -> app.call("POST", "/admin/tenants/" + T + "/keys", k,
            "{\"principal\":\"made-" + serial.incrementAndGet() + "\",\"roles\":[\"auditor\"]}"),
        201, "key-create allowed key_created", "clinician", 403, "key-create denied role_not_allowed")
        .operator(403, "key-create denied operator_makes_tenant_admin_keys_only");
    String[] victim = new String[1];
    audited("DELETE /admin/tenants/{tenant}/keys/{keyId}", "tenant-admin",
        () -> victim[0] = app.tenantWithKey(T, "victim-" + serial.incrementAndGet(), "[\"auditor\"]", null).split("_")[1],
        k -> app.call("DELETE", "/admin/tenants/" + T + "/keys/" + (victim[0] == null ? "0123456789abcdef" : victim[0]), k,
            null), 204, "key-revoke allowed key_revoked", "clinician", 403, "key-revoke denied role_not_allowed")
        .operator(204, "key-revoke allowed key_revoked");

    // --- the audit trail (auditor) ---
    audited("GET /v1/{tenant}/audit", "auditor", none, k -> app.call("GET", "/v1/" + T + "/audit?limit=5", k, null),
        200, "audit-read allowed list", "clinician", 403, "audit-read denied role_not_allowed");
    audited("GET /v1/{tenant}/audit/export", "auditor", none, k -> app.call("GET", "/v1/" + T + "/audit/export", k, null),
        200, "audit-export allowed export", "clinician", 403, "audit-export denied role_not_allowed");
    audited("GET /v1/{tenant}/audit/verify", "auditor", none, k -> app.call("GET", "/v1/" + T + "/audit/verify", k, null),
        200, "audit-verify allowed chain_valid", "clinician", 403, "audit-verify denied role_not_allowed");
    String madeUpAnchor = "{\"anchors\":[{\"shard\":0,\"seq\":1,\"head\":\"" + "ab".repeat(32) + "\",\"mac\":\""
        + "cd".repeat(32) + "\"}]}";
    audited("POST /v1/{tenant}/audit/verify", "auditor", none,
        k -> app.call("POST", "/v1/" + T + "/audit/verify", k, madeUpAnchor),
        // an anchor the tenant's key did not make: answered (forged-anchor) and recorded as such, not as a broken
        // chain (the chain was not checked)
        200, "audit-verify allowed anchor_forged", "clinician", 403, "audit-verify denied role_not_allowed");

    // the review of a break-glass access the clinician made just before (a row of its own, hash-chained); each other
    // refusal (an unknown id, a row that is no break-glass access, a bad body) is BreakGlassReviewIT's
    audited("POST /v1/{tenant}/audit/{auditId}/review", "auditor",
        () -> app.call("POST", "/v1/" + T + "/patients/" + patientId + "/context", keys.get("clinician"),
            "{\"query\":\"glucose\",\"k\":1,\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}"),
        k -> app.call("POST", "/v1/" + T + "/audit/" + latestBreakGlassRow() + "/review", k,
            "{\"outcome\":\"appropriate\"}"),
        201, "break-glass-review allowed appropriate", "clinician", 403, "break-glass-review denied role_not_allowed");

    // --- patient context, chat, research (the roles that read patient data) ---
    audited("POST /v1/{tenant}/patients/{patientId}/context", "clinician", none,
        k -> app.call("POST", "/v1/" + T + "/patients/" + patientId + "/context", k,
            "{\"query\":\"glucose\",\"k\":3,\"purposeOfUse\":\"TREAT\"}"),
        200, "context allowed allowed", "auditor", 403, "context denied role_not_allowed");
    audited("POST /v1/{tenant}/patients/{patientId}/chat", "clinician", none,
        k -> app.call("POST", "/v1/" + T + "/patients/" + patientId + "/chat", k,
            "{\"question\":\"glucose control?\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}"),
        200, "chat-dry-run allowed allowed", "auditor", 403, "chat-dry-run denied role_not_allowed");
    audited("POST /v1/{tenant}/research/search", "researcher", none,
        k -> app.call("POST", "/v1/" + T + "/research/search", k,
            "{\"query\":\"glucose\",\"k\":3,\"purposeOfUse\":\"HRESCH\"}"),
        200, "research allowed allowed", "clinician", 403, "research denied role_not_allowed");

    // --- FHIR (ehr-integration) ---
    audited("POST /fhir/{tenant}", "ehr-integration", none,
        k -> fhir("POST", "", k, "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":[{\"resource\":"
            + observation("obs-bundle") + ",\"request\":{\"method\":\"PUT\",\"url\":\"Observation/obs-bundle\"}}]}"),
        200, "fhir-write allowed allowed", "clinician", 403, "fhir-write denied role_not_allowed");
    audited("POST /fhir/{tenant}/$import", "ehr-integration", none,
        k -> app.call("POST", "/fhir/" + T + "/$import", k, observation("obs-import") + "\n", "application/fhir+ndjson"),
        200, "fhir-write allowed allowed", "clinician", 403, "fhir-write denied role_not_allowed");
    audited("GET /fhir/{tenant}/{type}", "ehr-integration", none, null, 405, null,
        "clinician", 405, "fhir-read denied method_not_allowed")
        .refusedBy(k -> fhir("GET", "/Observation?subject=Patient/" + patientId, k, null))
        .otherTenant("ehr-integration", 405, null)
        .operator(405, "fhir-read denied method_not_allowed")
        .because("no FHIR search: every call is a 405 for any key, recorded in the path's tenant's trail as "
            + "method_not_allowed; a key of another tenant's 405 is recorded in neither trail "
            + "(RefusedRequestsIT.anotherTenantsPathLeavesNoRowThere)");
    audited("POST /fhir/{tenant}/{type}", "ehr-integration", none,
        k -> fhir("POST", "/Observation", k, observation("ignored").replace("\"id\":\"ignored\",", "")),
        201, "fhir-write allowed allowed", "clinician", 403, "fhir-write denied role_not_allowed");
    audited("GET /fhir/{tenant}/{type}/{id}", "ehr-integration", none, k -> fhir("GET", "/Observation/obs-cov", k, null),
        200, "fhir-read allowed allowed", "clinician", 403, "fhir-read denied role_not_allowed");
    audited("PUT /fhir/{tenant}/{type}/{id}", "ehr-integration", none,
        k -> fhir("PUT", "/Observation/obs-cov", k, observation("obs-cov")), 200, "fhir-write allowed allowed",
        "clinician", 403, "fhir-write denied role_not_allowed");
    audited("DELETE /fhir/{tenant}/{type}/{id}", "ehr-integration",
        () -> assertThat(fhir("PUT", "/Observation/obs-gone", keys.get("ehr-integration"), observation("obs-gone"))
            .statusCode()).isIn(200, 201),
        k -> fhir("DELETE", "/Observation/obs-gone", k, null), 204, "fhir-write allowed allowed",
        "clinician", 403, "fhir-write denied role_not_allowed");
    audited("GET /fhir/{tenant}/{type}/{id}/_history/{vid}", "ehr-integration", none,
        k -> fhir("GET", "/Observation/obs-cov/_history/1", k, null), 200, "fhir-read allowed allowed",
        "clinician", 403, "fhir-read denied role_not_allowed");
  }

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    String ehr = app.tenantWithKey(T, "cov-feed", "[\"ehr-integration\"]", null);
    var patient = SyntheticPatients.generate(7, 1).get(0);
    HttpResponse<String> loaded = app.call("POST", "/fhir/" + T, ehr, Fhir.toJson(patient.bundle()), "application/fhir+json");
    assertThat(loaded.statusCode()).as(loaded.body()).isEqualTo(200);
    String practitioner = loaded.body().replaceAll("(?s).*?\"location\":\"Practitioner/([^/\"]+).*", "$1");
    patientId = loaded.body().replaceAll("(?s).*?\"location\":\"Patient/([^/\"]+).*", "$1");
    assertThat(fhir("PUT", "/Observation/obs-cov", ehr, observation("obs-cov")).statusCode()).isEqualTo(201);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(T));
    app.researchOn(T);
    for (Map<String, String> set : List.of(keys, otherKeys)) {
      String tenant = set == keys ? T : O;
      set.put("ehr-integration", set == keys ? ehr : app.tenantWithKey(O, "o-feed", "[\"ehr-integration\"]", null));
      set.put("tenant-admin", app.tenantAdmin(tenant));
      set.put("auditor", app.tenantWithKey(tenant, tenant + "-auditor", "[\"auditor\"]", null));
      set.put("clinician", app.tenantWithKey(tenant, tenant + "-doc", "[\"clinician\"]",
          "\"practitionerId\":\"" + practitioner + "\""));
      set.put("researcher", app.tenantWithKey(tenant, tenant + "-research", "[\"researcher\"]", null));
    }
    // expired by the test that uses it, in the database as time would: one made to expire two seconds after
    // "now" was refused as already past whenever the machine took longer than that to create it
    expired = app.tenantWithKey(T, "cov-expired", "[\"clinician\",\"auditor\",\"ehr-integration\"]",
        "\"expiresAt\":\"2099-01-01T00:00:00Z\"");
    revoked = app.tenantWithKey(T, "cov-revoked", "[\"clinician\",\"auditor\",\"ehr-integration\"]", null);
    assertThat(app.call("DELETE", "/admin/tenants/" + T + "/keys/" + keyId(revoked), keys.get("tenant-admin"), null)
        .statusCode()).isEqualTo(204);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The key id a row records for the key: the operator key's is "bootstrap". */
  static String keyId(String secret) {
    return secret.equals(app.adminKey()) ? "bootstrap" : secret.split("_")[1];
  }

  /** One parked outbox item, as the embedding worker leaves one that failed 5 times. */
  static void park() {
    sql("INSERT INTO tenant_" + T + ".outbox (resource_type, resource_id, version_id, operation, attempts, parked_at, "
        + "last_error) VALUES ('Observation', 'obs-cov', 1, 'index', 5, now(), 'IllegalStateException')");
  }

  /** The audit id of the tenant's latest break-glass row (an id no row has when there is none). */
  static String latestBreakGlassRow() {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT audit_id FROM tenant_" + T + ".audit_log WHERE break_glass "
             + "ORDER BY at DESC LIMIT 1")) {
      return rs.next() ? rs.getString(1) : "0190a0b0-0000-7000-8000-000000000001";
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static void sql(String statement) {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement()) {
      st.execute(statement);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The tenant's rows by audit id: "action decision reason key-id details". */
  static Map<String, String> trail(String tenant) {
    Map<String, String> rows = new LinkedHashMap<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT audit_id, action || ' ' || decision || ' ' || reason || ' ' "
            + "|| coalesce(key_id, '-') || ' ' || details FROM tenant_" + tenant + ".audit_log ORDER BY at, seq")) {
      while (rs.next()) {
        rows.put(rs.getString(1), rs.getString(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }

  /** The rows {@code call} added to {@code tenant}'s trail, each "action decision reason key-id details". */
  static List<String> added(String tenant, Runnable call) {
    Set<String> before = trail(tenant).keySet();
    call.run();
    Map<String, String> after = trail(tenant);
    List<String> added = new ArrayList<>();
    after.forEach((id, row) -> {
      if (!before.contains(id)) {
        added.add(row);
      }
    });
    return added;
  }

  /** The routes of the service's own OpenAPI document, "METHOD /path". */
  static Set<String> documentedRoutes() {
    HttpResponse<String> doc = app.call("GET", "/openapi.yml", null, null);
    assertThat(doc.statusCode()).isEqualTo(200);
    Set<String> routes = new TreeSet<>();
    String path = null;
    for (String line : doc.body().split("\n")) {
      Matcher p = Pattern.compile("^  (/\\S*):\\s*$").matcher(line);
      Matcher m = Pattern.compile("^    (get|put|post|patch|delete|head|options):\\s*$").matcher(line);
      if (p.matches()) {
        path = p.group(1);
      } else if (!line.startsWith("  ") && !line.isBlank()) {
        path = null; // past "paths:"
      } else if (path != null && m.matches()) {
        routes.add(m.group(1).toUpperCase(java.util.Locale.ROOT) + " " + path);
      }
    }
    return routes;
  }

  /** Every route of /openapi.yml has a decision here, and every decision here a route there. */
  @Test
  void everyRouteOfTheDocumentHasADecision() {
    Set<String> documented = documentedRoutes();
    assertThat(documented).as("the OpenAPI document's routes").hasSizeGreaterThan(20);
    assertThat(documented).as("routes with no audit decision in AuditCoverageIT.ROUTES: add one, with the row its "
        + "calls write or why they write none").isSubsetOf(ROUTES.keySet());
    assertThat(ROUTES.keySet()).as("decisions for routes the document no longer has").isSubsetOf(documented);
    ROUTES.forEach((route, d) -> {
      if (d instanceof NoRow n) {
        assertThat(n.why()).as(route).isNotBlank();
      } else if (d instanceof Audited a && (a.allowed() == null || a.allowedRow() == null || a.otherRow() == null
          || a.operatorRow() == null)) {
        assertThat(a.why()).as(route + ": why a call writes no row").isNotBlank();
      }
    });
  }

  /**
   * The document is where a route's audit decision is looked up, so a route the service serves must be
   * in it: FHIR's routes are hidden from the generator and written by hand, and were the easiest to miss.
   */
  @Test
  void everyRouteTheServiceServesIsInTheDocument() {
    // served, deliberately not in the document: the document itself and its viewer (no key, no data), and the
    // POST to the CapabilityStatement that exists only to answer 405 naming GET
    Set<String> undocumented = Set.of("GET /openapi", "GET /swagger-ui", "POST /fhir/{tenant}/metadata");
    Set<String> served = new TreeSet<>();
    app.bean(io.micronaut.web.router.Router.class).uriRoutes().forEach(r ->
        served.add(r.getHttpMethodName() + " " + r.getUriMatchTemplate().toString()));
    Set<String> documented = documentedRoutes();
    // the management endpoint's one route serves the two paths the document names
    if (documented.containsAll(Set.of("GET /health/liveness", "GET /health/readiness"))) {
      documented.add("GET /health/{selector}");
    }
    assertThat(served.stream().filter(r -> !undocumented.contains(r) && !r.startsWith("HEAD ")
        && !r.startsWith("OPTIONS ")).toList())
        .as("routes the service serves that /openapi.yml does not describe (so this test cannot hold them to an "
            + "audit decision)").isSubsetOf(documented);
  }

  /** Each audited route's allowed call writes its row, and its call with a key lacking the role a denied row. */
  @Test
  void everyRouteRecordsItsAllowedAndRefusedCalls() {
    SoftAssertions soft = new SoftAssertions();
    ROUTES.forEach((route, d) -> {
      if (!(d instanceof Audited a)) {
        return;
      }
      if (a.allowed() != null) {
        String key = keys.get(a.role());
        a.prepare().run();
        @SuppressWarnings("unchecked") HttpResponse<String>[] r = new HttpResponse[1];
        List<String> rows = added(T, () -> r[0] = a.allowed().send(key));
        soft.assertThat(r[0].statusCode()).as(route + " allowed: " + r[0].body()).isEqualTo(a.allowedStatus());
        List<String> own = rows.stream().filter(row -> row.contains(" " + keyId(key) + " ")).toList();
        if (a.allowedRow() == null) {
          soft.assertThat(own).as(route + " allowed: no row (" + a.why() + ")").isEmpty();
        } else {
          soft.assertThat(own).as(route + " allowed: its row").anyMatch(row -> row.startsWith(a.allowedRow() + " "
              + keyId(key) + " ")).allMatch(row -> row.contains(" allowed "));
        }
      }
      String refusedKey = keys.get(a.refusedRole());
      @SuppressWarnings("unchecked") HttpResponse<String>[] r = new HttpResponse[1];
      List<String> rows = added(T, () -> r[0] = a.refused().send(refusedKey));
      soft.assertThat(r[0].statusCode()).as(route + " refused: " + r[0].body()).isEqualTo(a.refusedStatus());
      soft.assertThat(rows).as(route + " refused for the role (" + a.refusedRole() + "): its row, and nothing allowed")
          .anyMatch(row -> row.startsWith(a.refusedRow() + " " + keyId(refusedKey) + " "))
          .noneMatch(row -> row.contains(" allowed "));
    });
    soft.assertAll();
  }

  /**
   * A key of another tenant with the route's role gets the answer of a tenant that does not exist, and
   * its attempt is recorded in its own tenant's trail (other_tenant), never in the path's tenant's.
   */
  @Test
  void everyRouteRecordsAKeyOfAnotherTenantInThatTenantsTrail() {
    SoftAssertions soft = new SoftAssertions();
    ROUTES.forEach((route, d) -> {
      if (!(d instanceof Audited a)) {
        return;
      }
      Call call = a.allowed() != null ? a.allowed() : a.refused();
      String outsider = otherKeys.get(a.otherRole());
      @SuppressWarnings("unchecked") HttpResponse<String>[] r = new HttpResponse[1];
      @SuppressWarnings("unchecked") List<String>[] inPathTenant = new List[1];
      List<String> rows = added(O, () -> inPathTenant[0] = added(T, () -> r[0] = call.send(outsider)));
      soft.assertThat(r[0].statusCode()).as(route + " other tenant: " + r[0].body()).isEqualTo(a.otherStatus());
      if (a.otherRow() == null) {
        soft.assertThat(rows).as(route + " other tenant: no row (" + a.why() + ")").isEmpty();
      } else {
        soft.assertThat(rows).as(route + " other tenant: the row in the key's tenant")
            .anyMatch(row -> row.startsWith(a.otherRow() + " " + keyId(outsider) + " "))
            .noneMatch(row -> row.contains(" allowed "));
      }
      soft.assertThat(inPathTenant[0]).as(route + " other tenant: nothing in the path's tenant").isEmpty();
    });
    soft.assertAll();
  }

  /**
   * The platform operator's key: on the tenant's patient data and its trail refused (403) and recorded in
   * the path's tenant's trail as platform_operator; on the tenant's configuration and keys recorded like a
   * tenant admin's calls.
   */
  @Test
  void everyRouteRecordsThePlatformOperatorsCalls() {
    SoftAssertions soft = new SoftAssertions();
    ROUTES.forEach((route, d) -> {
      if (!(d instanceof Audited a) || a.operatorStatus() == 0) {
        return;
      }
      Call call = a.allowed() != null ? a.allowed() : a.refused();
      a.prepare().run();
      @SuppressWarnings("unchecked") HttpResponse<String>[] r = new HttpResponse[1];
      List<String> rows = added(T, () -> r[0] = call.send(app.adminKey())).stream()
          .filter(row -> row.contains(" bootstrap ")).toList();
      soft.assertThat(r[0].statusCode()).as(route + " operator: " + r[0].body()).isEqualTo(a.operatorStatus());
      if (a.operatorRow() == null) {
        soft.assertThat(rows).as(route + " operator: no row (" + a.why() + ")").isEmpty();
      } else {
        soft.assertThat(rows).as(route + " operator: its row")
            .anyMatch(row -> row.startsWith(a.operatorRow() + " bootstrap "));
      }
    });
    soft.assertAll();
  }

  /** A revoked or expired key is a 401 on every route of a tenant, recorded in its tenant's trail (authenticate). */
  @Test
  void everyRouteRecordsARevokedOrExpiredKey() throws java.sql.SQLException {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      assertThat(st.executeUpdate("UPDATE platform.api_keys SET expires_at = now() - interval '1 second' "
          + "WHERE key_id = '" + keyId(expired) + "'")).isEqualTo(1);
    }
    SoftAssertions soft = new SoftAssertions();
    ROUTES.forEach((route, d) -> {
      if (!(d instanceof Audited a)) {
        return;
      }
      Call call = a.allowed() != null ? a.allowed() : a.refused();
      for (String[] refused : new String[][] {{revoked, "key_revoked"}, {expired, "key_expired"}}) {
        @SuppressWarnings("unchecked") HttpResponse<String>[] r = new HttpResponse[1];
        List<String> rows = added(T, () -> r[0] = call.send(refused[0]));
        soft.assertThat(r[0].statusCode()).as(route + " " + refused[1]).isEqualTo(401);
        soft.assertThat(rows).as(route + " " + refused[1] + ": its row").anyMatch(row ->
            row.startsWith("authenticate denied " + refused[1] + " " + keyId(refused[0]) + " ")
                && row.contains("\"method\":\"" + route.substring(0, route.indexOf(' ')) + "\""));
      }
    });
    soft.assertAll();
  }
}
