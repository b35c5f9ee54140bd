package io.carecontext.fhir;

import java.time.Instant;
import java.util.Collection;
import java.util.List;

/**
 * One R4 Consent (patient-privacy scope) reduced to what retrieval enforces: a base decision, its
 * period and purposes, and the classes (resource types) and security labels excepted from it by
 * nested provisions of the opposite type; and the labels it permits explicitly (named in a permit
 * provision), which some roles need before they may read data with such a label.
 */
public record ConsentDirective(String consentId, String patientId, String status, Decision baseDecision,
                               Instant periodStart, Instant periodEnd, List<String> purposes,
                               List<String> deniedClasses, List<String> deniedLabels,
                               List<String> permittedClasses, List<String> permittedLabels,
                               List<String> explicitLabels) {

  public enum Decision { PERMIT, DENY }

  public ConsentDirective {
    purposes = List.copyOf(purposes);
    deniedClasses = List.copyOf(deniedClasses);
    deniedLabels = List.copyOf(deniedLabels);
    permittedClasses = List.copyOf(permittedClasses);
    permittedLabels = List.copyOf(permittedLabels);
    explicitLabels = List.copyOf(explicitLabels);
  }

  /** The decision and the exceptions' codes; no consent or patient id (a patient id may be an MRN). */
  @Override
  public String toString() {
    return "ConsentDirective[" + baseDecision + ", " + status + ", denied " + deniedClasses + deniedLabels
        + ", permitted " + permittedClasses + permittedLabels + ", explicit " + explicitLabels + "]";
  }

  /** In force at that instant: status active and inside the period. */
  public boolean inForce(Instant at) {
    return "active".equals(status) && (periodStart == null || !at.isBefore(periodStart))
        && (periodEnd == null || at.isBefore(periodEnd));
  }

  /** Whether this directive permits AI use of one resource for one purpose (deny by default). */
  public boolean allows(Instant at, String purpose, String resourceType, Collection<String> labels) {
    if (!inForce(at) || !(purposes.isEmpty() || purposes.contains(purpose))) {
      return false;
    }
    if (baseDecision == Decision.PERMIT) {
      return !deniedClasses.contains(resourceType) && labels.stream().noneMatch(deniedLabels::contains);
    }
    return permittedClasses.contains(resourceType) || labels.stream().anyMatch(permittedLabels::contains);
  }
}
