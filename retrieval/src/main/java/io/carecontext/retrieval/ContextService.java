package io.carecontext.retrieval;

import com.pgvector.PGvector;
import io.carecontext.fhir.ClinicalDate;
import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.research.ResearchSubjects;
import io.carecontext.retrieval.audit.AuditLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * The read path: role policy and purpose of use, care relationship, consent, then an exact
 * nearest-neighbour search within one patient — under the tenant's reader role (V12) with RLS
 * settings that repeat every decision, so the database refuses what the application should never
 * ask for.
 * Every request, allowed or denied, writes one audit row, and its chunks are returned only after
 * that row is committed, so no result leaves without its audit row.
 */
public final class ContextService {

  /** The 403 of a key whose roles read no patient context (tenant-admin, auditor, ehr-integration), and what to do. */
  public static final String ROLE_REFUSED = "this key's roles may not retrieve patient context: ask the tenant admin "
      + "for a key of a role that reads it (clinician, care-coordinator or billing)";

  static final Set<String> PURPOSES = AuditEntry.PURPOSES_OF_USE;
  /**
   * One text for every reason behind the 404, so it tells nothing of the patient, but says what the
   * caller can do: it was "no such patient, or this key may not see it", and a clinician could not
   * tell a typo from a missing consent without asking someone who could read the trail.
   */
  public static final String NOT_FOUND = "no such patient, or this key may not see it (no care relationship with the key's "
      + "practitioner, or no consent for this use): check the patient id; if it is right, the tenant's auditor finds "
      + "the reason in the audit trail";
  /**
   * The reasons behind the one 404 that API.md makes identical, whose difference is the patient's:
   * whoever counts requests (metrics) must not tell them apart either. A researcher's subject code that
   * names no patient it may reach is one of them: its 404 is the one a code of a patient without consent gets.
   */
  public static final Set<String> INDISTINGUISHABLE_REASONS = Set.of("unknown_patient", "no_care_relationship",
      "no_consent", "consent_denied", "patient_label_not_readable", "research_subject_unknown");
  /** {@code cc.practitioner} when no care relationship is required (V26). */
  static final String ANY_PRACTITIONER = "*";
  /** The longest break-glass reason: it is stored (encrypted) in every audit row of its request. */
  static final int MAX_REASON = 1_000;

  /** Over {@link #MAX_REASON} characters as the caller counts them (code points, not UTF-16 units). */
  static boolean reasonTooLong(String reason) {
    return reason.length() > MAX_REASON && reason.codePointCount(0, reason.length()) > MAX_REASON;
  }

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final AuditLog audit;
  private final RateLimiter rateLimiter;

  public ContextService(TenantTransactions tx, TenantKeys keys, AuditLog audit) {
    this(tx, keys, audit, new RateLimiter());
  }

  /** With the limiter the key's other paths (research search) take from, so a key has one budget. */
  public ContextService(TenantTransactions tx, TenantKeys keys, AuditLog audit, RateLimiter rateLimiter) {
    this.tx = tx;
    this.keys = keys;
    this.audit = audit;
    this.rateLimiter = rateLimiter;
  }

  /**
   * Chat's retrieval: a real chat ({@code chat}) or a dry run ({@code chat-dry-run}), each recorded under its own
   * action, every refusal included; a refused dry run was recorded {@code chat}, so an accounting by action
   * counted it as a chat and missed it among the dry runs.
   */
  static boolean chat(String action) {
    return "chat".equals(action) || "chat-dry-run".equals(action);
  }

  /** {@code action}: the rows' action, {@code context}, {@code chat} or {@code chat-dry-run}. */
  public ContextResult context(TenantId tenant, TenantPolicy policy, Requester who, String pathId, ContextQuery q,
                               String action) {
    long start = System.nanoTime();
    AuditEntry base = AuditEntry.of(who.principal(), who.keyId(), who.roles(), pathId, q.purposeOfUse(), action,
        AuditEntry.Decision.DENIED, "").withQuery(q.text())
        // break-glass: the caller's reason is what its review judges, so every row of the request keeps it
        .withJustification("ETREAT".equals(q.purposeOfUse()) && q.reason() != null && !reasonTooLong(q.reason())
            ? q.reason() : null);
    // The refusals before a research subject code is resolved (below) record the patient it stands for beside
    // the code, as the rows after it do: they named the code alone, and the patient's accounting of disclosures
    // missed them. Resolved only for a row that is written (a rate-limited key's rows are bounded).
    UnaryOperator<AuditEntry> early = e -> ResearchSubjects.recordedFor(tx, tenant, who, pathId, e);
    OptionalLong wait = rateLimiter.acquire(who.keyId(), policy.rateLimitPerMinute(), System.nanoTime());
    if (wait.isPresent()) {
      throw rateLimiter.refused(audit, tenant, base, early, who.keyId(), wait.getAsLong(), start);
    }
    // A key whose roles may read no patient data at all (tenant-admin, auditor, ehr-integration) is told
    // so first: it was told to send a purpose of use, which would only have moved it on to this 403.
    if (policy.invalidFor(who.roles())) {
      throw deny(tenant, early.apply(base), 503, "tenant_misconfigured", TenantPolicy.INVALID_POLICY,
          "policy_invalid", 0, start);
    }
    if (!policy.anyPolicy(who.roles())) {
      throw deny(tenant, early.apply(base), 403, "forbidden", ROLE_REFUSED, "role_not_allowed", 0, start);
    }
    if (q.purposeOfUse() == null || q.purposeOfUse().isBlank()) {
      throw deny(tenant, early.apply(base), 400, "purpose_required",
          "purposeOfUse is required: one of TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH", "purpose_missing", 0, start);
    }
    if (!PURPOSES.contains(q.purposeOfUse())) {
      // Present but not a code we know ("treat", "FOO"): saying it is missing sent callers looking for the wrong fault.
      throw deny(tenant, early.apply(base), 400, "purpose_unknown",
          "purposeOfUse is not one of TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH (HL7 v3 PurposeOfUse codes, upper case)",
          "purpose_unknown", 0, start);
    }
    var decided = policy.decide(who.roles(), q.purposeOfUse());
    if (decided.isEmpty()) {
      throw deny(tenant, early.apply(base), 403, "forbidden",
          "this key's roles may not retrieve context for that purpose of use" + allowedPurposes(policy, who.roles()),
          "purpose_not_allowed", 0, start);
    }
    String role = decided.get().getKey();
    RolePolicy rp = decided.get().getValue();
    if (rp.deidentifiedOnly() && !chat(action)) {
      throw deny(tenant, early.apply(base), 403, "forbidden", "this role receives de-identified data only, "
          + "through the chat and research paths, not identified context", "deidentified_only", 0, start);
    }
    // A role served de-identified only names a patient by the research subject code research search
    // issued, never by a patient id it chose (tenant migration 48): the rows from here on record the
    // patient the code stands for, and the code.
    ResearchSubjects.Resolution subject = rp.deidentifiedOnly() ? ResearchSubjects.resolution(tx, tenant, who, pathId)
        : null;
    if (subject != null && !subject.keyAdmitted()) {
      // the database refused the key (revoked since authentication): the 404 of any code it cannot resolve,
      // recorded as what it is, as the read path records such a key
      throw deny(tenant, base, 404, "patient_not_found", ResearchSubjects.NOT_FOUND, "key_not_admitted", 0, start);
    }
    String patientId = subject != null ? subject.patient().orElse(null) : pathId;
    if (patientId == null) {
      throw deny(tenant, base, 404, "patient_not_found", ResearchSubjects.NOT_FOUND, "research_subject_unknown", 0,
          start);
    }
    if (rp.deidentifiedOnly()) {
      base = base.withPatient(patientId).withDetail("researchSubject", "\"" + pathId + "\""); // its shape checked
    }
    boolean breakGlass = "ETREAT".equals(q.purposeOfUse());
    if (breakGlass && (q.reason() == null || !FreeText.hasWords(q.reason()))) {
      // a reason of a NUL, a zero-width or a no-break space passed isBlank(), and its review read nothing
      // the message names the field to send: "a reason in words" left the caller to guess where it goes
      throw deny(tenant, base, 400, "reason_required", "break-glass (ETREAT) needs the field \"reason\": why this "
          + "emergency access is needed, in words (1 to 1,000 characters), for its review",
          "break_glass_no_reason", 0, start);
    }
    if (breakGlass && reasonTooLong(q.reason())) {
      throw deny(tenant, base, 400, "reason_too_long", "the break-glass \"reason\" takes at most "
          + "1,000 characters: shorten it",
          "break_glass_reason_too_long", 0, start);
    }
    if (breakGlass && FreeText.hasControlCharacter(q.reason())) {
      // a NUL or an escape in the reason was stored as the justification its review reads, where the question
      // beside it is refused the same characters; the message names the rule, never the reason
      throw deny(tenant, base, 400, "reason_malformed", "the break-glass \"reason\" holds "
          + FreeText.CONTROL_CHARACTERS + ": send it as text",
          "break_glass_reason_malformed", 0, start);
    }
    if (breakGlass && !rp.breakGlass()) {
      // what to do next: the tenant's policy decides, so a caller that only heard "may not" asked again
      throw deny(tenant, base, 403, "forbidden", "this key's role may not break the glass (ETREAT) in this tenant: "
          + "its policy (rolePolicies, breakGlass.allowed) is set by a tenant admin; a patient in your care is "
          + "read with TREAT", "break_glass_not_allowed", 0, start);
    }
    if (q.reopenBreakGlass() && !breakGlass) {
      throw deny(tenant, base, 400, "bad_request", "reopen applies to break-glass only: send it with purposeOfUse "
          + "ETREAT and a reason", "reopen_without_break_glass", 0, start);
    }
    if (!FhirId.isValid(patientId)) {
      throw deny(tenant, base, 404, "patient_not_found", NOT_FOUND, "unknown_patient", 0, start);
    }
    // Only now, past the rate limit and every check above: a refused request costs no model call.
    float[] vector = q.embedding().get();
    List<float[]> topics = chat(action) ? q.topicEmbeddings().get() : List.of();
    int k = Math.max(1, Math.min(q.k() <= 0 ? 8 : q.k(), rp.kMax()));
    // base's details (a research subject code) are kept unless break-glass replaces them with its review's
    AuditEntry entry = base.withBreakGlass(breakGlass, breakGlass ? AuditEntry.BREAK_GLASS_REVIEW : null);
    boolean careRequired = policy.careRequiredFor(rp) && !breakGlass;
    // One round trip (an implicit transaction) when chunks come back; a second one reads the facts
    // that name the reason when none do. Break-glass runs both in one transaction, which also opens
    // its window.
    String practitioner = who.practitionerId() == null ? "" : who.practitionerId();
    PolicySettings settings = readSettings(policy, rp, who, patientId, q.purposeOfUse());
    boolean chat = chat(action);
    String searchSql = TenantSql.of(tenant, chat ? SEARCH_WITH_VECTORS : SEARCH);
    // the model may be null (tests, benchmarks): List.of takes no nulls
    List<Object> parameters = java.util.Arrays.asList(q.model(), new PGvector(vector), patientId, patientId,
        !careRequired, patientId, practitioner, k);
    Outcome outcome;
    int pending = 0;
    try {
      if (breakGlass) {
        outcome = tx.run(tenant, settings, c -> {
          // The window first: the chunk policy honours a consent override only inside it (tenant
          // migration 33). It is opened only for a key the database admits and a patient that exists.
          openBreakGlass(c, tenant, patientId, rp.breakGlassMinutes());
          boolean reopened = q.reopenBreakGlass() && reopenBreakGlass(c, tenant, patientId, rp.breakGlassMinutes());
          List<ContextChunk> chunks = search(c, tenant, searchSql, parameters, vector, topics, k);
          Decision known = facts(c, tenant, patientId, practitioner);
          Decision d = chunks.isEmpty() ? known : Decision.SEARCHED;
          Instant closesAt = d.keyAdmitted() && d.patientExists() ? windowClosesAt(c, tenant) : null;
          AuditEntry recorded = reopened ? entry.withDetail("reopened", "true") : entry;
          List<String> overrode = overridden(known, rp, policy.careRequiredFor(rp));
          return decide(d, chunks, rp, careRequired, true, closesAt, overrode.isEmpty() ? recorded
              : recorded.withDetail("overrode", AuditEntry.jsonStrings(overrode)), start);
        });
      } else {
        // The pending count travels with the search: a statement of its own after it, in the same round trip
        // (or, for a chat question's topics, the same transaction), never a transaction of its own.
        Searched searched = topics.isEmpty()
            ? tx.runOnce(tenant, settings, TenantSql.of(tenant, chat ? SEARCH_WITH_VECTORS_THEN_PENDING
                : SEARCH_THEN_PENDING), parameters, (c, rows) -> new Searched(chunks(rows, tenant), pendingAfter(rows)))
            : tx.run(tenant, settings, c -> new Searched(search(c, tenant, searchSql, parameters, vector, topics, k),
                pending(c, tenant)));
        List<ContextChunk> chunks = searched.chunks();
        Decision d = chunks.isEmpty() ? tx.runOnce(tenant, settings, TenantSql.of(tenant, FACTS),
            factsParameters(patientId, practitioner), (c, rows) -> Decision.of(rows)) : Decision.SEARCHED;
        outcome = decide(d, chunks, rp, careRequired, false, null, entry, start);
        // counted with the search whatever the decision (0 for a request the database does not admit); told only
        // with an allowed answer
        pending = outcome.status() == 0 ? searched.pending() : 0;
      }
    } catch (DatabaseException e) {
      // The search met chunks the tenant's model has not re-embedded yet: its transaction failed and
      // wrote nothing, so the refusal is recorded here, as a denial with its reason.
      throw ReembeddingInProgress.refusal(e, audit, tenant, entry, start);
    }
    // The chunks stay here until their audit row is committed (group commit with concurrent requests).
    UUID auditId = audit.record(tenant, outcome.audit());
    if (outcome.status() != 0) {
      throw new AccessDenied(outcome.status(), outcome.code(), outcome.message(), outcome.audit().reason(), auditId, 0);
    }
    return new ContextResult(outcome.chunks(), auditId, role, breakGlass, outcome.windowClosesAt(), patientId,
        rp.kMax(), pending);
  }

  /**
   * What the read transaction decided and found; a status of 0 means allowed. {@code windowClosesAt}:
   * when the break-glass window this request was served in closes (null for any other request).
   */
  private record Outcome(List<ContextChunk> chunks, AuditEntry audit, int status, String code, String message,
                         Instant windowClosesAt) {
    Outcome(List<ContextChunk> chunks, AuditEntry audit, int status, String code, String message) {
      this(chunks, audit, status, code, message, null);
    }
  }

  /**
   * The search: exact top-k by cosine distance over one patient's chunks (btree on patient_id:
   * recall 1.0), only for a known patient inside the care relationship (when one is required), with
   * RLS repeating every other condition, and only when the subject's consent could admit any chunk
   * at all (a condition the chunk policy's consent clause implies, read from the same functions).
   * The three checks are one init plan of the search itself, run once, so an allowed request is one
   * statement and one round trip; all three are computed every time (the subquery is not flattened,
   * so no check is skipped because an earlier one failed), and every denial behind the one 404 runs
   * the same statements and reads none of the patient's chunks. The search read every chunk of a
   * patient without consent and the policy dropped each, while an unknown id read none: the time that
   * took, growing with the record, told a key that needs no care relationship (billing,
   * care-coordinator) which ids are patients of the tenant.
   */
  static final String SEARCH = search("NULL");
  /**
   * The same, with each chunk's stored vector: only chat measures chunks against the topics of its
   * question, and parsing 384 floats a row is not work for every other read.
   */
  static final String SEARCH_WITH_VECTORS = search("embedding");

  /** The SQLSTATE of a search that met a chunk of another model than its question's (tenant migration 52). */
  public static final String ANOTHER_MODEL = "CC001";

  /** Where the question's vector is among the search's parameters (after its model's id). */
  private static final int VECTOR_PARAMETER = 1;

  /**
   * A chunk of another model than the question's is not measured: {@code chunk_of_another_model()}
   * (tenant migration 52) fails the statement (SQLSTATE {@value #ANOTHER_MODEL}) in place of its
   * distance, since every one of the patient's chunks is ranked. A null model compares any.
   */
  private static String search(String vectorColumn) {
    return """
      SELECT chunk_id, resource_type, resource_id, seq, text, category, security_labels, effective_date,
             CASE WHEN model = coalesce(?::text, model) THEN embedding <=> ?
                  ELSE {schema}.chunk_of_another_model() END AS distance,
             effective_precision, %s AS stored_vector
      FROM {schema}.chunks
      WHERE patient_id = ?
        AND (SELECT known AND linked AND consented FROM (SELECT
               EXISTS (SELECT 1 FROM {schema}.resources
                       WHERE resource_type = 'Patient' AND resource_id = ? AND NOT deleted) AS known,
               (? OR EXISTS (SELECT 1 FROM {schema}.care_links WHERE patient_id = ? AND practitioner_id = ?)) AS linked,
               ((SELECT current_setting('cc.consent_override', true) = 'on')
                OR (SELECT allows_all_rows FROM {schema}.subject_consent_summary)
                OR (SELECT {schema}.subject_excluded_classes() IS NOT NULL)
                OR (SELECT r.base_allows OR cardinality(r.permitted_classes) > 0 OR cardinality(r.permitted_labels) > 0
                    FROM {schema}.subject_consent_rules() r)) AS consented
             OFFSET 0) AS checks)
      ORDER BY distance LIMIT ?""".formatted(vectorColumn);
  }

  /**
   * What names the reason when the search found nothing: whether the patient exists, whether the
   * key's practitioner is linked to it, the subject's consent summary for this purpose (from
   * {@code subject_consent_facts()}, V11), whether the database admitted the key the transaction
   * presented (tenant migration 27), and whether it admitted the request's settings within that
   * key's roles (tenant migration 36), and whether a patient the role cannot see exists all the same,
   * its registration labelled beyond the role's labels (tenant migration 45). Read only then:
   * returned chunks mean all of them allowed them.
   */
  static final String FACTS = """
      SELECT EXISTS (SELECT 1 FROM {schema}.resources
                     WHERE resource_type = 'Patient' AND resource_id = ? AND NOT deleted),
             EXISTS (SELECT 1 FROM {schema}.care_links WHERE patient_id = ? AND practitioner_id = ?),
             {schema}.subject_consent_facts(),
             EXISTS (SELECT 1 FROM {schema}.caller_key),
             {schema}.read_scope_admitted(),
             {schema}.subject_exists_whatever_its_labels()""";

  /**
   * How many of the patient's resources wait for the embedding worker that this request could read once
   * embedded (tenant migration 77: counted by the database under the request's settings, a number and
   * nothing else). Asked only of an allowed request outside break-glass, whose answer it goes with.
   */
  static final String PENDING = "SELECT {schema}.subject_pending_resources()";

  /** {@link #SEARCH} and then {@link #PENDING}, sent together (the settings before them): one round trip. */
  static final String SEARCH_THEN_PENDING = SEARCH + ";\n" + PENDING;

  /** {@link #SEARCH_WITH_VECTORS} and then {@link #PENDING}, as {@link #SEARCH_THEN_PENDING}. */
  static final String SEARCH_WITH_VECTORS_THEN_PENDING = SEARCH_WITH_VECTORS + ";\n" + PENDING;

  /** A search's chunks and the pending count asked with it. */
  private record Searched(List<ContextChunk> chunks, int pending) {}

  /** The count of {@link #PENDING} sent after the statement whose rows these are, in the same round trip. */
  private static int pendingAfter(ResultSet searchRows) throws SQLException {
    java.sql.Statement st = searchRows.getStatement();
    if (!st.getMoreResults()) {
      throw new SQLException("the pending count was not answered after the search");
    }
    try (ResultSet n = st.getResultSet()) {
      n.next();
      return n.getInt(1);
    }
  }

  /** The count of {@link #PENDING}, as a statement of the transaction {@code c} is in. */
  private static int pending(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, PENDING)); ResultSet n = ps.executeQuery()) {
      n.next();
      return n.getInt(1);
    }
  }

  /**
   * The search with the question's vector and, for a chat question about several topics, with each
   * topic's too (in the same transaction, under the same settings): the rankings are taken in turns,
   * best first, until k chunks are chosen, so each topic keeps about k ÷ (topics + 1) of its own best
   * even when the whole question ranks them lower. Each chunk is then scored against the whole
   * question, as a one-vector search scores it, best first.
   */
  private List<ContextChunk> search(Connection c, TenantId tenant, String sql, List<Object> parameters, float[] question,
                                    List<float[]> topics, int k) throws SQLException {
    List<List<ContextChunk>> rankings = new ArrayList<>();
    rankings.add(search(c, tenant, sql, parameters));
    for (float[] topic : topics) {
      List<Object> withTopic = new ArrayList<>(parameters);
      withTopic.set(VECTOR_PARAMETER, new PGvector(topic));
      rankings.add(search(c, tenant, sql, withTopic));
    }
    return topics.isEmpty() ? rankings.get(0) : inTurns(rankings, question, k);
  }

  private List<ContextChunk> search(Connection c, TenantId tenant, String sql, List<Object> parameters)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < parameters.size(); i++) {
        ps.setObject(i + 1, parameters.get(i));
      }
      try (ResultSet rows = ps.executeQuery()) {
        return chunks(rows, tenant);
      }
    }
  }

  /** At most k chunks of the rankings taken in turns, without repeats, scored against {@code question}, best first. */
  static List<ContextChunk> inTurns(List<List<ContextChunk>> rankings, float[] question, int k) {
    Map<Long, ContextChunk> chosen = new LinkedHashMap<>();
    for (int rank = 0; chosen.size() < k; rank++) {
      boolean more = false;
      for (List<ContextChunk> ranking : rankings) {
        if (rank < ranking.size() && chosen.size() < k) {
          more = true;
          chosen.putIfAbsent(ranking.get(rank).chunkId(), ranking.get(rank));
        }
      }
      if (!more) {
        break;
      }
    }
    return chosen.values().stream()
        .map(ch -> ch.embedding() == null ? ch : new ContextChunk(ch.chunkId(), ch.text(), ch.resource(),
            Vectors.cosine(question, ch.embedding()), ch.category(), ch.securityLabels(), ch.effectiveDate(),
            ch.embedding()))
        .sorted(java.util.Comparator.comparingDouble(ContextChunk::score).reversed())
        .toList();
  }

  private List<ContextChunk> chunks(ResultSet rows, TenantId tenant) throws SQLException {
    TenantCipher cipher = keys.cipher(tenant);
    List<ContextChunk> chunks = new ArrayList<>();
    while (rows.next()) {
      String type = rows.getString(2);
      String id = rows.getString(3);
      String text = cipher.decryptToString(rows.getBytes(5), Aad.chunk(tenant, type, id, rows.getInt(4)));
      chunks.add(new ContextChunk(rows.getLong(1), text, type + "/" + id, 1 - rows.getDouble(9), rows.getString(6),
          List.of((String[]) rows.getArray(7).getArray()),
          rows.getDate(8) == null ? null : new ClinicalDate(rows.getDate(8).toLocalDate(),
              ClinicalDate.Precision.ofCode(rows.getString(10))),
          vector(rows.getObject(11))));
    }
    return chunks;
  }

  /** A stored vector as the driver returns it: a PGvector where the type is registered, else its text. */
  private static float[] vector(Object o) throws SQLException {
    return o instanceof PGvector v ? v.toArray()
        : o instanceof org.postgresql.util.PGobject p && p.getValue() != null ? new PGvector(p.getValue()).toArray() : null;
  }

  private static List<Object> factsParameters(String patientId, String practitioner) {
    return List.of(patientId, patientId, practitioner);
  }

  /** {@link #FACTS} inside the caller's transaction (its settings already set). */
  private static Decision facts(Connection c, TenantId tenant, String patientId, String practitioner)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, FACTS))) {
      List<Object> parameters = factsParameters(patientId, practitioner);
      for (int i = 0; i < parameters.size(); i++) {
        ps.setObject(i + 1, parameters.get(i));
      }
      try (ResultSet rows = ps.executeQuery()) {
        return Decision.of(rows);
      }
    }
  }

  /**
   * What a break-glass request passed that a treatment request would not have: the reasons it would
   * have been refused for ({@code no_care_relationship}, {@code no_consent}, {@code consent_denied}),
   * for the row's review. Its row said only "break_glass", and a reviewer could not tell an emergency
   * access that overrode a patient's explicit refusal from one that overrode nothing.
   */
  private static List<String> overridden(Decision facts, RolePolicy rp, boolean careRequiredWithoutBreakGlass) {
    if (!facts.keyAdmitted() || !facts.patientExists()) {
      return List.of();
    }
    List<String> reasons = new java.util.ArrayList<>();
    if (careRequiredWithoutBreakGlass && !facts.careLink()) {
      reasons.add("no_care_relationship");
    }
    String consent = facts.consentReason();
    if (consent != null && rp.breakGlassOverridesConsent()) {
      reasons.add(consent);
    }
    return reasons;
  }

  /**
   * The decision and its true reason, from the facts; {@code windowClosesAt}: when the key's open
   * break-glass window for the patient closes, null when none is open.
   */
  private static Outcome decide(Decision facts, List<ContextChunk> chunks, RolePolicy rp, boolean careRequired,
                                boolean breakGlass, Instant windowClosesAt, AuditEntry entry, long start) {
    boolean windowOpen = windowClosesAt != null;
    String reason = null;
    if (!facts.keyAdmitted()) {
      // The application took the key, the database did not (revoked since, or a wrong tenant role):
      // answered like an unknown patient, recorded as what it is.
      reason = "key_not_admitted";
    } else if (!facts.patientExists()) {
      // a Patient resource labelled beyond the role's labels (PSY, SUD) does not exist for the role: the
      // same 404, recorded as what it is
      reason = facts.patientHidden() ? "patient_label_not_readable" : "unknown_patient";
    } else if (breakGlass && !windowOpen) {
      // (the database also refuses '*' on break-glass outside a window). A role that may not override
      // consent would not see a refusing patient inside the window either: its 404, as for a patient
      // that does not exist. A 403 "expired" told that role the refusing patient exists.
      String consent = rp.breakGlassOverridesConsent() ? null : facts.consentReason();
      reason = consent != null ? consent : "break_glass_expired";
    } else if (!facts.scopeAdmitted()) {
      // The key's roles, as the database reads them, do not allow what the application asked for:
      // a fault of the application's, never of the caller's request. Recorded as what it is.
      reason = "scope_not_admitted";
    } else if (careRequired && !facts.careLink()) {
      reason = "no_care_relationship";
    } else if (!(breakGlass && rp.breakGlassOverridesConsent())) {
      reason = facts.consentReason();
    }
    if (reason != null) {
      AuditEntry denied = entry.withResult(AuditEntry.Decision.DENIED, reason, List.of(), millis(start));
      return reason.equals("break_glass_expired")
          // its own code: the caller's next step (reopen) differs from every other 403's
          ? new Outcome(List.of(), denied, 403, "break_glass_expired", "the break-glass window for this patient has closed: to "
              + "break the glass again, send \"reopen\": true with this request's reason (the new window is flagged "
              + "for review like the first)")
          // a role served de-identified names its patient by a subject code: the 404 of a code that names
          // no subject, so that it cannot tell a subject it may no longer see from one that never was
          : new Outcome(List.of(), denied, 404, "patient_not_found",
              rp.deidentifiedOnly() ? ResearchSubjects.NOT_FOUND : NOT_FOUND);
    }
    String why = breakGlass ? "break_glass" : "allowed";
    if (chunks.isEmpty()) {
      String excluded = facts.consentExclusion();
      if (excluded != null && !(breakGlass && rp.breakGlassOverridesConsent())) {
        why = excluded;
      }
    }
    AuditEntry.Decision d = why.startsWith("consent_") ? AuditEntry.Decision.DENIED : AuditEntry.Decision.ALLOWED;
    // Labels outside the role's own came through the patient's explicit consent (labelsWithConsent):
    // named in the row, for the disclosure's accounting.
    List<String> byConsent = rp.labelsWithConsent().isEmpty() ? List.of()
        : chunks.stream().flatMap(c -> c.securityLabels().stream())
            .filter(l -> !rp.labels().contains(l)).distinct().sorted().toList();
    AuditEntry recorded = byConsent.isEmpty() ? entry
        : entry.withDetail("labelsByConsent", AuditEntry.jsonStrings(byConsent));
    return new Outcome(chunks, recorded.withResult(d, why, chunks.stream().map(ContextChunk::chunkId).toList(),
        millis(start)), 0, null, null, breakGlass ? windowClosesAt : null);
  }

  /** The patient-level facts of one decision; {@code consent} is null when chunks came back (consent allowed them). */
  private record Decision(boolean patientExists, boolean careLink, ConsentFacts consent, boolean keyAdmitted,
                          boolean scopeAdmitted, boolean patientHidden) {
    /**
     * What returned chunks prove: the key and the request's scope were admitted, the patient
     * exists, the care link holds (when required), consent allowed them.
     */
    static final Decision SEARCHED = new Decision(true, true, null, true, true, false);

    /** The one row of {@link #FACTS}. */
    static Decision of(ResultSet rows) throws SQLException {
      if (!rows.next()) {
        throw new SQLException("the facts statement returned no row");
      }
      java.sql.Array consent = rows.getArray(3);
      return new Decision(rows.getBoolean(1), rows.getBoolean(2),
          consent == null ? null : ConsentFacts.of((Boolean[]) consent.getArray()), rows.getBoolean(4),
          rows.getBoolean(5), !rows.getBoolean(1) && rows.getBoolean(6));
    }

    /** Null when consent permits AI use for this purpose (exceptions aside); otherwise the true reason. */
    String consentReason() {
      if (consent == null || consent.baseAllows() || consent.exceptions()) {
        return null;
      }
      return consent.anyDeny() ? "consent_denied" : "no_consent";
    }

    /** Why an allowed patient yielded nothing: a consent exclusion by class or label, if there is one. */
    String consentExclusion() {
      return consent == null ? null
          : consent.deniedClasses() ? "consent_denied_class" : consent.deniedLabels() ? "consent_denied_label" : null;
    }
  }

  /**
   * The subject's consent summary for this purpose, as {@code subject_consent_facts()} (V11) returns
   * it: an array in the order of this record's components.
   */
  private record ConsentFacts(boolean baseAllows, boolean exceptions, boolean anyDeny, boolean deniedClasses,
                              boolean deniedLabels) {
    static ConsentFacts of(Boolean[] a) {
      return new ConsentFacts(Boolean.TRUE.equals(a[0]), Boolean.TRUE.equals(a[1]), Boolean.TRUE.equals(a[2]),
          Boolean.TRUE.equals(a[3]), Boolean.TRUE.equals(a[4]));
    }
  }

  /**
   * The first ETREAT of a key for a patient opens a window; later ones succeed only inside it, or
   * reopen it once it has closed ({@link #reopenBreakGlass}). The key is the one the database admits
   * (caller_key), and the patient one that exists. The window ends by the database's clock, as it
   * opens: exactly the role's minutes after {@code opened_at}, the bound a settings change holds open
   * windows to (tenant migration 43).
   */
  private static void openBreakGlass(Connection c, TenantId tenant, String patientId, int minutes) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
        INSERT INTO {schema}.break_glass (key_id, patient_id, expires_at)
        SELECT k.key_id, ?, now() + make_interval(mins => ?) FROM {schema}.caller_key k
        WHERE EXISTS (SELECT 1 FROM {schema}.resources
                      WHERE resource_type = 'Patient' AND resource_id = ? AND NOT deleted)
        ON CONFLICT (key_id, patient_id) DO NOTHING"""))) {
      ps.setString(1, patientId);
      ps.setInt(2, Math.max(1, minutes));
      ps.setString(3, patientId);
      ps.executeUpdate();
    }
  }

  /**
   * Opens the key's closed window for the patient again, for the role's minutes from now; true when it
   * did. An open window is left as it is: the database lets the read path update a window only once
   * it has closed (tenant migration 39), so none is ever lengthened.
   */
  private static boolean reopenBreakGlass(Connection c, TenantId tenant, String patientId, int minutes)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
        UPDATE {schema}.break_glass SET opened_at = now(), expires_at = now() + make_interval(mins => ?)
        WHERE key_id = (SELECT key_id FROM {schema}.caller_key) AND patient_id = ? AND expires_at <= now()"""))) {
      ps.setInt(1, Math.max(1, minutes));
      ps.setString(2, patientId);
      return ps.executeUpdate() == 1;
    }
  }

  /**
   * The settings of the read transaction that serves {@code who} about {@code patientId} for {@code purpose}
   * under {@code rp} (break-glass for ETREAT), with its key presented: the chunks are judged under them, and
   * whatever else a request reads about the patient for its caller (chat's identifiers) is judged the same.
   */
  public static PolicySettings readSettings(TenantPolicy policy, RolePolicy rp, Requester who, String patientId,
                                            String purpose) {
    boolean breakGlass = "ETREAT".equals(purpose);
    boolean careRequired = policy.careRequiredFor(rp) && !breakGlass;
    String practitioner = who.practitionerId() == null ? "" : who.practitionerId();
    return settings(policy, rp, patientId, purpose, breakGlass && rp.breakGlassOverridesConsent(),
        careRequired ? practitioner : ANY_PRACTITIONER).withCaller(who.keyId(), who.keySecretHash());
  }

  /**
   * The read transaction's RLS settings. {@code carePractitioner}: the practitioner whose care
   * relationship must link it to the patient (tenant migration 26: the chunk policy checks it too),
   * or {@link #ANY_PRACTITIONER} when none is required; an empty one admits no patient.
   */
  static PolicySettings settings(TenantPolicy policy, RolePolicy rp, String patientId, String purpose,
                                 boolean consentOverride, String carePractitioner) {
    return rp.scope(PolicySettings.read()
        .patients(List.of(patientId))
        .set("cc.subject", patientId)
        .set("cc.practitioner", carePractitioner))
        .set("cc.purpose", purpose)
        .set("cc.consent_mode", policy.consentMode())
        .set("cc.consent_override", consentOverride ? "on" : "off")
        .build().withQualifiedNames();
  }

  /** The purposes the key's roles do allow, for the refusal's message (the caller's own policy; no patient data). */
  static String allowedPurposes(TenantPolicy policy, List<String> roles) {
    List<String> purposes = roles.stream().map(policy.roles()::get).filter(java.util.Objects::nonNull)
        .flatMap(rp -> rp.purposes().stream()).distinct().sorted().toList();
    return purposes.isEmpty() ? "" : " (its roles allow " + String.join(", ", purposes) + ")";
  }

  private AccessDenied deny(TenantId tenant, AuditEntry base, int status, String code, String message, String reason,
                            long retryAfter, long start) {
    return new AccessDenied(status, code, message, reason, audit.recordDenial(tenant, base, reason, start), retryAfter);
  }

  /**
   * When the presenting key's break-glass window for the transaction's patient closes, if it is open
   * now; null otherwise. The database's answer (tenant migration 43): the window's end, or sooner when
   * the tenant's settings now allow the key's roles a shorter one, as the chunk policy enforces it.
   */
  private static Instant windowClosesAt(Connection c, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, "SELECT {schema}.break_glass_closes_at()"));
         ResultSet rs = ps.executeQuery()) {
      rs.next();
      Timestamp closes = rs.getTimestamp(1);
      return closes == null ? null : closes.toInstant();
    }
  }

  private static long millis(long start) {
    return (System.nanoTime() - start) / 1_000_000;
  }

  /** For tests and tools: the tenant policy as the service would use it. */
  public static TenantPolicy policy(Map<String, Object> settings) {
    return TenantPolicy.fromSettings(settings);
  }
}
