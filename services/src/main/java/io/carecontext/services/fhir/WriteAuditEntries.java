package io.carecontext.services.fhir;

import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteOutcome;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditEvents;
import io.carecontext.retrieval.audit.AuditLog;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The audit rows of a FHIR write: one a patient whose record it touched (and one for resources in
 * no patient's compartment, such as a Practitioner), each naming the key, how many resources it
 * created, updated, deleted and was sent unchanged, and which versions (type, id and version; never
 * content). An update that moves a resource from one patient to another touched both records: it is
 * in both rows.
 */
public final class WriteAuditEntries {

  private WriteAuditEntries() {}

  /**
   * A writer for this key: its settings presented to the database (the tenant role writes resources
   * only for a live EHR-integration key), and its audit rows appended in each write's own
   * transaction, so a write and its record commit together. The service's writes and the ingest
   * benchmark's take it from here.
   */
  public static FhirWriter audited(AuditLog audit, PolicySettings settings, String principal, String keyId,
                                   List<String> roles) {
    return new FhirWriter(settings, (c, tenant, outcomes) -> {
      try {
        audit.appendWithin(c, tenant, of(principal, keyId, roles, outcomes));
      } catch (SQLException e) {
        // Told apart from a failed write, as for a read whose row cannot be written: the caller hears
        // that nothing was stored and to retry (it got a 500 that said neither). The cause is kept:
        // a deadlock still runs the write again, a refused key is still the caller's to fix.
        throw new AuditLog.AuditUnavailableException(e);
      }
    });
  }

  /** The rows of {@code outcomes} for this key. */
  static List<AuditEntry> of(String principal, String keyId, List<String> roles, List<WriteOutcome> outcomes) {
    Map<String, List<WriteOutcome>> byPatient = new LinkedHashMap<>();
    for (WriteOutcome o : outcomes) {
      byPatient.computeIfAbsent(o.patientId(), p -> new ArrayList<>()).add(o); // null: no patient's compartment
      if (o.movedFromAnotherPatient()) {
        // moved out of another patient's record (a corrected subject): that record changed too, and
        // "who changed this patient's record" must find it under that patient as well
        byPatient.computeIfAbsent(o.previousPatientId(), p -> new ArrayList<>()).add(o);
      }
    }
    List<AuditEntry> entries = new ArrayList<>(byPatient.size());
    byPatient.forEach((patient, done) -> {
      Map<String, Integer> counts = new TreeMap<>(Map.of("created", 0, "updated", 0, "deleted", 0, "unchanged", 0));
      for (WriteOutcome o : done) {
        counts.merge(o.status().name().toLowerCase(java.util.Locale.ROOT), 1, Integer::sum);
      }
      AuditEntry e = AuditEntry.of(principal, keyId, roles, patient, null,
          AuditEvents.WRITE_ACTION, AuditEntry.Decision.ALLOWED, "allowed");
      for (Map.Entry<String, Integer> c : counts.entrySet()) {
        e = e.withDetail(c.getKey(), Integer.toString(c.getValue()));
      }
      entries.add(e.withDetail("resources", AuditEntry.jsonStrings(done.stream().map(WriteOutcome::location).toList())));
    });
    return entries;
  }
}
