package io.carecontext.migrations.testing;

import io.carecontext.migrations.DatabaseConfig;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a tenant's tables hold of one patient, counted as the superuser (past RLS), table by table: the erasure
 * ITs compare it before and after, and across patients. A resource of the patient is one whose patient it is, or
 * whose id the tests end with the patient's id.
 */
public final class PatientRows {

  private PatientRows() {}

  public static Map<String, Integer> held(DatabaseConfig config, String schema, String patient) throws SQLException {
    String p = patient;
    String own = "(resource_type, resource_id) IN (SELECT resource_type, resource_id FROM " + schema
        + ".resources WHERE patient_id = '" + p + "')";
    Map<String, String> where = new LinkedHashMap<>();
    where.put("resources", "resources WHERE patient_id = '" + p + "'");
    where.put("resource_versions", "resource_versions WHERE patient_id = '" + p + "' OR " + own
        + " OR resource_id LIKE '%" + p + "'");
    where.put("resource_identifiers", "resource_identifiers WHERE resource_id LIKE '%" + p + "'");
    where.put("chunks", "chunks WHERE patient_id = '" + p + "' OR resource_id LIKE '%" + p + "'");
    where.put("research_embeddings", "chunks WHERE (patient_id = '" + p + "' OR resource_id LIKE '%" + p
        + "') AND research_embedding IS NOT NULL");
    where.put("outbox", "outbox WHERE resource_id LIKE '%" + p + "'");
    where.put("consents", "consents WHERE patient_id = '" + p + "'");
    where.put("care_links", "care_links WHERE patient_id = '" + p + "'");
    where.put("break_glass", "break_glass WHERE patient_id = '" + p + "'");
    where.put("research_subjects", "research_subjects WHERE patient_id = '" + p + "'");
    Map<String, Integer> held = new LinkedHashMap<>();
    try (Connection c = TestPostgres.superuser(config); Statement st = c.createStatement()) {
      for (Map.Entry<String, String> table : where.entrySet()) {
        try (ResultSet rs = st.executeQuery("SELECT count(*) FROM " + schema + "." + table.getValue())) {
          rs.next();
          held.put(table.getKey(), rs.getInt(1));
        }
      }
    }
    return held;
  }
}
