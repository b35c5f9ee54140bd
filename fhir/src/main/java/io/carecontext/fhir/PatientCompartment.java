package io.carecontext.fhir;

import java.util.List;
import java.util.Optional;
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
  /** An absolute URL to a Patient, with or without _history. */
  private static final java.util.regex.Pattern ABSOLUTE_PATIENT =
      java.util.regex.Pattern.compile("^(?i:https?)://.*/Patient/[^/]+(/_history/[^/]+)?$");

  private PatientCompartment() {}

  /** Whether {@code reference} is an absolute URL to a Patient, with or without _history. */
  static boolean isAbsolutePatientUrl(String reference) {
    return ABSOLUTE_PATIENT.matcher(reference).matches();
  }

  public static Optional<String> patientIdOf(Resource resource) {
    if (resource instanceof Patient p) {
      return Optional.ofNullable(p.getIdElement().getIdPart());
    }
    return links(resource).map(Link::ref).map(PatientCompartment::patientId).flatMap(Optional::stream).findFirst();
  }

  /** A reference in one of the {@link #LINKS}, with the element that holds it. */
  private record Link(String element, Reference ref) {}

  /** The references of the resource's patient links, in order of precedence. */
  private static java.util.stream.Stream<Link> links(Resource resource) {
    return LINKS.stream().flatMap(name -> {
      Property property = resource.getNamedProperty(name);
      return property == null ? java.util.stream.Stream.<Link>empty() : property.getValues().stream()
          .filter(Reference.class::isInstance).map(v -> new Link(name, (Reference) v));
    });
  }

  public static boolean isInCompartment(Resource resource, String patientId) {
    return patientIdOf(resource).filter(patientId::equals).isPresent();
  }

  /**
   * {@code Patient/123} (with or without _history) → {@code 123}. A relative reference only: an
   * absolute URL names a patient on another server (FHIR), whose id may be a different person's
   * here, so it belongs to no patient of this store. The write path refuses one in an element that
   * files a record under a patient ({@link #foreignPatientLinks}); a Bundle's own fullUrls are
   * rewritten to {@code Type/id} before this is read.
   */
  static Optional<String> patientId(Reference ref) {
    String r = ref.getReference();
    if (r == null || !r.startsWith("Patient/")) {
      return Optional.empty();
    }
    String rest = r.substring("Patient/".length());
    int slash = rest.indexOf('/');
    if (slash >= 0 && !rest.substring(slash).matches("/_history/" + FhirId.REGEX)) {
      return Optional.empty();
    }
    String id = slash < 0 ? rest : rest.substring(0, slash);
    return FhirId.isValid(id) ? Optional.of(id) : Optional.empty();
  }

  /**
   * The elements that would file this resource under a patient by an absolute URL to a Patient
   * ({@code https://…/Patient/123}) other than one {@code ownUrl} accepts (the fullUrl of a Patient entry of
   * the Bundle it came in, which are rewritten to {@code Patient/id}). Such a patient lives on another server: filed
   * under this store's {@code Patient/123} it would join another person's record.
   */
  public static List<String> foreignPatientLinks(Resource resource, java.util.function.Predicate<String> ownUrl) {
    return links(resource).filter(l -> l.ref().getReference() != null
            && ABSOLUTE_PATIENT.matcher(l.ref().getReference()).matches()
            && !ownUrl.test(l.ref().getReference().replaceAll("/_history/[^/]+$", "")))
        .map(l -> resource.fhirType() + "." + l.element()).distinct().toList();
  }
}
