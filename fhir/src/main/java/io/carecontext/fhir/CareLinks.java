package io.carecontext.fhir;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.r4.model.CareTeam;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Care relationships stated by CareTeam.participant, Encounter.participant and Patient.generalPractitioner.
 * A CareTeam that is proposed, inactive or entered in error, and an Encounter that was cancelled or
 * entered in error, state none: the team does not (yet, or any longer) care for the patient, the
 * encounter never took place. A CareTeam's period and each participant's period bound its links
 * ({@link CareLink#validFrom()}, {@link CareLink#validUntil()}, inclusive at their precision); the
 * read path sees a link only inside them (tenant migration 42). A participant that is a
 * PractitionerRole links {@code PractitionerRole/<id>}, which a key names as its practitionerId
 * (US Core feeds name roles, and such a clinician had no care relationship at all).
 */
public final class CareLinks {

  /** The prefix of a link, and of a key's practitionerId, that names a PractitionerRole rather than a Practitioner. */
  public static final String ROLE_PREFIX = "PractitionerRole/";

  private CareLinks() {}

  public static List<CareLink> of(Resource resource) {
    String type = resource.fhirType();
    String id = resource.getIdElement().getIdPart();
    Optional<String> patient = PatientCompartment.patientIdOf(resource);
    if (patient.isEmpty() || !caring(resource)) {
      return List.of();
    }
    Map<String, CareLink> links = new LinkedHashMap<>();
    if (resource instanceof CareTeam ct) {
      Period team = ct.hasPeriod() ? ct.getPeriod() : null;
      for (CareTeam.CareTeamParticipantComponent p : ct.getParticipant()) {
        Instant from = later(start(team), start(p.hasPeriod() ? p.getPeriod() : null));
        Instant until = earlier(end(team), end(p.hasPeriod() ? p.getPeriod() : null));
        practitionerId(p.getMember()).ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id, from, until)));
      }
    } else if (resource instanceof Encounter e) {
      e.getParticipant().forEach(p -> practitionerId(p.getIndividual())
          .ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id))));
    } else if (resource instanceof Patient p) {
      p.getGeneralPractitioner().forEach(r -> practitionerId(r)
          .ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id))));
    }
    return List.copyOf(links.values());
  }

  /** One link per practitioner and resource (the table's key): the widest of its periods. */
  private static void add(Map<String, CareLink> links, CareLink link) {
    links.merge(link.practitionerId(), link, (a, b) -> new CareLink(a.practitionerId(), a.patientId(), a.sourceType(),
        a.sourceId(), a.validFrom() == null || b.validFrom() == null ? null : earlier(a.validFrom(), b.validFrom()),
        a.validUntil() == null || b.validUntil() == null ? null : later(a.validUntil(), b.validUntil())));
  }

  private static Instant start(Period p) {
    return p != null && p.hasStart() ? Periods.startOf(p.getStartElement()) : null;
  }

  private static Instant end(Period p) {
    return p != null && p.hasEnd() ? Periods.endOf(p.getEndElement()) : null;
  }

  /** The later of two bounds, a null being none. */
  private static Instant later(Instant a, Instant b) {
    return a == null ? b : b == null || a.isAfter(b) ? a : b;
  }

  /** The earlier of two bounds, a null being none. */
  private static Instant earlier(Instant a, Instant b) {
    return a == null ? b : b == null || a.isBefore(b) ? a : b;
  }

  private static boolean caring(Resource resource) {
    if (resource instanceof CareTeam ct) {
      return ct.getStatus() != CareTeam.CareTeamStatus.INACTIVE
          && ct.getStatus() != CareTeam.CareTeamStatus.ENTEREDINERROR
          && ct.getStatus() != CareTeam.CareTeamStatus.PROPOSED;
    }
    if (resource instanceof Encounter e) {
      return e.getStatus() != Encounter.EncounterStatus.CANCELLED
          && e.getStatus() != Encounter.EncounterStatus.ENTEREDINERROR;
    }
    return true;
  }

  /** A Practitioner reference's id, or {@code PractitionerRole/<id>} for a PractitionerRole reference. */
  static Optional<String> practitionerId(Reference ref) {
    String r = ref == null ? null : ref.getReference();
    if (r == null) {
      return Optional.empty();
    }
    String prefix = r.startsWith("Practitioner/") ? "Practitioner/" : r.startsWith(ROLE_PREFIX) ? ROLE_PREFIX : null;
    if (prefix == null) {
      return Optional.empty();
    }
    String id = r.substring(prefix.length()).replaceAll("/_history/.*$", "");
    return !FhirId.isValid(id) ? Optional.empty() : Optional.of(prefix.equals(ROLE_PREFIX) ? ROLE_PREFIX + id : id);
  }

  /** Whether a key may name {@code practitionerId}: a Practitioner's FHIR id, or {@code PractitionerRole/<id>}. */
  public static boolean isPractitionerId(String practitionerId) {
    return practitionerId != null && (FhirId.isValid(practitionerId)
        || practitionerId.startsWith(ROLE_PREFIX) && FhirId.isValid(practitionerId.substring(ROLE_PREFIX.length())));
  }
}
