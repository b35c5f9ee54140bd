package io.carecontext.retrieval.audit;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * Which audit entries to list; {@code action} as the rows name it ({@code fhir-write}, {@code context} …);
 * {@code breakGlass} true for the rows flagged break-glass only (what a review goes through), false for the
 * others, null for both; {@code after} the rows strictly after the last row of an earlier page (null: from
 * the newest). {@code patient} finds the patient's rows and the research searches that returned the
 * patient's (de-identified) chunks ({@link AuditEntry#PATIENTS_DETAIL}). {@code reviewed} (tenant migration 76):
 * true for the break-glass rows an auditor has reviewed ({@link AuditEntry#BREAK_GLASS_REVIEWED}), false for those
 * still to review, null for any row; set, it lists break-glass rows only, so it is refused with {@code breakGlass}
 * false. {@code patientIdentifierKey} (tenant migration 79): the tenant-keyed hash (hex) of a patient identifier
 * ({@code system|value}, an MRN) an auditor asked by, never the identifier; {@code identifiedPatients} the ids of the
 * Patients the identifier index holds under it, each found as {@code patient} finds one (none: no row).
 */
public record AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit,
                          Boolean breakGlass, AuditCursor after, String requestId, Boolean reviewed,
                          String patientIdentifierKey, List<String> identifiedPatients) {

  /** What a row's principal can be: a key's ({@code ^[A-Za-z0-9._@-]{1,100}$}) or the platform's own, with ':'. */
  static final java.util.regex.Pattern PRINCIPAL = java.util.regex.Pattern.compile("[A-Za-z0-9._@:-]{1,100}");

  /** Entries a listing returns at most. */
  public static final int MAX_LIMIT = 10_000;

  /** A limit outside 1 to {@link #MAX_LIMIT} is refused, not quietly replaced: a caller must know what it got. */
  public AuditFilter {
    // as the rows hold them (AuditEntry): a filter with a NUL finds its row instead of failing the request
    patient = AuditEntry.recordable(patient);
    principal = AuditEntry.visible(principal);
    action = AuditEntry.visible(action);
    if (action != null && !AuditEntry.ACTIONS.contains(action)) {
      throw new IllegalArgumentException("action must be one of " + String.join(", ", AuditEntry.ACTIONS)
          + " (as the rows name it)");
    }
    // a principal as a row can name one: a key's (the platform database's check since its first migration) or the
    // platform's own (with ':'); anything else is refused, not matched, and not kept in the listing's own row (a
    // patient's name typed there would have been)
    if (principal != null && !PRINCIPAL.matcher(principal).matches()) {
      throw new IllegalArgumentException("principal must be a principal as the rows name it: a key's principal "
          + "(letters, digits, '.', '_', '@' and '-', at most 100) or the platform's own (such as "
          + AuditEntry.SYSTEM_PRINCIPAL + ")");
    }
    // an id as the service gives them (AuditOrigin): anything else is no id a row can have, and is refused, not
    // matched, and not kept in the listing's own row (a name typed there would have been)
    if (requestId != null && !AuditOrigin.ISSUED_REQUEST_ID.matcher(requestId).matches()) {
      throw new IllegalArgumentException("requestId must be a request id as an answer's X-Request-Id gives it: a UUID, "
          + "a ULID or 16 to 64 hex digits");
    }
    if (reviewed != null && Boolean.FALSE.equals(breakGlass)) {
      throw new IllegalArgumentException("reviewed lists break-glass rows only (reviewed or not): leave breakGlass "
          + "out or send breakGlass=true with it");
    }
    if (patientIdentifierKey != null && (patient != null || identifiedPatients == null)) {
      throw new IllegalArgumentException("a patient identifier's key goes with the patients it names, and without a patient");
    }
    identifiedPatients = patientIdentifierKey == null ? null : List.copyOf(identifiedPatients);
    if (limit < 1 || limit > MAX_LIMIT) {
      throw new IllegalArgumentException("limit must be 1 to " + MAX_LIMIT);
    }
    if (from != null && to != null && from.isAfter(to)) {
      throw new IllegalArgumentException("from must not be after to");
    }
  }

  /** Any patient by identifier. */
  public AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit,
                     Boolean breakGlass, AuditCursor after, String requestId, Boolean reviewed) {
    this(patient, principal, action, from, to, limit, breakGlass, after, requestId, reviewed, null, null);
  }

  /** The same filter, for the patients an identifier names ({@code key} its keyed hash, {@code patients} their ids). */
  public AuditFilter byIdentifier(String key, List<String> patients) {
    return new AuditFilter(null, principal, action, from, to, limit, breakGlass, after, requestId, reviewed, key,
        patients);
  }

  /** Reviewed or not. */
  public AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit,
                     Boolean breakGlass, AuditCursor after, String requestId) {
    this(patient, principal, action, from, to, limit, breakGlass, after, requestId, null);
  }

  /** Any request id. */
  public AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit,
                     Boolean breakGlass, AuditCursor after) {
    this(patient, principal, action, from, to, limit, breakGlass, after, null);
  }

  /** The same filter, for the rows of one request only ({@code X-Request-Id} of its answer; null: any). */
  public AuditFilter withRequestId(String id) {
    return new AuditFilter(patient, principal, action, from, to, limit, breakGlass, after, id, reviewed,
        patientIdentifierKey, identifiedPatients);
  }

  /** From the newest row that matches. */
  public AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit,
                     Boolean breakGlass) {
    this(patient, principal, action, from, to, limit, breakGlass, null);
  }

  /** The same filter, continuing strictly after {@code cursor}. */
  public AuditFilter after(AuditCursor cursor) {
    return new AuditFilter(patient, principal, action, from, to, limit, breakGlass, cursor, requestId, reviewed,
        patientIdentifierKey, identifiedPatients);
  }

  /** Any action. */
  public AuditFilter(String patient, String principal, Instant from, Instant to, int limit) {
    this(patient, principal, null, from, to, limit);
  }

  /** Flagged break-glass or not. */
  public AuditFilter(String patient, String principal, String action, Instant from, Instant to, int limit) {
    this(patient, principal, action, from, to, limit, null);
  }

  /**
   * The filters as a cursor is bound to them ({@link AuditCursor#continues}): SHA-256 over the normalised
   * patient, principal, action, from, to, breakGlass, requestId and reviewed (the last two only when set) (as this record holds them: an instant's offset
   * or a filter's invisible characters do not count), its first 128 bits in URL-safe base64. The limit is no
   * filter (a caller may change the page size between pages) and nor is the cursor. The patient is in it as
   * a digest only, and the caller sends that patient in the same request.
   */
  public String digest() {
    StringBuilder text = new StringBuilder("carecontext-audit-filters:v1");
    for (Object v : new Object[] {patient, principal, action, from, to, breakGlass}) {
      // each value with its length, so that no two filter sets run together into one text
      String s = v == null ? null : v.toString();
      text.append(s == null ? "|-" : "|" + s.length() + ":" + s);
    }
    if (requestId != null) {
      // only when filtered on (tenant migration 75): the digests of listings without it, and the tokens already
      // given for them, stay as they were
      text.append("|requestId|").append(requestId.length()).append(':').append(requestId);
    }
    if (reviewed != null) {
      // the same (tenant migration 76): a token of ?breakGlass=true continues neither ?reviewed=false nor true
      text.append("|reviewed|").append(reviewed);
    }
    if (patientIdentifierKey != null) {
      // the same (tenant migration 79): a token of one identifier's accounting continues no other's
      text.append("|patientIdentifier|").append(patientIdentifierKey);
    }
    byte[] hash = AuditPayload.sha256(text.toString().getBytes(StandardCharsets.UTF_8));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(Arrays.copyOf(hash, 16));
  }

  /** Whether a patient is filtered on, not which. */
  @Override
  public String toString() {
    return "AuditFilter[patient " + (patient == null ? "any" : "given")
        + (patientIdentifierKey == null ? "" : ", patient identifier given") + ", action=" + action + ", from=" + from + ", to=" + to + ", limit="
        + limit + ", breakGlass=" + breakGlass + ", requestId=" + requestId + ", reviewed=" + reviewed + ", after=" + after + "]";
  }
}
