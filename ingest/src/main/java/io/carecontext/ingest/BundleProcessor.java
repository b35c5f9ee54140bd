package io.carecontext.ingest;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirId;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.fhir.FhirIssue;
import io.carecontext.fhir.IfMatch;
import io.carecontext.fhir.OperationOutcomes;
import io.carecontext.fhir.ReferencePaths;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BiFunction;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.HTTPVerb;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a transaction Bundle into writes, as EHR exports use them: {@code urn:uuid} fullUrls get
 * server ids, conditional creates ({@code ifNoneExist}) find existing resources, conditional
 * references ({@code Practitioner?identifier=system|value}) resolve within the Bundle or the store.
 */
final class BundleProcessor {

  private static final Logger LOG = LoggerFactory.getLogger(BundleProcessor.class);

  private final ResourceWriter writer;
  private final Map<String, String> resolved = new HashMap<>();

  BundleProcessor(ResourceWriter writer) {
    this.writer = writer;
  }

  Bundle process(Bundle bundle, Bundle.BundleType responseType) throws SQLException {
    List<BundleEntryComponent> entries = bundle.getEntry();
    lockAhead(entries);
    List<Optional<String>> existing = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      existing.add(assignId(i, entries.get(i)));
    }
    Bundle response = new Bundle().setType(responseType);
    for (int i = 0; i < entries.size(); i++) {
      BundleEntryComponent e = entries.get(i);
      if (existing.get(i).isPresent()) {
        response.addEntry(matched(existing.get(i).get()));
        continue;
      }
      rewriteReferences(i, e, "a urn:uuid reference points to no entry of this Bundle");
      response.addEntry(respond(apply(i, e), e.getResource()));
    }
    return response;
  }

  /**
   * Every resource the Bundle names by id (PUT, DELETE) and every identifier it creates conditionally,
   * locked in one order before anything is written (see {@link ResourceWriter#lock}). POST entries
   * get new ids and need no lock. The resources DELETE entries name are noted on the way ({@link #deletedBy}).
   */
  private void lockAhead(List<BundleEntryComponent> entries) throws SQLException {
    List<Long> keys = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      BundleEntryComponent e = entries.get(i);
      HTTPVerb method = e.getRequest().getMethod();
      String[] parts = e.getRequest().getUrl() == null ? new String[0] : e.getRequest().getUrl().split("/");
      if ((method == HTTPVerb.PUT || method == HTTPVerb.DELETE) && parts.length == 2) {
        keys.add(writer.resourceKey(parts[0], parts[1]));
        if (method == HTTPVerb.DELETE) {
          deletedBy.putIfAbsent(parts[0] + "/" + parts[1], i); // what a conditional create must not match
        }
      } else if (method == HTTPVerb.POST && e.getResource() != null && e.getRequest().hasIfNoneExist()) {
        IdentifierCriteria.parse(e.getRequest().getIfNoneExist())
            .ifPresent(c -> keys.add(writer.identifierKey(e.getResource().fhirType(), c.system(), c.value())));
      }
    }
    writer.lock(keys);
  }

  /** One batch entry in its own transaction (urn:uuid references to other entries are not resolved). */
  BundleEntryComponent processOne(int index, BundleEntryComponent e) throws SQLException {
    Optional<String> existing = assignId(index, e);
    if (existing.isPresent()) {
      return matched(existing.get());
    }
    rewriteReferences(index, e, "a batch writes each entry on its own, so a urn:uuid reference cannot name another "
        + "entry: send the resources as a transaction Bundle, or reference Type/id");
    return respond(apply(index, e), e.getResource());
  }

  /**
   * Each entry on its own: an entry with {@code invalid} issues (found before anything was written)
   * or one that fails while it is written gets a 400 or 422 response entry with its OperationOutcome;
   * the others get their own outcome.
   */
  static Bundle batch(Bundle bundle, Map<Integer, List<FhirIssue>> invalid,
                      BiFunction<Integer, BundleEntryComponent, BundleEntryComponent> one) {
    Bundle response = new Bundle().setType(Bundle.BundleType.BATCHRESPONSE);
    boolean stored = false;
    KeyNotAdmittedException keyRefused = null;
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      try {
        if (invalid.containsKey(i)) {
          throw new FhirInputException(invalid.get(i));
        }
        if (keyRefused != null) {
          throw keyRefused; // a key revoked or expired stays so: the entries after are not tried
        }
        BundleEntryComponent done = one.apply(i, bundle.getEntry().get(i));
        response.addEntry(done);
        stored |= done.getResponse().getStatus().startsWith("2");
      } catch (FhirInputException ex) {
        BundleEntryComponent r = response.addEntry();
        List<FhirIssue> issues = ex.issues().stream().map(x -> new FhirIssue(x.severity(), x.code(), null, x.path(),
            x.message())).toList();
        r.getResponse().setStatus(ex.httpStatus() == 422 ? "422 Unprocessable Entity" : "400 Bad Request")
            .setOutcome(OperationOutcomes.from(issues));
      } catch (VersionConflictException ex) {
        response.addEntry().getResponse().setStatus("412 Precondition Failed").setOutcome(OperationOutcomes.from(List.of(
            FhirIssue.error("conflict", null, "Bundle.entry[" + i + "].request.ifMatch", VersionConflictException.advice(i)))));
      } catch (RuntimeException ex) {
        // Each entry commits on its own: an entry that fails for the key (revoked part-way) or the
        // server (its audit rows cannot be written, the database) after earlier ones were stored
        // failed the whole request, and its answer (403 or 503 "nothing was stored") hid those: a
        // feed that sent the batch again created its POST entries twice. While nothing is stored,
        // the request still fails whole, which is then true.
        if (!stored) {
          throw ex;
        }
        if (ex instanceof KeyNotAdmittedException refused) {
          keyRefused = refused;
        }
        response.addEntry(failedOnItsOwn(i, ex));
      }
    }
    return response;
  }

  /**
   * The answer to a batch entry that failed for the key or the server after earlier entries were
   * stored: it stored nothing, and says so; the failure is logged by type and SQLSTATE only (a
   * database message can quote a value).
   */
  private static BundleEntryComponent failedOnItsOwn(int index, RuntimeException ex) {
    BundleEntryComponent r = new BundleEntryComponent();
    if (ex instanceof KeyNotAdmittedException) {
      r.getResponse().setStatus("403 Forbidden").setOutcome(OperationOutcomes.from(List.of(FhirIssue.error(
          "forbidden", null, "Bundle.entry[" + index + "]", "bundle entry " + index + ": the database refused this "
              + "key for the write, so this entry stored nothing (the key may have been revoked or have expired "
              + "during the batch); the entries answered 2xx are stored: send the others with a live key"))));
      return r;
    }
    LOG.warn("a batch entry failed after earlier entries were stored ({}, SQLSTATE {}); it is answered on its own",
        ex.getClass().getSimpleName(), sqlState(ex));
    r.getResponse().setStatus("503 Service Unavailable").setOutcome(OperationOutcomes.from(List.of(FhirIssue.error(
        "transient", null, "Bundle.entry[" + index + "]", "bundle entry " + index + ": it could not be stored or "
            + "recorded in the audit trail, so nothing of it was stored; the entries answered 2xx are stored: "
            + "send the others again later"))));
    return r;
  }

  /** The SQLSTATE of the first SQLException among the failure's causes, or "none": what a log line may say of it. */
  static String sqlState(Throwable failure) {
    return java.util.stream.Stream.iterate(failure, java.util.Objects::nonNull, Throwable::getCause)
        .filter(SQLException.class::isInstance).map(t -> ((SQLException) t).getSQLState()).findFirst().orElse("none");
  }

  /** Gives the entry's resource its id; returns the existing location when a conditional create matches. */
  private Optional<String> assignId(int index, BundleEntryComponent e) throws SQLException {
    HTTPVerb method = e.getRequest().getMethod();
    Resource r = e.getResource();
    String url = e.getRequest().getUrl();
    if (method == HTTPVerb.POST) {
      if (r != null && !url.split("[/?]", 2)[0].equals(r.fhirType())) {
        // as POST /fhir/{tenant}/{type} refuses another type: an entry that says Observation and
        // carries a Patient was written as a Patient without a word
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].request.url",
            "bundle entry " + index + ": request.url must be the resource's type for POST"));
      }
      if (e.getRequest().hasIfNoneExist()) {
        Optional<String> match = byIdentifier(index, r.fhirType(), e.getRequest().getIfNoneExist(), true);
        if (match.isPresent()) {
          String ref = r.fhirType() + "/" + match.get();
          remember(e, ref);
          return Optional.of(ref);
        }
      }
      r.setId(UUID.randomUUID().toString());
    } else if (method == HTTPVerb.PUT || method == HTTPVerb.DELETE) {
      String[] parts = url.split("/");
      if (parts.length == 2 && !parts[1].isEmpty() && !FhirId.isValid(parts[1])) {
        // as on PUT and DELETE /fhir/{tenant}/{type}/{id}: the rule, never the id (it can be an MRN)
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].request.url",
            "bundle entry " + index + ": the id in request.url must match " + FhirId.RULE));
      }
      if (parts.length != 2 || !FhirId.isValid(parts[1]) || (r != null && !parts[0].equals(r.fhirType()))) {
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].request.url",
            "bundle entry " + index + ": request.url must be Type/id" + (r == null ? "" : " matching the resource")));
      }
      // A urn: fullUrl names no server id, so the URL's id decides, as for any PUT. The parser puts a
      // urn:uuid fullUrl that is not a well-formed UUID (urn:uuid:p1, as some feeds write them) in
      // place of the resource's id, and the entry was refused as one whose id was not the URL's.
      boolean idIsUrn = r != null && e.hasFullUrl() && e.getFullUrl().startsWith("urn:")
          && e.getFullUrl().equals(r.getIdElement().getValue());
      if (r != null && !r.getIdElement().hasIdPart()) {
        // as on PUT /fhir/{tenant}/{type}/{id}: FHIR's update SHALL refuse a body without an id (400); it was
        // stored under request.url's id. A urn: fullUrl the parser put in place of the id is not told apart here
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].resource.id",
            "bundle entry " + index + ": resource.id is required on a PUT entry: put the id of request.url in the "
                + "resource (\"id\"), as FHIR's update asks"));
      }
      if (r != null && !idIsUrn && r.hasIdElement() && r.getIdElement().hasIdPart()
          && !r.getIdElement().getIdPart().equals(parts[1])) {
        // as on PUT /fhir/{tenant}/{type}/{id}: an id in the body that is not the URL's is a mistake, not a rename
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].resource.id",
            "bundle entry " + index + ": resource.id must equal the id in request.url"));
      }
      if (e.hasFullUrl() && !e.getFullUrl().startsWith("urn:") && !e.getFullUrl().endsWith("/" + url)) {
        // FHIR: a fullUrl that is not a urn:uuid is the resource's own URL, so it must end with Type/id
        throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].fullUrl",
            "bundle entry " + index + ": fullUrl must be a urn:uuid or end with request.url (Type/id)"));
      }
      if (r != null) {
        r.setId(parts[1]);
      }
    } else {
      throw FhirInputException.of(FhirIssue.error("not-supported", index, "Bundle.entry[" + index + "].request.method",
          "bundle entry " + index + ": only POST, PUT and DELETE are supported in Bundles"));
    }
    if (r != null) {
      String ref = r.fhirType() + "/" + r.getIdElement().getIdPart();
      remember(e, ref);
      byRef.put(ref, r);
    }
    return Optional.empty();
  }

  private void remember(BundleEntryComponent e, String ref) {
    if (e.hasFullUrl()) {
      resolved.put(e.getFullUrl(), ref);
    }
  }

  /** {@code unresolvedUuid}: what to tell a client whose urn:uuid reference names nothing this write can resolve. */
  private void rewriteReferences(int index, BundleEntryComponent e, String unresolvedUuid) throws SQLException {
    if (e.getResource() == null) {
      return;
    }
    rewrite(e.getResource(), "Bundle.entry[" + index + "].resource", "bundle entry " + index + ": ", index,
        unresolvedUuid, resolved::get, (type, criteria) -> byIdentifier(index, type, criteria, false));
  }

  /**
   * A resource written on its own ({@code PUT} or {@code POST /fhir/{tenant}/{type}}): a conditional
   * reference resolves in the store, as a Bundle entry's does (422 when nothing matches), and a
   * {@code urn:uuid} reference, which names an entry of a Bundle, is refused (400): there is none to
   * point to. Both were stored as sent before, a reference no read could follow and no care
   * relationship could be drawn from.
   */
  static void resolveStandalone(ResourceWriter writer, Resource resource) throws SQLException {
    String type = resource.fhirType();
    rewrite(resource, type, "", null, STANDALONE_UUID, uuid -> null, (target, criteria) -> {
      IdentifierCriteria c = IdentifierCriteria.parse(criteria).orElseThrow(() -> FhirInputException.of(
          FhirIssue.error("not-supported", null, type, "conditional references support identifier=system|value only"
              + IdentifierCriteria.problem(criteria))));
      return writer.findByIdentifier(target, c.system(), c.value());
    });
  }

  /**
   * An NDJSON line ({@code $import}): written in batches with no Bundle and no per-line lookup, so a
   * {@code urn:uuid} or a conditional reference is refused (400, the line alone) rather than stored
   * as sent, where no read could follow it.
   */
  static void refuseUnresolved(Resource resource) {
    try {
      rewrite(resource, resource.fhirType(), "", null, STANDALONE_UUID, uuid -> null, (type, criteria) -> {
        throw FhirInputException.of(FhirIssue.error("not-supported", null, resource.fhirType(),
            "$import takes no conditional references: reference Type/id, or send the resources as a Bundle"));
      });
    } catch (SQLException e) {
      throw new IllegalStateException("no lookup runs here", e);
    }
  }

  @FunctionalInterface
  private interface Lookup {
    Optional<String> find(String type, String criteria) throws SQLException;
  }

  private static final String STANDALONE_UUID =
      "a urn:uuid reference names an entry of a Bundle: send the resources together in one, or reference Type/id";

  private static void rewrite(Resource resource, String path, String prefix, Integer index, String unresolvedUuid,
                              java.util.function.Function<String, String> byFullUrl, Lookup conditional)
      throws SQLException {
    // ReferencePaths.all: those in an extension of a primitive too, which the terser's own list leaves out
    for (Reference ref : ReferencePaths.all(resource)) {
      String value = ref.getReference();
      if (value == null) {
        continue;
      }
      if (value.startsWith("urn:uuid:")) {
        String target = byFullUrl.apply(value);
        if (target == null) {
          throw FhirInputException.of(FhirIssue.error("invalid", index, element(path, resource, ref),
              prefix + unresolvedUuid));
        }
        ref.setReference(target);
      } else if (value.regionMatches(true, 0, "http", 0, 4) && byFullUrl.apply(value) != null) {
        // FHIR: a reference that is an entry's fullUrl names that entry, whose id here may differ (a POST)
        ref.setReference(byFullUrl.apply(value));
      } else if (value.matches("^[A-Z][A-Za-z]+\\?.+")) {
        String type = value.substring(0, value.indexOf('?'));
        // The type is the sender's text, named back only when it is an R4 type (as an unknown
        // resourceType is not): letters before a '?' can be a surname a mapping put there.
        String named = Fhir.context().getResourceTypes().contains(type) ? type
            : "a type that is not an R4 resource type";
        String id = conditional.find(type, value.substring(value.indexOf('?') + 1)).orElseThrow(() ->
            FhirInputException.of(FhirIssue.error("business-rule", index, element(path, resource, ref),
                prefix + "a conditional reference to " + named + " matches no resource: no " + named + " stored, "
                    + "or in this Bundle, carries that identifier (system and value). Send it in the same transaction "
                    + "or before this write, or reference it by Type/id, which may name a resource sent later")));
        ref.setReference(type + "/" + id);
      }
    }
  }

  /**
   * Where an unresolved reference is, for its issue: {@code path} (the resource's) and the element's path below it,
   * {@code Observation.performer[0]}. It was the resource's alone, and a sender looked through every reference of
   * it. Found only for an issue: it walks the whole resource.
   */
  private static String element(String path, Resource resource, Reference ref) {
    String below = ReferencePaths.of(resource).get(ref);
    return below == null ? path : path + "." + below;
  }

  /**
   * {@code identifier=system|value}: first within this Bundle, then in the store; for a conditional
   * create ({@code forCreate}) the identifier is locked first, so that Bundles at once create it once.
   */
  private Optional<String> byIdentifier(int index, String type, String criteria, boolean forCreate)
      throws SQLException {
    IdentifierCriteria c = IdentifierCriteria.parse(criteria).orElseThrow(() -> FhirInputException.of(
        FhirIssue.error("not-supported", index, "Bundle.entry[" + index + "].request",
            "bundle entry " + index + ": conditional matching supports identifier=system|value only "
                + "(identifier=|value for an identifier without a system)" + IdentifierCriteria.problem(criteria))));
    String system = c.system();
    String value = c.value();
    for (String ref : byRef.keySet()) {
      // Entries of this Bundle already given ids are matched by the identifiers they carry, whether or
      // not they have a fullUrl: only those with one were looked at, so two conditional creates of one
      // MRN without fullUrls made two Patients, and a conditional reference to such an entry was a 422.
      if (ref.startsWith(type + "/") && carries(ref, system, value)) {
        return Optional.of(ref.substring(type.length() + 1));
      }
    }
    if (forCreate) {
      writer.lockIdentifier(type, system, value);
    }
    Optional<String> found = writer.findByIdentifier(type, system, value);
    Integer deleting = found.map(id -> deletedBy.get(type + "/" + id)).orElse(null);
    if (deleting != null) {
      // The match is read before any entry is written: a transaction that deletes a Patient and
      // conditionally creates one with its identifier answered the create "200 OK" with the deleted
      // Patient, and filed the records referring to it under a patient no read could find. FHIR: a
      // transaction whose resolved identities overlap fails.
      throw FhirInputException.of(FhirIssue.error("invalid", index, "Bundle.entry[" + index + "].request",
          "bundle entry " + index + ": its identifier matches the resource entry " + deleting + " deletes; a "
              + "transaction may change each resource once: send the delete and this entry in separate requests"));
    }
    return found;
  }

  /** The resources the transaction's DELETE entries name ({@code Type/id}), with the first such entry's index. */
  private final Map<String, Integer> deletedBy = new HashMap<>();

  /** The resources of the entries given ids so far, in entry order (the first that matches wins). */
  private final Map<String, Resource> byRef = new java.util.LinkedHashMap<>();

  private boolean carries(String ref, String system, String value) {
    Resource r = byRef.get(ref);
    // identifier=|value names an identifier without a system, as the store's index reads it: matched
    // on the value alone, an entry carrying it in another system (another hospital's MRN) took the match
    return r != null && ResourceWriter.carries(r, system, value);
  }

  private WriteOutcome apply(int index, BundleEntryComponent e) throws SQLException {
    // the entry's ifMatch (checked well formed by BundleValidator), as If-Match on the call alone
    Long expected = IfMatch.version(e.getRequest().getIfMatch(), index, "Bundle.entry[" + index + "].request.ifMatch");
    try {
      if (e.getRequest().getMethod() == HTTPVerb.DELETE) {
        String[] parts = e.getRequest().getUrl().split("/");
        return writer.delete(parts[0], parts[1], expected).orElse(new WriteOutcome(parts[0], parts[1], 0, null,
            WriteOutcome.Status.DELETED, null));
      }
      byRef.put(e.getResource().fhirType() + "/" + e.getResource().getIdElement().getIdPart(), e.getResource());
      return writer.write(e.getResource(), e.getRequest().getMethod() == HTTPVerb.PUT ? expected : null);
    } catch (VersionConflictException conflict) {
      throw new VersionConflictException(index);
    }
  }

  /**
   * The answer to a conditional create that matched ({@code Type/id}): 200 with the stored version's
   * location, ETag and lastModified, as a created entry has them (it had the bare {@code Type/id} and no ETag). It
   * carries no resource: the match was found as the write path sees the tenant, not read for the key,
   * so what it holds is the key's to read by its Location ({@link FhirStore#resultOf}).
   */
  private BundleEntryComponent matched(String ref) throws SQLException {
    BundleEntryComponent r = new BundleEntryComponent();
    String[] parts = ref.split("/");
    Optional<ResourceWriter.StoredVersion> stored = writer.currentVersion(parts[0], parts[1]);
    String location = stored.map(s -> ref + "/_history/" + s.version()).orElse(ref);
    r.getResponse().setStatus("200 OK").setLocation(location);
    stored.ifPresent(s -> r.getResponse().setEtag("W/\"" + s.version() + "\"")
        .setLastModified(Date.from(s.lastUpdated()))); // as a written entry and a single matched create answer it
    r.setUserData(FhirStore.RESULT, new FhirStore.EntryResult(null, location,
        stored.map(ResourceWriter.StoredVersion::patientId).orElse(null)));
    return r;
  }

  /**
   * The answer to an entry written: its status, Location, ETag and Last-Modified, and the resource as
   * stored ({@code written}, this request's own copy, given its id and version) in {@code entry.resource},
   * which the endpoint keeps only when the request asks {@code Prefer: return=representation}.
   */
  private static BundleEntryComponent respond(WriteOutcome o, Resource written) {
    BundleEntryComponent r = new BundleEntryComponent();
    String status = switch (o.status()) {
      case CREATED -> "201 Created";
      case DELETED -> "204 No Content";
      default -> "200 OK";
    };
    r.getResponse().setStatus(status);
    r.setUserData(FhirStore.RESULT, new FhirStore.EntryResult(o, null, null));
    if (o.status() != WriteOutcome.Status.DELETED) {
      Date lastUpdated = o.lastUpdated() == null ? null : Date.from(o.lastUpdated());
      r.getResponse().setLocation(o.location()).setEtag("W/\"" + o.version() + "\"").setLastModified(lastUpdated);
      if (written != null) {
        written.setId(o.id());
        written.getMeta().setVersionId(Long.toString(o.version())).setLastUpdated(lastUpdated);
        r.setResource(written);
      }
    }
    return r;
  }
}
