package io.carecontext.services.fhir;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirId;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.fhir.FhirIssue;
import io.carecontext.fhir.Handling;
import io.carecontext.fhir.IfMatch;
import io.carecontext.fhir.OperationOutcomes;
import io.carecontext.fhir.StoredTypes;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.ImportProgress;
import io.carecontext.ingest.ImportSummary;
import io.carecontext.ingest.KeyNotAdmittedException;
import io.carecontext.ingest.StoredResource;
import io.carecontext.ingest.VersionConflictException;
import io.carecontext.ingest.WriteOutcome;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.RefusalRows;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditEvents;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.auth.OtherTenantAttempts;
import io.carecontext.services.auth.Role;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MediaType;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.annotation.Put;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.http.server.HttpServerConfiguration;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Hidden;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Resource;

/**
 * The FHIR R4 endpoint of one tenant ({@code /fhir/{tenant}}, role {@code ehr-integration}).
 * Every error is an OperationOutcome naming the entry and element; none quotes the payload. Every
 * answer that hands out a stored resource (read, vread, a conditional create that matched) is
 * audited first, as any other access to PHI, and answers nothing if its row cannot be written.
 */
@Hidden
@Controller("/fhir/{tenant}")
// FHIR's own type first: without it, Accept: application/fhir+json (what FHIR clients send) was a 406;
// the type before R4 (STU3 renamed it), which HAPI clients and many EHRs still send, is served as well
@Produces({FhirResponses.FHIR_JSON, FhirResponses.LEGACY_FHIR_JSON, MediaType.APPLICATION_JSON})
@ExecuteOn(TaskExecutors.BLOCKING)
public class FhirController {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(FhirController.class);

  private static final Set<String> JSON_TYPES = FhirResponses.JSON_TYPES;
  private static final Set<String> NDJSON_TYPES = Set.of("application/fhir+ndjson", "application/x-ndjson",
      "application/ndjson");

  private final FhirStore store;
  private final io.carecontext.services.ops.Metrics metrics;
  private final AuditLog audit;
  private final TenantDirectory tenants;
  private final long maxBodyBytes;
  /**
   * The refusals of this endpoint, bounded per key and kind as on the patient paths ({@link RefusalRows}):
   * an integration that keeps sending what cannot be stored, or keeps reading what is not there, or a key
   * of the wrong tenant or role that keeps trying, added a row a request without bound, and held the
   * audit writer every tenant's reads wait on. Past the budget each is still refused the same way; the
   * key's next row of that kind says how many went unrecorded. Allowed reads and writes are always recorded.
   */
  private final OtherTenantAttempts refusedCallers;
  private final RefusalRows refusedWrites = new RefusalRows();
  private final RefusalRows refusedReads = new RefusalRows();

  public FhirController(FhirStore store, io.carecontext.services.ops.Metrics metrics, AuditLog audit,
                        TenantDirectory tenants, HttpServerConfiguration server,
                        io.micronaut.http.server.util.HttpHostResolver hosts,
                        @Nullable
                        @io.micronaut.context.annotation.Value("${" + PUBLIC_URL + ":}") String publicUrl) {
    this.hosts = hosts;
    this.publicUrl = publicUrl == null ? "" : publicUrl;
    this.store = store;
    this.metrics = metrics;
    this.audit = audit;
    this.tenants = tenants;
    this.maxBodyBytes = server.getMaxRequestSize();
    this.refusedCallers = new OtherTenantAttempts(audit, tenants);
  }

  @Get("/metadata")
  public MutableHttpResponse<String> metadata(@PathVariable String tenant, HttpRequest<?> request) {
    // public (FhirPaths.isCapabilities): the same statement for any tenant id, so it tells no tenant apart
    return handle(() -> FhirResponses.ok(HttpStatus.OK, Capabilities.statement(baseUrl(request, tenant))));
  }

  private final io.micronaut.http.server.util.HttpHostResolver hosts;

  /**
   * CARECONTEXT_PUBLIC_URL, checked and without a trailing slash ({@code RuntimeSettings}), or empty. A name
   * the environment variable does not map to by Micronaut's own rules, so only the checked value is read.
   */
  public static final String PUBLIC_URL = "carecontext.http.public-url";
  private final String publicUrl;

  /**
   * The endpoint's absolute base URL, as the client reached it: FHIR's implementation.url is a URL,
   * and the path alone ({@code /fhir/acme}) was not one. Scheme, host and port are the framework's
   * (the Host header, or the Forwarded headers when micronaut.server.host-resolution names them), unless
   * CARECONTEXT_PUBLIC_URL names the address clients use: behind an ingress that terminates TLS the
   * framework sees http and the internal host.
   */
  String baseUrl(HttpRequest<?> request, String tenant) {
    String path;
    try {
      path = new URI(null, null, "/fhir/" + tenant, null).getRawPath();
    } catch (URISyntaxException e) {
      path = "/fhir/" + URLEncoder.encode(tenant, StandardCharsets.UTF_8);
    }
    return (publicUrl.isEmpty() ? hosts.resolve(request) : publicUrl) + path;
  }

  /**
   * A POST to the CapabilityStatement: a 405 naming GET, recorded like every other method a path does
   * not take. It met the create route with "metadata" for a type (and, as a public path, no caller),
   * and answered 400 "the request is malformed: send a JSON body with the documented fields".
   */
  @Post("/metadata")
  @Consumes(MediaType.ALL)
  public MutableHttpResponse<?> metadataPost(HttpRequest<?> request) {
    io.carecontext.services.auth.RefusedRequests.mark(request, 405);
    return io.carecontext.services.http.ApiErrorProcessor.answer(HttpResponse.status(HttpStatus.METHOD_NOT_ALLOWED)
        .header(HttpHeaders.ALLOW, "GET, HEAD"), request.getPath(), new io.carecontext.services.http.ApiError(
            "method_not_allowed", "the CapabilityStatement is read with GET; resources are created at "
                + "/fhir/{tenant}/{type} and Bundles posted to /fhir/{tenant}"));
  }

  @Post
  @Consumes(MediaType.ALL)
  public MutableHttpResponse<String> bundle(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                            HttpRequest<?> request, @Nullable @Body byte[] body) {
    return write(caller, tenant, null, t -> {
      // an entry the parser refuses stays in the Bundle with its issues: a batch answers it alone
      // a Bundle of more entries than the cap is refused before the parser holds them all
      Handling handling = handling(request);
      Resource r = parse(request, body, JSON_TYPES,
          json -> Fhir.parseBundleBody(json, store.maxBundleEntries(), handling));
      if (!(r instanceof Bundle b)) {
        throw FhirInputException.of(FhirIssue.error("invalid", null, r.fhirType(),
            "the base URL takes a transaction or batch Bundle; post other resources to /fhir/{tenant}/{type}"));
      }
      boolean batch = b.getType() == Bundle.BundleType.BATCH;
      Bundle response = batch ? store.batch(t, writer(caller), b) : store.transaction(t, writer(caller), b);
      warnSkipped(b, response);
      answerEntries(response, PreferReturn.forEntries(request.getHeaders().getAll("Prefer")));
      auditMatches(caller, t, response);
      if (batch) {
        recordRefusedEntries(caller, t, response);
      }
      // a batch answers a refused entry in its own response entry: count only what was written
      metrics.resourcesWritten(t.value(), response.getEntry().stream()
          .filter(e -> e.getResponse().getStatus().startsWith("2")).count());
      return FhirResponses.ok(HttpStatus.OK, response);
    });
  }

  @Post("/{type}")
  @Consumes(MediaType.ALL)
  public MutableHttpResponse<String> create(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                            @PathVariable String type, HttpRequest<?> request, @Nullable @Body byte[] body) {
    return write(caller, tenant, null, t -> {
      requireKnownType(type);
      Resource r = parse(request, body, JSON_TYPES, json -> Fhir.parseResource(json, handling(request)));
      requireType(r, type);
      String ifNoneExist = request.getHeaders().get("If-None-Exist");
      if (ifNoneExist == null) {
        return written(tenant, store.create(t, writer(caller), r), r, request);
      }
      FhirStore.ConditionalCreate o = store.createIfNoneExist(t, writer(caller), r, ifNoneExist);
      if (o.created() != null) {
        return written(tenant, o.created(), r, request);
      }
      // A match: nothing was written; the existing resource answers, with 200 (FHIR conditional create).
      // It was read as the key's FHIR reads are (FhirStore.createIfNoneExist): a key that may not read it
      // is refused (403) whatever it prefers, and the read is recorded, since even a minimal answer names it.
      StoredResource s = o.existing();
      auditRead(caller, t, s, null, false);
      return matched(s, type, PreferReturn.of(request.getHeaders().getAll("Prefer")))
          .header(HttpHeaders.LOCATION, location(tenant, type + "/" + s.id() + "/_history/" + s.version()));
    });
  }

  /** Bulk load: the body is read as a stream and committed in batches, so memory stays flat. */
  @Post(uri = "/$import", consumes = MediaType.ALL)
  public MutableHttpResponse<String> importNdjson(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                                  @PathVariable String tenant, HttpRequest<?> request,
                                                  @Nullable @Body InputStream body) {
    try {
      return write(caller, tenant, null, t -> importNdjson(caller, t, request, body));
    } finally {
      discard(body);
    }
  }

  /**
   * Lets the server drop what is left of a streamed body. An answer given before the body was read
   * (415, 413, a refused key) left it unread, and the client's next request on that connection
   * waited for the server's idle timeout (5 minutes) before it was even read.
   */
  private static void discard(@Nullable InputStream body) {
    if (body != null) {
      try {
        body.close();
      } catch (IOException e) {
        // nothing to do: the connection is the server's to close
      }
    }
  }

  @Put("/{type}/{id}")
  @Consumes(MediaType.ALL)
  public MutableHttpResponse<String> update(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                            @PathVariable String type, @PathVariable String id, HttpRequest<?> request,
                                            @Nullable @Body byte[] body) {
    return write(caller, tenant, patientOf(type, id), t -> {
      requireKnownType(type);
      // the URL's id first: a body without an id was told "Patient.id must match …", and its sender
      // looked in the body for the fault that was in the URL
      FhirStore.requireUrlId(type, id);
      Resource r = parse(request, body, JSON_TYPES, json -> Fhir.parseResource(json, handling(request)));
      requireType(r, type);
      if (!r.getIdElement().hasIdPart()) {
        // FHIR R4 (update): a body without an id SHALL be answered 400. It was stored under the URL's id, so a
        // feed that forgot the id learnt nothing; the id is not named back (it can be an MRN)
        throw FhirInputException.of(FhirIssue.error("invalid", null, type + ".id", type + ".id is required in the "
            + "body of an update: put the id of the URL in the resource (\"id\"), as FHIR's update asks; nothing was "
            + "stored"));
      }
      if (!r.getIdElement().getIdPart().equals(id)) {
        throw FhirInputException.of(FhirIssue.error("invalid", null, type + ".id",
            type + ".id must equal the id in the URL"));
      }
      r.setId(id);
      if (request.getHeaders().contains(HttpHeaders.IF_NONE_MATCH)) {
        // a read's condition, which this update ignored and overwrote the resource anyway
        throw FhirInputException.of(FhirIssue.error("not-supported", null, "If-None-Match",
            "If-None-Match is not supported on an update: for an update made from a version send If-Match, "
                + "and to create only what does not exist, POST with If-None-Exist"));
      }
      if (request.getHeaders().contains("If-None-Exist")) {
        // a conditional create's condition, as ifNoneExist on a Bundle's PUT entry (refused there): it
        // was ignored, and the resource written whether or not one carried the identifier
        throw FhirInputException.of(FhirIssue.error("not-supported", null, "If-None-Exist",
            "If-None-Exist applies to a create: POST /fhir/{tenant}/{type} with it creates only when no resource "
                + "of the type carries the identifier; for an update made from a version, send If-Match"));
      }
      return written(tenant, store.put(t, writer(caller), r, ifMatch(request)), r, request);
    });
  }

  /**
   * The version an update or delete was made from: {@code If-Match: W/"3"} (the ETag a read gave) or
   * {@code "3"}; {@code *} for any current version; null without the header.
   */
  private static Long ifMatch(HttpRequest<?> request) {
    return IfMatch.version(request.getHeaders().get(HttpHeaders.IF_MATCH), null, "If-Match");
  }

  @Get("/{type}/{id}")
  public MutableHttpResponse<String> read(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                          @PathVariable String type, @PathVariable String id) {
    return handle(() -> {
      TenantId t = requireEhrRole(caller, tenant, READ, patientOf(type, id));
      requireKnownType(type);
      requireReadableId(caller, t, type, id);
      StoredResource s = store.read(t, readSettings(caller), type, id).orElse(null);
      auditRead(caller, t, s, patientOf(type, id), false);
      if (s == null) {
        return FhirResponses.outcome(404, "not-found", type + " with that id does not exist in this tenant");
      }
      return stored(s, type + " with that id was deleted");
    });
  }

  /** A version id as writes give them: a positive whole number, without leading zeros. */
  private static final Pattern VERSION_ID = Pattern.compile("^[1-9][0-9]*$");

  /**
   * vread: any version of a resource that is not deleted (every version's body is kept); the
   * Location of a write points here.
   */
  @Get("/{type}/{id}/_history/{vid}")
  public MutableHttpResponse<String> vread(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                           @PathVariable String type, @PathVariable String id, @PathVariable String vid) {
    return handle(() -> {
      TenantId t = requireEhrRole(caller, tenant, READ, patientOf(type, id));
      requireKnownType(type);
      requireReadableId(caller, t, type, id);
      requireReadableVersion(caller, t, type, vid, patientOf(type, id));
      // more digits than any version has (If-Match takes 18 at most): looked up as version 0, which
      // never exists, so it is a 404 (410 for a deleted resource) like any other missing version
      long version = vid.length() <= 18 ? Long.parseLong(vid) : 0;
      // after a DELETE no version is served: a deleted record stays out of reach, history included
      StoredResource s = store.readVersion(t, readSettings(caller), type, id, version).orElse(null);
      auditRead(caller, t, s, patientOf(type, id), true);
      if (s == null) {
        return FhirResponses.outcome(404, "not-found", type + " with that id has no such version in this tenant");
      }
      return stored(s, type + " with that id was deleted");
    });
  }

  /**
   * A write for a key with role ehr-integration: {@code body} runs with the tenant, and a write it
   * refuses (a 4xx: a body that cannot be stored, a version conflict, a key the database no longer
   * admits) is audited with that reason, as a refused read is. An integration that keeps sending what
   * cannot be stored, or a revoked key that keeps trying, shows in the trail (at most
   * {@link RefusalRows#PER_MINUTE} rows a minute a key, the next one counting those left out); nothing
   * of the write was stored, so the row lists no resources. Its patient is the path's ({@code Patient/{id}}) or none.
   */
  private MutableHttpResponse<String> write(Caller caller, String tenant, @Nullable String patient,
                                            Function<TenantId, MutableHttpResponse<String>> body) {
    return handle(() -> {
      TenantId t = requireEhrRole(caller, tenant, WRITE, patient);
      MutableHttpResponse<String> answer = handle(() -> body.apply(t));
      int status = answer.status().getCode();
      if (status >= 400 && status < 500) {
        refusedWrites.record(audit, t, caller.keyId(), AuditEntry.of(caller.principal(), caller.keyId(),
            caller.requester().roles(), patient, null, WRITE, AuditEntry.Decision.DENIED,
            REFUSED_WRITES.getOrDefault(status, "refused")));
      }
      return answer;
    });
  }

  /**
   * The entries of a batch that were refused for what they sent, in the trail as a refused write is:
   * one denied row a reason, with how many entries it refused ({@code details.refusedEntries}). The
   * batch answers 200 whatever its entries' fate, so a feed whose every entry was refused left no row
   * at all, while the same entries sent as a transaction or one at a time did. The entries written
   * are committed with their rows by now: a refusal row that cannot be written is logged, never
   * answered as a failure of the batch (a 503 would say nothing was stored).
   */
  private void recordRefusedEntries(Caller caller, TenantId t, Bundle response) {
    Map<String, Long> byReason = new TreeMap<>();
    for (Bundle.BundleEntryComponent e : response.getEntry()) {
      String status = e.getResponse().getStatus();
      if (status != null && status.matches("4\\d\\d( .*)?")) {
        byReason.merge(REFUSED_WRITES.getOrDefault(Integer.parseInt(status.substring(0, 3)), "refused"), 1L, Long::sum);
      }
    }
    recordPartialRefusals(caller, t, byReason, "refusedEntries");
  }

  /** One denied row a reason, {@code details.<counted>}: how many parts of an accepted write it refused. */
  private void recordPartialRefusals(Caller caller, TenantId t, Map<String, Long> byReason, String counted) {
    try {
      byReason.forEach((reason, n) -> refusedWrites.record(audit, t, caller.keyId(), AuditEntry.of(caller.principal(),
          caller.keyId(), caller.requester().roles(), null, null, WRITE, AuditEntry.Decision.DENIED, reason)
          .withDetail(counted, Long.toString(n))));
    } catch (AuditLog.AuditUnavailableException e) {
      LOG.warn("tenant {}: the refused parts of a FHIR write could not be recorded in the audit trail; what was "
          + "written is stored and recorded", t);
    }
  }

  /** The audit reason of a refused write, by its status. */
  private static final Map<Integer, String> REFUSED_WRITES = Map.of(400, "invalid_request", 403, "key_not_admitted",
      409, "conflict", 412, "version_conflict", 413, "payload_too_large", 415, "unsupported_media_type",
      422, "unprocessable_resource");

  private static final String READ = "fhir-read";
  private static final String WRITE = AuditEvents.WRITE_ACTION;

  /**
   * The tenant of a read or a write ({@code action}), for a key that may read and write FHIR. A key
   * of another tenant and a key of this one without the role are refused as before, and the attempt
   * is audited with its true reason (other_tenant in the key's own trail, role_not_allowed in this
   * one's; the platform operator's key as platform_operator), as on the context path.
   */
  private TenantId requireEhrRole(Caller caller, String tenant, String action) {
    return requireEhrRole(caller, tenant, action, null);
  }

  /** As above, on a path that names a patient ({@code Patient/{id}}): a refusal's row names it. */
  private TenantId requireEhrRole(Caller caller, String tenant, String action, @Nullable String patient) {
    return refusedCallers.requireRole(caller, tenant, action, patient, Role.EHR_INTEGRATION);
  }

  /** The patient a {@code Patient/{id}} path names, when the id is one; null for any other type. */
  private static String patientOf(String type, String id) {
    return "Patient".equals(type) && FhirId.isValid(id) ? id : null;
  }

  /**
   * The caller as its writes need it: its key presented to the database (the tenant role writes
   * resources only for it), and its audit rows appended in each write's own transaction, so a write
   * and its record commit together.
   */
  private FhirWriter writer(Caller caller) {
    return WriteAuditEntries.audited(audit, PolicySettings.fhirWrite(caller.keyId(), caller.keySecretHash()),
        caller.principal(), caller.keyId(), caller.requester().roles());
  }

  /** The caller's key, presented to the database: the FHIR-read role sees resources only for it. */
  private static PolicySettings readSettings(Caller caller) {
    return PolicySettings.fhirRead(caller.keyId(), caller.keySecretHash());
  }

  /**
   * The audit row of a read, committed before the resource is answered: allowed, or denied with
   * the true reason (no such resource or version, deleted). The patient is the resource's
   * compartment's; when nothing was found, the {@code pathPatient} a {@code Patient/{id}} path names (a
   * valid FHIR id, {@link #patientOf}), as context and refused requests record the patient their path
   * names: a probe for a patient's record is an access attempt on it, which that patient's accounting
   * ({@code GET /audit?patient=}) lists. Never any other string from the path. A {@code vread} (a version
   * asked for by its id) says so in the row's details, so the export tells FHIR's two interactions apart.
   */
  private void auditRead(Caller caller, TenantId t, @Nullable StoredResource s, @Nullable String pathPatient,
                         boolean vread) {
    boolean served = s != null && !s.deleted();
    AuditEntry row = AuditEntry.of(caller.principal(), caller.keyId(),
        caller.requester().roles(), s == null ? pathPatient : s.patientId(),
        null, READ, served ? AuditEntry.Decision.ALLOWED : AuditEntry.Decision.DENIED,
        served ? "allowed" : s == null ? "unknown_resource" : "deleted");
    if (vread) {
      row = row.withDetail("interaction", "\"vread\"");
    }
    if (s != null) {
      // what was handed out (or asked for and found deleted), as a write's row names what it stored: the
      // patient alone does not tell the Patient from its records, and a resource in no patient's
      // compartment (a Practitioner) left a row that named nothing. A stored id, never one from the path.
      row = row.withDetail("resources", AuditEntry.jsonStrings(
          List.of(s.resourceType() + "/" + s.id() + "/_history/" + s.version())));
    }
    if (served) {
      audit.record(t, row); // what was handed out is recorded whatever the budget
    } else {
      refusedRead(caller, t, row);
    }
  }

  /** A read that handed out nothing, recorded while the key's refused reads are within their budget. */
  private void refusedRead(Caller caller, TenantId t, AuditEntry row) {
    refusedReads.record(audit, t, caller.keyId(), row);
  }

  /** A read of an id FHIR does not allow: recorded as {@code id_invalid} (no patient), then a 400. */
  private void requireReadableId(Caller caller, TenantId t, String type, String id) {
    if (!FhirId.isValid(id)) {
      refusedRead(caller, t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
          READ, AuditEntry.Decision.DENIED, "id_invalid"));
      FhirStore.requireUrlId(type, id);
    }
  }

  /**
   * A vread of a version id that no write gives (not a positive whole number): recorded as
   * {@code version_invalid}, naming the patient of a {@code Patient/{id}} path as an unknown read does
   * ({@code pathPatient}, {@link #auditRead}), then a 400. It answered 404, or 410 for a deleted resource,
   * as if the version were missing: a feed whose URL was wrong looked for data.
   */
  private void requireReadableVersion(Caller caller, TenantId t, String type, String vid,
                                      @Nullable String pathPatient) {
    if (!VERSION_ID.matcher(vid).matches()) {
      refusedRead(caller, t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(),
          pathPatient, null, READ, AuditEntry.Decision.DENIED, "version_invalid"));
      throw FhirInputException.of(FhirIssue.error("invalid", null, type + ".meta.versionId",
          "the version id in the URL must be a positive whole number, as a write's Location and ETag give it"));
    }
  }

  private static MutableHttpResponse<String> stored(StoredResource s, String deletedMessage) {
    if (s.deleted()) {
      return FhirResponses.outcome(410, "deleted", deletedMessage);
    }
    return versionOf(s, HttpResponse.<String>ok(s.json()).contentType(FhirResponses.FHIR_JSON));
  }

  /** {@code answer} with the ETag and Last-Modified of the stored version {@code s}. */
  private static MutableHttpResponse<String> versionOf(StoredResource s, MutableHttpResponse<String> answer) {
    return answer.header(HttpHeaders.ETAG, "W/\"" + s.version() + "\"")
        .header(HttpHeaders.LAST_MODIFIED, FhirResponses.httpDate(s.lastUpdated()));
  }

  @Delete("/{type}/{id}")
  // no body: whatever Content-Type a client sets on every request (application/fhir+json, say) must
  // not refuse it; the route's default, JSON only, answered 415 "send application/fhir+json" to one that did
  @Consumes(MediaType.ALL)
  public MutableHttpResponse<String> delete(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                            @PathVariable String type, @PathVariable String id,
                                            HttpRequest<?> request) {
    return write(caller, tenant, patientOf(type, id), t -> {
      requireKnownType(type);
      store.delete(t, writer(caller), type, id, ifMatch(request));
      // Deleting what is already gone succeeds too (FHIR allows 200/204 for both).
      return HttpResponse.<String>noContent();
    });
  }

  private MutableHttpResponse<String> importNdjson(Caller caller, TenantId t, HttpRequest<?> request,
                                                   InputStream body) {
    String type = mediaType(request);
    if (!NDJSON_TYPES.contains(type)) {
      return FhirResponses.outcome(415, "not-supported", "$import takes Content-Type: application/fhir+ndjson");
    }
    Optional<String> otherVersion = FhirVersionParameter.refusal(request);
    if (otherVersion.isPresent()) {
      return FhirResponses.outcome(415, "not-supported", otherVersion.get());
    }
    Charset charset = BodyCharset.of(request);
    if (!BodyCharset.keepsAsciiLines(charset)) {
      return FhirResponses.outcome(415, "not-supported", "$import reads NDJSON one line a resource, split at each "
          + "line feed byte, which " + charset.name() + " does not keep: send the file as UTF-8; nothing was stored");
    }
    if (body == null) {
      return FhirResponses.outcome(400, "required", "the body is empty: send FHIR resources as NDJSON, one a line");
    }
    // A streamed body is held to the limit only as it is read, after batches of it are committed:
    // a body that says it is over is refused before anything is read, like every other FHIR body.
    if (request.getContentLength() > maxBodyBytes) {
      return FhirResponses.outcome(413, "too-costly",
              io.carecontext.services.http.ApiErrorProcessor.tooLarge(maxBodyBytes, request.getPath()).message())
          // the server reads no more of a body over the limit: the connection cannot carry another request
          .header(HttpHeaders.CONNECTION, "close");
    }
    ImportSummary s = store.importNdjson(t, writer(caller), body, charset, ImportProgress.NONE,
        handling(request));
    if (s.noResources()) {
      // blank lines only (or a streamed body of no bytes) answered 200 "written 0", as if a file of
      // resources had been taken: the same 400 as an empty body
      return FhirResponses.outcome(400, "required", "the body holds no resources (" + (s.lines() == 0 ? "it is empty"
          : "only blank lines") + "): send FHIR resources as NDJSON, one a line; nothing was stored");
    }
    metrics.resourcesWritten(t.value(), s.written());
    OperationOutcome oo = new OperationOutcome();
    oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.INFORMATION)
        .setCode(OperationOutcome.IssueType.INFORMATIONAL)
        .setDiagnostics("lines " + s.lines() + ", written " + s.written() + ", unchanged " + s.unchanged()
            + ", failed " + s.failed() + ", " + s.millis() + " ms"
            + (s.failed() > s.errors().size() ? "; the first " + s.errors().size() + " failed lines are listed" : "")
            + (s.skippedLines() == 0 ? "" : "; skipped elements FHIR R4 does not define in " + s.skippedLines()
                + " stored lines" + (s.skippedLines() > s.skipped().size() ? " (the first " + s.skipped().size()
                + " are listed)" : ""))
            + (s.nothingStored() ? "; nothing was stored: fix the lines listed and send the file again" : ""));
    for (ImportSummary.LineError e : s.errors()) {
      oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.ERROR)
          .setCode(OperationOutcome.IssueType.INVALID)
          .setDiagnostics(e.diagnostics())
          .addExpression("line[" + e.line() + "]");
    }
    for (ImportSummary.SkippedLine l : s.skipped()) {
      // where, never what: the element skipped is the sender's key, which may be anything (a name)
      var warning = oo.addIssue().setSeverity(OperationOutcome.IssueSeverity.WARNING)
          .setCode(OperationOutcome.IssueType.STRUCTURE)
          .setDiagnostics("line " + l.line() + " was stored without what FHIR R4 does not define in "
              + String.join(", ", l.paths()) + " (skipped, not stored): remove it, or send its data as an extension; "
              + "send Prefer: handling=strict to have such lines refused")
          .addExpression("line[" + l.line() + "]");
      l.paths().forEach(warning::addExpression);
    }
    if (s.failed() > 0 && !s.nothingStored()) {
      // the lines refused, in the trail as a refused write is (an import that stored nothing is a 400,
      // recorded as every refused write); an import that stored some recorded only what it stored
      // with its true reason: lines the database refused for the key (revoked part-way) apart from bad ones
      Map<String, Long> byReason = new TreeMap<>();
      if (s.invalidLines() > 0) {
        byReason.put("invalid_request", s.invalidLines());
      }
      if (s.keyRefusedLines() > 0) {
        byReason.put("key_not_admitted", s.keyRefusedLines());
      }
      recordPartialRefusals(caller, t, byReason, "failedLines");
    }
    // Every line refused is a failed request, not a success that stored nothing: a feed that checks
    // the status alone learnt of it only by reading the summary.
    return FhirResponses.ok(s.nothingStored() ? HttpStatus.BAD_REQUEST : HttpStatus.OK, oo);
  }

  /**
   * A write's Location: {@code /fhir/{tenant}/{type}/{id}/_history/{vid}}, under CARECONTEXT_PUBLIC_URL when it is
   * set. Behind an ingress that serves the API under a path prefix ({@code https://host/ehr}), the path alone
   * resolved to {@code https://host/fhir/…}, outside the prefix, while the CapabilityStatement named the prefix.
   */
  private String location(String tenant, String resourcePath) {
    return publicUrl + "/fhir/" + tenant + "/" + resourcePath;
  }

  /**
   * The answer to a create or update that stored {@code r}: 201 or 200 with its Location and ETag, and the
   * body {@code Prefer: return} asks for ({@link PreferReturn}): the resource as stored (the default), none
   * (minimal), or, for {@code return=OperationOutcome}, an OperationOutcome of an information issue saying
   * what was stored and, under lenient handling, a warning for each element in which something R4 does not
   * define was skipped: its path, never the skipped element's name or value. The resource answered by default says
   * nothing of what was skipped (R4 gives it no place).
   */
  private MutableHttpResponse<String> written(String tenant, WriteOutcome o, Resource r, HttpRequest<?> request) {
    if (o.status() == WriteOutcome.Status.CREATED || o.status() == WriteOutcome.Status.UPDATED) {
      metrics.resourcesWritten(tenant, 1); // identical content re-sent writes nothing
    }
    HttpStatus status = o.status() == WriteOutcome.Status.CREATED ? HttpStatus.CREATED : HttpStatus.OK;
    List<String> skipped = Fhir.skipped(r);
    r.setId(o.id());
    r.getMeta().setVersionId(Long.toString(o.version()));
    if (o.lastUpdated() != null) {
      r.getMeta().setLastUpdated(Date.from(o.lastUpdated()));
    }
    MutableHttpResponse<String> answer = switch (PreferReturn.of(request.getHeaders().getAll("Prefer"))) {
      case REPRESENTATION -> FhirResponses.ok(status, r);
      case MINIMAL -> HttpResponse.<String>status(status);
      case OPERATION_OUTCOME -> {
        List<FhirIssue> issues = new ArrayList<>();
        issues.add(writtenIssue(o));
        skipped.forEach(path -> issues.add(Fhir.skippedWarning(null, path)));
        yield FhirResponses.ok(status, OperationOutcomes.from(issues));
      }
    };
    answer.header(HttpHeaders.LOCATION, location(tenant, o.location())) // the version's vread URL
        .header(HttpHeaders.ETAG, "W/\"" + o.version() + "\"");
    if (o.lastUpdated() != null) {
      // FHIR's create and update answer it beside the ETag, as a read and a Bundle entry's lastModified
      // do: a feed that keeps the version's time without a read (If-Modified-Since, its own log) had none
      answer.header(HttpHeaders.LAST_MODIFIED, FhirResponses.httpDate(o.lastUpdated()));
    }
    return answer;
  }

  /**
   * The answer to a conditional create that matched, by {@code Prefer: return}: the existing resource (the
   * default), no body (minimal), or an OperationOutcome of an information issue saying which resource matched
   * and that nothing was stored (its type, id and version: never the identifier the request matched on). A
   * deleted match answers 410 whatever the preference, as before.
   */
  private static MutableHttpResponse<String> matched(StoredResource s, String type, PreferReturn preference) {
    if (s.deleted() || preference == PreferReturn.REPRESENTATION) {
      return stored(s, type + " with that identifier was deleted");
    }
    MutableHttpResponse<String> answer = preference == PreferReturn.MINIMAL ? HttpResponse.status(HttpStatus.OK)
        : FhirResponses.ok(HttpStatus.OK, OperationOutcomes.from(List.of(matchedIssue(s.resourceType()
            + "/" + s.id() + "/_history/" + s.version()))));
    return versionOf(s, answer);
  }

  /** The information issue of a conditional create that found {@code location} ({@code Type/id/_history/v}). */
  private static FhirIssue matchedIssue(String location) {
    String ref = location.replaceFirst("/_history/.*$", "");
    return new FhirIssue(FhirIssue.Severity.INFORMATION, "informational", null, null, ref + " matched the "
        + "conditional create's identifier, so nothing was stored; the existing resource is version "
        + location.substring(location.lastIndexOf('/') + 1) + " (" + location + ")");
  }

  /** The information issue of a write that stored (or found unchanged, or deleted) what {@code o} says. */
  private static FhirIssue writtenIssue(WriteOutcome o) {
    if (o.status() == WriteOutcome.Status.DELETED) {
      return new FhirIssue(FhirIssue.Severity.INFORMATION, "informational", null, null, o.resourceType() + "/"
          + o.id() + " deleted" + (o.version() > 0 ? "" : " (it did not exist, or was deleted already)"));
    }
    return new FhirIssue(FhirIssue.Severity.INFORMATION, "informational", null, null, o.resourceType() + "/"
        + o.id() + " " + switch (o.status()) {
          case CREATED -> "created";
          case UPDATED -> "updated";
          default -> "unchanged (the same content was stored already)";
        } + "; stored as version " + o.version() + " (" + o.location() + ")");
  }

  /**
   * Each written entry of a transaction or batch response as {@code Prefer: return} asks ({@link
   * PreferReturn#forEntries}): with the resource as stored in {@code entry.resource} (representation), or
   * without it (minimal, and without the header, as before), or with an information issue saying what was
   * stored first in {@code entry.response.outcome}, before the warnings of what was skipped (OperationOutcome).
   * A conditional create that matched carries no resource under any preference: the match was found as the
   * write path sees the tenant, not read for the key; its Location is the key's to read. A refused entry keeps
   * its OperationOutcome alone.
   */
  private static void answerEntries(Bundle response, PreferReturn preference) {
    for (Bundle.BundleEntryComponent entry : response.getEntry()) {
      if (preference != PreferReturn.REPRESENTATION) {
        entry.setResource(null);
      }
      if (preference != PreferReturn.OPERATION_OUTCOME) {
        continue;
      }
      FhirStore.resultOf(entry).ifPresent(result -> addToOutcome(entry.getResponse(), true, List.of(
          result.written() != null ? writtenIssue(result.written()) : matchedIssue(result.matched()))));
    }
  }

  /**
   * The read rows of a transaction's or batch's conditional creates that matched a stored resource: each hands
   * out that resource's id and version (its Location, and an issue naming it under return=OperationOutcome), found
   * by an identifier the key sent (an MRN), which is a read of that patient's record, as the single conditional
   * create's match is recorded. They left no row. A match of a resource this same Bundle wrote is its write,
   * recorded as that. Recorded whatever the budget, as every read that handed something out.
   */
  private void auditMatches(Caller caller, TenantId t, Bundle response) {
    List<FhirStore.EntryResult> results = response.getEntry().stream()
        .flatMap(e -> FhirStore.resultOf(e).stream()).toList();
    Set<String> written = new HashSet<>();
    results.stream().filter(r -> r.written() != null)
        .forEach(r -> written.add(r.written().resourceType() + "/" + r.written().id()));
    for (FhirStore.EntryResult r : results) {
      if (r.matched() != null && !written.contains(r.matched().replaceFirst("/_history/.*$", ""))) {
        audit.record(t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(),
                r.matchedPatient(), null, READ, AuditEntry.Decision.ALLOWED, "allowed")
            .withDetail("resources", AuditEntry.jsonStrings(List.of(r.matched()))));
      }
    }
  }

  /**
   * What the write asks of elements R4 does not define ({@code Prefer: handling=strict|lenient}): strict
   * refuses the resource (the line of an import, the entry of a batch, a transaction whole); lenient,
   * the default, skips them as before. A single create or update answers the resource as stored, which
   * says nothing of what was skipped, unless it sends {@code Prefer: return=OperationOutcome} ({@link #written}).
   */
  private static Handling handling(HttpRequest<?> request) {
    return Handling.of(request.getHeaders().getAll("Prefer"));
  }

  /**
   * Under lenient handling, a warning in the outcome of each written entry of the response whose request
   * entry held elements R4 does not define: where they were, never what they were. An entry refused has
   * its own outcome, which says why; what was skipped outside every entry (in the Bundle itself) has no
   * place in an R4 response Bundle.
   */
  private static void warnSkipped(Bundle request, Bundle response) {
    for (int i = 0; i < request.getEntry().size() && i < response.getEntry().size(); i++) {
      List<String> paths = Fhir.skipped(request.getEntry().get(i));
      Bundle.BundleEntryResponseComponent answer = response.getEntry().get(i).getResponse();
      if (paths.isEmpty() || answer.getStatus() == null || !answer.getStatus().startsWith("2")) {
        continue;
      }
      int index = i;
      addToOutcome(answer, false, paths.stream().map(p -> Fhir.skippedWarning(index, p)).toList());
    }
  }

  /** {@code issues} in a response entry's outcome: before the issues it holds ({@code first}) or after them. */
  private static void addToOutcome(Bundle.BundleEntryResponseComponent answer, boolean first, List<FhirIssue> issues) {
    OperationOutcome added = OperationOutcomes.from(issues);
    if (answer.getOutcome() instanceof OperationOutcome existing) {
      existing.getIssue().addAll(first ? 0 : existing.getIssue().size(), added.getIssue());
    } else {
      answer.setOutcome(added);
    }
  }

  private static Resource parse(HttpRequest<?> request, @Nullable byte[] body, Set<String> accepted,
                                Function<String, Resource> parser) {
    String type = mediaType(request);
    if (!accepted.contains(type)) {
      throw new UnsupportedMedia();
    }
    FhirVersionParameter.refusal(request).ifPresent(why -> {
      throw new FhirVersionParameter.Refused(why);
    });
    if (body == null || body.length == 0) {
      // 400, as for any body that is not a resource: FHIR keeps 422 for a resource that breaks a rule
      throw FhirInputException.of(FhirIssue.error("structure", null, null, "the request body is empty: send a FHIR resource"));
    }
    Charset charset = BodyCharset.of(request);
    String json;
    try {
      json = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
    } catch (CharacterCodingException e) {
      throw FhirInputException.of(FhirIssue.error("structure", null, null, "the body is not valid "
          + io.carecontext.ingest.DeclaredCharset.named(charset) + ": send it encoded as UTF-8"));
    }
    return parser.apply(json);
  }

  private static String mediaType(HttpRequest<?> request) {
    return request.getContentType().map(m -> m.getType() + "/" + m.getSubtype()).orElse("")
        .toLowerCase(Locale.ROOT);
  }

  private static void requireType(Resource r, String type) {
    if (!r.fhirType().equals(type)) {
      throw FhirInputException.of(FhirIssue.error("invalid", null, "resourceType",
          "resourceType does not match the URL: expected " + type)); // a stored type: checked before the body
    }
  }

  /** The type in the URL is one this endpoint stores ({@link StoredTypes}, which the CapabilityStatement lists). */
  private static void requireKnownType(String type) {
    if (type.startsWith("$")) {
      // POST /fhir/acme/$export (or $everything, $validate) said "unknown resource type: not an R4
      // resource type", as if the client had mistyped a type
      throw FhirInputException.of(FhirIssue.error("not-supported", null, null, "the URL names an operation where a "
          + "resource type goes: this endpoint's only operation is $import (POST /fhir/{tenant}/$import with "
          + "application/fhir+ndjson); GET /fhir/{tenant}/metadata lists what is supported"));
    }
    StoredTypes.refusal(type).ifPresent(why -> {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, null, "the type in the URL: " + why));
    });
  }

  /** Runs a handler; every failure becomes an OperationOutcome with the right status. */
  private static MutableHttpResponse<String> handle(Supplier<MutableHttpResponse<String>> handler) {
    try {
      return handler.get();
    } catch (FhirInputException e) {
      return FhirResponses.of(e);
    } catch (ApiException e) {
      return FhirResponses.of(e);
    } catch (BodyCharset.Unsupported e) {
      return FhirResponses.outcome(415, "not-supported", e.message());
    } catch (FhirVersionParameter.Refused e) {
      return FhirResponses.outcome(415, "not-supported", e.getMessage());
    } catch (UnsupportedMedia e) {
      return FhirResponses.outcome(415, "not-supported", "send Content-Type: application/fhir+json");
    } catch (AuditLog.AuditUnavailableException e) {
      return FhirResponses.outcome(503, "transient", "the access could not be audited, so nothing was returned or stored: retry later")
          .header("Retry-After", "5");
    } catch (KeyNotAdmittedException e) {
      return FhirResponses.outcome(403, "forbidden", KEY_REFUSED);
    } catch (VersionConflictException e) {
      // in a transaction nothing of the Bundle was stored: the message names the entry
      return FhirResponses.outcome(412, "conflict", VersionConflictException.advice(e.entry()));
    }
  }

  private static final String KEY_REFUSED = "the database refused this key for the write; nothing was stored. The key may "
      + "have been revoked or have expired after the request was accepted: use a live key with role ehr-integration";

  private static final class UnsupportedMedia extends RuntimeException {
    UnsupportedMedia() {
      super(null, null, false, false);
    }
  }
}
