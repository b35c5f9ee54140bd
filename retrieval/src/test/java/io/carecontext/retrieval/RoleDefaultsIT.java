package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPlatform;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The database's copy of the role defaults (platform migration 7), by which the read and research
 * policies bound a request (tenant migration 36), is the application's ({@link RolePolicy#DEFAULTS}).
 * A change to one without the other fails here: change the other in a new migration.
 */
class RoleDefaultsIT {

  static TestPlatform platform;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void theDatabasesRoleDefaultsAreTheApplications() throws SQLException {
    try (Connection c = platform.db.ownerDataSource().getConnection()) {
      TreeSet<String> roles = new TreeSet<>();
      try (ResultSet rs = c.createStatement().executeQuery("SELECT role FROM platform.role_defaults")) {
        while (rs.next()) {
          roles.add(rs.getString(1));
        }
      }
      assertThat(roles).isEqualTo(new TreeSet<>(RolePolicy.DEFAULTS.keySet()));
      for (Map.Entry<String, RolePolicy> e : RolePolicy.DEFAULTS.entrySet()) {
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT policy = ?::jsonb, policy::text FROM platform.role_defaults WHERE role = ?")) {
          ps.setString(1, TestPlatform.json(asSettings(e.getValue())));
          ps.setString(2, e.getKey());
          try (ResultSet rs = ps.executeQuery()) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getBoolean(1)).as(e.getKey() + ": database " + rs.getString(2) + ", application "
                + TestPlatform.json(asSettings(e.getValue()))).isTrue();
          }
        }
      }
    }
  }

  /** A policy in the shape of a tenant's rolePolicies override, which is the table's. */
  static Map<String, Object> asSettings(RolePolicy p) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("categories", p.categories());
    m.put("resourceTypes", p.resourceTypes());
    m.put("purposes", p.purposes());
    m.put("labels", p.labels());
    m.put("labelsWithConsent", p.labelsWithConsent());
    m.put("kMax", p.kMax());
    m.put("careRelationship", p.careRelationship());
    m.put("breakGlass", Map.of("allowed", p.breakGlass(), "overrideConsent", p.breakGlassOverridesConsent(),
        "maxMinutes", p.breakGlassMinutes()));
    m.put("deidentifiedOnly", p.deidentifiedOnly());
    return m;
  }
}
