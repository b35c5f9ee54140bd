package io.carecontext.retrieval.research;

import com.pgvector.PGvector;
import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.RateLimiter;
import io.carecontext.retrieval.ReembeddingInProgress;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.RolePolicy;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.chat.PatientIdentifiers;
import io.carecontext.retrieval.deid.DatePolicy;
import io.carecontext.retrieval.deid.Deidentifier;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Multi-patient search for de-identified research: the nearest chunks across every patient whose
 * consent permits research (HRESCH), for roles whose policy is de-identified only (researcher).
 * It runs under the tenant's research role (V13), which may only read chunks and consents. RLS
 * admits only consenting patients' rows in the role's categories, types and labels while the
 * HNSW index is scanned (iterative scan, so filtered rows do not shrink the result). Texts leave
 * de-identified with their own patient's known identifiers, dates reduced to the year; patients
 * appear as their research subject codes ({@link ResearchSubjects}: random, the same in every search), never by
 * id, and so do their tokens ([R6F0C2A9B11D4E87_PATIENT_1]). Every request is audited, an allowed one naming
 * every patient whose chunks it returned.
 */
public final class ResearchService {

  /** The 403 of a key none of whose roles may search for research, and what to do. */
  public static final String ROLE_REFUSED = "this key's roles may not search for research: research search is for a "
      + "key with the researcher role, which the tenant admin makes";

  public static final String PURPOSE = "HRESCH";
  /** Dimensions the research index covers (the in-process model); other models are searched exactly. */
  static final int INDEXED_DIMENSIONS = 384;

  /**
   * The search over the HNSW index (public for the test that reads its plan). A chunk of another
   * model than the question's is not measured (tenant migration 52): its distance is
   * chunk_of_another_model(), which fails the statement, so the search is answered 503
   * reembedding_in_progress. This statement alone would refuse only when such a chunk came up among
   * the nearest the index returns (and it keeps only 384-dimensional chunks, so one of another size
   * never would), answering from the re-embedded chunks alone otherwise. So the statement before it
   * refuses first, the same way, whenever the tenant holds any chunk that is not of the question's
   * model at the question's size (tenant migration 54: two index probes, not a scan), for this
   * statement and {@link #EXACT} alike: research is answered only once a re-embedding is done.
   *
   * <p>Both rank on {@code research_embedding} (tenant migration 64), the embedding of the chunk's
   * de-identified text ({@link ResearchEmbeddings}), never on {@code embedding}, the identified text's:
   * a name typed into the query, in any case, cannot steer the ranking towards the notes that name
   * that person. The statement before refuses too until the tenant's research build has completed since
   * research was turned on (tenant migration 66); afterwards a chunk without a research embedding yet (a
   * note written since the last sweep, a patient whose identifiers changed) is left out, and the result
   * says it is incomplete.
   */
  public static final String APPROXIMATE = """
      SELECT * FROM (
        SELECT chunk_id, patient_id, resource_type, resource_id, seq, text, category,
               CASE WHEN model = coalesce(?::text, model) THEN research_embedding::public.vector(384) <=> ?
                    ELSE {schema}.chunk_of_another_model() END AS distance
        FROM {schema}.chunks WHERE public.vector_dims(research_embedding) = 384
        ORDER BY research_embedding::public.vector(384) <=> ? LIMIT ?) nearest
      ORDER BY distance""";
  private static final String EXACT = """
      SELECT chunk_id, patient_id, resource_type, resource_id, seq, text, category,
             CASE WHEN model = coalesce(?::text, model) THEN research_embedding <=> ?
                  ELSE {schema}.chunk_of_another_model() END AS distance
      FROM {schema}.chunks WHERE research_embedding IS NOT NULL ORDER BY distance LIMIT ?""";

  /** The error code and audit reason of a search refused while research embeddings are being made. */
  public static final String RESEARCH_EMBEDDINGS_PENDING = "research_index_building";
  static final String PENDING_MESSAGE = "research search ranks on embeddings of de-identified text, and this "
      + "tenant's research build has not completed yet: research must be turned on (tenant setting researchIndex) "
      + "and its build finished; wait for it (GET /admin/tenants/{tenant}/ingest shows researchIndex and its percent)";
  static final long PENDING_RETRY_SECONDS = 30;
  /** The error code and audit reason of a search of a tenant that has research turned off. */
  public static final String RESEARCH_OFF = "research_not_enabled";
  static final String OFF_MESSAGE = "research search is not turned on for this tenant: a tenant admin turns it on "
      + "(PATCH /admin/tenants/{tenant} with {\"settings\":{\"researchIndex\":true}}), and research answers once "
      + "its build has completed (GET /admin/tenants/{tenant}/ingest shows researchIndex and its percent)";

  /** One de-identified chunk: the patient as its research subject code. */
  public record ResearchChunk(String subject, String resourceType, String category, String text, double score,
                              long chunkId) {
    /** No text: de-identified is not free of every identifier. */
    @Override
    public String toString() {
      return "ResearchChunk[" + resourceType + ", " + category + ", score=" + score + "]";
    }
  }

  /**
   * {@code complete} is false when some chunk of the tenant had no research embedding yet (written since
   * the last sweep, or of a patient whose identifiers changed): it was not ranked, so the result may miss
   * the newest notes. One boolean about the whole tenant, nothing of any patient. {@code kLimit}: the most chunks
   * the role's policy lets one search have.
   */
  public record ResearchResult(List<ResearchChunk> chunks, UUID auditId, boolean complete, int kLimit) {}

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final AuditLog audit;
  private final RateLimiter rateLimiter;

  public ResearchService(TenantTransactions tx, TenantKeys keys, AuditLog audit) {
    this(tx, keys, audit, new RateLimiter());
  }

  /** With the limiter of the key's other paths (context, chat), so a key has one budget. */
  public ResearchService(TenantTransactions tx, TenantKeys keys, AuditLog audit, RateLimiter rateLimiter) {
    this.tx = tx;
    this.keys = keys;
    this.audit = audit;
    this.rateLimiter = rateLimiter;
  }

  /** A search whose query embedding is already at hand, compared with chunks of any model (tests). */
  public ResearchResult search(TenantId tenant, TenantPolicy policy, Requester who, String query, float[] vector, int k,
                               String purpose) {
    return search(tenant, policy, who, query, text -> vector, null, k, purpose);
  }

  /** A capitalized word that begins the query (or a sentence of it) and is followed by a name: a first name. */
  private static final Pattern FIRST_NAME =
      Pattern.compile("(?<=^|[.!?]\\s{0,10})[A-Z][a-z'’-]{2,}(?=,?\\s+\\[NAME])");

  /**
   * The query as it is embedded: de-identified on its own, without any patient's identifiers
   * ({@link Deidentifier#blind}: every Safe Harbor pattern [REDACTED], a date its year, a capitalized
   * word [NAME]), and a capitalized word that begins it and is followed by a name taken as the first
   * name it is (blind keeps a word that begins a sentence: "Zebulon [NAME] cough"). Chunks are embedded
   * from identified text, so a query embedded as typed ranked the notes that name the person it named
   * first ("Zebulon Quartermaine cough"), and the researcher learned which subject code is that person.
   * A name typed in lower case, or a surname alone at the start, is still embedded as typed.
   */
  public static String embeddedQuery(String query) {
    return FIRST_NAME.matcher(Deidentifier.blind(query).texts().get(0)).replaceAll("[NAME]");
  }

  /**
   * A search over every consenting patient. The query is de-identified on its own
   * ({@link #embeddedQuery}) and embedded ({@code embedding}, by the model {@code model} names: only
   * chunks of that model are compared with it) only once the key is within its rate limit and its
   * role may search: a refused search costs no model call. The audit row keeps the query as typed
   * (encrypted): it is what the researcher asked.
   */
  public ResearchResult search(TenantId tenant, TenantPolicy policy, Requester who, String query,
                               Function<String, float[]> embedding, String model, int k, String purpose) {
    long start = System.nanoTime();
    AuditEntry base = AuditEntry.of(who.principal(), who.keyId(), who.roles(), null, purpose, "research",
        AuditEntry.Decision.DENIED, "").withQuery(query);
    // First, as on the context path: a search spans every consenting patient, so it is the probe the
    // key's per-minute budget exists to slow.
    OptionalLong wait = rateLimiter.acquire(who.keyId(), policy.rateLimitPerMinute(), System.nanoTime());
    if (wait.isPresent()) {
      throw rateLimiter.refused(audit, tenant, base, who.keyId(), wait.getAsLong(), start);
    }
    // a key whose roles may read no patient data at all is told so before anything about its purpose
    if (policy.readsNothing(who.roles())) {
      throw deny(tenant, base, 403, "forbidden", ROLE_REFUSED, "role_not_allowed",
          start);
    }
    if (!PURPOSE.equals(purpose)) {
      // Audited with the true reason, as the context path does: none sent, no known code, or another purpose.
      boolean missing = purpose == null || purpose.isBlank();
      boolean unknown = !missing && !AuditEntry.PURPOSES_OF_USE.contains(purpose);
      // The code names the same fault as the audit reason: a client that sent TREAT was told "required".
      throw deny(tenant, base, 400, missing ? "purpose_required" : unknown ? "purpose_unknown" : "purpose_not_allowed",
          "research search needs purposeOfUse HRESCH",
          missing ? "purpose_missing" : unknown ? "purpose_unknown" : "purpose_not_allowed", start);
    }
    if (policy.invalidFor(who.roles())) {
      throw deny(tenant, base, 503, "tenant_misconfigured", TenantPolicy.INVALID_POLICY, "policy_invalid", start);
    }
    var decided = policy.decide(who.roles(), PURPOSE);
    if (decided.isEmpty()) {
      throw deny(tenant, base, 403, "forbidden", ROLE_REFUSED, "role_not_allowed",
          start);
    }
    RolePolicy rp = decided.get().getValue();
    if (!rp.deidentifiedOnly()) {
      throw deny(tenant, base, 403, "forbidden", "multi-patient search is for roles that receive de-identified data "
          + "only (researcher)", "identified_role_multi_patient", start);
    }
    float[] vector = embedding.apply(embeddedQuery(query));
    int limit = Math.max(1, Math.min(k <= 0 ? 10 : k, rp.kMax()));
    Nearest found;
    try {
      found = nearest(tenant, policy, rp, who, vector, model, limit);
    } catch (DatabaseException e) {
      // a re-embedding in progress: the search's transaction failed and wrote nothing, so it is recorded here
      throw ReembeddingInProgress.refusal(e, audit, tenant, base, start);
    }
    if (RESEARCH_OFF.equals(found.refusal())) {
      // No Retry-After: waiting does not help, a tenant admin's setting does (it answered as a build in
      // progress, with Retry-After: 30, and a client that obeys it retried for ever).
      throw deny(tenant, base, 503, RESEARCH_OFF, OFF_MESSAGE, RESEARCH_OFF, start);
    }
    if (RESEARCH_EMBEDDINGS_PENDING.equals(found.refusal())) {
      // The research build has not completed since research was turned on: most chunks may have no
      // research embedding yet, and the answer would be of a few.
      throw deny(tenant, base, 503, RESEARCH_EMBEDDINGS_PENDING, PENDING_MESSAGE, RESEARCH_EMBEDDINGS_PENDING,
          PENDING_RETRY_SECONDS, start);
    }
    if (found.refusal() != null) {
      // The application took the key, the database did not: revoked since, or a wrong tenant role
      // (key_not_admitted); or settings beyond what the key's roles allow (scope_not_admitted).
      throw deny(tenant, base, 403, "forbidden", "this key may not search for research", found.refusal(), start);
    }
    List<Row> rows = found.rows();
    List<ResearchChunk> chunks = deidentify(tenant, who, rows, found.subjects());
    // The row names the patients whose chunks were returned (ids, as other rows' patient column holds
    // them), so that a patient's accounting (GET /audit?patient=) finds the searches that disclosed
    // their de-identified data; the researcher's answer names none of them.
    List<String> patients = rows.stream().map(Row::patientId).distinct().toList();
    UUID id = audit.record(tenant, base.withResult(AuditEntry.Decision.ALLOWED, "allowed",
        chunks.stream().map(ResearchChunk::chunkId).toList(), (System.nanoTime() - start) / 1_000_000)
        .withDetail(AuditEntry.PATIENTS_DETAIL, AuditEntry.jsonStrings(patients)));
    return new ResearchResult(chunks, id, found.complete(), rp.kMax());
  }

  private record Row(long chunkId, String patientId, String type, String category, String text, double distance) {}

  /**
   * The rows found and each patient's research subject code, or why the database hid every row
   * ({@code refusal}, an audit reason).
   */
  private record Nearest(List<Row> rows, Map<String, String> subjects, String refusal, boolean complete) {
    Nearest(String refusal) {
      this(List.of(), Map.of(), refusal, false);
    }
  }

  /** The RLS settings of a research query: the role's categories, types and labels, consent per row. */
  public static PolicySettings settings(TenantPolicy policy, RolePolicy rp) {
    return rp.scope(PolicySettings.read().set("cc.access", "research"))
        .set("cc.purpose", PURPOSE)
        .set("cc.consent_mode", policy.consentMode())
        .build().withQualifiedNames();
  }

  /**
   * The nearest chunks the research policies admit, or the reason the database hides every row: it
   * does not admit the requester's key for research (tenant migration 27), or not these settings
   * for that key's roles (tenant migration 36). An empty result would be recorded as an allowed
   * search that found nothing.
   */
  private Nearest nearest(TenantId tenant, TenantPolicy policy, RolePolicy rp, Requester who, float[] vector,
                          String model, int k) {
    TenantCipher cipher = keys.cipher(tenant);
    boolean indexed = vector.length == INDEXED_DIMENSIONS;
    return tx.run(tenant, settings(policy, rp).withCaller(who.keyId(), who.keySecretHash()), c -> {
      boolean complete;
      // One round trip: the index's settings, the admission checks, then (only for an admitted key and
      // scope, so a refused key is told 403 first) the refusal of a search during a re-embedding, before
      // the research build has completed, and whether every chunk has its research embedding (asked only once the
      // build has completed, so research is on: the index of the chunks without one exists only then, tenant
      // migration 68).
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, """
          SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', ?, true),
                 set_config('plan_cache_mode', 'force_custom_plan', true), admitted, scope_admitted,
                 CASE WHEN admitted AND scope_admitted AND {schema}.chunks_of_another_model_exist(?, ?)
                      THEN {schema}.chunk_of_another_model() END,
                 admitted AND scope_admitted AND NOT {schema}.research_build_completed(),
                 CASE WHEN admitted AND scope_admitted AND {schema}.research_build_completed()
                      THEN {schema}.research_embeddings_pending() END,
                 admitted AND scope_admitted AND NOT {schema}.research_enabled()
          FROM (SELECT EXISTS (SELECT 1 FROM {schema}.caller_key WHERE roles && ARRAY['researcher']) AS admitted,
                       {schema}.research_scope_admitted() AS scope_admitted OFFSET 0) checks"""))) {
        ps.setString(1, String.valueOf(Math.max(40, 4 * k)));
        // The index measures only the nearest it hands out, so an older chunk refused only when it came
        // up among them: any chunk of another model, or of this one at another size, refuses (migration
        // 54). A null model (tests, the benchmark) compares any, and is not checked.
        ps.setString(2, model);
        ps.setInt(3, vector.length);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next() || !rs.getBoolean(4)) {
            return new Nearest("key_not_admitted");
          }
          if (!rs.getBoolean(5)) {
            return new Nearest("scope_not_admitted");
          }
          if (rs.getBoolean(9)) {
            return new Nearest(RESEARCH_OFF);
          }
          if (rs.getBoolean(7)) {
            return new Nearest(RESEARCH_EMBEDDINGS_PENDING);
          }
          complete = !rs.getBoolean(8);
        }
      }
      List<Row> out = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, indexed ? APPROXIMATE : EXACT))) {
        int i = 1;
        ps.setString(i++, model);
        ps.setObject(i++, new PGvector(vector));
        if (indexed) {
          ps.setObject(i++, new PGvector(vector));
        }
        ps.setInt(i, k);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String type = rs.getString(3);
            String text = cipher.decryptToString(rs.getBytes(6), Aad.chunk(tenant, type, rs.getString(4), rs.getInt(5)));
            out.add(new Row(rs.getLong(1), rs.getString(2), type, rs.getString(7), text, rs.getDouble(8)));
          }
        }
      }
      // each patient's code, issued in this transaction for one that has none: what its chat names
      Map<String, String> subjects = ResearchSubjects.issue(c, tenant,
          out.stream().map(Row::patientId).collect(java.util.stream.Collectors.toCollection(java.util.LinkedHashSet::new)));
      return new Nearest(out, subjects, null, complete);
    });
  }

  /**
   * Each text with its own patient's identifiers, dates to the year; patients are named by their
   * research subject codes ({@link ResearchSubjects}), and each patient's tokens by the code
   * ([R0A1B2C3D4E5F6A7B_PATIENT_1]): each patient has a token map of its own, and two patients of one
   * response were both [PATIENT_1].
   */
  private List<ResearchChunk> deidentify(TenantId tenant, Requester who, List<Row> rows, Map<String, String> codes) {
    Map<String, List<Integer>> byPatient = new LinkedHashMap<>();
    for (int i = 0; i < rows.size(); i++) {
      byPatient.computeIfAbsent(rows.get(i).patientId(), p -> new ArrayList<>()).add(i);
    }
    String[] texts = new String[rows.size()];
    String[] subjects = new String[rows.size()];
    Map<String, KnownIdentifiers> identifiers = PatientIdentifiers.loadAll(tx, keys, tenant, who, byPatient.keySet());
    for (Map.Entry<String, List<Integer>> e : byPatient.entrySet()) {
      String subject = codes.get(e.getKey());
      KnownIdentifiers known = identifiers.get(e.getKey());
      List<String> own = e.getValue().stream().map(i -> rows.get(i).text()).toList();
      List<String> clean = Deidentifier.deidentify(own, known, DatePolicy.YEAR, 0, subject).texts();
      for (int j = 0; j < own.size(); j++) {
        texts[e.getValue().get(j)] = clean.get(j);
        subjects[e.getValue().get(j)] = subject;
      }
    }
    List<ResearchChunk> out = new ArrayList<>(rows.size());
    for (int i = 0; i < rows.size(); i++) {
      Row r = rows.get(i);
      out.add(new ResearchChunk(subjects[i], r.type(), r.category(), texts[i],
          Math.round((1 - r.distance()) * 1000) / 1000.0, r.chunkId()));
    }
    return out;
  }

  private AccessDenied deny(TenantId tenant, AuditEntry base, int status, String code, String message, String reason,
                            long start) {
    return deny(tenant, base, status, code, message, reason, 0, start);
  }

  private AccessDenied deny(TenantId tenant, AuditEntry base, int status, String code, String message, String reason,
                            long retryAfter, long start) {
    return new AccessDenied(status, code, message, reason, audit.recordDenial(tenant, base, reason, start), retryAfter);
  }
}
