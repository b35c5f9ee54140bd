package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import io.micronaut.web.router.Router;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every admin route and method, with a query parameter: a 400 from {@link AdminAttempts} for a key that may make the
 * request, and, where the path names an active tenant, one {@code query_parameters_refused} row in its trail; nothing
 * done (no tenant made or offboarded, no key made or revoked, no patient erased). The authentication filter refused
 * these before any controller; since the check moved into the controllers, a route that did not call
 * {@link AdminAttempts} would take the parameter silently. The table is checked against the router's own list of
 * admin routes, so a route added without a row here fails this test.
 */
class AdminQueryParametersIT {

  static TestServer app;
  static String tenantAdmin;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    tenantAdmin = app.tenantWithKey("qp", "ta-qp", "[\"tenant-admin\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** method, route template, path sent, action recorded (null: no tenant's trail), operator (else the tenant admin). */
  record Route(String method, String template, String path, String action, boolean operator) {}

  static List<Route> routes(String keyId) {
    return List.of(
        new Route("POST", "/admin/tenants", "/admin/tenants", null, true),
        new Route("GET", "/admin/tenants", "/admin/tenants", null, true),
        new Route("GET", "/admin/offboardings", "/admin/offboardings", null, true),
        new Route("GET", "/admin/tenants/{tenant}", "/admin/tenants/qp", "tenant-read", false),
        new Route("PATCH", "/admin/tenants/{tenant}", "/admin/tenants/qp", "tenant-settings", false),
        new Route("DELETE", "/admin/tenants/{tenant}", "/admin/tenants/qp", "admin-request", true),
        new Route("POST", "/admin/tenants/{tenant}/keys", "/admin/tenants/qp/keys", "key-create", false),
        new Route("GET", "/admin/tenants/{tenant}/keys", "/admin/tenants/qp/keys", "key-list", false),
        new Route("DELETE", "/admin/tenants/{tenant}/keys/{keyId}", "/admin/tenants/qp/keys/" + keyId, "key-revoke",
            false),
        new Route("GET", "/admin/tenants/{tenant}/ingest", "/admin/tenants/qp/ingest", "admin-request", false),
        new Route("GET", "/admin/tenants/{tenant}/ingest/parked", "/admin/tenants/qp/ingest/parked",
            "ingest-parked-read", false),
        new Route("POST", "/admin/tenants/{tenant}/ingest/parked/retry", "/admin/tenants/qp/ingest/parked/retry",
            "ingest-parked-retry", false),
        new Route("POST", "/admin/tenants/{tenant}/patients/{patientId}/erase",
            "/admin/tenants/qp/patients/pat-1/erase", "patient-erase", false));
  }

  @Test
  void theTableHoldsEveryAdminRoute() {
    Set<String> routed = app.bean(Router.class).uriRoutes()
        .filter(r -> r.getUriMatchTemplate().toString().startsWith("/admin"))
        .filter(r -> !r.getHttpMethodName().equals("HEAD") && !r.getHttpMethodName().equals("OPTIONS"))
        .map(r -> r.getHttpMethodName() + " " + r.getUriMatchTemplate())
        .collect(Collectors.toCollection(TreeSet::new));
    Set<String> tabled = routes("k").stream().map(r -> r.method() + " " + r.template())
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(tabled).isEqualTo(routed);
  }

  @Test
  void everyAdminRouteRefusesAQueryParameterAndRecordsIt() throws SQLException {
    String adminKeyId = tenantAdmin.split("_")[1];
    HttpResponse<String> made = app.call("POST", "/admin/tenants/qp/keys", tenantAdmin,
        "{\"principal\":\"qp-aud\",\"roles\":[\"auditor\"]}");
    assertThat(made.statusCode()).as(made.body()).isEqualTo(201);
    String auditorKeyId = AdminAuditIT.keyId(made);
    long keysBefore = count("SELECT count(*) FROM platform.api_keys WHERE tenant_id = 'qp' AND revoked_at IS NULL");
    long tenantsBefore = count("SELECT count(*) FROM platform.tenants");
    List<String> before = trail();
    List<String> expected = new ArrayList<>();
    for (Route r : routes(auditorKeyId)) {
      for (String query : new String[] {"?x=1", "?mrn=Alex_Example", "?Alex_Example"}) {
        String key = r.operator() ? app.adminKey() : tenantAdmin;
        String body = r.method().equals("POST") || r.method().equals("PATCH") ? "{}" : null;
        HttpResponse<String> answer = app.call(r.method(), r.path() + query, key, body);
        assertThat(answer.statusCode()).as(r.method() + " " + r.path() + query + " " + answer.body()).isEqualTo(400);
        assertThat(answer.body()).contains(AdminAttempts.NO_QUERY_PARAMETERS)
            .doesNotContain("Alex").doesNotContain("mrn").doesNotContain("x=1");
        if (r.action() != null) {
          expected.add(r.action() + " denied query_parameters_refused "
              + (r.operator() ? "platform-admin bootstrap" : "ta-qp " + adminKeyId)
              + " {\"route\":\"" + r.path().replace(auditorKeyId, "{keyId}").replace("pat-1", "{id}")
              + "\",\"method\":\"" + r.method() + "\"}");
        }
      }
    }
    List<String> rows = trail();
    assertThat(rows.subList(before.size(), rows.size())).containsExactlyElementsOf(expected);
    assertThat(String.join("\n", rows)).doesNotContain("Alex").doesNotContain("mrn");
    // nothing was done: the tenant is there, no key was made or revoked, no tenant made
    assertThat(count("SELECT count(*) FROM platform.api_keys WHERE tenant_id = 'qp' AND revoked_at IS NULL"))
        .isEqualTo(keysBefore);
    assertThat(count("SELECT count(*) FROM platform.tenants")).isEqualTo(tenantsBefore);
    assertThat(app.call("GET", "/admin/tenants/qp", tenantAdmin, null).statusCode()).isEqualTo(200);
  }

  static long count(String sql) throws SQLException {
    return TestPostgres.superuserLong(app.database, sql);
  }

  static List<String> trail() throws SQLException {
    List<String> rows = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT action || ' ' || decision || ' ' || reason || ' ' || principal || ' ' "
            + "|| coalesce(key_id, '-') || ' ' || details FROM tenant_qp.audit_log ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    }
    return rows;
  }
}
