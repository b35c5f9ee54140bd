package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.pgvector.PGvector;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Each isolation layer of ARCHITECTURE.md, proven alone against real PostgreSQL. */
class TenantIsolationIT {

  static TestPlatform platform;
  static final TenantId A = TenantId.of("alpha");
  static final TenantId B = TenantId.of("bravo");
  /** Live keys stored in the platform, as the admin API stores them: A's clinician and researcher, B's clinician. */
  static TestPlatform.TestKey keyA;
  static TestPlatform.TestKey researcherA;
  static TestPlatform.TestKey keyB;
  /** EHR-integration keys: the tenant role writes resources only for one of its tenant (tenant migration 29). */
  static TestPlatform.TestKey feedA;
  static TestPlatform.TestKey feedB;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    platform.provisioner.provision(A, "Alpha Clinic");
    platform.provisioner.provision(B, "Bravo Hospital");
    keyA = platform.issueKey(A, "dr-a", List.of("clinician"), null);
    researcherA = platform.issueKey(A, "res-a", List.of("researcher"), null);
    keyB = platform.issueKey(B, "dr-b", List.of("clinician"), null);
    feedA = platform.issueKey(A, "feed-a", List.of("ehr-integration"), null);
    feedB = platform.issueKey(B, "feed-b", List.of("ehr-integration"), null);
    // The read settings below ask for opt-out and no care relationship ('*'): since tenant migration
    // 36 the database admits those only where the tenant's own settings say so.
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("UPDATE platform.tenants SET settings = settings || "
          + "'{\"consentMode\":\"opt-out\",\"careRelationship\":false}' WHERE tenant_id = 'alpha'");
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    insertChunk(A, "p1", "clinical");
    insertChunk(A, "p2", "note");
    insertChunk(B, "p9", "clinical");
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static void insertChunk(TenantId tenant, String patient, String category) {
    platform.tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO chunks (resource_type, resource_id, version_id, patient_id, category, seq, text_hash, text, model, embedding) "
              + "VALUES ('Observation', ?, 1, ?, ?, 0, '\\x00', '\\x00', 'test', ?)")) {
        ps.setString(1, patient + "-obs");
        ps.setString(2, patient);
        ps.setString(3, category);
        ps.setObject(4, new PGvector(new float[] {1, 0, 0}));
        return ps.executeUpdate();
      }
    });
  }

  static int count(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  static boolean bool(Connection c, String sql) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  @Test
  void underTenantARoleReadingTenantBFailsWithPermissionError() {
    assertThatThrownBy(() -> platform.tx.run(A, PolicySettings.ingest(),
        c -> count(c, "SELECT count(*) FROM tenant_bravo.chunks")))
        .hasRootCauseInstanceOf(SQLException.class)
        .rootCause().hasMessageContaining("permission denied for schema tenant_bravo");
    // Writing is refused the same way.
    assertThatThrownBy(() -> platform.tx.run(A, PolicySettings.ingest(),
        c -> count(c, "WITH d AS (DELETE FROM tenant_bravo.chunks RETURNING 1) SELECT count(*) FROM d")))
        .rootCause().hasMessageContaining("permission denied");
  }

  @Test
  void applicationLoginRoleAloneReadsNoTenantTable() throws SQLException {
    try (Connection c = platform.db.appDataSource().getConnection(); Statement st = c.createStatement()) {
      for (String table : List.of("tenant_alpha.chunks", "tenant_alpha.resources", "tenant_bravo.chunks")) {
        assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM " + table))
            .hasMessageContaining("permission denied");
      }
      // Nor can it read the wrapped data keys' neighbours it has no grant on, or create objects.
      assertThatThrownBy(() -> st.execute("CREATE TABLE public.x (i int)")).hasMessageContaining("permission denied");
    }
  }

  @Test
  void appRoleIsNeitherSuperuserNorBypassesRlsNorOwnsTables() throws SQLException {
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT rolsuper, rolbypassrls, rolinherit FROM pg_roles WHERE rolname = '"
          + platform.db.config().appUser() + "'")) {
        assertThat(rs.next()).isTrue();
        assertThat(rs.getBoolean(1)).isFalse();
        assertThat(rs.getBoolean(2)).isFalse();
        assertThat(rs.getBoolean(3)).isFalse();
      }
      assertThat(count(su, "SELECT count(*) FROM pg_tables WHERE tableowner = '" + platform.db.config().appUser() + "'"))
          .isZero();
      assertThat(count(su, "SELECT count(*) FROM pg_class WHERE relname = 'chunks' AND relforcerowsecurity"))
          .isEqualTo(2);
    }
  }

  @Test
  void withNoPolicySettingsATenantQuerySeesNoRows() {
    int rows = platform.tx.run(A, PolicySettings.none(), c -> count(c, "SELECT count(*) FROM chunks"));
    assertThat(rows).isZero();
    int all = platform.tx.run(A, PolicySettings.ingest(), c -> count(c, "SELECT count(*) FROM chunks"));
    assertThat(all).isEqualTo(2);
  }

  @Test
  void readSettingsAdmitOnlyTheAllowedPatientsAndCategories() {
    PolicySettings p1Clinical = keyA.present(PolicySettings.read().patients(List.of("p1")).categories(List.of("clinical"))
        .labels(List.of()).set("cc.types", "*").set("cc.consent_mode", "opt-out").set("cc.subject", "p1")
        .set("cc.practitioner", "*").set("cc.purpose", "TREAT").build());
    assertThat((int) platform.tx.run(A, p1Clinical, c -> count(c, "SELECT count(*) FROM chunks"))).isEqualTo(1);
    PolicySettings p2Clinical = keyA.present(PolicySettings.read().patients(List.of("p2")).categories(List.of("clinical"))
        .labels(List.of()).set("cc.types", "*").set("cc.consent_mode", "opt-out").set("cc.subject", "p2")
        .set("cc.practitioner", "*").set("cc.purpose", "TREAT").build());
    assertThat((int) platform.tx.run(A, p2Clinical, c -> count(c, "SELECT count(*) FROM chunks"))).isZero();
    // The read path cannot write, even to rows it can see: its role holds no write grant.
    assertThatThrownBy(() -> platform.tx.run(A, p1Clinical,
        c -> count(c, "WITH d AS (DELETE FROM chunks RETURNING 1) SELECT count(*) FROM d")))
        .rootCause().hasMessageContaining("permission denied for table chunks");
    assertThat((int) platform.tx.run(A, PolicySettings.ingest(), c -> count(c, "SELECT count(*) FROM chunks"))).isEqualTo(2);
  }

  /** The read settings of A's patient p1, as the read path sets them. */
  static final String P1_READ_SETTINGS = "SELECT set_config('cc.access', %s, true), set_config('cc.patients', 'p1', true), "
      + "set_config('cc.subject', 'p1', true), set_config('cc.categories', 'clinical,note', true), "
      + "set_config('cc.types', '*', true), set_config('cc.labels', '', true), set_config('cc.consent_mode', 'opt-out', true), "
      + "set_config('cc.practitioner', '*', true), set_config('cc.purpose', 'TREAT', true)";

  /** The research path's purpose and the researcher's categories (notes are not among them). */
  static final String RESEARCH_SETTINGS = "SELECT set_config('cc.purpose', 'HRESCH', true), "
      + "set_config('cc.categories', 'demographic,clinical,lab,medication', true)";

  /**
   * Counts A's chunks under {@code role} with the settings of p1's read, but {@code access} as
   * cc.access, presenting A's clinician key.
   */
  static int countAs(Connection c, String role, String access) throws SQLException {
    return countAs(c, role, access, keyA.keyId(), keyA.secretHashHex());
  }

  /** The same, presenting the key {@code keyId} with the secret hash {@code keyHash} (either may be null: not set). */
  static int countAs(Connection c, String role, String access, String keyId, String keyHash) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL ROLE " + Identifiers.quote(role));
      st.execute("SET LOCAL search_path = tenant_alpha, public");
      st.execute(P1_READ_SETTINGS.formatted("'" + access + "'"));
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('cc.key', ?, true), set_config('cc.key_hash', ?, true)")) {
      ps.setString(1, keyId == null ? "" : keyId);
      ps.setString(2, keyHash == null ? "" : keyHash);
      ps.execute();
    }
    return count(c, "SELECT count(*) FROM chunks");
  }

  @Test
  void theReaderRoleWritesNothingAndSeesOnlyWhatTheReadPolicyAdmits() throws SQLException {
    String reader = platform.db.config().readerRole(A);
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        // Settings that would open the write path's policy open nothing for the reader: that
        // policy binds the tenant role.
        assertThat(countAs(c, reader, "ingest")).isZero();
        c.rollback();
        assertThat(countAs(c, reader, "research")).isZero();
        c.rollback();
        assertThat(countAs(c, reader, "read")).isEqualTo(1);
        // And whatever its settings, the database refuses it every write to patient data.
        for (String write : List.of("DELETE FROM chunks", "UPDATE chunks SET text = '\\x00'",
            "INSERT INTO resources SELECT * FROM resources WHERE false",
            "DELETE FROM consents", "DELETE FROM care_links", "UPDATE audit_heads SET seq = 0",
            "INSERT INTO outbox DEFAULT VALUES")) {
          c.rollback();
          countAs(c, reader, "ingest");
          assertThatThrownBy(() -> c.createStatement().execute(write)).hasMessageContaining("permission denied");
        }
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void aReadTransactionSeesAndOpensBreakGlassWindowsOfItsOwnPatientAndKeyOnly() throws SQLException {
    TestPlatform.TestKey k1 = platform.issueKey(A, "dr-one", List.of("clinician"), null);
    TestPlatform.TestKey k2 = platform.issueKey(A, "dr-two", List.of("clinician"), null);
    try (Connection su = TestPostgres.superuser(platform.config); PreparedStatement ps = su.prepareStatement(
        "INSERT INTO tenant_alpha.break_glass (key_id, patient_id, expires_at) VALUES "
            + "(?, 'p1', now() + interval '1 hour'), (?, 'p2', now() + interval '1 hour'), "
            + "(?, 'p1', now() + interval '1 hour')")) {
      ps.setString(1, k1.keyId());
      ps.setString(2, k1.keyId());
      ps.setString(3, k2.keyId());
      ps.executeUpdate();
    }
    PolicySettings p1 = k1.present(PolicySettings.read().patients(List.of("p1")).categories(List.of("clinical"))
        .labels(List.of()).set("cc.types", "*").set("cc.consent_mode", "opt-out").set("cc.subject", "p1")
        .set("cc.practitioner", "*").set("cc.purpose", "TREAT").build());
    // No WHERE clause: the policies alone keep p2's window and the other key's window out of k1's p1 transaction.
    assertThat((int) platform.tx.run(A, p1, c -> count(c, "SELECT count(*) FROM break_glass"))).isEqualTo(1);
    assertThat((int) platform.tx.run(A, p1, c -> count(c, "SELECT count(*) FROM break_glass WHERE patient_id = 'p2'")))
        .isZero();
    TestPlatform.TestKey k3 = platform.issueKey(A, "dr-three", List.of("clinician"), null);
    PolicySettings p1ByK3 = k3.present(p1);
    platform.tx.run(A, p1ByK3, c -> c.createStatement().executeUpdate(
        "INSERT INTO break_glass (key_id, patient_id, expires_at) VALUES ('" + k3.keyId() + "', 'p1', now() + interval '1 hour')"));
    assertThatThrownBy(() -> platform.tx.run(A, p1ByK3, c -> c.createStatement().executeUpdate(
        "INSERT INTO break_glass (key_id, patient_id, expires_at) VALUES ('" + k3.keyId() + "', 'p2', now() + interval '1 hour')")))
        .rootCause().hasMessageContaining("row-level security");
    // Nor can a read transaction open a window in another key's name.
    assertThatThrownBy(() -> platform.tx.run(A, p1ByK3, c -> c.createStatement().executeUpdate(
        "INSERT INTO break_glass (key_id, patient_id, expires_at) VALUES ('someone-else', 'p1', now() + interval '1 hour')")))
        .rootCause().hasMessageContaining("row-level security");
    // The write path has no business with break-glass windows at all.
    assertThatThrownBy(() -> platform.tx.run(A, PolicySettings.ingest(),
        c -> count(c, "SELECT count(*) FROM break_glass"))).rootCause().hasMessageContaining("permission denied");
  }

  /**
   * No role policy opens a break-glass window longer than a day (breakGlass.maxMinutes is 1 to 1440),
   * nor one opened at another time than now: the database refuses such a window from the read path
   * (a century-long window for any key id was accepted), so a wrong or hostile insert cannot turn
   * one emergency access into a standing one.
   */
  @Test
  void aBreakGlassWindowIsNeverLongerThanAnyPolicyAllowsNorOpenedAtAnotherTime() {
    TestPlatform.TestKey day = platform.issueKey(A, "dr-day", List.of("clinician"), null);
    TestPlatform.TestKey other = platform.issueKey(A, "dr-other", List.of("clinician"), null);
    PolicySettings p3 = PolicySettings.read().patients(List.of("p3")).categories(List.of("clinical"))
        .labels(List.of()).set("cc.types", "*").set("cc.consent_mode", "opt-out").set("cc.subject", "p3")
        .set("cc.practitioner", "*").build();
    // (a patient of its own: the test above counts p1's windows)
    // the longest a policy allows, with the application's clock a little ahead of the database's
    platform.tx.run(A, day.present(p3), c -> c.createStatement().executeUpdate("INSERT INTO break_glass (key_id, patient_id, "
        + "expires_at) VALUES ('" + day.keyId() + "', 'p3', now() + interval '1440 minutes' + interval '2 minutes')"));
    PolicySettings p3ByOther = other.present(p3);
    String k = "'" + other.keyId() + "'";
    for (String window : List.of("(" + k + ", 'p3', now() + interval '100 years')",
        "(" + k + ", 'p3', now() + interval '1 day 1 hour')")) {
      assertThatThrownBy(() -> platform.tx.run(A, p3ByOther, c -> c.createStatement().executeUpdate(
          "INSERT INTO break_glass (key_id, patient_id, expires_at) VALUES " + window)))
          .as(window).rootCause().hasMessageContaining("break_glass_window_at_most_a_day");
    }
    for (String opened : List.of("now() + interval '1 year'", "now() - interval '1 year'")) {
      assertThatThrownBy(() -> platform.tx.run(A, p3ByOther, c -> c.createStatement().executeUpdate(
          "INSERT INTO break_glass (key_id, patient_id, opened_at, expires_at) VALUES (" + k + ", 'p3', " + opened
              + ", " + opened + " + interval '1 hour')")))
          .as(opened).rootCause().hasMessageContaining("row-level security");
    }
  }

  /**
   * Tenant migration 39: the read path may open a closed window again, never lengthen an open one,
   * and only as a window opened now of at most a day, for its own key and patient; no other column
   * of a window may change.
   */
  @Test
  void aBreakGlassWindowIsReopenedOnlyOnceClosedAndNeverLengthened() throws SQLException {
    TestPlatform.TestKey dr = platform.issueKey(A, "dr-reopen", List.of("clinician"), null);
    PolicySettings p4 = dr.present(PolicySettings.read().patients(List.of("p4")).categories(List.of("clinical"))
        .labels(List.of()).set("cc.types", "*").set("cc.consent_mode", "opt-out").set("cc.subject", "p4")
        .set("cc.practitioner", "*").build());
    String k = "'" + dr.keyId() + "'";
    platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(
        "INSERT INTO break_glass (key_id, patient_id, expires_at) VALUES (" + k + ", 'p4', now() + interval '1 hour')"));
    String reopen = "UPDATE break_glass SET opened_at = now(), expires_at = now() + interval '1 hour'";
    // open: not a row to update, whatever the WHERE clause says
    assertThat((int) platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(
        "UPDATE break_glass SET expires_at = now() + interval '20 hours'"))).isZero();
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("UPDATE tenant_alpha.break_glass SET opened_at = now() - interval '2 hours', "
          + "expires_at = now() - interval '1 hour' WHERE key_id = " + k);
    }
    // closed: a window opened now, of at most a day
    for (String bad : List.of("UPDATE break_glass SET opened_at = now(), expires_at = now() + interval '2 days'",
        "UPDATE break_glass SET opened_at = now() - interval '1 day', expires_at = now() + interval '1 hour'")) {
      assertThatThrownBy(() -> platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(bad))).as(bad)
          .rootCause().message().containsAnyOf("break_glass_window_at_most_a_day", "row-level security");
    }
    assertThatThrownBy(() -> platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(
        "UPDATE break_glass SET key_id = 'someone-else', expires_at = now() + interval '1 hour'")))
        .rootCause().hasMessageContaining("permission denied");
    assertThat((int) platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(reopen))).isEqualTo(1);
    assertThat((int) platform.tx.run(A, p4, c -> count(c, "SELECT count(*) FROM break_glass WHERE expires_at > now()")))
        .isEqualTo(1);
    // and open again, it cannot be lengthened
    assertThat((int) platform.tx.run(A, p4, c -> c.createStatement().executeUpdate(reopen))).isZero();
  }

  /**
   * Tenant migration 43: a window is honoured only within the longest one the key's roles may hold open
   * under the tenant's settings as they are now, counted from when it opened, whatever its row says; the
   * write path's role may bring the rows down to that bound and do nothing else with them.
   */
  @Test
  void aBreakGlassWindowIsHeldToTheLimitInForceNotTheOneItOpenedUnder() throws SQLException {
    TenantId d = B; // opt-in and care relationship on: the defaults
    insertChunk(d, "p1", "clinical"); // no consent: only an override inside a window reads it
    TestPlatform.TestKey dr = platform.issueKey(d, "dr-er", List.of("clinician"), null);
    PolicySettings etreat = dr.present(PolicySettings.read().patients(List.of("p1")).categories(List.of("clinical"))
        .labels(List.of("N")).set("cc.types", "*").set("cc.consent_mode", "opt-in").set("cc.subject", "p1")
        .set("cc.practitioner", "*").set("cc.purpose", "ETREAT").set("cc.consent_override", "on").build());
    java.util.function.Consumer<String> settings = json -> {
      try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
        st.executeUpdate("UPDATE platform.tenants SET settings = '" + json + "' WHERE tenant_id = 'bravo'");
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    };
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("INSERT INTO tenant_bravo.break_glass (key_id, patient_id, opened_at, expires_at) VALUES ('"
          + dr.keyId() + "', 'p1', now() - interval '10 minutes', now() + interval '50 minutes')");
    }
    java.util.function.Supplier<Integer> chunks = () -> platform.tx.run(d, etreat,
        c -> count(c, "SELECT count(*) FROM chunks"));
    assertThat(chunks.get()).isEqualTo(1);
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":5}}}}");
    assertThat(chunks.get()).as("ten minutes into a window the settings now bound at five").isZero();
    assertThat((boolean) platform.tx.run(d, etreat, c -> bool(c, "SELECT break_glass_closes_at() IS NULL"))).isTrue();
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":15}}}}");
    assertThat(chunks.get()).isEqualTo(1);
    // the override alone, with the key's own practitioner (no '*'), is held to the window as well
    TestPlatform.TestKey linked = platform.issueKey(d, "dr-linked", List.of("clinician"), "pr-linked");
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("INSERT INTO tenant_bravo.care_links (practitioner_id, patient_id, source_type, source_id) "
          + "VALUES ('pr-linked', 'p1', 'CareTeam', 'ct1')");
      st.executeUpdate("INSERT INTO tenant_bravo.break_glass (key_id, patient_id, opened_at, expires_at) VALUES ('"
          + linked.keyId() + "', 'p1', now() - interval '10 minutes', now() + interval '50 minutes')");
    }
    PolicySettings linkedEtreat = linked.present(new PolicySettings(new java.util.HashMap<>(
        Map.of("cc.access", "read", "cc.patients", "p1", "cc.subject", "p1", "cc.categories", "clinical",
            "cc.labels", "N", "cc.types", "*", "cc.consent_mode", "opt-in", "cc.practitioner", "pr-linked",
            "cc.purpose", "ETREAT", "cc.consent_override", "on"))));
    assertThat((int) platform.tx.run(d, linkedEtreat, c -> count(c, "SELECT count(*) FROM chunks"))).isEqualTo(1);
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":5}}}}");
    assertThat((int) platform.tx.run(d, linkedEtreat, c -> count(c, "SELECT count(*) FROM chunks"))).isZero();
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"allowed\":false}}}}");
    assertThat(chunks.get()).isZero();

    // the rows: the write path's role brings them down to the bound (here: closed) and may not read them;
    // the read path's role may not call it
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":30}}}}");
    assertThat((int) platform.tx.run(d, PolicySettings.ingest(),
        c -> count(c, "SELECT count(*) FROM shorten_break_glass_windows() WHERE expires_at > now()"))).isEqualTo(2);
    assertThat((int) platform.tx.run(d, PolicySettings.ingest(),
        c -> count(c, "SELECT count(*) FROM shorten_break_glass_windows()"))).as("done: nothing left to shorten").isZero();
    assertThatThrownBy(() -> platform.tx.run(d, PolicySettings.ingest(), c -> count(c, "SELECT count(*) FROM break_glass")))
        .rootCause().hasMessageContaining("permission denied");
    assertThatThrownBy(() -> platform.tx.run(d, etreat, c -> count(c, "SELECT count(*) FROM shorten_break_glass_windows()")))
        .rootCause().hasMessageContaining("permission denied");
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement();
         ResultSet rs = st.executeQuery("SELECT min(extract(epoch FROM expires_at - opened_at)), "
             + "max(extract(epoch FROM expires_at - opened_at)) FROM tenant_bravo.break_glass")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(30 * 60);
      assertThat(rs.getInt(2)).isEqualTo(30 * 60);
    }
    settings.accept("{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"maxMinutes\":1440}}}}");
    assertThat((int) platform.tx.run(d, PolicySettings.ingest(),
        c -> count(c, "SELECT count(*) FROM shorten_break_glass_windows()"))).as("never lengthened").isZero();
  }

  /**
   * The read path asks the resources table one question, whether the patient exists; its role's
   * policy admits every resource of the patient in hand, whatever its category or type (it filters
   * labels only). With the bodies readable, a read transaction under billing's settings could read
   * the patient's notes whole, around the chunk policy's categories. The database gives the reader
   * the columns of that question and no body.
   */
  @Test
  void theReadPathAsksWhetherAPatientExistsAndReadsNoResourceBody() throws SQLException {
    platform.tx.run(A, feedA.present(PolicySettings.ingest()), c -> c.createStatement().executeUpdate(
        "INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, last_updated) "
            + "VALUES ('Patient', 'p1', 1, 'p1', '\\x00', '\\x0102', now()), "
            + "('DocumentReference', 'note-p1', 1, 'p1', '\\x00', '\\x0304', now())"));
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        countAs(c, platform.db.config().readerRole(A), "read");
        assertThat(count(c, "SELECT count(*) FROM resources WHERE resource_type = 'Patient' AND resource_id = 'p1' "
            + "AND NOT deleted")).isEqualTo(1);
        for (String column : List.of("body", "content_hash", "version_id", "*")) {
          c.rollback();
          countAs(c, platform.db.config().readerRole(A), "read");
          assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT " + column + " FROM resources"))
              .as(column).hasMessageContaining("permission denied");
        }
      } finally {
        c.rollback();
      }
    }
  }

  @Test
  void theResearchRoleWritesNothingAndTheAuditRoleSeesNoPatientData() throws SQLException {
    DatabaseConfig config = platform.db.config();
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        // The research role: nothing through the read or write policies, and no write at all.
        assertThat(countAs(c, config.researchRole(A), "read")).isZero();
        c.rollback();
        assertThat(countAs(c, config.researchRole(A), "ingest")).isZero();
        for (String write : List.of("DELETE FROM chunks", "DELETE FROM consents",
            "INSERT INTO audit_log SELECT * FROM audit_log WHERE false")) {
          c.rollback();
          countAs(c, config.researchRole(A), "research");
          assertThatThrownBy(() -> c.createStatement().execute(write)).hasMessageContaining("permission denied");
        }
        // The audit role: no grant on any table with patient data, whatever its settings.
        for (String read : List.of("chunks", "resources", "consents", "care_links", "outbox")) {
          c.rollback();
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL ROLE " + Identifiers.quote(config.auditRole(A)));
            assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM tenant_alpha." + read)).as(read)
                .hasMessageContaining("permission denied");
          }
        }
        // The write path's role cannot touch the audit trail.
        for (String audit : List.of("SELECT count(*) FROM tenant_alpha.audit_log",
            "UPDATE tenant_alpha.audit_heads SET seq = 0",
            "INSERT INTO tenant_alpha.audit_log SELECT * FROM tenant_alpha.audit_log WHERE false")) {
          c.rollback();
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL ROLE " + Identifiers.quote(config.tenantRole(A)));
            assertThatThrownBy(() -> st.execute(audit)).as(audit).hasMessageContaining("permission denied");
          }
        }
      } finally {
        c.rollback();
      }
    }
    try (Connection su = TestPostgres.superuser(platform.config)) {
      assertThat(count(su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'tenant_alpha' "
          + "AND policyname IN ('chunks_research', 'consents_research') "
          + "AND roles = ARRAY['" + config.researchRole(A) + "']::name[]")).isEqualTo(2);
      assertThat(count(su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'tenant_alpha' "
          + "AND policyname IN ('audit_log_append', 'audit_log_read') "
          + "AND roles = ARRAY['" + config.auditRole(A) + "']::name[]")).isEqualTo(2);
    }
  }

  @Test
  void theIdentityRoleReadsOnlyTheIdentifyingResourcesOfThePatientsInHand() throws SQLException {
    platform.tx.run(B, feedB.present(PolicySettings.ingest()), c -> {
      try (Statement st = c.createStatement()) {
        st.execute("INSERT INTO resources (resource_type, resource_id, version_id, patient_id, security_labels, content_hash, "
            + "body, last_updated) VALUES ('Patient', 'p9', 1, 'p9', '{R}', '\\x00', '\\x00', now()), "
            + "('RelatedPerson', 'rp9', 1, 'p9', '{}', '\\x00', '\\x00', now()), "
            + "('Observation', 'o9', 1, 'p9', '{}', '\\x00', '\\x00', now()), "
            + "('Patient', 'p8', 1, 'p8', '{}', '\\x00', '\\x00', now()), "
            + "('Practitioner', 'pr9', 1, NULL, '{}', '\\x00', '\\x00', now()), "
            + "('Practitioner', 'pr8', 1, NULL, '{}', '\\x00', '\\x00', now())");
        st.execute("INSERT INTO care_links VALUES ('pr9', 'p9', 'Encounter', 'e9'), ('pr8', 'p8', 'Encounter', 'e8')");
      }
      return null;
    });
    // p9's Patient (restricted label R, which must not hide it from de-identification), RelatedPerson and
    // linked Practitioner; not p9's Observation, not p8, not p8's practitioner.
    String seen = platform.tx.run(B, keyB.present(PolicySettings.identity(List.of("p9"))), c -> {
      try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
          "SELECT string_agg(resource_type || '/' || resource_id, ',' ORDER BY resource_id) FROM resources")) {
        rs.next();
        return rs.getString(1);
      }
    });
    assertThat(seen).isEqualTo("Patient/p9,Practitioner/pr9,RelatedPerson/rp9");
    assertThat((int) platform.tx.run(B, keyB.present(PolicySettings.identity(List.of())),
        c -> count(c, "SELECT count(*) FROM resources"))).isZero();
    // The same read presenting no key, or a key of another tenant: nothing (tenant migration 27).
    assertThat((int) platform.tx.run(B, PolicySettings.identity(List.of("p9")),
        c -> count(c, "SELECT count(*) FROM resources"))).isZero();
    assertThat((int) platform.tx.run(B, keyA.present(PolicySettings.identity(List.of("p9"))),
        c -> count(c, "SELECT count(*) FROM resources"))).isZero();
    // No grant beyond those two tables, and no write at all.
    for (String refused : List.of("SELECT count(*) FROM chunks", "SELECT count(*) FROM consents",
        "SELECT count(*) FROM audit_log", "DELETE FROM resources", "DELETE FROM care_links")) {
      assertThatThrownBy(() -> platform.tx.run(B, PolicySettings.identity(List.of("p9")),
          c -> c.createStatement().execute(refused))).as(refused).rootCause().hasMessageContaining("permission denied");
    }
  }

  @Test
  void theTenantRoleSeesNothingThroughTheReadPolicy() throws SQLException {
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        // The read path's settings on the tenant role (what a wrong role choice would do): no policy admits a row.
        assertThat(countAs(c, platform.db.config().tenantRole(A), "read")).isZero();
      } finally {
        c.rollback();
      }
    }
    try (Connection su = TestPostgres.superuser(platform.config)) {
      assertThat(count(su, "SELECT count(*) FROM pg_policies WHERE schemaname = 'tenant_alpha' "
          + "AND policyname IN ('chunks_read', 'resources_read', 'consents_read', 'care_links_read') "
          + "AND roles = ARRAY['" + platform.db.config().readerRole(A) + "']::name[]")).isEqualTo(4);
    }
  }

  /**
   * The tenant whose rows a request reads was the application's decision alone: the application
   * login role may take every tenant's roles, so a key of tenant B answered with tenant A's role
   * (one wrong comparison) read A's patients. With the read path's settings exactly right for A's
   * patient p1, and no WHERE clause, the database now admits rows only while the transaction
   * presents a live key of A (tenant migration 27), and research rows only for a researcher's.
   */
  @Test
  void theReadAndResearchPathsSeeNothingWithoutALiveKeyOfTheirOwnTenant() throws SQLException {
    String reader = platform.db.config().readerRole(A);
    String research = platform.db.config().researchRole(A);
    TestPlatform.TestKey keyA2 = platform.issueKey(A, "dr-a2", List.of("clinician"), null);
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        assertThat(countAs(c, reader, "read", keyA2.keyId(), keyA2.secretHashHex())).isEqualTo(1);
        assertThat(admits(c)).isTrue();
        c.rollback();
        // no key; B's key (the wrong line: B's caller, A's role); A's key id with another hash
        assertThat(countAs(c, reader, "read", null, null)).isZero();
        assertThat(admits(c)).isFalse();
        c.rollback();
        assertThat(countAs(c, reader, "read", keyB.keyId(), keyB.secretHashHex())).isZero();
        c.rollback();
        assertThat(countAs(c, reader, "read", keyA2.keyId(), keyB.secretHashHex())).isZero();
        c.rollback();
        // nor break-glass windows, even one opened for that very key id
        try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
          st.execute("INSERT INTO tenant_alpha.break_glass (key_id, patient_id, expires_at) VALUES ('" + keyB.keyId()
              + "', 'p1', now() + interval '1 hour')");
        }
        countAs(c, reader, "read", keyB.keyId(), keyB.secretHashHex());
        assertThat(count(c, "SELECT count(*) FROM break_glass")).isZero();
        c.rollback();
        // research (its purpose set as the research path sets it): only a researcher's key of A
        countAs(c, research, "research", researcherA.keyId(), researcherA.secretHashHex());
        c.createStatement().execute(RESEARCH_SETTINGS);
        assertThat(count(c, "SELECT count(*) FROM chunks")).isEqualTo(1); // p1's; p2's is a note
        c.rollback();
        countAs(c, research, "research", keyA2.keyId(), keyA2.secretHashHex());
        c.createStatement().execute(RESEARCH_SETTINGS);
        assertThat(count(c, "SELECT count(*) FROM chunks")).isZero();
        c.rollback();
      } finally {
        c.rollback();
      }
    }
    // A key that was live when the application read it and is not any more: revoked or expired.
    for (var ended : endedKeys("dr-ended", "clinician").entrySet()) {
      TestPlatform.TestKey key = ended.getValue();
      try (Connection c = platform.db.appDataSource().getConnection()) {
        c.setAutoCommit(false);
        assertThat(countAs(c, reader, "read", key.keyId(), key.secretHashHex())).as(ended.getKey()).isZero();
        c.rollback();
      }
    }
  }

  /** The identifier index's rows (Type/id) the audit role of A sees with {@code access} and that key (null: none). */
  static List<String> identifiersAsAudit(Connection c, String access, TestPlatform.TestKey key) throws SQLException {
    try (Statement st = c.createStatement()) {
      st.execute("SET LOCAL ROLE " + Identifiers.quote(platform.db.config().auditRole(A)));
      st.execute("SET LOCAL search_path = tenant_alpha, public");
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT set_config('cc.access', ?, true), "
        + "set_config('cc.key', ?, true), set_config('cc.key_hash', ?, true)")) {
      ps.setString(1, access);
      ps.setString(2, key == null ? "" : key.keyId());
      ps.setString(3, key == null ? "" : key.secretHashHex());
      ps.execute();
    }
    List<String> out = new java.util.ArrayList<>();
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
        "SELECT resource_type || '/' || resource_id FROM resource_identifiers ORDER BY 1")) {
      while (rs.next()) {
        out.add(rs.getString(1));
      }
    }
    return out;
  }

  /**
   * Tenant migration 79: the audit role reads the identifier index of Patients alone (never a Practitioner's NPI or
   * a Coverage's member id), and only while it presents a live auditor key of its own tenant; no other path's role
   * reads the index at all, and no tenant's audit role reads another's.
   */
  @Test
  void theAuditRoleReadsPatientIdentifierKeysOnlyForALiveAuditorKeyOfItsTenant() throws SQLException {
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.execute("INSERT INTO tenant_alpha.resource_identifiers VALUES ('Patient', '\\x79', 'p79'), "
          + "('Practitioner', '\\x79', 'pr79'), ('Coverage', '\\x79', 'cov79')");
      st.execute("INSERT INTO tenant_bravo.resource_identifiers VALUES ('Patient', '\\x79', 'q79')");
    }
    TestPlatform.TestKey auditorA = platform.issueKey(A, "aud-a", List.of("auditor"), null);
    TestPlatform.TestKey auditorB = platform.issueKey(B, "aud-b", List.of("auditor"), null);
    try (Connection c = platform.db.appDataSource().getConnection()) {
      c.setAutoCommit(false);
      try {
        assertThat(identifiersAsAudit(c, "audit", auditorA)).containsExactly("Patient/p79");
        c.rollback();
        // another access, no key, a clinician's key of A, B's auditor key, A's auditor id with B's hash
        assertThat(identifiersAsAudit(c, "read", auditorA)).isEmpty();
        c.rollback();
        assertThat(identifiersAsAudit(c, "audit", null)).isEmpty();
        c.rollback();
        assertThat(identifiersAsAudit(c, "audit", keyA)).isEmpty();
        c.rollback();
        assertThat(identifiersAsAudit(c, "audit", auditorB)).isEmpty();
        c.rollback();
        assertThat(identifiersAsAudit(c, "audit", new TestPlatform.TestKey(auditorA.keyId(), auditorB.secretHashHex())))
            .isEmpty();
        c.rollback();
        // A's audit role has no grant on B's index, whatever key it presents
        identifiersAsAudit(c, "audit", auditorA);
        assertThatThrownBy(() -> c.createStatement().executeQuery("SELECT count(*) FROM tenant_bravo.resource_identifiers"))
            .hasMessageContaining("permission denied");
        c.rollback();
        // no other path's role reads the index
        DatabaseConfig config = platform.db.config();
        for (String role : List.of(config.readerRole(A), config.researchRole(A), config.identityRole(A),
            config.fhirReaderRole(A))) {
          try (Statement st = c.createStatement()) {
            st.execute("SET LOCAL ROLE " + Identifiers.quote(role));
            assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM tenant_alpha.resource_identifiers")).as(role)
                .hasMessageContaining("permission denied");
          }
          c.rollback();
        }
      } finally {
        c.rollback();
      }
    }
    // an auditor key that was live and is not any more: revoked or expired
    for (var ended : endedKeys("aud-ended", "auditor").entrySet()) {
      try (Connection c = platform.db.appDataSource().getConnection()) {
        c.setAutoCommit(false);
        assertThat(identifiersAsAudit(c, "audit", ended.getValue())).as(ended.getKey()).isEmpty();
        c.rollback();
      }
    }
  }

  /** Keys of A with {@code role} that were live and are not any more, by how each ended (revoked, expired). */
  static Map<String, TestPlatform.TestKey> endedKeys(String principal, String role) throws SQLException {
    Map<String, TestPlatform.TestKey> out = new java.util.LinkedHashMap<>();
    for (String change : List.of(
        "UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = ?",
        "UPDATE platform.api_keys SET expires_at = now() - interval '1 second' WHERE key_id = ?")) {
      TestPlatform.TestKey key = platform.issueKey(A, principal, List.of(role), null);
      try (Connection owner = platform.db.ownerDataSource().getConnection();
           PreparedStatement ps = owner.prepareStatement(change)) {
        ps.setString(1, key.keyId());
        ps.executeUpdate();
      }
      out.put(change, key);
    }
    return out;
  }

  /**
   * Tenant migration 36: the read and research policies admit a request's scope only within what
   * one role of the presenting key allows, by the database's copy of the role defaults and the
   * tenant's stored settings. Each case below is one wrong setting with every other layer admitting
   * the row (the same transaction with the right setting sees it).
   */
  @Test
  void aReadSeesNothingBeyondWhatItsKeysRolesAllow() throws SQLException {
    TenantId c = TenantId.of("charlie"); // opt-in and care relationship on: the defaults
    platform.provisioner.provision(c, "Charlie Care");
    insertChunk(c, "p1", "clinical");
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("INSERT INTO tenant_charlie.care_links (patient_id, practitioner_id, source_type, source_id) "
          + "VALUES ('p1', 'pr-lee', 'CareTeam', 'ct1'), ('p1', 'pr-other', 'CareTeam', 'ct2')");
      st.executeUpdate("INSERT INTO tenant_charlie.consents (consent_id, patient_id, status, decision, purposes) "
          + "VALUES ('c1', 'p1', 'active', 'permit', '{}')");
    }
    TestPlatform.TestKey lee = platform.issueKey(c, "dr-lee", List.of("clinician"), "pr-lee");
    TestPlatform.TestKey billing = platform.issueKey(c, "bill", List.of("billing"), null);
    TestPlatform.TestKey coordinator = platform.issueKey(c, "coord", List.of("care-coordinator"), null);
    java.util.function.Function<Map<String, String>, PolicySettings> read = changes -> {
      PolicySettings.Builder b = PolicySettings.read().patients(List.of("p1")).set("cc.subject", "p1");
      Map<String, String> s = new java.util.LinkedHashMap<>(Map.of("cc.categories", "clinical", "cc.types", "*",
          "cc.labels", "N,R", "cc.consent_mode", "opt-in", "cc.practitioner", "pr-lee", "cc.purpose", "TREAT",
          "cc.consent_override", "off"));
      s.putAll(changes);
      s.forEach(b::set);
      return b.build();
    };
    java.util.function.BiFunction<TestPlatform.TestKey, Map<String, String>, Integer> chunks = (key, changes) ->
        platform.tx.run(c, key.present(read.apply(changes)), tx -> count(tx, "SELECT count(*) FROM chunks"));
    assertThat(chunks.apply(lee, Map.of())).isEqualTo(1);
    // the care relationship: another practitioner's link, or none asked for, where role and tenant require one
    assertThat(chunks.apply(lee, Map.of("cc.practitioner", "pr-other"))).isZero();
    assertThat(chunks.apply(lee, Map.of("cc.practitioner", "*"))).isZero();
    // a clinician key without a practitioner: '' is within its scope (tenant migration 38) and finds
    // nothing, as no care link can name ''; another practitioner's id is not within it
    TestPlatform.TestKey unlinked = platform.issueKey(c, "dr-nobody", List.of("clinician"), null);
    assertThat((boolean) platform.tx.run(c, unlinked.present(read.apply(Map.of("cc.practitioner", ""))),
        tx -> bool(tx, "SELECT read_scope_admitted()"))).isTrue();
    assertThat(chunks.apply(unlinked, Map.of("cc.practitioner", ""))).isZero();
    assertThat((boolean) platform.tx.run(c, unlinked.present(read.apply(Map.of())),
        tx -> bool(tx, "SELECT read_scope_admitted()"))).isFalse();
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      assertThatThrownBy(() -> st.executeUpdate("INSERT INTO tenant_charlie.care_links "
          + "(patient_id, practitioner_id, source_type, source_id) VALUES ('p1', '', 'CareTeam', 'ct3')"))
          .hasMessageContaining("care_links_name_a_practitioner");
    }
    // opt-out in an opt-in tenant; a consent override on a TREAT request; a purpose the role does not have
    assertThat(chunks.apply(lee, Map.of("cc.consent_mode", "opt-out"))).isZero();
    assertThat(chunks.apply(lee, Map.of("cc.consent_override", "on"))).isZero();
    assertThat(chunks.apply(lee, Map.of("cc.purpose", "HPAYMT"))).isZero();
    // a billing key with a clinician's scope; with billing's own it passes this layer (and finds no
    // administrative chunk through the read policy)
    assertThat(chunks.apply(billing, Map.of("cc.practitioner", "*"))).isZero();
    assertThat(chunks.apply(billing, Map.of("cc.practitioner", "*", "cc.purpose", "HPAYMT"))).isZero();
    assertThat((int) platform.tx.run(c, billing.present(read.apply(Map.of("cc.practitioner", "*", "cc.purpose", "HPAYMT",
        "cc.categories", "administrative", "cc.types", "Coverage,Claim"))), tx -> count(tx,
        "SELECT count(*) FROM caller_scope WHERE admits"))).isEqualTo(1);
    // a care coordinator needs no care link ('*'), but its labels stop at N and R; labels-with-consent
    // are its own to ask for, a clinician's are not
    assertThat(chunks.apply(coordinator, Map.of("cc.practitioner", "*"))).isEqualTo(1);
    assertThat(chunks.apply(coordinator, Map.of("cc.practitioner", "*", "cc.labels", "N,R,PSY"))).isZero();
    assertThat(chunks.apply(coordinator, Map.of("cc.practitioner", "*", "cc.consent_labels", "PSY"))).isEqualTo(1);
    assertThat(chunks.apply(lee, Map.of("cc.consent_labels", "PSY"))).isZero();
    // the tenant's own settings widen or narrow it, as the application reads them: a role override and
    // the tenant's care relationship turned off
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("UPDATE platform.tenants SET settings = settings || '{\"careRelationship\":false,"
          + "\"rolePolicies\":{\"billing\":{\"categories\":[\"clinical\"],\"purposes\":[\"TREAT\"],"
          + "\"resourceTypes\":[\"Observation\"]}}}' "
          + "WHERE tenant_id = 'charlie'");
    }
    assertThat(chunks.apply(lee, Map.of("cc.practitioner", "*"))).isEqualTo(1);
    assertThat(chunks.apply(billing, Map.of("cc.practitioner", "*", "cc.types", "Observation"))).isEqualTo(1);
    assertThat(chunks.apply(billing, Map.of("cc.practitioner", "*"))).as("every type: not the override's").isZero();
    assertThat(chunks.apply(billing, Map.of("cc.practitioner", "*", "cc.types", "Observation", "cc.labels", "N,R,V")))
        .as("labels stay the default's").isZero();
    // research: a researcher's key within the researcher's scope only, for a patient on record (its
    // Patient resource, not deleted: tenant migration 56)
    try (Connection su = TestPostgres.superuser(platform.config); Statement st = su.createStatement()) {
      st.executeUpdate("INSERT INTO tenant_charlie.resources (resource_type, resource_id, version_id, patient_id, "
          + "content_hash, body, last_updated) VALUES ('Patient', 'p1', 1, 'p1', '\\x00', '\\x01', now())");
    }
    TestPlatform.TestKey researcher = platform.issueKey(c, "res", List.of("researcher"), null);
    java.util.function.Function<String, Integer> research = categories -> platform.tx.run(c, researcher.present(
        PolicySettings.read().set("cc.access", "research").set("cc.purpose", "HRESCH").set("cc.consent_mode", "opt-in")
            .set("cc.categories", categories).set("cc.types", "*").set("cc.labels", "N").build()),
        tx -> count(tx, "SELECT count(*) FROM chunks"));
    assertThat(research.apply("clinical")).isEqualTo(1);
    assertThat(research.apply("clinical,note")).isZero();
  }

  /**
   * FHIR reads answer whole resources. They ran under the write path's role, which sees every row
   * and which the embedding worker uses without a request; now under a role of their own that reads
   * resources and their versions, nothing else, and only for a live EHR-integration key of the
   * tenant (tenant migration 28).
   */
  @Test
  void fhirReadsSeeResourcesOnlyForALiveEhrIntegrationKeyOfTheTenant() throws SQLException {
    TestPlatform.TestKey ehr = platform.issueKey(A, "ehr-a", List.of("ehr-integration"), null);
    platform.tx.run(A, ehr.present(PolicySettings.ingest()), c -> c.createStatement().executeUpdate(
        "INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, last_updated) "
            + "VALUES ('Observation', 'fhir-read-obs', 1, 'p1', '\\x00', '\\x0102', now())"));
    String sql = "SELECT count(body) FROM resources WHERE resource_id = 'fhir-read-obs'";
    assertThat((int) platform.tx.run(A, PolicySettings.fhirRead(ehr.keyId(), ehr.secretHashHex()), c -> count(c, sql)))
        .isEqualTo(1);
    // another role's key of this tenant, an EHR key of another tenant, a wrong hash, no key: nothing
    TestPlatform.TestKey ehrB = platform.issueKey(B, "ehr-b", List.of("ehr-integration"), null);
    for (PolicySettings refused : List.of(PolicySettings.fhirRead(keyA.keyId(), keyA.secretHashHex()),
        PolicySettings.fhirRead(ehrB.keyId(), ehrB.secretHashHex()),
        PolicySettings.fhirRead(ehr.keyId(), keyA.secretHashHex()), PolicySettings.fhirRead(null, null))) {
      assertThat((int) platform.tx.run(A, refused, c -> count(c, sql))).isZero();
    }
    // and whatever the key, the role writes nothing and reads nothing but resources
    PolicySettings read = PolicySettings.fhirRead(ehr.keyId(), ehr.secretHashHex());
    for (String refused : List.of("SELECT count(*) FROM chunks", "SELECT count(*) FROM consents",
        "SELECT count(*) FROM audit_log", "DELETE FROM resources", "UPDATE resource_versions SET body = '\\x00'",
        "INSERT INTO outbox DEFAULT VALUES")) {
      assertThatThrownBy(() -> platform.tx.run(A, read, c -> c.createStatement().execute(refused)))
          .as(refused).rootCause().hasMessageContaining("permission denied");
    }
  }

  /**
   * Resources were written by the tenant role whatever request was behind the transaction, so a
   * wrong line that chose the tenant would have written one tenant's feed into another's records.
   * Now the database writes, changes or removes a resource or version only while the transaction
   * presents a live EHR-integration key of the tenant (tenant migration 29); the worker, which has
   * no key, still reads them and writes what it derives.
   */
  @Test
  void theWritePathWritesResourcesOnlyForALiveEhrIntegrationKeyOfTheTenant() throws SQLException {
    String insert = "INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, "
        + "last_updated) VALUES ('Observation', 'write-%s', 1, 'p1', '\\x00', '\\x01', now())";
    String version = "INSERT INTO resource_versions (resource_type, resource_id, version_id, patient_id, content_hash, "
        + "body, last_updated) VALUES ('Observation', 'write-%s', 1, 'p1', '\\x00', '\\x01', now())";
    assertThat((int) platform.tx.run(A, feedA.present(PolicySettings.ingest()),
        c -> c.createStatement().executeUpdate(insert.formatted("ok") + ";" + version.formatted("ok")))).isEqualTo(1);
    // no key, another tenant's feed, a clinician key of this tenant, the right key with a wrong hash
    TestPlatform.TestKey expired = platform.issueKey(A, "feed-gone", List.of("ehr-integration"), null);
    try (Connection su = TestPostgres.superuser(platform.config)) {
      su.createStatement().execute("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = '"
          + expired.keyId() + "'");
    }
    List<PolicySettings> refused = List.of(PolicySettings.ingest(), feedB.present(PolicySettings.ingest()),
        keyA.present(PolicySettings.ingest()), PolicySettings.fhirWrite(feedA.keyId(), feedB.secretHashHex()),
        expired.present(PolicySettings.ingest()));
    for (int i = 0; i < refused.size(); i++) {
      String id = "no" + i;
      PolicySettings settings = refused.get(i);
      for (String write : List.of(insert.formatted(id), version.formatted(id),
          "UPDATE resources SET deleted = true WHERE resource_id = 'write-ok'",
          "UPDATE resource_versions SET body = '\\x02' WHERE resource_id = 'write-ok'")) {
        Object changed = null;
        try {
          changed = platform.tx.run(A, settings, c -> c.createStatement().executeUpdate(write));
        } catch (DatabaseException e) {
          assertThat(e).as(write).rootCause().hasMessageContaining("row-level security");
        }
        // an UPDATE's rows are not even visible to it: it changes none
        assertThat(changed).as(i + ": " + write).isIn(null, 0);
      }
      assertThat((int) platform.tx.run(A, PolicySettings.ingest(),
          c -> count(c, "SELECT count(*) FROM resources WHERE resource_id = 'write-" + id + "'"))).isZero();
      assertThat((int) platform.tx.run(A, PolicySettings.ingest(),
          c -> count(c, "SELECT count(*) FROM resource_versions WHERE resource_id = 'write-" + id + "'"))).isZero();
    }
    // the write stands as the key wrote it, and the worker's settings still read it
    assertThat((int) platform.tx.run(A, PolicySettings.ingest(), c -> count(c,
        "SELECT count(*) FROM resources WHERE resource_id = 'write-ok' AND NOT deleted"))).isEqualTo(1);
  }

  /** What the read path's key check answers inside the current transaction. */
  static boolean admits(Connection c) throws SQLException {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
        "SELECT EXISTS (SELECT 1 FROM caller_key)")) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  @Test
  void settingsDoNotLeakBetweenBorrowingsOfOnePooledConnection() throws SQLException {
    // A pool of one connection: the second borrowing gets the very same physical connection.
    DatabaseConfig one = new DatabaseConfig(platform.db.config().jdbcUrl(), platform.config.ownerUser(),
        platform.config.ownerPassword(), platform.db.config().appUser(), platform.db.config().appPassword(),
        platform.db.config().rolePrefix(), 1);
    try (var pool = PlatformDatabase.pool(one, one.appUser(), one.appPassword(), 1, 1, "leak-test", 0)) {
      TenantTransactions tx = new TenantTransactions(pool, one);
      assertThat((int) tx.run(A, PolicySettings.ingest(), c -> count(c, "SELECT count(*) FROM chunks"))).isEqualTo(2);
      assertThat((int) tx.run(A, PolicySettings.none(), c -> count(c, "SELECT count(*) FROM chunks"))).isZero();
      // The one-round-trip form: its settings end with the implicit transaction at the Sync.
      assertThat(tx.<Integer>runOnce(A, PolicySettings.ingest(), "SELECT count(*) FROM chunks", List.of(),
          (c, rows) -> rows.next() ? rows.getInt(1) : -1)).isEqualTo(2);
      // ... and a statement that fails there leaves nothing behind: the insert before the error is rolled back.
      assertThatThrownBy(() -> tx.runOnce(A, PolicySettings.ingest(),
          "WITH i AS (INSERT INTO care_links VALUES ('pr-x', 'p1', 'Encounter', 'e-x') RETURNING 1) "
              + "SELECT 1 / (count(*) - 1) FROM i", List.of(), (c, rows) -> rows.next()))
          .isInstanceOf(DatabaseException.class).hasMessageContaining("22012");
      assertThat((int) tx.run(A, PolicySettings.ingest(), c -> count(c, "SELECT count(*) FROM care_links"))).isZero();
      try (Connection c = pool.getConnection(); Statement st = c.createStatement()) {
        assertThat(count(c, "SELECT count(*) FROM pg_roles WHERE rolname = current_user AND rolname = session_user"))
            .isEqualTo(1);
        try (ResultSet rs = st.executeQuery("SELECT coalesce(current_setting('cc.access', true), '')")) {
          rs.next();
          assertThat(rs.getString(1)).isEmpty();
        }
        assertThatThrownBy(() -> st.executeQuery("SELECT count(*) FROM tenant_alpha.chunks"))
            .hasMessageContaining("permission denied");
      }
    }
  }
}
