package io.carecontext.migrations;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.flywaydb.core.api.MigrationVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates and removes tenants: the schema from the template, the tenant's NOLOGIN roles with grants
 * on that schema only (one per path, {@link TenantRoles}), and its data key. Provisioning is
 * idempotent (an active tenant is left as it is) and atomic (a failure part-way removes everything
 * it made, including a half-made tenant left by a crash). Concurrent calls for one tenant are
 * serialized by an advisory lock; within one process every provisioning and deletion is serialized
 * too ({@link #ONE_AT_A_TIME}).
 */
public final class TenantProvisioner {

  private static final Logger LOG = LoggerFactory.getLogger(TenantProvisioner.class);

  /**
   * One provisioning or deletion at a time in this process. Each holds an owner connection for its
   * advisory lock and needs up to two more while it runs (Flyway's); the owner pool has 3. Calls that
   * waited for the advisory lock on a pooled connection starved the one holding it: two tenants
   * created at once both failed with 503 after the connection timeout and kept nothing. Waiting here
   * holds no connection. Tenants are created rarely; the cost is that a burst is made one by one.
   */
  private static final java.util.concurrent.locks.ReentrantLock ONE_AT_A_TIME =
      new java.util.concurrent.locks.ReentrantLock(true);

  private final PlatformDatabase db;
  private final TenantKeys keys;
  private final List<String> templateLocations;
  private final MigrationVersion templateTarget;

  public TenantProvisioner(PlatformDatabase db, TenantKeys keys) {
    this(db, keys, List.of(Migrations.TENANT_LOCATION));
  }

  /** For tests that prove atomicity with an extra, failing template migration. */
  TenantProvisioner(PlatformDatabase db, TenantKeys keys, List<String> templateLocations) {
    this(db, keys, templateLocations, MigrationVersion.LATEST);
  }

  private TenantProvisioner(PlatformDatabase db, TenantKeys keys, List<String> templateLocations,
                            MigrationVersion templateTarget) {
    this.db = db;
    this.keys = keys;
    this.templateLocations = List.copyOf(templateLocations);
    this.templateTarget = templateTarget;
  }

  /**
   * For tests of the upgrade path: provisions tenants whose template stops at {@code version}, as
   * a release that shipped only that far left them. The next {@link PlatformDatabase#bootstrap}
   * migrates them to the latest like any other tenant.
   */
  static TenantProvisioner atTemplateVersion(PlatformDatabase db, TenantKeys keys, int version) {
    if (version < 1) {
      throw new IllegalArgumentException("template versions start at 1");
    }
    return new TenantProvisioner(db, keys, List.of(Migrations.TENANT_LOCATION),
        MigrationVersion.fromVersion(Integer.toString(version)));
  }

  public record Result(TenantId tenant, boolean created, long millis) {}

  public Result provision(TenantId tenant, String name) {
    if (name == null || name.isBlank() || name.length() > 200) {
      throw new IllegalArgumentException("tenant name must be 1 to 200 characters");
    }
    long start = System.nanoTime();
    ONE_AT_A_TIME.lock();
    try {
      return provisionAlone(tenant, name, start);
    } finally {
      ONE_AT_A_TIME.unlock();
    }
  }

  private Result provisionAlone(TenantId tenant, String name, long start) {
    try (Connection lock = db.ownerDataSource().getConnection()) {
      advisoryLock(lock, tenant);
      try {
        Optional<String> status = status(lock, tenant);
        if (status.filter("active"::equals).isPresent()) {
          return new Result(tenant, false, elapsed(start));
        }
        if (status.isPresent()) {
          LOG.warn("tenant {} was left half-made ({}); removing it before provisioning again", tenant, status.get());
          removeEverything(tenant);
        }
        insertTenant(lock, tenant, name);
        try {
          createRolesAndSchema(tenant);
          Migrations.migrateTenant(db.ownerDataSource(), db.config(), tenant, templateLocations, templateTarget);
          try (Connection c = db.ownerDataSource().getConnection()) {
            keys.create(c, tenant);
          }
          markActive(lock, tenant);
        } catch (RoleNameTakenException e) {
          // a configuration conflict the caller is told about, not a fault: one line
          LOG.warn("tenant {} not provisioned: {}", tenant, e.getMessage());
          removeEverything(tenant);
          throw e;
        } catch (RuntimeException | SQLException e) {
          LOG.error("provisioning tenant {} failed; removing what was made", tenant, e);
          removeEverything(tenant);
          throw new DatabaseException("could not provision tenant '" + tenant + "'; nothing was kept. "
              + "Check the database logs and the owner role's rights (CREATEROLE), then try again", e);
        }
        LOG.info("tenant {} provisioned in {} ms", tenant, elapsed(start));
        return new Result(tenant, true, elapsed(start));
      } finally {
        advisoryUnlock(lock, tenant);
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not provision tenant '" + tenant + "': database unavailable", e);
    }
  }

  /** Removes a tenant the platform made for itself (a benchmark's): as {@link #delete(TenantId, String)}. */
  public boolean delete(TenantId tenant) {
    return delete(tenant, "carecontext");
  }

  /**
   * Offboards a tenant: destroys its data keys first (crypto-shredding), then schema, roles and rows,
   * and records that {@code principal} did (platform migration 10), in one transaction.
   */
  public boolean delete(TenantId tenant, String principal) {
    ONE_AT_A_TIME.lock();
    try {
      return deleteAlone(tenant, principal);
    } finally {
      ONE_AT_A_TIME.unlock();
    }
  }

  private boolean deleteAlone(TenantId tenant, String principal) {
    try (Connection lock = db.ownerDataSource().getConnection()) {
      advisoryLock(lock, tenant);
      try {
        if (status(lock, tenant).isEmpty()) {
          return false;
        }
        try (PreparedStatement ps = lock.prepareStatement(
            "UPDATE platform.tenants SET status = 'deleting', updated_at = now() WHERE tenant_id = ?")) {
          ps.setString(1, tenant.value());
          ps.executeUpdate();
        }
        removeEverything(tenant, principal);
        LOG.info("tenant {} deleted; its data keys are destroyed", tenant);
        return true;
      } finally {
        advisoryUnlock(lock, tenant);
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not delete tenant '" + tenant + "'", e);
    }
  }

  /**
   * Creates or drops the tenant's HNSW index for multi-patient research search. Built
   * concurrently, so ingest and retrieval go on meanwhile; returns when it is ready (hours for a
   * tenant with millions of chunks: callers run it in the background, see
   * {@link #researchIndexState}). It covers the 384-dimensional research embeddings (the in-process model's
   * embeddings of de-identified text, tenant migration 64), which single-patient retrieval never reads, so
   * that path stays exact. The column is empty until the research build fills it, so the index is quick
   * to create; each research embedding written afterwards updates it.
   *
   * <p>With it, before it, the index of the chunks still without a research embedding (the research build's
   * and sweep's work list, {@link #RESEARCH_PENDING_INDEX}), and dropped with it: every chunk ingest writes
   * has none, so a tenant without research kept one more index up to date on every write for nothing (tenant
   * migration 68 dropped it where research was off).
   *
   * <p>One change of a tenant's research indexes at a time, across every process ({@link #researchIndexLock}),
   * and each made only if research is still on, dropped only if it is still off (tenant migration 66's marker,
   * read under the lock). Without them, a turning-off in one process whose {@code DROP INDEX CONCURRENTLY}
   * waited (behind a research batch holding chunks) let another process's turning-on find the indexes still
   * there ({@code CREATE … IF NOT EXISTS} did nothing), and the drop then removed them: research on, its
   * build completed, without its indexes (every search a full scan). Now the creation waits for the drop and
   * makes them again; a drop that comes after a turning-on leaves them.
   */
  public void researchIndex(TenantId tenant, boolean enabled) {
    String schema = Identifiers.quote(tenant.schemaName());
    String index = schema + ".chunks_embedding_hnsw";
    String pending = schema + "." + RESEARCH_PENDING_INDEX;
    try (Connection c = db.buildsDataSource().getConnection(); Statement st = c.createStatement()) {
      c.setAutoCommit(true); // CREATE INDEX CONCURRENTLY cannot run inside a transaction
      researchIndexLock(c, tenant);
      try {
        if (researchEnabled(c, tenant, enabled) != enabled) {
          // turned the other way since this change was asked for: that turning's own change decides
          LOG.info("tenant {}: research index left as it is (research was turned {} meanwhile)", tenant,
              enabled ? "off" : "on");
          return;
        }
        if (!enabled) {
          st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index);
          st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + pending);
          return;
        }
        // read under the lock: another process's build of them has ended, failed or not
        if (indexToMakeAgain(c, tenant, RESEARCH_PENDING_INDEX, 2)) { // (model, chunk_id)
          // left behind by a failed build, or made over chunk_id alone by a process of before tenant migration 70
          // (research turned on by it during a rolling upgrade, after this version's migration ran): the work
          // list would sort every pending chunk for each batch
          st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + pending);
        }
        if (indexToMakeAgain(c, tenant, "chunks_embedding_hnsw", 1)) {
          st.execute("DROP INDEX CONCURRENTLY IF EXISTS " + index); // left behind by a failed build
        }
        long started = System.nanoTime();
        // The work list first: the sweep starts once the HNSW index is ready, and walks this one.
        st.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS " + RESEARCH_PENDING_INDEX + " ON " + schema
            + ".chunks (model, chunk_id) WHERE research_embedding IS NULL"); // tenant migration 70
        st.execute("CREATE INDEX CONCURRENTLY IF NOT EXISTS chunks_embedding_hnsw ON "
            + schema + ".chunks USING hnsw ((research_embedding::public.vector(384)) "
            + "public.vector_cosine_ops) WHERE public.vector_dims(research_embedding) = 384");
        LOG.info("tenant {}: research index ready in {} ms", tenant, (System.nanoTime() - started) / 1_000_000);
      } finally {
        researchIndexUnlock(c, tenant);
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not " + (enabled ? "build" : "drop") + " the research index of tenant '"
          + tenant + "' (" + e.getSQLState() + "); retry the setting", e);
    }
  }

  /** How long a change of a tenant's research indexes waits before it asks again for the one under way to end. */
  static final long RESEARCH_INDEX_LOCK_POLL_MILLIS = 100;

  /**
   * The tenant's research-index lock, on the builds connection for its session (held across the
   * statements, each its own transaction). Asked for again and again with short sleeps, never waited for
   * in the database: a waiting {@code pg_advisory_lock} is a transaction that the holder's
   * {@code CREATE/DROP INDEX CONCURRENTLY} waits for in turn (a deadlock), while a try holds nothing.
   */
  private static void researchIndexLock(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT pg_try_advisory_lock(hashtext('carecontext-research-index:' || ?))")) {
      ps.setString(1, tenant.value());
      while (true) {
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next() && rs.getBoolean(1)) {
            return;
          }
        }
        try {
          Thread.sleep(RESEARCH_INDEX_LOCK_POLL_MILLIS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt(); // the process is stopping
          throw new DatabaseException("stopped waiting for another change of the research index of tenant '"
              + tenant + "'; retry the setting", e);
        }
      }
    }
  }

  private static void researchIndexUnlock(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT pg_advisory_unlock(hashtext('carecontext-research-index:' || ?))")) {
      ps.setString(1, tenant.value());
      ps.execute();
    }
  }

  /**
   * Whether research is on (tenant migration 66's marker), read as the owner; {@code otherwise} for a
   * tenant whose template predates the marker (an upgrade test's, migrated before it is served).
   */
  private static boolean researchEnabled(Connection c, TenantId tenant, boolean otherwise) throws SQLException {
    String table = Identifiers.quote(tenant.schemaName()) + ".research_build";
    try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL")) {
      ps.setString(1, table);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || !rs.getBoolean(1)) {
          return otherwise;
        }
      }
    }
    try (Statement st = c.createStatement();
         ResultSet rs = st.executeQuery("SELECT coalesce((SELECT enabled FROM " + table + "), false)")) {
      return rs.next() && rs.getBoolean(1);
    }
  }

  /**
   * The index of the chunks still without a research embedding (tenant migration 64): kept only while
   * research is on ({@link #researchIndex}).
   */
  public static final String RESEARCH_PENDING_INDEX = "chunks_research_pending_idx";

  /**
   * Whether the tenant has this index, not being built, but left invalid by a concurrent build that failed or
   * over another number of key columns than {@code keyColumns} (the work list over chunk_id alone, as a process
   * of before tenant migration 70 makes it): either way to be dropped and made again.
   */
  private static boolean indexToMakeAgain(Connection c, TenantId tenant, String name, int keyColumns)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT NOT i.indisvalid OR i.indnkeyatts <> ? FROM pg_class x JOIN pg_namespace n ON n.oid = x.relnamespace
        JOIN pg_index i ON i.indexrelid = x.oid LEFT JOIN pg_stat_progress_create_index p ON p.index_relid = x.oid
        WHERE n.nspname = ? AND x.relname = ? AND p.index_relid IS NULL""")) {
      ps.setInt(1, keyColumns);
      ps.setString(2, tenant.schemaName());
      ps.setString(3, name);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    }
  }

  /** Where the research index stands: absent, building (with progress), ready, or invalid. */
  public record ResearchIndexState(String state, long done, long total) {}

  public ResearchIndexState researchIndexState(TenantId tenant) {
    try (Connection c = db.ownerDataSource().getConnection(); PreparedStatement ps = c.prepareStatement("""
        SELECT i.indisvalid, p.blocks_done, p.blocks_total, p.tuples_done, p.tuples_total
        FROM pg_class x JOIN pg_namespace n ON n.oid = x.relnamespace JOIN pg_index i ON i.indexrelid = x.oid
        LEFT JOIN pg_stat_progress_create_index p ON p.index_relid = x.oid
        WHERE n.nspname = ? AND x.relname = 'chunks_embedding_hnsw'""")) {
      ps.setString(1, tenant.schemaName());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return new ResearchIndexState("absent", 0, 0);
        }
        if (rs.getBoolean(1)) {
          return new ResearchIndexState("ready", 0, 0);
        }
        if (rs.getObject(2) == null) {
          return new ResearchIndexState("invalid", 0, 0);
        }
        boolean byTuples = rs.getLong(5) > 0;
        return new ResearchIndexState("building", byTuples ? rs.getLong(4) : rs.getLong(2),
            byTuples ? rs.getLong(5) : rs.getLong(3));
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not read the research index state of tenant '" + tenant + "'", e);
    }
  }

  public List<TenantId> list() {
    try {
      return new ArrayList<>(db.tenantIds());
    } catch (SQLException e) {
      throw new DatabaseException("could not list tenants", e);
    }
  }

  private void createRolesAndSchema(TenantId tenant) throws SQLException {
    String schema = Identifiers.quote(tenant.schemaName());
    try (Connection c = db.ownerDataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        TenantRoles.ensure(c, db.config(), tenant);
        st.execute("CREATE SCHEMA " + schema);
        st.execute("REVOKE ALL ON SCHEMA " + schema + " FROM PUBLIC");
        st.execute("GRANT USAGE ON SCHEMA " + schema + " TO " + Identifiers.quote(db.config().tenantRole(tenant)));
        c.commit();
      } catch (SQLException e) {
        c.rollback();
        throw e;
      }
    }
  }

  /** A tenant whose provisioning failed: it never was one, so no offboarding is recorded. */
  private void removeEverything(TenantId tenant) {
    removeEverything(tenant, null);
  }

  private void removeEverything(TenantId tenant, String offboardedBy) {
    try (Connection c = db.ownerDataSource().getConnection()) {
      c.setAutoCommit(false);
      try (Statement st = c.createStatement()) {
        if (offboardedBy != null) {
          try (PreparedStatement ps = c.prepareStatement(
              "INSERT INTO platform.tenant_offboardings (tenant_id, name, created_at, offboarded_by) "
                  + "SELECT tenant_id, name, created_at, ? FROM platform.tenants WHERE tenant_id = ?")) {
            ps.setString(1, offboardedBy);
            ps.setString(2, tenant.value());
            ps.executeUpdate();
          }
        }
        // Only this installation's roles: a name another installation uses stays theirs.
        List<String> roles = TenantRoles.owned(c, db.config(), tenant);
        keys.destroy(c, tenant);
        st.execute("DROP SCHEMA IF EXISTS " + Identifiers.quote(tenant.schemaName()) + " CASCADE");
        for (String role : roles) {
          // The role owns nothing; its grants and policies lived in the schema just dropped.
          st.execute("DROP ROLE IF EXISTS " + Identifiers.quote(role));
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM platform.tenants WHERE tenant_id = ?")) {
          ps.setString(1, tenant.value());
          ps.executeUpdate();
        }
        c.commit();
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not remove tenant '" + tenant + "'", e);
    }
  }

  /** One recorded offboarding (platform migration 10). */
  public record Offboarding(String tenantId, String name, java.time.Instant createdAt, java.time.Instant offboardedAt,
                            String offboardedBy) {}

  /**
   * The offboardings recorded, newest first, at most {@code limit}. Read as the application role,
   * which may only read them (platform migration 10): a listing has no need of the owner's powers.
   */
  public List<Offboarding> offboardings(int limit) {
    try (Connection c = db.appDataSource().getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT tenant_id, name, created_at, offboarded_at, offboarded_by FROM platform.tenant_offboardings "
            + "ORDER BY offboarded_at DESC LIMIT ?")) {
      ps.setInt(1, limit);
      List<Offboarding> out = new java.util.ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Offboarding(rs.getString(1), rs.getString(2), rs.getTimestamp(3).toInstant(),
              rs.getTimestamp(4).toInstant(), rs.getString(5)));
        }
      }
      return out;
    } catch (SQLException e) {
      throw new DatabaseException("could not read the tenant offboardings", e);
    }
  }

  private static Optional<String> status(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT status FROM platform.tenants WHERE tenant_id = ?")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  private static void insertTenant(Connection c, TenantId tenant, String name) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO platform.tenants (tenant_id, name, status) VALUES (?, ?, 'provisioning')")) {
      ps.setString(1, tenant.value());
      ps.setString(2, name);
      ps.executeUpdate();
    }
  }

  /**
   * Active from now. {@code updated_at} is the row's {@code created_at} until its first change of name or settings
   * (a new tenant's updatedAt equals its createdAt, as the README says): set to the end of provisioning, it read as a
   * change made seconds after creation.
   */
  private static void markActive(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE platform.tenants SET status = 'active', updated_at = created_at WHERE tenant_id = ?")) {
      ps.setString(1, tenant.value());
      ps.executeUpdate();
    }
  }

  private static void advisoryLock(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_lock(hashtext('carecontext-tenant:' || ?))")) {
      ps.setString(1, tenant.value());
      ps.execute();
    }
  }

  private static void advisoryUnlock(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_unlock(hashtext('carecontext-tenant:' || ?))")) {
      ps.setString(1, tenant.value());
      ps.execute();
    }
  }

  private static long elapsed(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }
}
