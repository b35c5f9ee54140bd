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

  /**
   * A created key's 201 names its resource in Location, the URI its revocation is sent to (API.md's DELETE
   * /admin/tenants/{tenant}/keys/{keyId}): it had no Location. The header is that path, and a DELETE to it revokes
   * the key.
   */
  @Test
  void aCreatedKeyIsNamedByItsLocation() {
    app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"located\"}");
    HttpResponse<String> made = app.call("POST", "/admin/tenants/located/keys", app.adminKey(),
        "{\"principal\":\"loc-admin\",\"roles\":[\"tenant-admin\"]}");
    assertThat(made.statusCode()).isEqualTo(201);
    String keyId = field(made, "keyId");
    assertThat(made.headers().firstValue("Location")).hasValue("/admin/tenants/located/keys/" + keyId);
    String secret = field(made, "secret");
    assertThat(app.call("GET", "/admin/tenants/located/keys", secret, null).statusCode()).isEqualTo(200);
    assertThat(app.call("DELETE", made.headers().firstValue("Location").orElseThrow(), app.adminKey(), null)
        .statusCode()).isEqualTo(204);
    assertThat(app.call("GET", "/admin/tenants/located/keys", secret, null).statusCode()).isEqualTo(401);
  }

  /**
   * Two creations of one principal at once: one key is made, the other is refused, and the trail holds
   * one allowed row and one denied row with the refusal's reason (it held two allowed rows, one of them
   * for a key the database refused). The same for two first tenant-admin keys made by the operator at once.
   */
  @Test
  void concurrentCreationsOfOnePrincipalLeaveOneAllowedRowAndOneDeniedRow() throws Exception {
    app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"racing\"}");
    java.util.List<Integer> firstAdmins = race(app.adminKey(), "{\"principal\":\"admin-%d\",\"roles\":[\"tenant-admin\"]}");
    assertThat(firstAdmins).containsExactlyInAnyOrder(201, 409);
    assertThat(keyCreateRows("admin-%")).containsExactlyInAnyOrder("allowed key_created", "denied tenant_admin_exists");

    for (int round = 0; round < 5; round++) {
      java.util.List<Integer> codes = race(adminSecret, "{\"principal\":\"twin-" + round + "\",\"roles\":[\"billing\"]}");
      assertThat(codes).as("round " + round).containsExactlyInAnyOrder(201, 409);
      assertThat(keyCreateRows("twin-" + round)).as("round " + round)
          .containsExactlyInAnyOrder("allowed key_created", "denied principal_taken");
    }
  }

  /**
   * Revokes of one key sent at once (a client retrying after a timeout, two admins) leave one key-revoke
   * row: each found the key active before either revoked it, and each wrote an allowed row, so the trail
   * credited a revoke to a request that changed nothing. All of them still answer 204.
   */
  @Test
  void concurrentRevokesOfOneKeyLeaveOneRow() throws Exception {
    app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"revoking\"}");
    String admin = field(app.call("POST", "/admin/tenants/revoking/keys", app.adminKey(),
        "{\"principal\":\"boss\",\"roles\":[\"tenant-admin\"]}"), "secret");
    int senders = 6;
    for (int round = 0; round < 3; round++) {
      String keyId = field(app.call("POST", "/admin/tenants/revoking/keys", admin,
          "{\"principal\":\"feed-" + round + "\",\"roles\":[\"ehr-integration\"]}"), "keyId");
      java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(senders);
      java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(senders);
      try {
        java.util.List<java.util.concurrent.Future<HttpResponse<String>>> sent = new java.util.ArrayList<>();
        for (int i = 0; i < senders; i++) {
          sent.add(pool.submit(() -> {
            start.await();
            return app.call("DELETE", "/admin/tenants/revoking/keys/" + keyId, admin, null);
          }));
        }
        for (java.util.concurrent.Future<HttpResponse<String>> f : sent) {
          assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS).statusCode()).isEqualTo(204);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(revokeRows(keyId)).as("round " + round).isEqualTo(1);
    }
  }

  static int revokeRows(String keyId) {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.PreparedStatement st = c.prepareStatement("SELECT count(*) FROM tenant_revoking.audit_log "
            + "WHERE action = 'key-revoke' AND details::jsonb ->> 'keyId' = ?")) {
      st.setString(1, keyId);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getInt(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String adminSecret;

  /** Two creations sent at the same instant; the first 201's secret is kept in adminSecret. */
  static java.util.List<Integer> race(String key, String bodyPattern) throws Exception {
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      java.util.List<java.util.concurrent.Future<HttpResponse<String>>> sent = new java.util.ArrayList<>();
      for (int i = 0; i < 2; i++) {
        String body = bodyPattern.formatted(i);
        sent.add(pool.submit(() -> {
          start.await();
          return app.call("POST", "/admin/tenants/racing/keys", key, body);
        }));
      }
      java.util.List<Integer> codes = new java.util.ArrayList<>();
      for (java.util.concurrent.Future<HttpResponse<String>> f : sent) {
        HttpResponse<String> r = f.get(60, java.util.concurrent.TimeUnit.SECONDS);
        codes.add(r.statusCode());
        if (r.statusCode() == 201 && bodyPattern.contains("tenant-admin")) {
          adminSecret = field(r, "secret");
        }
      }
      return codes;
    } finally {
      pool.shutdownNow();
    }
  }

  /** decision and reason of the racing tenant's key-create rows naming principals LIKE the pattern. */
  static java.util.List<String> keyCreateRows(String principalLike) {
    java.util.List<String> rows = new java.util.ArrayList<>();
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.PreparedStatement st = c.prepareStatement("SELECT decision || ' ' || reason FROM "
            + "tenant_racing.audit_log WHERE action = 'key-create' AND details::jsonb ->> 'keyPrincipal' LIKE ? "
            + "ORDER BY at, seq")) {
      st.setString(1, principalLike);
      try (java.sql.ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          rows.add(rs.getString(1));
        }
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
    return rows;
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

  @Test
  void aKeyMadeByAKeyThatExpiresExpiresNoLater() throws Exception {
    assertThat(app.call("POST", "/admin/tenants", app.adminKey(), "{\"id\":\"temporary\"}").statusCode()).isEqualTo(201);
    String boss = field(app.call("POST", "/admin/tenants/temporary/keys", app.adminKey(),
        "{\"principal\":\"boss\",\"roles\":[\"tenant-admin\"]}"), "secret");
    java.time.Instant week = java.time.Instant.now().plus(java.time.Duration.ofDays(7)).truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
    HttpResponse<String> contractor = app.call("POST", "/admin/tenants/temporary/keys", boss,
        "{\"principal\":\"contractor\",\"roles\":[\"tenant-admin\"],\"expiresAt\":\"" + week + "\"}");
    assertThat(contractor.statusCode()).as(contractor.body()).isEqualTo(201);
    String temp = field(contractor, "secret");
    // a key that never expires, or outlives its maker: refused, saying until when it may last
    for (String expiry : new String[] {"", ",\"expiresAt\":\"" + week.plusSeconds(1) + "\""}) {
      HttpResponse<String> r = app.call("POST", "/admin/tenants/temporary/keys", temp,
          "{\"principal\":\"successor\",\"roles\":[\"tenant-admin\"]" + expiry + "}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
      assertThat(r.body()).contains("\"error\":\"beyond_creators_expiry\"").contains(week.toString());
    }
    try (var c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        var rs = c.createStatement().executeQuery("SELECT count(*) FROM tenant_temporary.audit_log WHERE action = "
            + "'key-create' AND decision = 'denied' AND reason = 'beyond_creators_expiry' AND principal = 'contractor'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getInt(1)).isEqualTo(2);
    }
    // a key that expires with it is made; the key without an expiry makes keys as before
    HttpResponse<String> within = app.call("POST", "/admin/tenants/temporary/keys", temp,
        "{\"principal\":\"successor\",\"roles\":[\"clinician\"],\"practitionerId\":\"pr-1\",\"expiresAt\":\"" + week + "\"}");
    assertThat(within.statusCode()).as(within.body()).isEqualTo(201);
    assertThat(app.call("POST", "/admin/tenants/temporary/keys", boss,
        "{\"principal\":\"lasting\",\"roles\":[\"auditor\"]}").statusCode()).isEqualTo(201);
  }
}
