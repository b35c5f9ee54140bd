package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/** A resource's validation as the write paths run it, for the validator's tests. */
final class Validated {

  private Validated() {}

  /** The issues {@link ResourceValidator} finds in the resource {@code json}, written on its own. */
  static List<FhirIssue> issues(String json) {
    return ResourceValidator.validate(Fhir.parseResource(json));
  }

  /** The one issue found, which refuses the write with a 422. */
  static FhirIssue only(String json) {
    List<FhirIssue> issues = issues(json);
    assertThat(issues).hasSize(1);
    assertThat(new FhirInputException(issues).httpStatus()).isEqualTo(422);
    return issues.get(0);
  }
}
