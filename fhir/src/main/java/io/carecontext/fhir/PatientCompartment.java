package io.carecontext.fhir;

import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * The patient a resource belongs to, after the R4 Patient compartment definition: the Patient
 * itself, or the patient its subject/patient/beneficiary reference points to. Practitioner,
 * Organization, Medication and other shared resources belong to no patient.
 */
public final class PatientCompartment {

  /** Elements, in order of precedence, whose Patient reference defines membership. */
  private static final List<String> LINKS = List.of("patient", "subject", "beneficiary");

  private PatientCompartment() {}

  public static Optional<String> patientIdOf(Resource resource) {
    if (resource instanceof Patient p) {
      return Optional.ofNullable(p.getIdElement().getIdPart());
    }
    for (String name : LINKS) {
      Property property = resource.getNamedProperty(name);
      if (property == null || !property.hasValues()) {
        continue;
      }
      for (Base value : property.getValues()) {
        if (value instanceof Reference ref) {
          Optional<String> id = patientId(ref);
          if (id.isPresent()) {
            return id;
          }
        }
      }
    }
    return Optional.empty();
  }

  public static boolean isInCompartment(Resource resource, String patientId) {
    return patientIdOf(resource).filter(patientId::equals).isPresent();
  }

  /** {@code Patient/123} (relative or absolute, with or without _history) → {@code 123}. */
  static Optional<String> patientId(Reference ref) {
    String r = ref.getReference();
    if (r == null) {
      return Optional.empty();
    }
    int at = r.indexOf("Patient/");
    if (at < 0 || (at > 0 && r.charAt(at - 1) != '/')) {
      return Optional.empty();
    }
    String rest = r.substring(at + "Patient/".length());
    int slash = rest.indexOf('/');
    String id = slash < 0 ? rest : rest.substring(0, slash);
    return FhirId.isValid(id) ? Optional.of(id) : Optional.empty();
  }
}
