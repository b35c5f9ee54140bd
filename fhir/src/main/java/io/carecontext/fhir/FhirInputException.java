package io.carecontext.fhir;

import java.util.List;

/** FHIR input that cannot be accepted. The message lists the issues; it never contains PHI. */
public final class FhirInputException extends RuntimeException {

  private final List<FhirIssue> issues;

  public FhirInputException(List<FhirIssue> issues) {
    super(issues.isEmpty() ? "invalid FHIR input" : issues.get(0).message(), null, false, false);
    this.issues = List.copyOf(issues);
  }

  public static FhirInputException of(FhirIssue issue) {
    return new FhirInputException(List.of(issue));
  }

  public List<FhirIssue> issues() {
    return issues;
  }

  /** 422 when every issue is a business-rule problem of well-formed input, else 400. */
  public int httpStatus() {
    return issues.stream().allMatch(FhirIssue::isProcessing) ? 422 : 400;
  }
}
