package io.carecontext.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Care relationships stated by CareTeam.participant, Encounter.participant and Patient.generalPractitioner.
 * A CareTeam that is inactive or entered in error, and an Encounter that was cancelled or entered in
 * error, state none: the team no longer cares for the patient, the encounter never took place.
 */
public final class CareLinks {

  private CareLinks() {}

  public static List<CareLink> of(Resource resource) {
    List<CareLink> links = new ArrayList<>();
    String type = resource.fhirType();
    String id = resource.getIdElement().getIdPart();
    Optional<String> patient = PatientCompartment.patientIdOf(resource);
    if (patient.isEmpty()) {
      return links;
    }
    List<Reference> practitioners = new ArrayList<>();
    if (!caring(resource)) {
      return links;
    }
    if (resource instanceof CareTeam ct) {
      ct.getParticipant().forEach(p -> practitioners.add(p.getMember()));
    } else if (resource instanceof Encounter e) {
      e.getParticipant().forEach(p -> practitioners.add(p.getIndividual()));
    } else if (resource instanceof Patient p) {
      practitioners.addAll(p.getGeneralPractitioner());
    }
    for (Reference r : practitioners) {
      practitionerId(r).ifPresent(pr -> links.add(new CareLink(pr, patient.get(), type, id)));
    }
    return links.stream().distinct().toList();
  }

  private static boolean caring(Resource resource) {
    if (resource instanceof CareTeam ct) {
      return ct.getStatus() != CareTeam.CareTeamStatus.INACTIVE
          && ct.getStatus() != CareTeam.CareTeamStatus.ENTEREDINERROR;
    }
    if (resource instanceof Encounter e) {
      return e.getStatus() != Encounter.EncounterStatus.CANCELLED
          && e.getStatus() != Encounter.EncounterStatus.ENTEREDINERROR;
    }
    return true;
  }

  static Optional<String> practitionerId(Reference ref) {
    String r = ref == null ? null : ref.getReference();
    if (r == null || !r.startsWith("Practitioner/")) {
      return Optional.empty();
    }
    String id = r.substring("Practitioner/".length()).replaceAll("/_history/.*$", "");
    return FhirId.isValid(id) ? Optional.of(id) : Optional.empty();
  }
}
