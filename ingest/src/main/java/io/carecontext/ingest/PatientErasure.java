package io.carecontext.ingest;

import io.carecontext.fhir.ConsentInterpreter;
import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.ResearchForgetLock;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Erases one patient from a tenant: everything the tenant holds of it, in one transaction under the tenant role,
 * for a live tenant-admin key (tenant migration 73). A FHIR {@code DELETE} of {@code Patient/{id}} removes that
 * resource alone; a chart misfiled into the wrong patient, a test patient merged away or a patient withdrawn from
 * AI use needs the rest gone too: the resources of its compartment (the Patient, and every resource whose patient
 * it is, deleted ones included) and all their versions (and every version that named the patient, of a resource
 * filed elsewhere since), their chunks with their research embeddings, the embedding cache's entries that no chunk
 * uses any longer (those chunks' texts and the patient's earlier versions' texts among them), the patient's consent
 * rows, care links, break-glass windows, research subject code and identifier keys, and the queue rows of those
 * resources. The audit trail stays whole: its rows
 * are the accounting a patient and a privacy officer are owed (HIPAA keeps them six years), and the erasure appends
 * its own, in the same transaction, through {@code recorder}.
 *
 * <p>Against the embedding worker: the queue rows go first, so a worker that claimed one of them (and holds it
 * until it commits the chunks it made) is waited for, and its chunks go after, as a FHIR delete's do. The
 * tenant's writes lock ({@link ResourceWriter#lock}) is taken alone, so every FHIR write under way (a single PUT
 * or DELETE, a batch entry, a Bundle, an {@code $import} batch: each holds it shared from its first write) is
 * waited for and removed with the rest, and the next waits for the erasure. A resource of the patient stored after
 * the erasure commits (the EHR sending it again) is stored anew, as any new resource.
 *
 * <p>Erasing a patient the tenant holds nothing of erases nothing and answers zero counts: the call is idempotent,
 * and a caller that lost the answer may send it again.
 */
public final class PatientErasure {

  /** The kinds of rows an erasure removes, in the order its answer lists them. */
  public static final List<String> KINDS = List.of("resources", "resourceVersions", "chunks", "researchEmbeddings",
      "cachedEmbeddings", "consents", "careLinks", "breakGlassWindows", "researchSubjects", "identifierKeys",
      "queuedWork");

  /** Records the erasure in the tenant's trail inside its transaction, as its last step; returns the row's id. */
  @FunctionalInterface
  public interface Recorder<T> {
    T record(Connection c, TenantId tenant, Map<String, Long> counts) throws SQLException;
  }

  /** What an erasure removed ({@link #KINDS}, each counted) and the id of its audit row. */
  public record Result<T>(Map<String, Long> counts, T auditId) {}

  /** The key presented is no live tenant-admin key of the tenant: nothing was erased. */
  public static final class NotAdmittedException extends RuntimeException {
    public NotAdmittedException() {
      super("the database admits a patient's erasure only for a live tenant-admin key of the tenant");
    }
  }

  private final TenantTransactions tx;
  private final TenantKeys keys;

  public PatientErasure(TenantTransactions tx, TenantKeys keys) {
    this.tx = tx;
    this.keys = keys;
  }

  /**
   * Erases {@code patientId} (a FHIR id; anything else is refused before the database is asked) for the key
   * {@code caller} presents ({@link PolicySettings#withCaller}), and records it with {@code recorder} in the same
   * transaction.
   */
  public <T> Result<T> erase(TenantId tenant, PolicySettings caller, String patientId, Recorder<T> recorder) {
    if (!FhirId.isValid(patientId)) {
      throw new IllegalArgumentException("a patient id must match " + FhirId.RULE);
    }
    Map<String, String> values = new LinkedHashMap<>(caller.values());
    values.put("cc.access", "ingest");
    values.put("cc.erase", patientId);
    return tx.run(tenant, new PolicySettings(values), c -> {
      if (!tenantAdmin(c)) {
        throw new NotAdmittedException();
      }
      Map<String, Long> counts = erase(c, tenant, patientId);
      return new Result<>(Collections.unmodifiableMap(counts), recorder.record(c, tenant, counts));
    });
  }

  private static boolean tenantAdmin(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{tenant-admin}'::text[])");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getBoolean(1);
    }
  }

  private Map<String, Long> erase(Connection c, TenantId tenant, String patient) throws SQLException {
    Map<String, Long> counts = new LinkedHashMap<>();
    KINDS.forEach(k -> counts.put(k, 0L));
    // every write of the tenant holds this key shared from its first write: waited for, and kept out
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      ps.setLong(1, ResourceWriter.tenantWritesKey(keys.cipher(tenant)));
      ps.executeQuery().close();
    }
    List<String> types = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT resource_type, resource_id FROM resources
        WHERE patient_id = ? OR (resource_type = 'Patient' AND resource_id = ?)""")) {
      ps.setString(1, patient);
      ps.setString(2, patient);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          types.add(rs.getString(1));
          ids.add(rs.getString(2));
        }
      }
    }
    String compartment = "(resource_type, resource_id) IN (SELECT * FROM unnest(?::text[], ?::text[]))";
    // the queue first: a worker that claimed a row of these resources holds it until it commits its chunks
    counts.put("queuedWork", update(c, "DELETE FROM outbox WHERE " + compartment, types, ids));
    // the research forgetting lock shared before the first chunk lock, as every chunk deletion takes it. The cache
    // loses every entry no chunk uses once these are gone: the texts of the patient's chunks and of its earlier
    // versions' (a chunk replaced on an update leaves its entry, and nothing else removes one), which the cache
    // cannot tell from another patient's superseded texts; those go too, a cache miss at worst.
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(" + ResearchForgetLock.KEY
        + ")")) {
      ps.setString(1, tenant.value());
      ps.executeQuery().close();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        WITH gone AS (
          DELETE FROM chunks WHERE patient_id = ? OR (resource_type, resource_id) IN
            (SELECT * FROM unnest(?::text[], ?::text[]))
          RETURNING chunk_id, model, text_hash, research_embedding IS NOT NULL AS researched),
        cached AS (
          DELETE FROM embedding_cache e
          WHERE NOT EXISTS (SELECT 1 FROM chunks k WHERE k.model = e.model AND k.text_hash = e.text_hash
                              AND k.chunk_id NOT IN (SELECT chunk_id FROM gone))
          RETURNING 1)
        SELECT (SELECT count(*) FROM gone), (SELECT count(*) FROM gone WHERE researched), (SELECT count(*) FROM cached)
        """)) {
      ps.setString(1, patient);
      ps.setArray(2, c.createArrayOf("text", types.toArray()));
      ps.setArray(3, c.createArrayOf("text", ids.toArray()));
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        counts.put("chunks", rs.getLong(1));
        counts.put("researchEmbeddings", rs.getLong(2));
        counts.put("cachedEmbeddings", rs.getLong(3));
      }
    }
    // a Consent denying purposes is stored with a second row (ConsentInterpreter.PURPOSES_DENIED): both go, and
    // the count names Consents, as the README's example does, not rows
    try (PreparedStatement ps = c.prepareStatement("""
        WITH gone AS (DELETE FROM consents WHERE patient_id = ? OR consent_id = ANY (?) RETURNING consent_id)
        SELECT count(*) FROM gone WHERE NOT consent_id LIKE '%' || ?""")) {
      ps.setString(1, patient);
      ps.setArray(2, c.createArrayOf("text", ids(types, ids, "Consent").toArray()));
      ps.setString(3, ConsentInterpreter.PURPOSES_DENIED);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        counts.put("consents", rs.getLong(1));
      }
    }
    counts.put("careLinks", update(c, "DELETE FROM care_links WHERE patient_id = ? OR (source_type, source_id) IN "
        + "(SELECT * FROM unnest(?::text[], ?::text[]))", patient, types, ids));
    counts.put("identifierKeys", update(c, "DELETE FROM resource_identifiers WHERE " + compartment, types, ids));
    // the write path has no right on windows or codes: one function removes the erased patient's (tenant migration 74)
    try (PreparedStatement ps = c.prepareStatement("SELECT windows, codes FROM erase_patient_windows_and_code()");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      counts.put("breakGlassWindows", rs.getLong(1));
      counts.put("researchSubjects", rs.getLong(2));
    }
    counts.put("resourceVersions", update(c, "DELETE FROM resource_versions WHERE patient_id = ? OR " + compartment,
        patient, types, ids));
    long resources = update(c, "DELETE FROM resources WHERE " + compartment, types, ids);
    if (resources != types.size()) {
      // the database refused some of them (tenant migration 73 admits only the erased patient's): nothing is erased
      throw new NotAdmittedException();
    }
    counts.put("resources", resources);
    return counts;
  }

  /** The ids of the compartment's resources of one type. */
  private static List<String> ids(List<String> types, List<String> ids, String type) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < types.size(); i++) {
      if (type.equals(types.get(i))) {
        out.add(ids.get(i));
      }
    }
    return out;
  }

  /** Runs a statement whose parameters are strings and lists of strings (text arrays); returns the rows it changed. */
  private static long update(Connection c, String sql, Object... parameters) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.length; i++) {
        if (parameters[i] instanceof List<?> list) {
          ps.setArray(i + 1, c.createArrayOf("text", list.toArray()));
        } else {
          ps.setString(i + 1, (String) parameters[i]);
        }
      }
      return ps.executeLargeUpdate();
    }
  }
}
