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

  public static List<FhirIssue> validate(Bundle bundle) {
    List<FhirIssue> issues = new ArrayList<>();
    if (bundle.getType() != BundleType.TRANSACTION && bundle.getType() != BundleType.BATCH) {
      issues.add(FhirIssue.error("invalid", null, "Bundle.type", "Bundle.type must be transaction or batch"));
      return issues;
    }
    Set<String> fullUrls = new HashSet<>();
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
        for (FhirIssue issue : ResourceValidator.validate(e.getResource())) {
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
}
