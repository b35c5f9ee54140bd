package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The template migrations that change rows, not only the schema, change them on an installation
 * whose schema owner is not a superuser (as on any managed PostgreSQL). The tables they touch force
 * row-level security on their owner, and no policy admits the owner: run as it, an UPDATE or DELETE
 * meets no row and succeeds, so tenant migrations 42 and 44 changed nothing there (the
 * embedded default's owner is a superuser, which no policy binds). Migration 47 does their work
 * again, with the owner's own exemption from row-level security in force for its transaction only.
 */
class DataMigrationsIT {

  static TestPlatform platform;
  static TenantId tenant;
  static TenantId before59;
  static TenantId before60;
  static TenantId before63;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    tenant = OlderTemplates.provision(platform, "datamig", 46);
    superuser("""
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, status_checked)
        VALUES ('doc-a', 'pt-1', 'CareTeam', 'team-1', true), ('doc-b', 'pt-1', 'Encounter', 'enc-1', true),
               ('PractitionerRole/role-1', 'pt-2', 'CareTeam', 'team-3', true);
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, status_checked, via_role)
        VALUES ('doc-c', 'pt-2', 'CareTeam', 'team-3', true, 'role-1');
        INSERT INTO practitioner_roles (role_id, practitioner_id) VALUES ('role-1', 'doc-c')""");
    before59 = OlderTemplates.provision(platform, "datamig58", 58);
    superuser(before59, """
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, status_checked, valid_from,
                                valid_until)
        VALUES ('doc-a', 'pt-1', 'CareTeam', 'team-1', true, '2030-01-01', '2020-01-01'),
               ('doc-b', 'pt-1', 'Encounter', 'enc-undated', true, NULL, NULL),
               ('doc-c', 'pt-1', 'Encounter', 'enc-ended', true, '2024-01-01', '2024-01-02')""");
    before60 = OlderTemplates.provision(platform, "datamig59", 59);
    superuser(before60, """
        INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, last_updated)
        VALUES ('Encounter', 'enc-lost', 3, 'pt-1', '\\x00', '\\x00', now() - interval '100 days'),
               ('Encounter', 'enc-stay', 9, 'pt-1', '\\x00', '\\x00', now() - interval '10 days');
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, status_checked, valid_until,
                                via_role)
        VALUES ('doc-a', 'pt-1', 'Encounter', 'enc-lost', true, NULL, NULL),
               ('PractitionerRole/role-1', 'pt-1', 'Encounter', 'enc-lost', true, NULL, NULL),
               ('doc-r', 'pt-1', 'Encounter', 'enc-lost', true, now() + interval '1 year', 'role-1'),
               ('doc-a', 'pt-1', 'Encounter', 'enc-stay', true, NULL, NULL),
               ('doc-a', 'pt-1', 'Encounter', 'enc-gone', true, NULL, NULL),
               ('doc-a', 'pt-1', 'Encounter', 'enc-recent', true, now() - interval '10 days', NULL),
               ('doc-a', 'pt-1', 'Encounter', 'enc-years', true, now() - interval '3 years', NULL),
               ('doc-a', 'pt-1', 'CareTeam', 'team-1', true, NULL, NULL)""");
    before63 = OlderTemplates.provision(platform, "datamig62", 62);
    superuser(before63, """
        INSERT INTO resources (resource_type, resource_id, version_id, patient_id, content_hash, body, last_updated)
        VALUES ('Encounter', 'enc-typo', 2, 'pt-1', '\\x00', '\\x00', now() - interval '10 days'),
               ('Encounter', 'enc-ahead', 4, 'pt-1', '\\x00', '\\x00', now() - interval '100 days'),
               ('Encounter', 'enc-plain', 1, 'pt-1', '\\x00', '\\x00', now() - interval '5 days');
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, status_checked, valid_until,
                                open_since)
        VALUES ('doc-a', 'pt-1', 'Encounter', 'enc-typo', true, NULL, '2099-01-05'),
               ('doc-a', 'pt-1', 'Encounter', 'enc-ahead', true, '2099-01-05', NULL),
               ('doc-a', 'pt-1', 'Encounter', 'enc-plain', true, NULL, now() - interval '6 days'),
               ('doc-a', 'pt-1', 'Encounter', 'enc-nobody', true, '2099-01-05', NULL),
               ('doc-a', 'pt-1', 'CareTeam', 'team-1', true, '2099-01-05', NULL);
        INSERT INTO practitioner_roles (role_id, practitioner_id, valid_from, valid_until)
        VALUES ('role-1', 'doc-r', '2024-01-04T22:00:00Z', '2024-01-06T00:00:00Z')""");
    // research turned on before tenant migration 64: the HNSW index over the identified embeddings
    superuser(before63, "CREATE INDEX chunks_embedding_hnsw ON chunks USING hnsw ((embedding::public.vector(384)) "
        + "public.vector_cosine_ops) WHERE public.vector_dims(embedding) = 384");
    OlderTemplates.startCurrentRelease(platform);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void rowMigrationsReachRowsUnderForcedRowLevelSecurity() throws SQLException {
    assertThat(rows("SELECT rolsuper::text FROM pg_roles WHERE rolname = '" + platform.config.ownerUser() + "'"))
        .containsExactly("false");
    // 47: a role's copies and its practitioner are made again by the worker, from the stored role
    assertThat(rows("SELECT practitioner_id FROM care_links WHERE via_role IS NOT NULL")).isEmpty();
    assertThat(rows("SELECT role_id FROM practitioner_roles")).isEmpty();
    // 42 and 44, again: every CareTeam's and Encounter's links are derived again by the worker
    assertThat(rows("SELECT source_id FROM care_links WHERE status_checked IS NOT NULL")).isEmpty();
    assertThat(rows("SELECT source_id FROM care_links ORDER BY source_id")).containsExactly("enc-1", "team-1", "team-3");
    // and the tables force row-level security again when it is done
    assertThat(rows("""
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relname IN ('care_links', 'practitioner_roles')
          AND c.relrowsecurity AND c.relforcerowsecurity ORDER BY 1""".formatted(tenant.schemaName())))
        .containsExactly("care_links", "practitioner_roles");
  }

  /**
   * 59: every CareTeam's links (a participant's inverted period was merged into a wider span) and, as 58
   * meant to, every Encounter link without an end are derived again, also where the owner is bound by
   * forced row-level security (58's own UPDATE met no row there); an ended encounter's link is kept.
   */
  @Test
  void careLinksAreDerivedAgainWhereTheOwnerIsBoundByRowLevelSecurity() throws SQLException {
    assertThat(rows(before59, "SELECT source_id FROM care_links WHERE status_checked IS NULL ORDER BY source_id"))
        .containsExactly("enc-undated", "team-1");
    assertThat(rows(before59, "SELECT source_id FROM care_links WHERE status_checked")).containsExactly("enc-ended");
    assertThat(rows(before59, """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relname = 'care_links' AND c.relforcerowsecurity""".formatted(before59.schemaName())))
        .containsExactly("care_links");
  }

  /**
   * 60: an encounter under way without an end linked its participants for good. Every Encounter link
   * stored without an end is open since its encounter was last stored (with none stored, since the
   * migration), so the read path bounds it by the tenant's openEncounterMaxDays (90 here) at once,
   * a copy through a role as well, beside the role's later end; the worker derives them again with the
   * encounter's start, and those that ended within the longest follow-up, last derived before a date
   * end was read in the zone of its start. Also where the owner is bound by forced row-level security.
   */
  @Test
  void openEncounterLinksStoredBeforeAreBoundedWhereTheOwnerIsBoundByRowLevelSecurity() throws SQLException {
    assertThat(rows(before60, """
        SELECT source_id || ' ' || practitioner_id || ' ' || (open_since IS NOT NULL) || ' ' || (follow_up_until > now())
        FROM care_links WHERE source_type = 'Encounter' ORDER BY source_id, practitioner_id"""))
        .containsExactly("enc-gone doc-a true true", "enc-lost PractitionerRole/role-1 true false",
            "enc-lost doc-a true false", "enc-lost doc-r true false", "enc-recent doc-a false true",
            "enc-stay doc-a true true", "enc-years doc-a false false");
    assertThat(rows(before60, """
        SELECT count(*) FROM care_links l JOIN resources r ON r.resource_id = l.source_id
        WHERE l.open_since = r.last_updated""")).containsExactly("4");
    assertThat(rows(before60, "SELECT source_id FROM care_links WHERE status_checked ORDER BY source_id"))
        .containsExactly("enc-years", "team-1");
    assertThat(rows(before60, """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relname IN ('care_links', 'resources') AND c.relforcerowsecurity
        ORDER BY 1""".formatted(before60.schemaName()))).containsExactly("care_links", "resources");
  }

  /**
   * 63: an Encounter link open since a future start (2099 for 2029), or ending in the future with no
   * bound, is open since its encounter was last stored (none stored: since the migration), so the
   * tenant's openEncounterMaxDays (90 here) bounds it at once, and those ending ahead are derived again
   * by the worker; every PractitionerRole's row, its period read before date bounds took the other
   * bound's zone, is marked for the worker to derive again (kept until it does). Also where the owner
   * is bound by forced row-level security.
   */
  @Test
  void futureDatesStoredBeforeAreBoundedWhereTheOwnerIsBoundByRowLevelSecurity() throws SQLException {
    assertThat(rows(before63, """
        SELECT source_id || ' ' || (follow_up_until > now()) || ' ' || coalesce(status_checked::text, 'unchecked')
        FROM care_links WHERE source_type = 'Encounter' ORDER BY source_id"""))
        .containsExactly("enc-ahead false unchecked", "enc-nobody true unchecked", "enc-plain true true",
            "enc-typo true true");
    assertThat(rows(before63, """
        SELECT l.source_id FROM care_links l JOIN resources r ON r.resource_id = l.source_id
        WHERE l.open_since = r.last_updated ORDER BY 1""")).containsExactly("enc-ahead", "enc-typo");
    assertThat(rows(before63, "SELECT (open_since <= now() AND valid_until IS NOT NULL)::text FROM care_links "
        + "WHERE source_id = 'enc-nobody'")).containsExactly("true");
    // a CareTeam's end, however far, is its own (no end would link as long): left as it was
    assertThat(rows(before63, "SELECT (valid_until = '2099-01-05' AND open_since IS NULL AND status_checked)::text "
        + "FROM care_links WHERE source_type = 'CareTeam'")).containsExactly("true");
    // the role stands as it was until the worker derives it again; a role written from now on is checked
    assertThat(rows(before63, "SELECT role_id || ' ' || coalesce(periods_checked::text, 'unchecked') "
        + "FROM practitioner_roles")).containsExactly("role-1 unchecked");
    superuser(before63, "INSERT INTO practitioner_roles (role_id, practitioner_id) VALUES ('role-2', 'doc-s')");
    assertThat(rows(before63, "SELECT periods_checked::text FROM practitioner_roles WHERE role_id = 'role-2'"))
        .containsExactly("true");
    assertThat(rows(before63, """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '%s' AND c.relname IN ('care_links', 'resources', 'practitioner_roles')
          AND c.relforcerowsecurity ORDER BY 1""".formatted(before63.schemaName())))
        .containsExactly("care_links", "practitioner_roles", "resources");
  }

  /**
   * Tenant migration 64: research ranks on research embeddings (of de-identified text). A tenant that had
   * research on keeps it on, its index now over the new column (research refuses until the sweep has
   * made them); a tenant that had it off gets none. Tenant migration 66 records whether research is on
   * and its build completed.
   */
  @Test
  void theResearchIndexMovesToTheResearchEmbeddingsOfATenantThatHadItOnly() throws SQLException {
    String index = "SELECT indexdef FROM pg_indexes WHERE schemaname = '%s' AND indexname = 'chunks_embedding_hnsw'";
    assertThat(rows(before63, index.formatted(before63.schemaName()))).singleElement().asString()
        .contains("research_embedding").doesNotContain("(embedding");
    assertThat(rows(tenant, index.formatted(tenant.schemaName()))).isEmpty();
    // 66: research answers once its build has completed; a tenant that had research on keeps it on, complete
    // when every chunk already has its research embedding (otherwise the sweep marks it), one that had it off not
    String build = "SELECT enabled || ' ' || generation || ' ' || (completed IS NOT DISTINCT FROM CASE WHEN "
        + "EXISTS (SELECT 1 FROM chunks WHERE research_embedding IS NULL) THEN NULL ELSE 1 END) FROM research_build";
    assertThat(rows(before63, build)).containsExactly("true 1 true");
    assertThat(rows(tenant, "SELECT enabled || ' ' || generation || ' ' || coalesce(completed::text, '-') "
        + "FROM research_build")).containsExactly("false 0 -");
  }

  /**
   * Tenant migration 68: the index of the chunks without a research embedding, which every tenant's ingest kept
   * up to date, is dropped where research is off and kept where it is on; by an owner that is not a superuser.
   */
  @Test
  void theResearchWorkListIndexIsKeptOnlyWhereResearchIsOn() throws SQLException {
    assertThat(rows("SELECT rolsuper::text FROM pg_roles WHERE rolname = '" + platform.config.ownerUser() + "'"))
        .containsExactly("false");
    String index = "SELECT indexname FROM pg_indexes WHERE schemaname = '%s' "
        + "AND indexname = 'chunks_research_pending_idx'";
    assertThat(rows(before63, index.formatted(before63.schemaName()))).containsExactly("chunks_research_pending_idx");
    assertThat(rows(tenant, index.formatted(tenant.schemaName()))).isEmpty();
    assertThat(rows(before60, index.formatted(before60.schemaName()))).isEmpty();
  }

  /**
   * Tenant migration 70: where research is on, the work list's index is made again over (model, chunk_id), the
   * order the research build reads it in (ResearchEmbeddings.WORK_LIST), with the same predicate; by an owner that
   * is not a superuser. A tenant with research off still has none.
   */
  @Test
  void theResearchWorkListIndexIsMadeAgainInTheModelsOrderWhereResearchIsOn() throws SQLException {
    String index = "SELECT indexdef FROM pg_indexes WHERE schemaname = '%s' AND indexname = 'chunks_research_pending_idx'";
    assertThat(rows(before63, index.formatted(before63.schemaName()))).singleElement().asString()
        .contains("(model, chunk_id)").contains("WHERE (research_embedding IS NULL)");
    assertThat(rows(tenant, index.formatted(tenant.schemaName()))).isEmpty();
  }

  /**
   * Tenant migration 69: a generation is completed only after its research embeddings were forgotten. A tenant whose
   * build had completed keeps answering (its completed generation recorded as forgotten, by an owner that is not a
   * superuser, under forced row-level security); one that had research off has nothing recorded.
   */
  @Test
  void aCompletedResearchBuildKeepsAnsweringAfterTheForgettingIsRecorded() throws SQLException {
    String build = "SELECT generation || ' ' || coalesce(completed::text, '-') || ' ' || coalesce(forgotten::text, '-') "
        + "FROM research_build";
    assertThat(rows(before63, build)).containsExactly("1 1 1");
    assertThat(rows(tenant, build)).containsExactly("0 - -");
    assertThat(rows(before63, "SELECT relforcerowsecurity::text FROM pg_class WHERE oid = 'research_build'::regclass"))
        .containsExactly("true");
  }

  static void superuser(String sql) throws SQLException {
    superuser(tenant, sql);
  }

  static void superuser(TenantId in, String sql) throws SQLException {
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("SET search_path = " + Identifiers.quote(in.schemaName()));
      st.execute(sql);
    }
  }

  static List<String> rows(String sql) throws SQLException {
    return rows(tenant, sql);
  }

  static List<String> rows(TenantId in, String sql) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(platform.config); Statement st = c.createStatement()) {
      st.execute("SET search_path = " + Identifiers.quote(in.schemaName()));
      try (ResultSet rs = st.executeQuery(sql)) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
