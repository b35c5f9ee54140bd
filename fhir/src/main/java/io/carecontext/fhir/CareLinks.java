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
 * read path sees a link only inside them (tenant migration 42). An Encounter's links end with the
 * encounter, or the participant's part in it (see {@link #encounterEnd}), and the read path sees them
 * for the tenant's follow-up after that (tenant migration 44); one under way without an end, for the
 * tenant's openEncounterMaxDays after it was last stored (tenant migration 60); no date after the
 * storing is trusted further: one over ended no later than it was stored, and an end still ahead is
 * bounded as an open encounter's too (tenant migration 63). A participant that is a
 * PractitionerRole links {@code PractitionerRole/<id>}, which a key may name as its practitionerId
 * (US Core feeds name roles), and the write path copies such a link for the role's Practitioner
 * ({@link #practitionerOfRole}, tenant migration 46).
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
        if (from != null && until != null && !from.isBefore(until)) {
          // no moment in both periods (or one ends before it starts, stored before FHIR's per-1 was
          // enforced): no link. Kept, it never held alone, but merged with the practitioner's other
          // periods below (the widest) it stretched them over the gap between.
          continue;
        }
        practitionerId(p.getMember()).ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id, from, until)));
      }
    } else if (resource instanceof Encounter e) {
      Period visit = e.hasPeriod() ? e.getPeriod() : null;
      for (Encounter.EncounterParticipantComponent p : e.getParticipant()) {
        Period part = p.hasPeriod() ? p.getPeriod() : null;
        Instant end = encounterEnd(e.getStatus(), visit, part);
        if (end == null && !underWay(e.getStatus())) {
          if (e.getStatus() == Encounter.EncounterStatus.PLANNED || stored(e) == null) {
            continue; // a plan without a date (see encounterEnd), or nothing at all to bound the link by
          }
          // Over (or of unknown status) and no date at all: it ended no later than the feed said so,
          // when this version was stored. Without a date its link had no end, and a participant of a
          // visit sent as finished kept the patient's context for good.
          end = stored(e);
        } else if (end != null && over(e.getStatus()) && stored(e) != null) {
          // Over: it ended no later than the feed said so. An end after that (2099 for 2029) is a typo,
          // and linked until then plus the follow-up.
          end = earlier(end, stored(e));
        }
        Instant openSince = null;
        if (end == null) {
          // Under way and no end sent: it links for the tenant's bound after the feed stored this version
          // (the database adds the bound, tenant migration 60), so an encounter whose discharge the feed
          // lost does not link its participants for good, and one the feed keeps sending keeps linking.
          // Its start counts only when the storing time is unknown: a start in the future (2099 for 2029)
          // pushed the bound's count into it; the database counts from no later than the write (tenant
          // migration 63). With neither, nothing bounds it: no link.
          openSince = stored(e) != null ? stored(e) : start(visit);
          if (openSince == null) {
            continue;
          }
        } else if (stored(e) != null && end.isAfter(stored(e))) {
          // An end still ahead when stored (a planned visit, an expected discharge) is a promise, not an
          // event: bounded as an open encounter's too, from the storing (tenant migration 63).
          openSince = stored(e);
        }
        Instant until = end;
        Instant since = openSince;
        practitionerId(p.getIndividual()).ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id, null,
            until, since)));
      }
    } else if (resource instanceof Patient p) {
      p.getGeneralPractitioner().forEach(r -> practitionerId(r)
          .ifPresent(pr -> add(links, new CareLink(pr, patient.get(), type, id))));
    }
    return List.copyOf(links.values());
  }

  /**
   * One link per practitioner and resource (the table's key): the widest of its periods. Of an
   * Encounter's (whose participant may be named twice, once ended and once not), an open one is the
   * wider: it is kept, bounded from its {@code openSince}; of two ended ones the later end, bounded from
   * the storing if either end was still ahead then (the only {@code openSince} an ended one has).
   */
  private static void add(Map<String, CareLink> links, CareLink link) {
    links.merge(link.practitionerId(), link, (a, b) -> {
      Instant until = a.validUntil() == null || b.validUntil() == null ? null : later(a.validUntil(), b.validUntil());
      return new CareLink(a.practitionerId(), a.patientId(), a.sourceType(), a.sourceId(),
          a.validFrom() == null || b.validFrom() == null ? null : earlier(a.validFrom(), b.validFrom()), until,
          later(a.openSince(), b.openSince()));
    });
  }

  /** When this version of the resource was stored (every write sets meta.lastUpdated); null when not said. */
  private static Instant stored(Resource resource) {
    return resource.getMeta().hasLastUpdated() ? resource.getMeta().getLastUpdated().toInstant() : null;
  }

  /**
   * When an Encounter's care of one participant ends, as far as the resource says: the earlier of the
   * participant's and the encounter's period end. Without an end, an encounter under way (arrived,
   * triaged, in progress, on leave) has not ended: access must not lapse during the visit, but a feed
   * may lose the discharge, so its link stands for the tenant's openEncounterMaxDays after the feed
   * last stored it (the caller's {@code openSince}). One that is over (finished), of unknown status, or only
   * planned, ended no later than anyone can tell from the last start it gives (a finished encounter
   * without its end would otherwise admit its participants for good; a planned one lapses after its
   * date if the feed never says it took place). Null: no end known. A planned encounter with no date
   * at all links no one (the caller skips it), and one over with no date at all ends when the version
   * saying so was stored (the caller reads meta.lastUpdated): a plan is not yet care, and an undated one would never
   * lapse; the feed sends the encounter again when the patient arrives. There is no start bound: a
   * clinician prepares for a planned visit before it begins. The tenant's follow-up after the end
   * (results arrive after discharge) is the database's to add (tenant migration 44).
   */
  private static Instant encounterEnd(Encounter.EncounterStatus status, Period visit, Period part) {
    Instant end = earlier(end(visit), end(part));
    if (end != null || underWay(status)) {
      return end;
    }
    return later(startAsEnd(visit), startAsEnd(part));
  }

  /** An encounter over: finished, or of unknown status (read as over, see {@link #encounterEnd}). */
  private static boolean over(Encounter.EncounterStatus status) {
    return status == Encounter.EncounterStatus.FINISHED || status == Encounter.EncounterStatus.UNKNOWN
        || status == null || status == Encounter.EncounterStatus.NULL;
  }

  /** An encounter under way: arrived, triaged, in progress or on leave. */
  private static boolean underWay(Encounter.EncounterStatus status) {
    return status == Encounter.EncounterStatus.ARRIVED || status == Encounter.EncounterStatus.TRIAGED
        || status == Encounter.EncounterStatus.INPROGRESS || status == Encounter.EncounterStatus.ONLEAVE;
  }

  /** A period's start as the end of something that began then: inclusive at its precision. */
  private static Instant startAsEnd(Period p) {
    return p != null && Periods.has(p.getStartElement()) ? Periods.endOf(p.getStartElement()) : null;
  }

  private static Instant start(Period p) {
    return Periods.startOf(p);
  }

  private static Instant end(Period p) {
    return Periods.endOf(p);
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

  /**
   * The Practitioner a PractitionerRole names, and the role's period (inclusive at its precision; a
   * null bound: none), unless the role is inactive: the care links stated through the role hold for
   * that Practitioner too, within both periods (tenant migrations 46 and 47), so a clinician's key
   * names its Practitioner and is linked through every role it holds while it holds it. A role whose
   * period has not begun, or has ended, links no one then; the read path compares the bounds with the
   * time of the request, so a role ends when its period does without being sent again.
   */
  public static Optional<RoleHolder> practitionerOfRole(Resource resource) {
    if (!(resource instanceof org.hl7.fhir.r4.model.PractitionerRole role) || role.hasActive() && !role.getActive()) {
      return Optional.empty();
    }
    Period period = role.hasPeriod() ? role.getPeriod() : null;
    if (period != null && Periods.inverted(period)) {
      return Optional.empty(); // a role that ends before it starts is held at no time
    }
    return practitionerId(role.getPractitioner()).filter(id -> !id.startsWith(ROLE_PREFIX))
        .map(id -> new RoleHolder(id, start(period), end(period)));
  }

  /** The Practitioner holding a PractitionerRole, from {@code validFrom} and before {@code validUntil} (null: unbounded). */
  public record RoleHolder(String practitionerId, Instant validFrom, Instant validUntil) {
    /** Names no practitioner: an id may be a person's staff number. */
    @Override
    public String toString() {
      return "RoleHolder";
    }
  }

  /** Whether a key may name {@code practitionerId}: a Practitioner's FHIR id, or {@code PractitionerRole/<id>}. */
  public static boolean isPractitionerId(String practitionerId) {
    return practitionerId != null && (FhirId.isValid(practitionerId)
        || practitionerId.startsWith(ROLE_PREFIX) && FhirId.isValid(practitionerId.substring(ROLE_PREFIX.length())));
  }
}
