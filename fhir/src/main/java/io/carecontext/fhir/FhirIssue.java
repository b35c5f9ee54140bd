package io.carecontext.fhir;

/**
 * One problem with FHIR input: an issue-type code, where (bundle entry index and element path)
 * and what to fix. Never carries values from the payload.
 */
public record FhirIssue(Severity severity, String code, Integer entryIndex, String path, String message) {

  public enum Severity { FATAL, ERROR, WARNING, INFORMATION }

  public static FhirIssue error(String code, Integer entryIndex, String path, String message) {
    return new FhirIssue(Severity.ERROR, code, entryIndex, path, message);
  }

  /** Business-rule problems (a required element missing) answer 422; the rest 400. */
  public boolean isProcessing() {
    return "required".equals(code) || "business-rule".equals(code) || "invariant".equals(code);
  }
}
