package io.carecontext.fhir;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Consent.ConsentProvisionType;
import org.hl7.fhir.r4.model.Consent.ProvisionComponent;

/**
 * Reads R4 Consent resources of the patient-privacy scope. Other scopes (research, treatment,
 * advance directives) say nothing about AI use of the record and are ignored. A Consent without
 * a readable provision type denies (deny by default).
 */
public final class ConsentInterpreter {

  static final String SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope";

  private ConsentInterpreter() {}

  public static Optional<ConsentDirective> interpret(Consent consent) {
    boolean privacy = consent.getScope().getCoding().stream()
        .anyMatch(c -> "patient-privacy".equals(c.getCode()) && (!c.hasSystem() || SCOPE_SYSTEM.equals(c.getSystem())));
    if (!privacy) {
      return Optional.empty();
    }
    String patient = consent.hasPatient()
        ? PatientCompartment.patientId(consent.getPatient()).orElse(null) : null;
    if (patient == null) {
      return Optional.empty();
    }
    ProvisionComponent p = consent.getProvision();
    ConsentDirective.Decision base = p.getType() == ConsentProvisionType.PERMIT
        ? ConsentDirective.Decision.PERMIT : ConsentDirective.Decision.DENY;
    Instant start = p.hasPeriod() && p.getPeriod().hasStart() ? p.getPeriod().getStart().toInstant() : null;
    Instant end = p.hasPeriod() && p.getPeriod().hasEnd() ? p.getPeriod().getEnd().toInstant() : null;
    List<String> purposes = p.getPurpose().stream().map(Coding::getCode).filter(c -> c != null).toList();
    List<String> deniedClasses = new ArrayList<>();
    List<String> deniedLabels = new ArrayList<>();
    List<String> permittedClasses = new ArrayList<>();
    List<String> permittedLabels = new ArrayList<>();
    List<String> explicitLabels = new ArrayList<>(base == ConsentDirective.Decision.PERMIT ? labels(p) : List.of());
    collect(p.getProvision(), base, deniedClasses, deniedLabels, permittedClasses, permittedLabels, explicitLabels);
    return Optional.of(new ConsentDirective(consent.getIdElement().getIdPart(), patient,
        consent.hasStatus() ? consent.getStatus().toCode() : "unknown", base, start, end, purposes,
        deniedClasses, deniedLabels, permittedClasses, permittedLabels, explicitLabels.stream().distinct().toList()));
  }

  private static List<String> labels(ProvisionComponent p) {
    return p.getSecurityLabel().stream().map(Coding::getCode).filter(c -> c != null).toList();
  }

  /**
   * Nested provisions of the opposite type become exceptions, at any depth; the labels any nested
   * permit names are also explicitly consented to.
   */
  private static void collect(List<ProvisionComponent> nested, ConsentDirective.Decision base,
                              List<String> deniedClasses, List<String> deniedLabels,
                              List<String> permittedClasses, List<String> permittedLabels,
                              List<String> explicitLabels) {
    for (ProvisionComponent n : nested) {
      boolean deny = n.getType() != ConsentProvisionType.PERMIT;
      List<String> classes = n.getClass_().stream().map(Coding::getCode).filter(c -> c != null).toList();
      List<String> labels = labels(n);
      if (!deny) {
        explicitLabels.addAll(labels);
      }
      if (deny && base == ConsentDirective.Decision.PERMIT) {
        deniedClasses.addAll(classes);
        deniedLabels.addAll(labels);
      } else if (!deny && base == ConsentDirective.Decision.DENY) {
        permittedClasses.addAll(classes);
        permittedLabels.addAll(labels);
      }
      collect(n.getProvision(), base, deniedClasses, deniedLabels, permittedClasses, permittedLabels, explicitLabels);
    }
  }
}
