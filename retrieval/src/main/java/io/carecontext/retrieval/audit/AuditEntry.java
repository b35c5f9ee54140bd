package io.carecontext.retrieval.audit;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import java.util.List;
import java.util.stream.Collectors;

/**
 * One access decision to record. Bodies (query, prompt, response) are PHI: they are stored
 * encrypted and only their hashes enter the chain. {@code details} is a small JSON object of
 * counts and flags, never values.
 */
public record AuditEntry(String principal, String keyId, List<String> roles, String patientId, String purpose,
                         String action, Decision decision, String reason, boolean breakGlass, List<Long> chunkIds,
                         String model, String queryText, String promptBody, String responseBody, String details,
                         long latencyMillis, String justification, String requestId, String clientAddress) {

  public enum Decision { ALLOWED, DENIED, FAILED }

  /** The HL7 v3 PurposeOfUse codes the platform knows. */
  public static final java.util.Set<String> PURPOSES_OF_USE = java.util.Set.of("TREAT", "ETREAT", "HPAYMT", "HOPERAT",
      "HRESCH");

  /**
   * The actions rows are written with, so that a filter can be checked against them: a misspelt
   * {@code ?action=fhir_write} matched nothing and answered an empty 200, from which an auditor would
   * conclude that nobody had changed the record.
   */
  public static final java.util.SortedSet<String> ACTIONS = java.util.Collections.unmodifiableSortedSet(
      new java.util.TreeSet<>(java.util.Set.of("context", "chat", "chat-dry-run", "research", "fhir-read", "fhir-write",
          "audit-read", "audit-verify", "audit-export", "key-create", "key-revoke", "tenant-settings", "authenticate",
          "break-glass-window", "request", "admin-request", AuditEntry.KEK_ROTATE, AuditEntry.DATA_KEY_ROTATE,
          AuditEntry.INGEST_PARKED_READ,
          AuditEntry.INGEST_PARKED_RETRY, AuditEntry.TENANT_READ, AuditEntry.KEY_LIST, AuditEntry.AUDIT_PURGE,
          AuditEntry.PATIENT_ERASE, AuditEntry.BREAK_GLASS_REVIEWED)));

  /**
   * The member of a research search's details that names the patients whose (de-identified) chunks it
   * returned, as a JSON array of their ids: a search names no one patient, yet disclosed each of theirs,
   * and a patient's accounting lists it ({@link AuditLog#list}, tenant migration 71).
   */
  public static final String PATIENTS_DETAIL = "patients";

  /** The action of the row a retention purge writes in the trail it cut ({@link AuditLog#purge}). */
  public static final String AUDIT_PURGE = "audit-purge";

  /** The principal of the rows the platform writes on its own, not for a caller's request (a retention purge). */
  public static final String SYSTEM_PRINCIPAL = "system:audit-retention";

  /**
   * The patient ids a row's details name under {@link #PATIENTS_DETAIL} (a research search's), in
   * order; none when it names none or the details are no JSON object.
   */
  public static List<String> patientsIn(String details) {
    return stringsIn(details, PATIENTS_DETAIL);
  }

  /**
   * The strings of the array member {@code member} of a row's details (the resources a FHIR read or write names,
   * {@code "resources"}; the patients of a research search, {@code "patients"}): empty when there is none.
   */
  public static List<String> stringsIn(String details, String member) {
    if (details == null || !details.contains("\"" + member + "\"")) {
      return List.of();
    }
    List<String> out = new java.util.ArrayList<>();
    try (com.fasterxml.jackson.core.JsonParser p = new com.fasterxml.jackson.core.JsonFactory().createParser(details)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return List.of();
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken t = p.nextToken();
        if (member.equals(name) && t == com.fasterxml.jackson.core.JsonToken.START_ARRAY) {
          while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.VALUE_STRING) {
            out.add(p.getText());
          }
          return List.copyOf(out);
        }
        p.skipChildren();
      }
    } catch (java.io.IOException e) {
      return List.of(); // the details of rows are JSON the platform built; a row that is not names no one
    }
    return List.of();
  }

  /** The action of the row a rotation of the key-encryption key writes in each tenant's trail. */
  public static final String KEK_ROTATE = "kek-rotate";

  /** The action of the row a rotation of the tenant's own data key writes in its trail (old and new key versions). */
  public static final String DATA_KEY_ROTATE = "data-key-rotate";

  /** The action of a tenant admin's read of parked ingest items, which names their resources. */
  public static final String INGEST_PARKED_READ = "ingest-parked-read";

  /** The action of a request to queue a tenant's parked ingest items again (a change of what the worker does). */
  public static final String INGEST_PARKED_RETRY = "ingest-parked-retry";

  /** The action of a read of a tenant's configuration: its settings and role policies, who may read what. */
  public static final String TENANT_READ = "tenant-read";

  /**
   * The action of a patient's erasure (POST /admin/tenants/{t}/patients/{id}/erase): the row names the patient, and
   * its details count what was removed; the reason the caller gave is free text, stored encrypted as a justification.
   */
  public static final String PATIENT_ERASE = "patient-erase";

  /** The action of a list of a tenant's keys: their principals, roles, practitioners and expiries. */
  public static final String KEY_LIST = "key-list";

  /**
   * The action of an auditor's review of a break-glass row ({@code POST /v1/{t}/audit/{auditId}/review}): an
   * allowed one names the reviewed row ({@link #REVIEWED_DETAIL}) and the outcome (its reason); the note is kept
   * encrypted as its justification. A refused attempt has the same action, denied with its reason.
   */
  public static final String BREAK_GLASS_REVIEWED = "break-glass-review";

  /** The member of a review row's details that names the reviewed row's audit id (tenant migration 76 indexes it). */
  public static final String REVIEWED_DETAIL = "reviewedAuditId";

  /** The outcomes a review of a break-glass row can record. */
  public static final List<String> REVIEW_OUTCOMES = List.of("appropriate", "inappropriate", "needs_follow_up");

  /** The details of a break-glass row: flagged, and for review. */
  public static final String BREAK_GLASS_REVIEW = "{\"breakGlass\":true,\"reviewRequired\":true}";

  /** What the purpose column holds for a purpose sent that is no code the platform knows. */
  public static final String UNKNOWN_PURPOSE = "(unknown)";

  public AuditEntry {
    // The purpose column is plain text and the caller's string could be anything, a name included:
    // only a known code is kept (the row's reason says purpose_unknown).
    // A blank purpose is none sent (the reason says purpose_missing), not an unknown one.
    purpose = purpose == null || purpose.isBlank() ? null : PURPOSES_OF_USE.contains(purpose) ? purpose : UNKNOWN_PURPOSE;
    // The patient id comes from the request path and may be anything, a name with a birth date
    // included; the column is plain text, shown without includeBodies and exported. Only a FHIR id
    // (what a stored patient can have) is kept; anything else is recorded as NOT_A_FHIR_ID. It was
    // kept as sent (with a NUL, which PostgreSQL text cannot hold, made visible).
    patientId = recordable(patientId);
    roles = roles == null ? List.of() : List.copyOf(roles);
    chunkIds = chunkIds == null ? List.of() : List.copyOf(chunkIds);
    details = details == null ? "{}" : details;
    // in the chain and shown to auditors: only the validated forms (AuditOrigin), never a header's text
    requestId = AuditOrigin.requestId(requestId);
    clientAddress = AuditOrigin.clientAddress(clientAddress);
  }

  /** What a row records for a patient id that is no FHIR id (no stored patient has one). */
  public static final String NOT_A_FHIR_ID = "(not a FHIR id)";

  /** The patient id as a row records it, and a filter looks for it: a FHIR id, or {@link #NOT_A_FHIR_ID}. */
  public static String recordable(String patientId) {
    return patientId == null || io.carecontext.fhir.FhirId.isValid(patientId) ? patientId : NOT_A_FHIR_ID;
  }

  /** The text with each NUL (which a text column refuses) replaced by U+FFFD; the same for rows and filters. */
  public static String visible(String text) {
    return text == null || text.indexOf('\u0000') < 0 ? text : text.replace('\u0000', '\uFFFD');
  }

  public static AuditEntry of(String principal, String keyId, List<String> roles, String patientId, String purpose,
                              String action, Decision decision, String reason) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, false, List.of(),
        null, null, null, null, "{}", 0, null, null, null);
  }

  /** Without a break-glass justification (rows before it was recorded, and every other row). */
  public AuditEntry(String principal, String keyId, List<String> roles, String patientId, String purpose,
                    String action, Decision decision, String reason, boolean breakGlass, List<Long> chunkIds,
                    String model, String queryText, String promptBody, String responseBody, String details,
                    long latencyMillis) {
    this(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds, model, queryText,
        promptBody, responseBody, details, latencyMillis, null, null, null);
  }

  /** Without the request's origin: set where the row is written ({@link #withOrigin}, {@link AuditLog#record}). */
  public AuditEntry(String principal, String keyId, List<String> roles, String patientId, String purpose,
                    String action, Decision decision, String reason, boolean breakGlass, List<Long> chunkIds,
                    String model, String queryText, String promptBody, String responseBody, String details,
                    long latencyMillis, String justification) {
    this(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds, model, queryText,
        promptBody, responseBody, details, latencyMillis, justification, null, null);
  }

  /**
   * The same row from the request {@code origin} names (its X-Request-Id and client address, tenant migration 75);
   * this row when it already names one, or the origin names nothing.
   */
  public AuditEntry withOrigin(AuditOrigin origin) {
    if (origin == null || requestId != null || clientAddress != null
        || (origin.requestId() == null && origin.clientAddress() == null)) {
      return this;
    }
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds,
        model, queryText, promptBody, responseBody, details, latencyMillis, justification, origin.requestId(),
        origin.clientAddress());
  }

  /** The reason the caller gave for break-glass (free text, PHI: stored encrypted, like the query). */
  public AuditEntry withJustification(String text) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds,
        model, queryText, promptBody, responseBody, details, latencyMillis, text, requestId, clientAddress);
  }

  /** The same row for another patient: a research subject code resolved to the patient it stands for. */
  public AuditEntry withPatient(String patient) {
    return new AuditEntry(principal, keyId, roles, patient, purpose, action, decision, reason, breakGlass, chunkIds,
        model, queryText, promptBody, responseBody, details, latencyMillis, justification, requestId, clientAddress);
  }

  public AuditEntry withQuery(String query) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds,
        model, query, promptBody, responseBody, details, latencyMillis, justification, requestId, clientAddress);
  }

  public AuditEntry withResult(Decision d, String why, List<Long> chunks, long latency) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, d, why, breakGlass, chunks,
        model, queryText, promptBody, responseBody, details, latency, justification, requestId, clientAddress);
  }

  public AuditEntry withBreakGlass(boolean flag, String extraDetails) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, flag, chunkIds,
        model, queryText, promptBody, responseBody, extraDetails == null ? details : extraDetails, latencyMillis,
        justification, requestId, clientAddress);
  }

  /** The break-glass review flags added to the details, when {@code breakGlass}; this entry as it is otherwise. */
  public AuditEntry withReviewFlags(boolean breakGlass) {
    return breakGlass ? withDetail("breakGlass", "true").withDetail("reviewRequired", "true") : this;
  }

  /** The details with one more member; {@code jsonValue} is a JSON value the caller built. */
  public AuditEntry withDetail(String name, String jsonValue) {
    String member = "\"" + name + "\":" + jsonValue;
    String d = details.strip().equals("{}") ? "{" + member + "}"
        : details.substring(0, details.lastIndexOf('}')) + "," + member + "}";
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds,
        model, queryText, promptBody, responseBody, d, latencyMillis, justification, requestId, clientAddress);
  }

  /** Strings as a JSON array, escaped (codes from FHIR input may hold any character). */
  public static String jsonStrings(List<String> values) {
    return values.stream().map(AuditEntry::jsonString).collect(Collectors.joining(",", "[", "]"));
  }

  /** A string as a JSON string, escaped. */
  public static String jsonString(String value) {
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(value)) + "\"";
  }

  public AuditEntry withModel(String m, String prompt, String response, String detailsJson) {
    return new AuditEntry(principal, keyId, roles, patientId, purpose, action, decision, reason, breakGlass, chunkIds,
        m, queryText, prompt, response, detailsJson == null ? details : detailsJson, latencyMillis, justification, requestId, clientAddress);
  }

  @Override
  public String toString() {
    return "AuditEntry[" + action + ", " + decision + ", " + reason + "]";
  }
}
