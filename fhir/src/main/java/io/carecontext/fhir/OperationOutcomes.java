package io.carecontext.fhir;

import java.util.List;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.OperationOutcome.IssueSeverity;
import org.hl7.fhir.r4.model.OperationOutcome.IssueType;

/** FHIR OperationOutcomes for errors on FHIR paths. */
public final class OperationOutcomes {

  private OperationOutcomes() {}

  public static OperationOutcome from(List<FhirIssue> issues) {
    OperationOutcome oo = new OperationOutcome();
    for (FhirIssue i : issues) {
      var issue = oo.addIssue()
          .setSeverity(IssueSeverity.valueOf(i.severity().name()))
          .setCode(issueType(i.code()))
          .setDiagnostics(i.message());
      if (i.path() != null) {
        issue.addExpression(i.path());
      }
    }
    return oo;
  }

  public static OperationOutcome of(String code, String message) {
    return from(List.of(FhirIssue.error(code, null, null, message)));
  }

  public static String toJson(List<FhirIssue> issues) {
    return Fhir.toJson(from(issues));
  }

  public static String toJson(String code, String message) {
    return Fhir.toJson(of(code, message));
  }

  private static IssueType issueType(String code) {
    try {
      return IssueType.fromCode(code);
    } catch (Exception e) {
      return IssueType.INVALID;
    }
  }
}
