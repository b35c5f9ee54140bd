package io.carecontext.fhir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;
import org.hl7.fhir.r4.model.Bundle.BundleType;

/** A transaction or batch Bundle as the FHIR endpoint accepts it. */
public final class BundleValidator {

  private BundleValidator() {}

  /**
   * The refusal of a Bundle of more than {@code max} entries ({@code CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES}),
   * before anything of it is stored: a transaction holds one database transaction, and past a few
   * hundred entries the tenant's writes whole, for as long as it runs; the parser holds every entry at once.
   */
  public static FhirIssue overEntryCap(int max) {
    return FhirIssue.error("too-costly", null, "Bundle.entry", "the Bundle has more than " + max + " entries, the "
        + "limit of a Bundle here (CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES): send them in Bundles of at most " + max
        + " entries, or load them with $import (NDJSON, committed in batches); nothing was stored");
  }

  public static List<FhirIssue> validate(Bundle bundle) {
    List<FhirIssue> issues = new ArrayList<>();
    if (bundle.getType() != BundleType.TRANSACTION && bundle.getType() != BundleType.BATCH) {
      issues.add(FhirIssue.error("invalid", null, "Bundle.type", "Bundle.type must be transaction or batch"));
      return issues;
    }
    Set<String> fullUrls = new HashSet<>();
    // a transaction resolves references to its entries' fullUrls; a batch writes each entry on its own
    java.util.Map<String, String> entries = bundle.getType() == BundleType.TRANSACTION ? new java.util.HashMap<>() : null;
    for (BundleEntryComponent e : bundle.getEntry()) {
      if (entries != null && e.hasFullUrl() && e.getResource() != null) {
        entries.putIfAbsent(e.getFullUrl(), e.getResource().fhirType());
      }
    }
    java.util.Map<String, Integer> named = new java.util.HashMap<>();
    for (int i = 0; i < bundle.getEntry().size(); i++) {
      BundleEntryComponent e = bundle.getEntry().get(i);
      String at = "Bundle.entry[" + i + "]";
      List<FhirIssue> unparsed = BundleEntries.issuesOf(e);
      if (!unparsed.isEmpty()) {
        issues.addAll(unparsed); // an entry the parser refused has nothing else to check
        continue;
      }
      if (e.hasFullUrl() && !fullUrls.add(e.getFullUrl())) {
        issues.add(FhirIssue.error("duplicate", i, at + ".fullUrl",
            "bundle entry " + i + ": fullUrl appears more than once in the Bundle"));
      }
      if (!e.hasRequest() || !e.getRequest().hasMethod() || !e.getRequest().hasUrl()) {
        issues.add(FhirIssue.error("required", i, at + ".request",
            "bundle entry " + i + ": request.method and request.url are required"));
      } else {
        issues.addAll(conditions(i, e, at));
        Bundle.HTTPVerb method = e.getRequest().getMethod();
        if (bundle.getType() == BundleType.TRANSACTION && (method == Bundle.HTTPVerb.PUT || method == Bundle.HTTPVerb.DELETE)) {
          // FHIR: a transaction whose entries' identities overlap fails. Run in Bundle order, a PUT and
          // a DELETE of one resource left it deleted or stored depending on the order of the entries.
          // as the writer reads the URL: "Basic/x/" names Basic/x too
          Integer first = named.putIfAbsent(String.join("/", e.getRequest().getUrl().split("/")), i);
          if (first != null) {
            issues.add(FhirIssue.error("duplicate", i, at + ".request.url", "bundle entry " + i + ": names the "
                + "same resource as entry " + first + "; a transaction may change each resource once"));
          }
        }
      }
      if (e.getResource() != null) { // not hasResource(): an empty resource ({"resourceType":"Patient"}) is one
        if (e.getResource() instanceof Bundle) {
          issues.add(FhirIssue.error("not-supported", i, at + ".resource",
              "bundle entry " + i + ": a Bundle inside a Bundle is not accepted; send its entries instead"));
          continue;
        }
        Optional<String> notStored = StoredTypes.refusal(e.getResource().fhirType());
        if (notStored.isPresent()) {
          issues.add(FhirIssue.error("not-supported", i, at + ".resource", "bundle entry " + i + ": " + notStored.get()));
          continue;
        }
        String resourceAt = at + ".resource";
        List<String> skipped = Fhir.skipped(e).stream().filter(p -> p.startsWith(resourceAt))
            .map(p -> e.getResource().fhirType() + p.substring(resourceAt.length())).toList();
        for (FhirIssue issue : ResourceValidator.validate(e.getResource(), entries, skipped)) {
          issues.add(new FhirIssue(issue.severity(), issue.code(), i,
              at + ".resource." + issue.path().substring(issue.path().indexOf('.') + 1),
              "bundle entry " + i + ": " + issue.message()));
        }
      } else if (e.getRequest().getMethod() == Bundle.HTTPVerb.DELETE && e.getRequest().hasUrl()) {
        // a DELETE of a type nothing stores answered 204, as if it had deleted something
        Optional<String> notStored = StoredTypes.refusal(e.getRequest().getUrl().split("[/?]", 2)[0]);
        if (notStored.isPresent()) {
          issues.add(FhirIssue.error("not-supported", i, at + ".request.url", "bundle entry " + i + ": " + notStored.get()));
        }
      } else if (e.hasRequest() && e.getRequest().getMethod() != Bundle.HTTPVerb.DELETE
          && e.getRequest().getMethod() != Bundle.HTTPVerb.GET) {
        issues.add(FhirIssue.error("required", i, at + ".resource",
            "bundle entry " + i + ": resource is required for " + e.getRequest().getMethod().toCode()));
      }
    }
    return issues;
  }

  /**
   * The entry's preconditions: {@code ifMatch} on a PUT or DELETE, well formed (it was ignored, and an
   * entry made from an old version overwrote a newer one); {@code ifNoneMatch} and
   * {@code ifModifiedSince}, which FHIR defines for reads and this endpoint does not take, refused
   * rather than ignored.
   */
  private static List<FhirIssue> conditions(int i, BundleEntryComponent e, String at) {
    List<FhirIssue> issues = new ArrayList<>();
    Bundle.BundleEntryRequestComponent request = e.getRequest();
    if (request.hasIfMatch()) {
      if (request.getMethod() != Bundle.HTTPVerb.PUT && request.getMethod() != Bundle.HTTPVerb.DELETE) {
        issues.add(FhirIssue.error("not-supported", i, at + ".request.ifMatch",
            "bundle entry " + i + ": ifMatch applies to PUT and DELETE entries"));
      } else {
        try {
          IfMatch.version(request.getIfMatch(), i, at + ".request.ifMatch");
        } catch (FhirInputException bad) {
          issues.addAll(bad.issues());
        }
      }
    }
    if (request.hasIfNoneExist() && request.getMethod() != Bundle.HTTPVerb.POST) {
      // a conditional create's condition: on a PUT it was ignored and the resource overwritten
      issues.add(FhirIssue.error("not-supported", i, at + ".request.ifNoneExist",
          "bundle entry " + i + ": ifNoneExist applies to POST entries (a conditional create); for an update made "
              + "from a version, send ifMatch"));
    }
    if (request.hasIfNoneMatch() || request.hasIfModifiedSince()) {
      issues.add(FhirIssue.error("not-supported", i, at + ".request",
          "bundle entry " + i + ": ifNoneMatch and ifModifiedSince apply to reads, which Bundles here do not carry; "
              + "for an update made from a version, send ifMatch"));
    }
    return issues;
  }
}
