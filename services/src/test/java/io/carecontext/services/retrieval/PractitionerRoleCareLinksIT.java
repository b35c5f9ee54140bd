package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A CareTeam member or Encounter participant named by its PractitionerRole links the role's
 * Practitioner too (tenant migration 46): a clinician's key names its Practitioner, and its roles
 * (one per clinic, as US Core feeds send them) each bring their care relationships, whichever of the
 * role and the team is written first. A role moved to another practitioner, ended or deleted takes
 * its links with it.
 */
class PractitionerRoleCareLinksIT {

  static TestServer app;
  static String ehr;
  static String drA;
  static String drB;
  static final String TREAT = "{\"query\":\"diabetes\",\"purposeOfUse\":\"TREAT\"}";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("roles", "feed", "[\"ehr-integration\"]", null);
    drA = app.tenantWithKey("roles", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"doc-a\"");
    drB = app.tenantWithKey("roles", "dr-b", "[\"clinician\"]", "\"practitionerId\":\"doc-b\"");
    for (String p : new String[] {"pt-1", "pt-2"}) {
      put("Patient/" + p, "{\"resourceType\":\"Patient\",\"id\":\"" + p + "\"}");
      put("Consent/cs-" + p, """
          {"resourceType":"Consent","id":"cs-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}}"""
          .formatted(p));
      put("Condition/cn-" + p, """
          {"resourceType":"Condition","id":"cn-%1$s","subject":{"reference":"Patient/%1$s"},
           "code":{"text":"Type 2 diabetes mellitus"}}""".formatted(p));
    }
    app.bean(EmbeddingWorker.class).drain(TenantId.of("roles"));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static void put(String path, String json) {
    HttpResponse<String> r = app.call("PUT", "/fhir/roles/" + path, ehr, json, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isIn(200, 201);
  }

  static String role(String id, String practitioner, String more) {
    return "{\"resourceType\":\"PractitionerRole\",\"id\":\"" + id + "\",\"practitioner\":{\"reference\":\"Practitioner/"
        + practitioner + "\"}" + more + "}";
  }

  static String team(String id, String patient, String member) {
    return """
        {"resourceType":"CareTeam","id":"%s","status":"active","subject":{"reference":"Patient/%s"},
         "participant":[{"member":{"reference":"PractitionerRole/%s"}}]}""".formatted(id, patient, member);
  }

  static int context(String key, String patient) {
    return app.call("POST", "/v1/roles/patients/" + patient + "/context", key, TREAT).statusCode();
  }

  @Test
  void aRoleLinksItsPractitionerWhicheverIsWrittenFirst() {
    assertThat(context(drA, "pt-1")).isEqualTo(404);
    // the role first, then the team that names it
    put("PractitionerRole/role-1", role("role-1", "doc-a", ""));
    put("CareTeam/team-1", team("team-1", "pt-1", "role-1"));
    assertThat(context(drA, "pt-1")).isEqualTo(200);
    // the team first, then the role
    put("CareTeam/team-2", team("team-2", "pt-2", "role-2"));
    assertThat(context(drB, "pt-2")).isEqualTo(404);
    put("PractitionerRole/role-2", role("role-2", "doc-b", ""));
    assertThat(context(drB, "pt-2")).isEqualTo(200);
    assertThat(context(drB, "pt-1")).isEqualTo(404); // only through its own role

    // the role given to another practitioner: its links move with it
    put("PractitionerRole/role-2", role("role-2", "doc-a", ""));
    assertThat(context(drB, "pt-2")).isEqualTo(404);
    assertThat(context(drA, "pt-2")).isEqualTo(200);
    // ended, or inactive: no one's
    put("PractitionerRole/role-2", role("role-2", "doc-a", ",\"period\":{\"end\":\"2020-01-01\"}"));
    assertThat(context(drA, "pt-2")).isEqualTo(404);
    put("PractitionerRole/role-1", role("role-1", "doc-a", ",\"active\":false"));
    assertThat(context(drA, "pt-1")).isEqualTo(404);
    // active again, then deleted
    put("PractitionerRole/role-1", role("role-1", "doc-a", ""));
    assertThat(context(drA, "pt-1")).isEqualTo(200);
    assertThat(app.call("DELETE", "/fhir/roles/PractitionerRole/role-1", ehr, null, "application/fhir+json").statusCode())
        .isEqualTo(204);
    assertThat(context(drA, "pt-1")).isEqualTo(404);
    // a key that names the role itself is linked as before
    String byRole = app.tenantWithKey("roles", "dr-r", "[\"clinician\"]", "\"practitionerId\":\"PractitionerRole/role-2\"");
    assertThat(context(byRole, "pt-2")).isEqualTo(200);
  }

  /**
   * A role's period bounds its links while the role stays as written (tenant migration 47): it was
   * checked only against the time of the write, so a role ending next month linked its practitioner
   * after that, and one not yet begun linked at once.
   */
  @Test
  void aRoleLinksOnlyWithinItsPeriod() {
    String drC = app.tenantWithKey("roles", "dr-c", "[\"clinician\"]", "\"practitionerId\":\"doc-c\"");
    put("CareTeam/team-3", team("team-3", "pt-1", "role-3"));
    put("PractitionerRole/role-3", role("role-3", "doc-c", ",\"period\":{\"start\":\"2999-01-01\"}"));
    assertThat(context(drC, "pt-1")).isEqualTo(404); // not begun
    put("PractitionerRole/role-3", role("role-3", "doc-c",
        ",\"period\":{\"start\":\"2020-01-01\",\"end\":\"2999-12-31\"}"));
    assertThat(context(drC, "pt-1")).isEqualTo(200);
    // the role's end reached while nothing is written again: the copy ends with it
    sql("UPDATE tenant_roles.practitioner_roles SET valid_until = now() - interval '1 second' WHERE role_id = 'role-3';"
        + "UPDATE tenant_roles.care_links SET valid_until = now() - interval '1 second' WHERE via_role = 'role-3'");
    assertThat(context(drC, "pt-1")).isEqualTo(404);
  }

  /**
   * A role stored before the database kept its practitioner (tenant migration 46), or whose row
   * migration 47 removed to be made again, is linked again by the worker at its next start, from the
   * stored role; until then the relationship fails closed.
   */
  @Test
  void aRoleWithoutItsPractitionersRowIsLinkedAgainByTheWorker() {
    String drD = app.tenantWithKey("roles", "dr-d", "[\"clinician\"]", "\"practitionerId\":\"doc-d\"");
    put("PractitionerRole/role-4", role("role-4", "doc-d", ""));
    put("CareTeam/team-4", team("team-4", "pt-2", "role-4"));
    assertThat(context(drD, "pt-2")).isEqualTo(200);
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    worker.drain(TenantId.of("roles")); // the writes' own queue entries done
    sql("DELETE FROM tenant_roles.care_links WHERE via_role = 'role-4';"
        + "DELETE FROM tenant_roles.practitioner_roles WHERE role_id = 'role-4'");
    assertThat(context(drD, "pt-2")).isEqualTo(404);
    assertThat(worker.enqueueRolesWithoutHolder(TenantId.of("roles"))).isPositive();
    worker.drain(TenantId.of("roles"));
    assertThat(context(drD, "pt-2")).isEqualTo(200);
    assertThat(worker.enqueueRolesWithoutHolder(TenantId.of("roles"))).as("roles still without a row: only those "
        + "that link no one").isLessThanOrEqualTo(1);
  }

  /**
   * A role that links no one has no row by design; it was queued, read and rendered again at every
   * start of the worker, for good. Now it is recorded as such (tenant migration 49).
   */
  @Test
  void aRoleThatLinksNoOneIsNotQueuedAgainAndAgain() {
    EmbeddingWorker worker = app.bean(EmbeddingWorker.class);
    TenantId tenant = TenantId.of("roles");
    put("PractitionerRole/role-5", role("role-5", "doc-e", ",\"active\":false"));
    worker.drain(tenant);
    // as if stored before the worker recorded such roles: it is checked once, then never again
    sql("DELETE FROM tenant_roles.practitioner_roles_without_holder");
    assertThat(worker.enqueueRolesWithoutHolder(tenant)).isPositive();
    worker.drain(tenant);
    assertThat(worker.enqueueRolesWithoutHolder(tenant)).isZero();
    // a new version that links no one is recorded by its write
    put("PractitionerRole/role-5", role("role-5", "doc-e", ",\"active\":false,\"period\":{\"end\":\"2020-01-01\"}"));
    worker.drain(tenant);
    assertThat(worker.enqueueRolesWithoutHolder(tenant)).isZero();
    // active again: linked by the write, nothing queued
    put("PractitionerRole/role-5", role("role-5", "doc-e", ""));
    worker.drain(tenant);
    assertThat(worker.enqueueRolesWithoutHolder(tenant)).isZero();
  }

  static void sql(String statements) {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      st.execute(statements);
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
