package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Least privilege in making keys: the platform operator's key makes only a tenant's tenant-admin key,
 * and only while the tenant has no live one; a principal names one unrevoked key of a tenant.
 */
class KeyMintingIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"minting\"}");
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> create(String key, String body) {
    return app.call("POST", "/admin/tenants/minting/keys", key, body);
  }

  static String field(HttpResponse<String> r, String name) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(r.body());
    assertThat(m.find()).as(r.body()).isTrue();
    return m.group(1);
  }

  @Test
  void theOperatorMakesOnlyTheFirstTenantAdminKeyAndAPrincipalNamesOneKey() {
    for (String roles : new String[] {"[\"ehr-integration\"]", "[\"clinician\"]", "[\"tenant-admin\",\"auditor\"]"}) {
      HttpResponse<String> r = create(app.adminKey(), "{\"principal\":\"p\",\"roles\":" + roles + "}");
      assertThat(r.statusCode()).as(roles).isEqualTo(403);
      assertThat(r.body()).contains("\"error\":\"forbidden\"").contains("tenant-admin");
    }
    HttpResponse<String> first = create(app.adminKey(), "{\"principal\":\"boss\",\"roles\":[\"tenant-admin\"]}");
    assertThat(first.statusCode()).isEqualTo(201);
    String boss = field(first, "secret");
    HttpResponse<String> second = create(app.adminKey(), "{\"principal\":\"boss2\",\"roles\":[\"tenant-admin\"]}");
    assertThat(second.statusCode()).isEqualTo(409);
    assertThat(second.body()).contains("\"error\":\"tenant_admin_exists\"");

    // the tenant admin makes the others, but never a second key under a principal an unrevoked key holds
    HttpResponse<String> lee = create(boss, "{\"principal\":\"dr-lee\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-lee\"}");
    assertThat(lee.statusCode()).isEqualTo(201);
    assertThat(create(boss, "{\"principal\":\"feed\",\"roles\":[\"ehr-integration\"]}").statusCode()).isEqualTo(201);
    for (String principal : new String[] {"dr-lee", "DR-LEE", "boss"}) {
      HttpResponse<String> twin = create(boss, "{\"principal\":\"" + principal + "\",\"roles\":[\"clinician\"],"
          + "\"practitionerId\":\"pr-lee\"}");
      assertThat(twin.statusCode()).as(principal).isEqualTo(409);
      assertThat(twin.body()).contains("\"error\":\"principal_taken\"").doesNotContain(principal);
    }
    // revoked, the principal is free again
    assertThat(app.call("DELETE", "/admin/tenants/minting/keys/" + field(lee, "keyId"), boss, null).statusCode())
        .isEqualTo(204);
    assertThat(create(boss, "{\"principal\":\"dr-lee\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-lee\"}")
        .statusCode()).isEqualTo(201);

    // a tenant whose tenant-admin keys are all revoked is recovered by the operator key
    assertThat(app.call("DELETE", "/admin/tenants/minting/keys/" + field(first, "keyId"), app.adminKey(), null)
        .statusCode()).isEqualTo(204);
    assertThat(create(boss, "{\"principal\":\"late\",\"roles\":[\"billing\"]}").statusCode()).isEqualTo(401);
    assertThat(create(app.adminKey(), "{\"principal\":\"boss2\",\"roles\":[\"tenant-admin\"]}").statusCode())
        .isEqualTo(201);

    // each refusal is in the trail: who tried to give whom which access, and why not
    assertThat(refusals()).containsExactly(
        "platform-admin operator_makes_tenant_admin_keys_only {\"keyPrincipal\":\"p\",\"roles\":[\"ehr-integration\"]}",
        "platform-admin operator_makes_tenant_admin_keys_only {\"keyPrincipal\":\"p\",\"roles\":[\"clinician\"]}",
        "platform-admin operator_makes_tenant_admin_keys_only {\"keyPrincipal\":\"p\",\"roles\":[\"tenant-admin\",\"auditor\"]}",
        "platform-admin tenant_admin_exists {\"keyPrincipal\":\"boss2\",\"roles\":[\"tenant-admin\"]}",
        "boss principal_taken {\"keyPrincipal\":\"dr-lee\",\"roles\":[\"clinician\"]}",
        "boss principal_taken {\"keyPrincipal\":\"DR-LEE\",\"roles\":[\"clinician\"]}",
        "boss principal_taken {\"keyPrincipal\":\"boss\",\"roles\":[\"clinician\"]}");
  }

  static java.util.List<String> refusals() {
    java.util.List<String> rows = new java.util.ArrayList<>();
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT principal || ' ' || reason || ' ' || details FROM "
            + "tenant_minting.audit_log WHERE action = 'key-create' AND decision = 'denied' ORDER BY at, seq")) {
      while (rs.next()) {
        rows.add(rs.getString(1));
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
  }
}
