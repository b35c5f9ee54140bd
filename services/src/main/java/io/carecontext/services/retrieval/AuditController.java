package io.carecontext.services.retrieval;

import io.carecontext.fhir.Fhir;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.RefusalRows;
import io.carecontext.retrieval.audit.AuditAnchor;
import io.carecontext.retrieval.audit.AuditCursor;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditEvents;
import io.carecontext.retrieval.audit.AuditFilter;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.audit.AuditVerification;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.auth.OtherTenantAttempts;
import io.carecontext.services.auth.Role;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.http.ProducedStream;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.http.server.types.files.StreamedFile;
import io.micronaut.json.JsonMapper;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import jakarta.inject.Named;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.function.BiConsumer;
import java.util.regex.Pattern;

/** The audit trail, for role {@code auditor}: list, verify, export as FHIR AuditEvent NDJSON. */
@Controller("/v1/{tenant}/audit")
@ExecuteOn(TaskExecutors.BLOCKING)
public class AuditController {

  private static final MediaType NDJSON = new MediaType("application/fhir+ndjson");

  private final AuditLog audit;
  private final JsonMapper json;
  private final Executor producers;
  private final TenantDirectory tenants;
  /**
   * The trail's refusals, bounded per key and kind as on the patient paths ({@link RefusalRows}): a key
   * without the auditor role, or of another tenant, that kept asking for the trail added a row a request
   * to the very trail it was refused, without bound, and held the audit writer every tenant's reads wait
   * on. Past the budget it is still refused the same way; the key's next row says how many went unrecorded.
   * The trail's reads, checks and exports that are allowed are always recorded.
   */
  private final OtherTenantAttempts refusedCallers;
  private final RefusalRows refusedKeys = new RefusalRows();
  /** The rows of requests refused for their parameters, bounded per key the same way. */
  private final RefusalRows malformedRows = new RefusalRows();

  public AuditController(AuditLog audit, JsonMapper json, @Named(TaskExecutors.IO) ExecutorService producers,
                         TenantDirectory tenants) {
    this.audit = audit;
    this.json = json;
    this.producers = producers;
    this.tenants = tenants;
    this.refusedCallers = new OtherTenantAttempts(audit, tenants);
  }

  /** The path's tenant for an auditor's key; a refusal (another tenant, the operator, a key without the role) is recorded. */
  private TenantId requireAuditor(Caller caller, String tenant, String action, @Nullable String patient) {
    return refusedCallers.requireRole(caller, tenant, action, patient, Role.AUDITOR);
  }

  /** The filters of {@code GET /v1/{tenant}/audit}; anything else is refused. */
  static final List<String> PARAMETERS = List.of("patient", "patientIdentifier", "principal", "action", "from", "to",
      "limit", "includeBodies", "breakGlass", "after", "requestId", "reviewed");

  /** The filters of {@code GET /v1/{tenant}/audit/export}: a patient's accounting, or (none) the whole trail. */
  static final List<String> EXPORT_PARAMETERS = List.of("patient", "patientIdentifier");

  @Get
  public Map<String, Object> list(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                  HttpRequest<?> request,
                                  @Nullable @QueryValue String patient, @Nullable @QueryValue String principal,
                                  @Nullable @QueryValue String action, @Nullable @QueryValue String from, @Nullable @QueryValue String to,
                                  @Nullable @QueryValue String limit, @Nullable @QueryValue String includeBodies,
                                  @Nullable @QueryValue String breakGlass, @Nullable @QueryValue String after,
                                  @Nullable @QueryValue String requestId, @Nullable @QueryValue String reviewed,
                                  @Nullable @QueryValue String patientIdentifier) {
    TenantId t = requireAuditor(caller, tenant, "audit-read", patient);
    AuditFilter filter;
    PatientIdentifier identifier;
    try {
      requireWellFormedFilters(request.getParameters().asMap());
      identifier = PatientIdentifier.of(patient, patientIdentifier);
      if (includeBodies != null && !includeBodies.equals("true") && !includeBodies.equals("false")) {
        throw ApiException.badRequest("includeBodies must be true or false");
      }
      if (breakGlass != null && !breakGlass.equals("true") && !breakGlass.equals("false")) {
        throw ApiException.badRequest("breakGlass must be true or false");
      }
      if (reviewed != null && !reviewed.equals("true") && !reviewed.equals("false")) {
        throw ApiException.badRequest("reviewed must be true (the break-glass rows reviewed) or false (those still to "
            + "review)");
      }
      filter = filter(patient, principal, action, from, to, limit, breakGlass == null ? null : breakGlass.equals("true"),
          requestId, reviewed == null ? null : reviewed.equals("true"));
      if (after != null) {
        AuditCursor cursor;
        try {
          cursor = AuditCursor.parse(after);
        } catch (IllegalArgumentException e) {
          throw ApiException.badRequest(e.getMessage());
        }
        // a listing by identifier is bound to the identifier's key, known once it is hashed (below)
        if (identifier == null && !cursor.continues(filter)) {
          throw new ApiException(HttpStatus.BAD_REQUEST, CURSOR_MISMATCH, CURSOR_MISMATCH_MESSAGE);
        }
        filter = filter.after(cursor);
      }
    } catch (ApiException e) {
      throw malformed(caller, t, "audit-read", patient, e);
    }
    boolean bodies = "true".equals(includeBodies);
    List<Map<String, Object>> entries;
    try {
      if (identifier != null) {
        // the after token was checked against the identifier's filters below: a cursor binds the identifier's key
        AuditLog.IdentifiedPatients found = audit.patientsWithIdentifier(t, caller.requester(), identifier.system(),
            identifier.value());
        AuditFilter byIdentifier = filter.byIdentifier(found.key(), found.patients());
        if (filter.after() != null && !filter.after().continues(byIdentifier)) {
          throw malformed(caller, t, "audit-read", null, new ApiException(HttpStatus.BAD_REQUEST, CURSOR_MISMATCH,
              CURSOR_MISMATCH_MESSAGE));
        }
        filter = byIdentifier;
      }
      entries = audit.list(t, caller.requester(), filter, bodies);
    } catch (AuditLog.KeyNotAdmittedException e) {
      throw refused(caller, t, "audit-read", patient);
    }
    // the listing's own row names the patient it listed: the filter's, or the first an identifier named (the others
    // get a row each below, so every one of them finds this read in its accounting); never the identifier itself
    List<String> named = filter.identifiedPatients();
    String rowPatient = named == null ? patient : named.isEmpty() ? null : named.get(0);
    // Reading the trail is itself an access to PHI (patient ids; with bodies, the texts): audited
    // before anything is returned, after the read, so a listing never shows its own row. Every row of
    // the trail's own names the key's roles as every other row does: a key that is also tenant-admin
    // (which makes keys) was written as ["auditor"] alone, and a reviewer looking for separation of
    // duties could not see that the trail's reader also gives out access.
    AuditEntry read = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), rowPatient, "HOPERAT",
        "audit-read", AuditEntry.Decision.ALLOWED, bodies ? "include_bodies" : "list")
        .withDetail("filters", listed(filter)).withDetail("count", Integer.toString(entries.size()));
    java.util.UUID listing = audit.record(t, read);
    java.util.Set<String> recorded = new java.util.HashSet<>();
    recorded.add(rowPatient);
    if (named != null) {
      recordBeside(caller, t, named, recorded, "audit-read", bodies ? "include_bodies" : "list", "listingAuditId",
          listing);
    }
    if (bodies) {
      // The bodies are PHI of the patients whose rows they are: each such patient other than the
      // filter's gets a row of its own, so its accounting (?patient=…) shows who read them.
      recordBeside(caller, t, patientsWithBodies(entries), recorded, "audit-read", "include_bodies", "listingAuditId",
          listing);
    }
    // A full page may have more after it: next continues strictly after its last row, with the same filters
    // (?after=<next>), and only with them (the token is bound to their digest). Paging by to (exclusive) lost the rows of one microsecond a page cut between.
    AuditCursor next = entries.size() == filter.limit() ? AuditCursor.after(entries, filter) : null;
    entries.forEach(this::detailsAsObject);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("entries", entries);
    out.put("count", entries.size());
    out.put("limit", filter.limit());
    if (next != null) {
      out.put("next", next.token());
    }
    return out;
  }

  /** The error of an {@code after} made by a listing with other filters (or by none: a token of before the binding). */
  static final String CURSOR_MISMATCH = "cursor_mismatch";
  static final String CURSOR_MISMATCH_MESSAGE = "after is the next token of a listing with other filters: send it with "
      + "the same patient, principal, action, from, to, breakGlass, requestId and reviewed as the listing that gave it (limit and "
      + "includeBodies may change), or start again without after";

  /**
   * The filters a listing applied besides the patient (a column of its row), and its limit, for its own row: the
   * patient alone did not tell a reviewer of the auditors what was listed (every break-glass row, one principal's
   * week, the whole trail). Principals, actions and times are the trail's own vocabulary, no patient's data.
   */
  private static String listed(AuditFilter f) {
    StringJoiner json = new StringJoiner(",", "{", "}");
    BiConsumer<String, Object> named = (name, value) -> {
      if (value != null) {
        json.add(AuditEntry.jsonString(name) + ":" + (value instanceof String text ? AuditEntry.jsonString(text)
            : value.toString()));
      }
    };
    named.accept("patientIdentifierKey", f.patientIdentifierKey());
    named.accept("principal", f.principal());
    named.accept("action", f.action());
    named.accept("from", f.from() == null ? null : f.from().toString());
    named.accept("to", f.to() == null ? null : f.to().toString());
    named.accept("breakGlass", f.breakGlass());
    named.accept("requestId", f.requestId());
    named.accept("reviewed", f.reviewed());
    named.accept("limit", f.limit());
    named.accept("after", f.after() == null ? null : f.after().token());
    return json.toString();
  }

  /**
   * What a {@code patient} filter that is no FHIR id is told. The trail keeps every such id as {@code (not a FHIR id)},
   * and the filter was read the same way, so a name or an MRN typed there listed every request of anyone that had
   * named a patient by something other than an id (another patient's probes), as if that were the patient's
   * accounting; the marker itself is still a filter, for those requests.
   */
  static final String PATIENT_NOT_AN_ID = "patient must be the patient's FHIR id (letters, digits, '-' and '.', at most "
      + "64), as the Patient resource the EHR sent has it: the trail names patients by it, never by a name, a birth date "
      + "or an MRN; '" + AuditEntry.NOT_A_FHIR_ID + "' lists the requests that named a patient by anything else";

  /** What a {@code patientIdentifier} that cannot be one is told (never quoting it: it is an MRN). */
  static final String PATIENT_IDENTIFIER_MALFORMED = "patientIdentifier must be the identifier as the EHR sent it in "
      + "Patient.identifier, its system and value joined by '|' (system|value; |value for one sent without a system), at "
      + "most " + 1_000 + " characters and no control character: the platform keeps only a keyed hash of both, so a value "
      + "alone cannot be looked up";

  /** What a listing or export given both patient filters is told. */
  static final String PATIENT_FILTERS_BOTH = "send patient (the FHIR id) or patientIdentifier (system|value), not both";

  /**
   * A patient identifier an auditor asks by ({@code ?patientIdentifier=system|value}): split at its first '|' (no
   * write stores a system with one, ResourceValidator), a system empty for an identifier sent without one. Null when
   * none was sent; a 400 naming the parameter, never its value, when it is malformed or sent with {@code patient}.
   */
  record PatientIdentifier(@Nullable String system, String value) {
    static final int MAX = 1_000;

    static @Nullable PatientIdentifier of(@Nullable String patient, @Nullable String text) {
      if (text == null) {
        return null;
      }
      if (patient != null) {
        throw ApiException.badRequest(PATIENT_FILTERS_BOTH);
      }
      int bar = text.indexOf('|');
      if (bar < 0 || bar == text.length() - 1 || text.length() > MAX
          || text.chars().anyMatch(ch -> Character.isISOControl(ch))) {
        throw ApiException.badRequest(PATIENT_IDENTIFIER_MALFORMED);
      }
      return new PatientIdentifier(bar == 0 ? null : text.substring(0, bar), text.substring(bar + 1));
    }

    /** Never the identifier (an MRN) in a log line or an exception. */
    @Override
    public String toString() {
      return "PatientIdentifier[given]";
    }
  }

  static AuditFilter filter(@Nullable String patient, @Nullable String principal, @Nullable String action,
                            @Nullable String from, @Nullable String to, @Nullable String limit,
                            @Nullable Boolean breakGlass, @Nullable String requestId, @Nullable Boolean reviewed) {
    if (patient != null && !io.carecontext.fhir.FhirId.isValid(patient) && !AuditEntry.NOT_A_FHIR_ID.equals(patient)) {
      throw ApiException.badRequest(PATIENT_NOT_AN_ID);
    }
    try {
      return new AuditFilter(patient, principal, action, instant(from, "from"), instant(to, "to"),
          limit == null ? 1000 : Integer.parseInt(limit), breakGlass, null, requestId, reviewed);
    } catch (IllegalArgumentException e) { // NumberFormatException included
      throw ApiException.badRequest(e instanceof NumberFormatException
          ? "limit must be a whole number from 1 to " + AuditFilter.MAX_LIMIT : e.getMessage());
    }
  }

  /**
   * A read, check or export of the trail refused for its parameters (400): recorded as
   * {@code filter_malformed}, with the patient it named, while the key's rows of such refusals are within
   * {@link RefusalRows#PER_MINUTE} a minute. An auditor's attempt on a named patient's trail
   * ({@code ?patient=…&includeBodies=yes}) was answered and left no row, as a context request with a body
   * that could not be read once did.
   */
  private ApiException malformed(Caller caller, TenantId t, String action, @Nullable String patient,
                                 ApiException refusal) {
    // a body over POST audit/verify's own limit is a 413, on record as every other 413 is (RefusedRequests)
    // a cursor of another listing is refused as itself: the trail tells it from a filter that could not be read
    String reason = refusal.status() == HttpStatus.REQUEST_ENTITY_TOO_LARGE ? "payload_too_large"
        : CURSOR_MISMATCH.equals(refusal.code()) ? CURSOR_MISMATCH
        : AuditEntry.BREAK_GLASS_REVIEWED.equals(action) ? "review_malformed" : "filter_malformed";
    malformedRows.record(audit, t, caller.keyId(), AuditEntry.of(caller.principal(), caller.keyId(),
        caller.requester().roles(), patient, "HOPERAT", action, AuditEntry.Decision.DENIED, reason));
    return refusal;
  }

  /** The patients (FHIR ids) of the entries that carry a body, in order of first appearance. */
  static java.util.Set<String> patientsWithBodies(List<Map<String, Object>> entries) {
    java.util.Set<String> out = new java.util.LinkedHashSet<>();
    for (Map<String, Object> e : entries) {
      boolean body = e.get("query") != null || e.get("prompt") != null || e.get("response") != null
          || e.get("justification") != null;
      if (body && e.get("patient") instanceof String p && io.carecontext.fhir.FhirId.isValid(p)) {
        out.add(p);
      }
    }
    return out;
  }

  @Get("/verify")
  public Map<String, Object> verify(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                    HttpRequest<?> request) {
    TenantId t = requireAuditor(caller, tenant, "audit-verify", null);
    try {
      requireNoParameters(request.getParameters().asMap());
    } catch (ApiException e) {
      throw malformed(caller, t, "audit-verify", null, e);
    }
    return verified(caller, t, null);
  }

  /** The most anchors one check takes: the latest of each of the 8 shards is what a check needs. */
  static final int MAX_ANCHORS = 1_000;
  /** The largest body {@code POST …/audit/verify} reads (a full {@value #MAX_ANCHORS} anchors fit). */
  static final int MAX_VERIFY_BODY_BYTES = 256 * 1024;

  /**
   * Verify, also against anchors an operator kept outside the database (the seals' log lines,
   * {@link io.carecontext.retrieval.audit.AuditAnchor}): a cut made together with the seals past it,
   * which no process started after it can see in the database, is {@code behind-seal} against them. An
   * anchor the tenant's key did not make is {@code forged-anchor}, never trusted.
   */
  @Post("/verify") // its body's schema (AuditAnchors) is in src/main/openapi
  public Map<String, Object> verifyAgainstAnchors(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                                  @PathVariable String tenant, HttpRequest<?> request,
                                                  @Nullable @Body byte[] raw) {
    TenantId t = requireAuditor(caller, tenant, "audit-verify", null);
    List<AuditAnchor> anchors;
    try {
      requireNoParameters(request.getParameters().asMap());
      anchors = anchors(raw);
    } catch (ApiException e) {
      throw malformed(caller, t, "audit-verify", null, e);
    }
    return verified(caller, t, anchors);
  }

  private static final Pattern HEX_256 = Pattern.compile("[0-9a-fA-F]{64}");
  private static final String BODY = "the body must be a JSON object {\"anchors\":[{\"shard\",\"seq\",\"head\",\"mac\"}, …]} "
      + "with the values of the service's audit-anchor log lines (GET verifies without anchors)";

  /** The anchors of a {@code POST …/audit/verify} body; a 400 naming the field (never its value) otherwise. */
  List<AuditAnchor> anchors(@Nullable byte[] raw) {
    if (raw != null && raw.length > MAX_VERIFY_BODY_BYTES) {
      throw new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
          "the body is over the limit of " + MAX_VERIFY_BODY_BYTES + " bytes: send at most " + MAX_ANCHORS
              + " anchors (the latest of each shard is enough)");
    }
    if (raw == null || raw.length == 0) {
      throw ApiException.badRequest(BODY);
    }
    Object parsed;
    try {
      parsed = json.readValue(raw, Object.class);
    } catch (IOException | RuntimeException e) {
      throw ApiException.badRequest("the body is not JSON; " + BODY);
    }
    return anchors(parsed);
  }

  /** {@link #anchors(byte[])} of the parsed body. */
  static List<AuditAnchor> anchors(@Nullable Object parsed) {
    if (!(parsed instanceof Map<?, ?> body)) {
      throw ApiException.badRequest(BODY);
    }
    for (Object name : body.keySet()) {
      if (!"anchors".equals(name)) { // the caller's text: never quoted back
        throw ApiException.badRequest("an unknown field; " + BODY);
      }
    }
    if (!(body.get("anchors") instanceof List<?> list)) {
      throw ApiException.badRequest("anchors is required and must be an array; " + BODY);
    }
    if (list.isEmpty()) {
      throw ApiException.badRequest("anchors must hold at least one anchor (GET verifies without anchors)");
    }
    if (list.size() > MAX_ANCHORS) {
      throw ApiException.badRequest("anchors holds at most " + MAX_ANCHORS + " (the latest of each shard is enough)");
    }
    List<AuditAnchor> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String at = "anchors[" + i + "]";
      if (!(list.get(i) instanceof Map<?, ?> a)) {
        throw ApiException.badRequest(at + " must be an object {\"shard\",\"seq\",\"head\",\"mac\"}");
      }
      for (Object name : a.keySet()) {
        if (!List.of("shard", "seq", "head", "mac").contains(name)) {
          throw ApiException.badRequest(at + " has an unknown field; an anchor takes shard, seq, head and mac");
        }
      }
      Long shard = whole(a.get("shard"));
      if (shard == null || shard < 0 || shard >= AuditLog.SHARDS) {
        throw ApiException.badRequest(at + ".shard is required: a whole number from 0 to " + (AuditLog.SHARDS - 1));
      }
      Long seq = whole(a.get("seq"));
      if (seq == null || seq < 0) {
        throw ApiException.badRequest(at + ".seq is required: a whole number, 0 or more");
      }
      out.add(new AuditAnchor(shard.intValue(), seq, hex(a.get("head"), at + ".head"), hex(a.get("mac"), at + ".mac")));
    }
    return out;
  }

  /** A JSON whole number within a long, or null (a string, a fraction, a number too large, absent). */
  private static Long whole(@Nullable Object value) {
    if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
      return ((Number) value).longValue();
    }
    if (value instanceof BigInteger b && b.bitLength() < 64) {
      return b.longValue();
    }
    return null;
  }

  private static byte[] hex(@Nullable Object value, String field) {
    if (!(value instanceof String s) || !HEX_256.matcher(s).matches()) {
      throw ApiException.badRequest(field + " is required: 64 hexadecimal digits (the "
          + field.substring(field.lastIndexOf('.') + 1) + "= of an audit-anchor log line)");
    }
    return HexFormat.of().parseHex(s);
  }

  /** Verifies (against the anchors, if any), records the check and answers it. */
  private Map<String, Object> verified(Caller caller, TenantId t, @Nullable List<AuditAnchor> anchors) {
    AuditVerification v;
    try {
      v = anchors == null ? audit.verify(t, caller.requester()) : audit.verify(t, caller.requester(), anchors);
    } catch (AuditLog.KeyNotAdmittedException e) {
      throw refused(caller, t, "audit-verify", null);
    }
    // A check of the trail is recorded like a read of it: who looked, and what they were told (a
    // broken chain that someone saw and did nothing about is itself a finding). Written after the
    // check, so the answer counts the trail as it was; fails closed like every audit write. A check
    // against anchors records how many it was given (their values are in the operator's log).
    // An anchor the key did not make says nothing of the chain, which was not checked: "chain_broken" put a sound
    // trail on record as broken.
    String outcome = v.valid() ? "chain_valid"
        : "forged-anchor".equals(v.brokenAt().problem()) ? "anchor_forged" : "chain_broken";
    AuditEntry check = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, "HOPERAT",
        "audit-verify", AuditEntry.Decision.ALLOWED, outcome);
    audit.record(t, anchors == null ? check : check.withDetail("anchors", String.valueOf(anchors.size())));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("valid", v.valid());
    out.put("entries", v.entries());
    if (v.valid()) {
      out.put("head", v.head());
      // Entries at or before their shard's latest keyed seal, and the rest (normally the last minute's).
      out.put("sealedEntries", v.sealedEntries());
      out.put("unsealedEntries", v.entries() - v.sealedEntries());
    } else {
      Map<String, Object> at = new LinkedHashMap<>();
      at.put("shard", v.brokenAt().shard());
      at.put("seq", v.brokenAt().seq());
      at.put("auditId", v.brokenAt().auditId());
      at.put("problem", v.brokenAt().problem());
      Instant written = since(v.brokenAt());
      if (written != null) {
        at.put("at", written.toString());
      }
      out.put("brokenAt", at);
      out.put("message", brokenMessage(t, v.brokenAt()));
    }
    if (anchors != null) {
      out.put("anchors", anchors.size());
    }
    return out;
  }

  /**
   * Since when the trail is in doubt, for the problems whose row is where the doubt starts: a row that does not
   * follow from the rows before it ({@code row}) or one on no chain's shard ({@code shard}). A seal's problem is
   * found at the sealed row, yet the change may be at any row before it since the last seal that matched: that
   * row's time was no "since when" (only the latest it could be), so a seal's break has none, as the break at no row.
   */
  static @Nullable Instant since(AuditVerification.BrokenLink b) {
    return "row".equals(b.problem()) || "shard".equals(b.problem()) ? writtenAt(b.auditId()) : null;
  }

  /**
   * When the row an id names was written, as its id (a UUIDv7, whose first 48 bits are the Unix time in
   * milliseconds) says: since when the trail is in doubt. Null when there is no row or the id is of no such form.
   */
  static @Nullable Instant writtenAt(@Nullable String auditId) {
    if (auditId == null) {
      return null;
    }
    try {
      java.util.UUID id = java.util.UUID.fromString(auditId);
      return id.version() == 7 ? Instant.ofEpochMilli(id.getMostSignificantBits() >>> 16) : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /**
   * What a broken chain means and what the officer does next, in words: the answer gave shard, seq and a problem
   * code only, which the README explains and the person reading the answer may not have at hand. Tenant, shard,
   * seq and id are the trail's own, no patient's data.
   */
  static String brokenMessage(TenantId tenant, AuditVerification.BrokenLink b) {
    String where = "shard " + b.shard() + ", seq " + b.seq() + (b.auditId() == null ? "" : " (auditId " + b.auditId()
        + ")");
    String what = switch (b.problem()) {
      case "row" -> "the row at " + where + " does not follow from the rows before it: it, or a row before it on that "
          + "shard, was changed, inserted or removed in the database, outside the service";
      case "seal" -> "the chain of shard " + b.shard() + " no longer passes through the head the service sealed at seq "
          + b.seq() + ": a row at or before it was changed in the database and the chain recomputed";
      case "forged-seal" -> "a seal of shard " + b.shard() + " at seq " + b.seq() + " was not made with the tenant's "
          + "key: it was written in the database, outside the service";
      case "behind-seal" -> "shard " + b.shard() + " ends before seq " + b.seq() + ", which was sealed: rows were cut "
          + "from its end";
      case "head" -> "the recorded head of shard " + b.shard() + " does not match its last row (seq " + b.seq()
          + "): the head or that row was changed in the database";
      case "shard" -> "a row is on shard " + b.shard() + (b.auditId() == null ? "" : " (auditId " + b.auditId() + ")")
          + ", which no chain covers";
      case "forged-anchor" -> "an anchor sent for shard " + b.shard() + " at seq " + b.seq() + " was not made with "
          + "this tenant's key (or is of an earlier tenant of that id)";
      default -> "the chain breaks at " + where + " (" + b.problem() + ")";
    };
    if ("forged-anchor".equals(b.problem())) {
      return "the audit trail of tenant " + tenant.value() + " was not checked: " + what + ". Send the anchors of the "
          + "service's own audit-anchor log lines (carecontext audit verify --anchors FILE keeps the tenant's latest "
          + "of each shard), or GET this path to check the chain alone";
    }
    return "the audit trail of tenant " + tenant.value() + " does not verify: " + what + ". The rows before it on that "
        + "shard, and the shards numbered below it, verified; the shards above it were not checked. Next: keep this answer, the "
        + "latest export and the audit-anchor log lines; write nothing to the database; have the database's own logs "
        + "(the owner role's sessions, DDL) examined for who changed it; and compare the trail with the copy your "
        + "SIEM holds. This check is itself on record (action audit-verify, reason chain_broken)";
  }

  /**
   * The whole trail as AuditEvent NDJSON, oldest first, sent while it is read (a tenant keeps years
   * of it: built in memory first, a large trail would exhaust the heap). A database that cannot be
   * read at the start answers 503 as anywhere; a failure after the first lines breaks the transfer,
   * so an export is never silently short.
   */
  @Get(value = "/export", produces = "application/fhir+ndjson")
  public HttpResponse<StreamedFile> export(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                           @PathVariable String tenant, HttpRequest<?> request,
                                           @Nullable @QueryValue String patient,
                                           @Nullable @QueryValue String patientIdentifier) {
    TenantId t = requireAuditor(caller, tenant, "audit-export", patient);
    PatientIdentifier identifier;
    try {
      requireWellFormed(request.getParameters().asMap(), EXPORT_PARAMETERS);
      identifier = PatientIdentifier.of(patient, patientIdentifier);
      if (patient != null) {
        filter(patient, null, null, null, null, null, null, null, null); // the patient filter's rule, as a listing's
      }
    } catch (ApiException e) {
      throw malformed(caller, t, "audit-export", patient, e);
    }
    if (!audit.admits(t, caller.requester())) {
      throw refused(caller, t, "audit-export", patient);
    }
    // a patient's accounting as AuditEvents: the patient's rows alone (those a listing's filter finds), the patient
    // the export's own row names; by identifier, the patients it names (their keyed hash in the row, never the MRN)
    List<String> patients = patient == null ? null : List.of(patient);
    AuditEntry exported = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), patient,
        "HOPERAT", "audit-export", AuditEntry.Decision.ALLOWED, "export");
    if (identifier != null) {
      AuditLog.IdentifiedPatients found;
      try {
        found = audit.patientsWithIdentifier(t, caller.requester(), identifier.system(), identifier.value());
      } catch (AuditLog.KeyNotAdmittedException e) {
        throw refused(caller, t, "audit-export", null);
      }
      patients = found.patients();
      exported = exported.withPatient(patients.isEmpty() ? null : patients.get(0)).withDetail("filters",
          "{\"patientIdentifierKey\":" + AuditEntry.jsonString(found.key()) + "}");
    }
    // The trail (or the patient's part of it) leaves the platform: audited before the first line (and so part of it).
    java.util.UUID exportRow = audit.record(t, exported);
    if (patients != null) {
      java.util.Set<String> recorded = new java.util.HashSet<>();
      recorded.add(exported.patientId());
      recordBeside(caller, t, patients, recorded, "audit-export", "export", "exportAuditId", exportRow);
    }
    java.util.Set<String> references = patients == null ? null : new java.util.HashSet<>(
        patients.stream().map(p -> "Patient/" + p).toList());
    List<String> only = patients;
    // the request's id and address for the row a revocation mid-stream writes, on the producer's thread
    io.carecontext.retrieval.audit.AuditOrigin origin = io.carecontext.retrieval.audit.AuditOrigin.current();
    ProducedStream body = ProducedStream.start(producers, out -> {
      Writer lines = new OutputStreamWriter(out, StandardCharsets.UTF_8);
      // an event's data entity names the version a read handed out or a write stored (Type/id/_history/v): the
      // parser strips versions from references unless told not to, and the export named the resource alone
      var parser = Fhir.context().newJsonParser().setDontStripVersionsFromReferencesAtPaths("AuditEvent.entity.what");
      try {
        audit.forEach(t, caller.requester(), only, row -> {
          try {
            // a research search that returned several patients' chunks: one event a patient (BALP, patient-specific);
            // a patient's accounting sends those of its patients alone
            for (var event : AuditEvents.forExport(t, row)) {
              if (references != null && !namesPatient(event, references)) {
                continue;
              }
              lines.write(parser.encodeResourceToString(event));
              lines.write('\n');
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e); // the client went away: ends the read
          }
        });
      } catch (AuditLog.KeyNotAdmittedException e) {
        // revoked (or expired) while streaming: the transfer breaks, and the trail says why it stopped
        audit.record(t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, "HOPERAT",
            "audit-export", AuditEntry.Decision.DENIED, "key_not_admitted").withOrigin(origin));
        throw e;
      }
      lines.flush();
    });
    // The framework dates a streamed file Expires a minute ahead, with "private, max-age=60", unless the
    // answer has them: no-store replaced the latter, but a cache that reads Expires and not Cache-Control
    // (an HTTP/1.0 proxy) could keep the trail, which names patients, for that minute. "0" is expired.
    return HttpResponse.ok(new StreamedFile(body, NDJSON)).header(HttpHeaders.CACHE_CONTROL, "no-store")
        .header(HttpHeaders.EXPIRES, "0");
  }

  /**
   * A row of its own for each of {@code patients} not yet {@code recorded} (and now recorded), pointing at the row
   * of the read or export it was part of ({@code link}: that row's id): a listing or export that named several
   * patients shows in each one's accounting.
   */
  private void recordBeside(Caller caller, TenantId t, Iterable<String> patients, java.util.Set<String> recorded,
                            String action, String reason, String link, java.util.UUID row) {
    for (String other : patients) {
      if (recorded.add(other)) {
        audit.record(t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), other, "HOPERAT",
            action, AuditEntry.Decision.ALLOWED, reason).withDetail(link, "\"" + row + "\""));
      }
    }
  }

  /**
   * Whether an event of a patient's accounting names one of its patients ({@code Patient/<id>}): a research search
   * that returned several patients' chunks is one event a patient, and the others' are not this accounting's.
   */
  static boolean namesPatient(org.hl7.fhir.r4.model.AuditEvent event, java.util.Set<String> references) {
    return event.getEntity().stream().anyMatch(e -> e.hasWhat() && e.getWhat().hasReference()
        && references.contains(e.getWhat().getReference()));
  }

  /** What a review of an id that names no row of the tenant is told (the same for an id that is no UUID). */
  static final String NO_SUCH_ROW = "no audit row of this tenant has this auditId: send the auditId of a break-glass "
      + "row as GET /v1/{tenant}/audit?breakGlass=true lists it";

  /** What a review of a row that is no break-glass access is told. */
  static final String NOT_BREAK_GLASS = "this audit row is no break-glass access (its breakGlass is false): only "
      + "break-glass rows are reviewed; GET /v1/{tenant}/audit?breakGlass=true&reviewed=false lists those to review";

  /** What a review of a break-glass row its own principal made is told. */
  static final String SELF_REVIEW = "this break-glass access was made under your principal: an access is reviewed by "
      + "someone other than who made it; have another auditor key review it";

  /**
   * Records an auditor's review of a break-glass row ({@link AuditLog#review}): {@code {"outcome","note"}}
   * ({@link ReviewBody}). The review is a row of the trail (action {@code break-glass-review}, the reviewed row's
   * patient, the outcome as its reason, the reviewed row's id in its details, the note encrypted), appended in one
   * transaction with the check of the row it reviews; answers 201 with its id. A second review of the same row is
   * recorded the same way and names the one it supersedes; listings show the latest. Refused, each on record with
   * its reason: a body that is not a review (400, {@code review_malformed}), an id of no row of the tenant (404
   * {@code not_found}, {@code audit_row_not_found}), a row that is no break-glass access (409
   * {@code not_break_glass}), a row made under the reviewer's own principal (403 {@code self_review}: a key may hold
   * auditor beside clinician), a key without the auditor role (403, as every path of the trail).
   */
  @Post("/{auditId}/review")
  public HttpResponse<Map<String, Object>> review(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                                  @PathVariable String tenant, @PathVariable String auditId,
                                                  HttpRequest<?> request, @Nullable @Body byte[] raw) {
    String action = AuditEntry.BREAK_GLASS_REVIEWED;
    TenantId t = requireAuditor(caller, tenant, action, null);
    ReviewBody body;
    try {
      requireNoParameters(request.getParameters().asMap());
      body = reviewBody(raw);
    } catch (ApiException e) {
      throw malformed(caller, t, action, null, e);
    }
    java.util.UUID reviewed = auditId(auditId);
    // the reviewer's own row: who judged, with which key and roles, for the administration of the trail (HOPERAT)
    AuditEntry entry = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, "HOPERAT",
        action, AuditEntry.Decision.ALLOWED, body.outcome());
    AuditLog.Review done;
    if (reviewed == null) {
      done = new AuditLog.Review(AuditLog.Review.Status.NOT_FOUND, null, null, null);
    } else {
      try {
        done = audit.review(t, caller.requester(), reviewed, body.note() == null ? entry
            : entry.withJustification(body.note()), body.outcome());
      } catch (AuditLog.KeyNotAdmittedException e) {
        throw refused(caller, t, action, null);
      }
    }
    switch (done.status()) {
      case NOT_FOUND -> {
        malformedRows.record(audit, t, caller.keyId(), entry.withResult(AuditEntry.Decision.DENIED,
            "audit_row_not_found", List.of(), 0));
        throw ApiException.notFound("not_found", NO_SUCH_ROW);
      }
      case NOT_BREAK_GLASS -> {
        malformedRows.record(audit, t, caller.keyId(), entry.withPatient(done.patient())
            .withResult(AuditEntry.Decision.DENIED, "not_break_glass", List.of(), 0)
            .withDetail(AuditEntry.REVIEWED_DETAIL, AuditEntry.jsonString(reviewed.toString())));
        throw ApiException.conflict("not_break_glass", NOT_BREAK_GLASS);
      }
      case SELF_REVIEW -> {
        malformedRows.record(audit, t, caller.keyId(), entry.withPatient(done.patient())
            .withResult(AuditEntry.Decision.DENIED, "self_review", List.of(), 0)
            .withDetail(AuditEntry.REVIEWED_DETAIL, AuditEntry.jsonString(reviewed.toString())));
        throw new ApiException(HttpStatus.FORBIDDEN, "self_review", SELF_REVIEW);
      }
      default -> {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("auditId", done.reviewId().toString());
        out.put("reviewedAuditId", reviewed.toString());
        out.put("outcome", body.outcome());
        if (done.supersedes() != null) {
          out.put("supersedesAuditId", done.supersedes());
        }
        return HttpResponse.created(out).header(HttpHeaders.CACHE_CONTROL, "no-store");
      }
    }
  }

  /** The audit id of a review's path, or null when it is no UUID as the listings give them (answered as unknown). */
  static @Nullable java.util.UUID auditId(String text) {
    try {
      java.util.UUID id = java.util.UUID.fromString(text);
      // its canonical form, in either case ("1-1-1-1-1", which the parser takes, is no id a listing gave)
      return id.toString().equals(text.toLowerCase(java.util.Locale.ROOT)) ? id : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The review a body asks for; a 400 (or 413 over {@link ReviewBody#MAX_BYTES}) naming the field, never its value. */
  ReviewBody reviewBody(@Nullable byte[] raw) {
    if (raw != null && raw.length > ReviewBody.MAX_BYTES) {
      throw new ApiException(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
          "the body is over the limit of " + ReviewBody.MAX_BYTES + " bytes: a note holds at most "
              + ReviewBody.MAX_NOTE + " characters");
    }
    if (raw == null || raw.length == 0) {
      throw ApiException.badRequest(ReviewBody.BODY);
    }
    Object parsed;
    try {
      parsed = json.readValue(raw, Object.class);
    } catch (IOException | RuntimeException e) {
      throw ApiException.badRequest("the body is not JSON; " + ReviewBody.BODY);
    }
    return ReviewBody.of(parsed);
  }

  private static final String KEY_REFUSED = "the database did not admit this key for the audit trail: it may have been "
      + "revoked or have expired after the request was accepted. Use a live key with role auditor";

  /** A read of the trail the database refused for the presented key: recorded with that reason, answered 403. */
  private ApiException refused(Caller caller, TenantId t, String action, @Nullable String patient) {
    refusedKeys.record(audit, t, caller.keyId(), AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(),
        patient, "HOPERAT", action, AuditEntry.Decision.DENIED, "key_not_admitted"));
    return ApiException.forbidden(KEY_REFUSED);
  }

  /**
   * {@code details} is stored as JSON text (it is hashed into the chain as written) and answered as
   * the object it is ({@code "details": {"labelsByConsent": ["PSY"]}}), not as a string to parse again.
   */
  private void detailsAsObject(Map<String, Object> entry) {
    if (entry.get("details") instanceof String text) {
      try {
        entry.put("details", json.readValue(text, Object.class));
      } catch (java.io.IOException e) {
        throw new IllegalStateException("an audit row's details are not JSON", e);
      }
    }
  }

  /**
   * Each parameter is a known filter, given once, with a value. A misspelt filter ({@code patientId})
   * was ignored and the whole trail came back; a repeated or empty one matched nothing; neither is what
   * the auditor asked for, so both are refused, naming the parameter (never its value).
   */
  static void requireWellFormedFilters(Map<String, List<String>> parameters) {
    requireWellFormed(parameters, PARAMETERS);
  }

  /**
   * Verify and export take no parameter: one sent (a filter an auditor expected to narrow the export,
   * say) was ignored, and the whole trail came back as if it had been applied.
   */
  static void requireNoParameters(Map<String, List<String>> parameters) {
    requireWellFormed(parameters, List.of());
  }

  private static void requireWellFormed(Map<String, List<String>> parameters, List<String> known) {
    for (Map.Entry<String, List<String>> p : parameters.entrySet()) {
      String name = p.getKey();
      if (!known.contains(name)) {
        // a parameter's name is the caller's text (an MRN or a name sent as one): never quoted back
        throw ApiException.badRequest("an unknown query parameter"
            + "; this endpoint takes " + (known.isEmpty() ? "none (the whole trail is verified)"
                : String.join(", ", known)));
      }
      if (p.getValue().size() > 1) {
        throw ApiException.badRequest("query parameter '" + name + "' may be given only once");
      }
      if (p.getValue().isEmpty() || p.getValue().get(0).isEmpty()) {
        throw ApiException.badRequest("query parameter '" + name + "' must not be empty: leave it out not to filter by it");
      }
    }
  }

  /** What the database's timestamps hold (PostgreSQL's range is wider, but not Instant.parse's ±999,999,999 years). */
  private static final Instant EARLIEST = Instant.parse("0001-01-01T00:00:00Z");
  private static final Instant LATEST = Instant.parse("9999-12-31T23:59:59.999999Z");

  /**
   * A date-time whose offset's {@code +} arrived as a space (sent unencoded): only then is the caller told to encode
   * it. Any text with a space in it ({@code from=last month}) was told so too, which was no help.
   */
  private static final Pattern SPACED_OFFSET = Pattern.compile("\\d{4,}-\\d{2}-\\d{2}T[0-9:.]+ \\d{2}(:?\\d{2})?");

  static Instant instant(@Nullable String value, String name) {
    if (value == null) {
      return null;
    }
    Instant parsed;
    try {
      parsed = Instant.parse(value);
    } catch (DateTimeParseException e) {
      parsed = null;
    }
    if (parsed == null || parsed.isBefore(EARLIEST) || parsed.isAfter(LATEST)) {
      throw ApiException.badRequest(name + " must be an ISO-8601 instant from year 1 to 9999, e.g. 2025-01-31T00:00:00Z"
          // a + offset sent unencoded arrives as a space: the likeliest cause, named without the value
          + (parsed == null && SPACED_OFFSET.matcher(value).matches()
              ? " (an offset's + must be sent as %2B in a query string)" : ""));
    }
    return parsed;
  }
}
