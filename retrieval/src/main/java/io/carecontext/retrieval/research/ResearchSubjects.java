package io.carecontext.retrieval.research;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.audit.AuditEntry;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collection;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Research subject codes (tenant migration 48): how a role served de-identified only names a patient.
 * Research search issues one per patient it returns, random and derived from nothing about the
 * patient (Safe Harbor's re-identification code), the same in every later search; the chat of such a
 * role takes the code and never a patient id, which the researcher would have chosen knowing whose it
 * is. Only the platform resolves a code, for a key with the researcher role.
 */
public final class ResearchSubjects {

  /** R and 15 upper-case hex digits: 60 random bits (a token scope, [R…_PATIENT_1], takes at most 16 characters). */
  public static final Pattern CODE = Pattern.compile("^R[0-9A-F]{15}$");

  /**
   * The 404 of a code that names no subject, of a patient id sent instead, and of a subject whose patient
   * the key may not see (consent withdrawn, say): the same for all, as API.md answers every patient the
   * caller may not see. The last said "no such patient, or this key may not see it", which told a
   * researcher holding a code that its patient had withdrawn consent.
   */
  public static final String NOT_FOUND = "no such research subject, or this key may not see it: a role served "
      + "de-identified names a patient by the subject code research search returned (R followed by 15 hex digits), "
      + "never by a patient id";

  private static final SecureRandom RANDOM = new SecureRandom();

  private ResearchSubjects() {}

  /**
   * The code of each patient, issued now for one that has none, in the research transaction {@code c}
   * (whose settings open the research path for a researcher key: the database issues codes for no
   * one else).
   */
  static Map<String, String> issue(Connection c, TenantId tenant, Collection<String> patientIds) throws SQLException {
    if (patientIds.isEmpty()) {
      return Map.of();
    }
    String[] ids = patientIds.toArray(String[]::new);
    String[] fresh = new String[ids.length];
    for (int i = 0; i < ids.length; i++) {
      byte[] b = new byte[8];
      RANDOM.nextBytes(b);
      fresh[i] = "R" + HexFormat.of().withUpperCase().formatHex(b).substring(1);
    }
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
        INSERT INTO {schema}.research_subjects (patient_id, code)
        SELECT * FROM unnest(?::text[], ?::text[]) ON CONFLICT (patient_id) DO NOTHING"""))) {
      ps.setArray(1, c.createArrayOf("text", ids));
      ps.setArray(2, c.createArrayOf("text", fresh));
      ps.executeUpdate();
    }
    Map<String, String> codes = new LinkedHashMap<>();
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant,
        "SELECT patient_id, code FROM {schema}.research_subjects WHERE patient_id = ANY (?)"))) {
      ps.setArray(1, c.createArrayOf("text", ids));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          codes.put(rs.getString(1), rs.getString(2));
        }
      }
    }
    return codes;
  }

  /**
   * {@code row}, a refusal written before the request's {@code pathId} was resolved, as it should
   * read when that id is a research subject code this key may resolve: the patient it stands for,
   * and the code ({@code details.researchSubject}), as the rows after its resolution read. Such a
   * refusal (rate limit, purpose missing or not allowed, identified context asked for) named the code
   * alone, and the patient's accounting of disclosures left out every attempt refused before it.
   * Anything else (a patient id, a code never issued, a key the database does not admit) as it is.
   */
  public static AuditEntry recordedFor(TenantTransactions tx, TenantId tenant,
      Requester who, String pathId, AuditEntry row) {
    return resolve(tx, tenant, who, pathId).map(patient -> row.withPatient(patient)
        .withDetail("researchSubject", AuditEntry.jsonString(pathId))).orElse(row);
  }

  /**
   * The patient a code stands for, for this key as the database admits it (a key with the researcher
   * role); empty for anything else, a patient id included.
   */
  public static Optional<String> resolve(TenantTransactions tx, TenantId tenant, Requester who, String code) {
    return resolution(tx, tenant, who, code).patient();
  }

  /**
   * A code's resolution: the patient, and whether the database admitted the key at all
   * ({@code keyAdmitted}: false for a key revoked since authentication, or of another tenant). A
   * code resolved to nothing for such a key was recorded as a code never issued
   * (research_subject_unknown), not as the key the database refused. Anything that is no code
   * resolves to nothing without a read.
   */
  public record Resolution(Optional<String> patient, boolean keyAdmitted) {}

  public static Resolution resolution(TenantTransactions tx, TenantId tenant, Requester who, String code) {
    if (code == null || !CODE.matcher(code).matches()) {
      return new Resolution(Optional.empty(), true);
    }
    PolicySettings settings = PolicySettings.read().build().withQualifiedNames().withCaller(who.keyId(),
        who.keySecretHash());
    return tx.runOnce(tenant, settings, TenantSql.of(tenant,
        "SELECT EXISTS (SELECT 1 FROM {schema}.caller_key), "
            + "(SELECT patient_id FROM {schema}.research_subjects WHERE code = ?)"), List.of(code),
        (c, rows) -> rows.next() ? new Resolution(Optional.ofNullable(rows.getString(2)), rows.getBoolean(1))
            : new Resolution(Optional.empty(), false));
  }
}
