package io.carecontext.retrieval.research;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The research build's work list during a re-embedding: the tenant holds many chunks of its old model, none with a
 * research embedding (their successors get one), and a few of the new model. A batch reads only the new model's
 * chunks, whatever the table's statistics say.
 */
class ResearchWorkListIT {

  static final String NEW_MODEL = "new-model";
  static final int OLD_CHUNKS = 40_000;
  static final int NEW_CHUNKS = 10;
  static final int MADE = 2_000;
  static TestPlatform platform;
  static TenantId tenant;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    tenant = platform.tenant("worklist");
    ResearchEmbeddings embeddings = new ResearchEmbeddings(platform.tx, platform.keys);
    embeddings.turnOn(tenant);
    platform.provisioner.researchIndex(tenant, true);
    // the old model's chunks first (lower ids), then their first successors of the new model
    superuser(chunks("old-model", OLD_CHUNKS, 0));
    superuser(chunks(NEW_MODEL, NEW_CHUNKS, OLD_CHUNKS));
    // and successors whose research embedding is made already: not on the work list either
    superuser(chunks(NEW_MODEL, MADE, OLD_CHUNKS + NEW_CHUNKS));
    superuser("UPDATE tenant_worklist.chunks SET research_embedding = embedding WHERE chunk_id IN "
        + "(SELECT chunk_id FROM tenant_worklist.chunks ORDER BY chunk_id DESC LIMIT " + MADE + ")");
  }

  static String chunks(String model, int n, int from) {
    return chunks("tenant_worklist", model, n, from);
  }

  static String chunks(String schema, String model, int n, int from) {
    return "INSERT INTO " + schema + ".chunks (resource_type, resource_id, version_id, patient_id, category, seq, "
        + "text_hash, text, model, embedding) SELECT 'Observation', 'o-' || i, 1, 'p-' || (i % 500), 'laboratory', 0, "
        + "'\\x00'::bytea, '\\x00'::bytea, '" + model + "', array_fill(0.1, ARRAY[384])::public.vector "
        + "FROM generate_series(" + from + ", " + (from + n - 1) + ") AS i";
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  /**
   * Statistics taken while every chunk was of the new model (as they stay after a change of model until the next
   * analyze), and taken with the old model's chunks in the majority: in each, the batch's plan (generic, as every tenant
   * statement's) reads the new model's chunks alone, not the old model's on its way to them.
   */
  @Test
  void aBatchReadsOnlyTheNewModelsChunksWhateverTheStatisticsSay() throws Exception {
    List<String> states = new ArrayList<>();
    superuser("UPDATE tenant_worklist.chunks SET model = '" + NEW_MODEL + "'");
    superuser("ANALYZE tenant_worklist.chunks");
    superuser("UPDATE tenant_worklist.chunks SET model = 'old-model' WHERE chunk_id IN "
        + "(SELECT chunk_id FROM tenant_worklist.chunks ORDER BY chunk_id LIMIT " + OLD_CHUNKS + ")");
    superuser("VACUUM tenant_worklist.chunks"); // the statistics stay as they were
    states.add(read("statistics of the new model alone"));
    superuser("ANALYZE tenant_worklist.chunks");
    states.add(read("statistics of the old model's majority"));
    assertThat(states).allSatisfy(s -> assertThat(s).startsWith("ok"));
  }

  /**
   * The batch's plans ({@link #plans}), run: "ok" when each read no more chunks than the new model has.
   */
  static String read(String statistics) throws Exception {
    List<String> plans = plans(tenant);
    StringBuilder verdict = new StringBuilder();
    for (String plan : plans) {
      long read = chunksRead(plan);
      System.out.println(statistics + ": " + read + " chunks read\n" + plan);
      verdict.append(read <= NEW_CHUNKS ? "" : "walked ").append(read).append(" chunks read; ");
    }
    return (verdict.indexOf("walked") < 0 ? "ok " : "") + statistics + ": " + verdict;
  }

  /**
   * The work list's plans, run, in a tenant transaction as a batch runs it (sorts ruled out first): as the driver
   * sends it, with its values bound (a custom plan), and as a prepared statement with a generic plan, which every
   * tenant transaction asks for.
   */
  static List<String> plans(TenantId on) {
    return platform.tx.run(on, PolicySettings.ingest(), c -> {
      List<String> out = new ArrayList<>();
      try (Statement st = c.createStatement()) {
        st.execute("SELECT " + ResearchEmbeddings.WORK_LIST_WITHOUT_SORT);
      }
      try (PreparedStatement ps = c.prepareStatement("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) "
          + ResearchEmbeddings.WORK_LIST)) {
        ps.setString(1, NEW_MODEL);
        ps.setString(2, NEW_MODEL);
        ps.setInt(3, 384);
        ps.setInt(4, ResearchEmbeddings.BATCH);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          out.add(rs.getString(1));
        }
      }
      String generic = ResearchEmbeddings.WORK_LIST;
      for (int i = 1; generic.contains("?"); i++) {
        generic = generic.replaceFirst("\\?", "\\$" + i);
      }
      try (Statement st = c.createStatement()) {
        st.execute("PREPARE work_list(text, text, integer, integer) AS " + generic);
        try (ResultSet rs = st.executeQuery("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) EXECUTE work_list('"
            + NEW_MODEL + "', '" + NEW_MODEL + "', 384, " + ResearchEmbeddings.BATCH + ")")) {
          rs.next();
          out.add(rs.getString(1));
        }
        st.execute("DEALLOCATE work_list");
      }
      return out;
    });
  }

  /**
   * The work list's plan after ANALYZE (fresh statistics) in the states a build and a re-embedding go through, with
   * its values bound and as a generic plan: the work-list index walked in order, nothing sorted. With its values bound
   * during a re-embedding, the planner read every pending chunk of the new model through a bitmap scan (of this index,
   * or of the (model, size, renderer) one) and sorted them, 20-250 ms a batch against 0.05-0.15 ms, until sorts were
   * ruled out for this statement (ResearchEmbeddings.WORK_LIST_WITHOUT_SORT).
   */
  @Test
  void theWorkListWalksItsIndexWhateverTheFreshStatisticsSay() throws Exception {
    TenantId plans = platform.tenant("plans");
    new ResearchEmbeddings(platform.tx, platform.keys).turnOn(plans);
    platform.provisioner.researchIndex(plans, true);
    String table = "tenant_plans.chunks";
    List<String> seen = new ArrayList<>();
    superuser(chunks("tenant_plans", NEW_MODEL, 40_000, 0));
    superuser("UPDATE " + table + " SET research_embedding = embedding");
    seen.addAll(scans(plans, "nothing to do"));
    superuser("UPDATE " + table + " SET research_embedding = NULL WHERE chunk_id IN (SELECT chunk_id FROM " + table
        + " ORDER BY chunk_id DESC LIMIT 10)");
    seen.addAll(scans(plans, "10 to do among 40,000"));
    superuser("UPDATE " + table + " SET research_embedding = NULL WHERE chunk_id IN (SELECT chunk_id FROM " + table
        + " ORDER BY chunk_id DESC LIMIT 20000)");
    seen.addAll(scans(plans, "half to do"));
    // a re-embedding: the old model's 40,000 chunks, with their research embeddings or without, and 20,000 successors
    superuser("UPDATE " + table + " SET research_embedding = embedding, model = 'old-model'");
    superuser(chunks("tenant_plans", NEW_MODEL, 20_000, 40_000));
    seen.addAll(scans(plans, "the new model's 20,000 to do, the old model's made"));
    superuser("UPDATE " + table + " SET research_embedding = NULL");
    seen.addAll(scans(plans, "the new model's 20,000 to do, the old model's too"));
    assertThat(seen).hasSize(10)
        .allSatisfy(s -> assertThat(s).endsWith(": Index Scan using chunks_research_pending_idx"));
  }

  /**
   * The state's statistics taken afresh, then the work list's plans: for each, the state, the time it took, and the
   * nodes that read chunks or sort, in the plan's order.
   */
  static List<String> scans(TenantId on, String state) throws Exception {
    superuser("VACUUM ANALYZE tenant_" + on.value() + ".chunks");
    List<String> out = new ArrayList<>();
    for (String plan : plans(on)) {
      try (Connection c = TestPostgres.superuser(platform.config); PreparedStatement ps = c.prepareStatement("""
          SELECT ((?::jsonb)->0->>'Execution Time'),
                 (SELECT string_agg(n->>'Node Type' || coalesce(' using ' || (n->>'Index Name'), ''), ' > ')
                  FROM jsonb_path_query(?::jsonb, 'strict $.**') AS n
                  WHERE jsonb_typeof(n) = 'object' AND (n->>'Relation Name' = 'chunks' OR n->>'Index Name' IS NOT NULL
                                                        OR n->>'Node Type' LIKE '%Sort%'))""")) {
        ps.setString(1, plan);
        ps.setString(2, plan);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          String seen = state + " (" + (out.isEmpty() ? "values bound" : "generic") + ", " + rs.getString(1)
              + " ms): " + rs.getString(2);
          System.out.println(seen);
          out.add(seen);
        }
      }
    }
    return out;
  }

  /** The rows every scan of chunks in the plan read: those it returned and those its filters removed. */
  static long chunksRead(String plan) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); PreparedStatement ps = c.prepareStatement("""
        SELECT coalesce(sum(coalesce((n->>'Actual Rows')::bigint, 0) + coalesce((n->>'Rows Removed by Filter')::bigint, 0)
                            + coalesce((n->>'Rows Removed by Index Recheck')::bigint, 0)), 0)
        FROM jsonb_path_query(?::jsonb, 'strict $.**') AS n
        WHERE jsonb_typeof(n) = 'object' AND n->>'Relation Name' = 'chunks'""")) {
      ps.setString(1, plan);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  static void superuser(String sql) throws SQLException {
    TestPostgres.superuserExecute(platform.config, sql);
  }
}
