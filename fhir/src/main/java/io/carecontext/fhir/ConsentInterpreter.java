package io.carecontext.fhir;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Consent.ConsentProvisionType;
import org.hl7.fhir.r4.model.Consent.ProvisionComponent;

/**
 * Reads R4 Consent resources of the patient-privacy scope. Other scopes (research, treatment,
 * advance directives) say nothing about AI use of the record and are ignored. A Consent without
 * a readable provision type denies (deny by default).
 *
 * <p>What is enforced is a base decision with its period and purposes, and classes (resource
 * types) and security labels excepted from it. Every other element that narrows a rule is read so
 * that the result is never wider than what the patient said: a rule that cannot be enforced as
 * written is enforced as a stricter one, never ignored (a review found a patient's "deny Dr Lee",
 * "deny for research" and "permit only Observations" all answered as a plain permit):
 * <ul>
 *   <li>a root permit naming classes permits only those classes; its labels name what the patient
 *       consents to explicitly, as before;</li>
 *   <li>a root permit limited to actors, codes, instances or data periods is not evaluated per
 *       request, so it permits nothing: the Consent denies;</li>
 *   <li>a root deny naming classes or labels, in a Consent whose policy is opt-in ({@code OPTIN},
 *       {@code OPTINR}), denies only those and permits the rest; in any other Consent it denies
 *       the whole record;</li>
 *   <li>a nested deny naming classes or labels denies them whatever else limits it; one naming
 *       only purposes removes those purposes from the Consent and denies them: {@link #interpretAll}
 *       gives a second directive, a deny for those purposes (its id the Consent's and
 *       {@link #PURPOSES_DENIED}), so that a tenant whose consent mode is opt-out does not read the
 *       Consent as silent on them (a permit with "deny for research" admitted research there, as if the
 *       patient had said nothing); any other nested deny (a bare one,
 *       or one limited to an actor, code, instance or period) denies the whole record;</li>
 *   <li>a nested permit limited by anything but class and label (actor, purpose, period, code,
 *       instance, data period) permits nothing, and names no label explicitly;</li>
 *   <li>period ends are inclusive at their precision: {@code "end": "2026-12-04"} holds through
 *       that day (UTC, or the zone of a start given with a time), {@code "2026-12"} through December;</li>
 *   <li>a period that ends before it starts (FHIR per-1, refused on write since; one stored before)
 *       denies at all times: read as written it was never in force, and a deny was ignored.</li>
 * </ul>
 * {@code provision.action} is not read: every action is taken to be the platform's AI use.
 */
public final class ConsentInterpreter {

  /**
   * Raised whenever these rules change: consents stored under older rules are read again (tenant migration 40).
   * 3: a period that ends before it starts denies at all times; a date bound beside a time with a zone
   * is read in that zone ({@link Periods}). 4: purposes a nested deny names are denied by a directive of their own
   * ({@link #PURPOSES_DENIED}), not only left out of the permit's; {@code TREAT} names {@code ETREAT} too.
   */
  public static final int RULES_VERSION = 4;

  /**
   * The suffix of the id of the directive that denies the purposes a Consent's nested deny names
   * ({@link #interpretAll}); no FHIR id has a '#', so it names no Consent of its own.
   */
  public static final String PURPOSES_DENIED = "#purposes-denied";

  /** The id of the directive denying the purposes of Consent {@code consentId}, when it has one ({@link #interpretAll}). */
  public static String purposesDeniedId(String consentId) {
    return consentId + PURPOSES_DENIED;
  }

  static final String SCOPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/consentscope";
  static final String ACT_CODE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActCode";
  /** The HL7 v3 PurposeOfUse codes a request can carry. */
  static final List<String> PURPOSES = List.of("TREAT", "ETREAT", "HPAYMT", "HOPERAT", "HRESCH");

  private ConsentInterpreter() {}

  public static Optional<ConsentDirective> interpret(Consent consent) {
    return read(consent).map(Reading::directive);
  }

  /**
   * Every directive one Consent comes to: {@link #interpret}'s and, when a nested deny names only purposes of a
   * permit that otherwise stands, a deny for those purposes in the same period and status, whose id is the
   * Consent's and {@link #PURPOSES_DENIED}. Empty for a Consent outside patient-privacy or without a patient.
   */
  public static List<ConsentDirective> interpretAll(Consent consent) {
    Optional<Reading> reading = read(consent);
    if (reading.isEmpty()) {
      return List.of();
    }
    ConsentDirective d = reading.get().directive();
    List<String> denied = reading.get().deniedPurposes();
    if (d.baseDecision() != ConsentDirective.Decision.PERMIT || denied.isEmpty()) {
      return List.of(d);
    }
    return List.of(d, new ConsentDirective(purposesDeniedId(d.consentId()), d.patientId(), d.status(),
        ConsentDirective.Decision.DENY, d.periodStart(), d.periodEnd(), denied, List.of(), List.of(), List.of(),
        List.of(), List.of()));
  }

  /** A Consent's directive and the purposes its nested denies name (known codes only). */
  private record Reading(ConsentDirective directive, List<String> deniedPurposes) {}

  private static Optional<Reading> read(Consent consent) {
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
    Instant start = p.hasPeriod() ? Periods.startOf(p.getPeriod()) : null;
    Instant end = p.hasPeriod() ? Periods.endOf(p.getPeriod()) : null;
    Rules r = new Rules();
    if (p.hasPeriod() && Periods.inverted(p.getPeriod())) {
      // Stored before the write path refused such periods (FHIR per-1): read as written it was never in
      // force, so a deny said nothing and the record was served. What the patient meant cannot be told;
      // the Consent denies, at all times.
      start = null;
      end = null;
      r.denyAll = true;
    }
    r.purposes.addAll(purposes(p.getPurpose()));
    List<String> classes = codes(p.getClass_());
    List<String> labels = labels(p);
    ConsentDirective.Decision base;
    if (p.getType() == ConsentProvisionType.PERMIT) {
      base = ConsentDirective.Decision.PERMIT;
      if (narrowedBeyondClassAndLabel(p, false)) {
        r.denyAll = true;
      }
      r.explicitLabels.addAll(labels);
      if (!classes.isEmpty()) {
        Fhir.supportedTypes().stream().filter(t -> !classes.contains(t)).forEach(r.deniedClasses::add);
      }
    } else if ((!classes.isEmpty() || !labels.isEmpty()) && !narrowedBeyondClassAndLabel(p, false) && optIn(consent)) {
      base = ConsentDirective.Decision.PERMIT;
      r.deniedClasses.addAll(classes);
      r.deniedLabels.addAll(labels);
    } else {
      base = ConsentDirective.Decision.DENY;
    }
    collect(p.getProvision(), base, r);
    if (!r.deniedPurposes.isEmpty()) {
      List<String> kept = (r.purposes.isEmpty() ? PURPOSES : List.copyOf(r.purposes)).stream()
          .filter(x -> !r.deniedPurposes.contains(x)).toList();
      r.purposes.clear();
      r.purposes.addAll(kept);
      // no purpose left: the Consent permits nothing (an empty list would mean every purpose)
      r.denyAll |= kept.isEmpty();
    }
    String id = consent.getIdElement().getIdPart();
    String status = consent.hasStatus() ? consent.getStatus().toCode() : "unknown";
    if (r.denyAll) {
      return Optional.of(new Reading(new ConsentDirective(id, patient, status, ConsentDirective.Decision.DENY, start,
          end, List.of(), List.of(), List.of(), List.of(), List.of(), List.of()), List.of()));
    }
    return Optional.of(new Reading(new ConsentDirective(id, patient, status, base, start, end,
        List.copyOf(r.purposes), List.copyOf(r.deniedClasses), List.copyOf(r.deniedLabels),
        List.copyOf(r.permittedClasses), List.copyOf(r.permittedLabels), List.copyOf(r.explicitLabels)),
        r.deniedPurposes.stream().filter(PURPOSES::contains).toList()));
  }

  /** What one Consent comes to, gathered over its provisions. */
  private static final class Rules {
    final Set<String> purposes = new LinkedHashSet<>();
    final Set<String> deniedPurposes = new LinkedHashSet<>();
    final Set<String> deniedClasses = new LinkedHashSet<>();
    final Set<String> deniedLabels = new LinkedHashSet<>();
    final Set<String> permittedClasses = new LinkedHashSet<>();
    final Set<String> permittedLabels = new LinkedHashSet<>();
    final Set<String> explicitLabels = new LinkedHashSet<>();
    boolean denyAll;
  }

  /**
   * Nested provisions become exceptions to the base decision, at any depth (see the class comment
   * for those limited by more than class and label); the labels any nested permit names are also
   * explicitly consented to.
   */
  private static void collect(List<ProvisionComponent> nested, ConsentDirective.Decision base, Rules r) {
    for (ProvisionComponent n : nested) {
      boolean deny = n.getType() != ConsentProvisionType.PERMIT;
      List<String> classes = codes(n.getClass_());
      List<String> labels = labels(n);
      if (!deny) {
        if (narrowedBeyondClassAndLabel(n, true)) {
          continue; // permits nothing, and neither does anything nested in it
        }
        r.explicitLabels.addAll(labels);
        if (base == ConsentDirective.Decision.DENY) {
          r.permittedClasses.addAll(classes);
          r.permittedLabels.addAll(labels);
        }
      } else if (base == ConsentDirective.Decision.PERMIT) {
        if (!classes.isEmpty() || !labels.isEmpty()) {
          r.deniedClasses.addAll(classes);
          r.deniedLabels.addAll(labels);
        } else if (n.hasPurpose()) {
          r.deniedPurposes.addAll(purposes(n.getPurpose()));
        } else {
          r.denyAll = true;
        }
      }
      collect(n.getProvision(), base, r);
    }
  }

  /**
   * Whether a provision is limited by something retrieval does not evaluate per request: an actor,
   * a code, a resource instance or a data period; for a nested one also its own purpose or period.
   */
  private static boolean narrowedBeyondClassAndLabel(ProvisionComponent p, boolean nested) {
    return p.hasActor() || p.hasCode() || p.hasData() || p.hasDataPeriod()
        || nested && (p.hasPurpose() || p.hasPeriod());
  }

  /** The Consent's policy is opt-in ({@code OPTIN}, or {@code OPTINR}: opt-in with restrictions). */
  private static boolean optIn(Consent consent) {
    return consent.getPolicyRule().getCoding().stream().anyMatch(c -> ("OPTIN".equals(c.getCode())
        || "OPTINR".equals(c.getCode())) && (!c.hasSystem() || ACT_CODE_SYSTEM.equals(c.getSystem())));
  }

  /**
   * The purposes a provision names, with those HL7 v3 PurposeOfUse has under them that a request can carry: emergency
   * treatment ({@code ETREAT}) is a kind of treatment, so a Consent that denies {@code TREAT} denies it too, and only a
   * role whose break-glass may override consent reads past it (it was served to any role that may break the glass,
   * the deny saying nothing of ETREAT); one that permits {@code TREAT} permits it.
   */
  private static List<String> purposes(List<Coding> codings) {
    List<String> named = codes(codings);
    return named.contains("TREAT") && !named.contains("ETREAT")
        ? java.util.stream.Stream.concat(named.stream(), java.util.stream.Stream.of("ETREAT")).toList() : named;
  }

  private static List<String> codes(List<Coding> codings) {
    return codings.stream().map(Coding::getCode).filter(c -> c != null).toList();
  }

  private static List<String> labels(ProvisionComponent p) {
    return codes(p.getSecurityLabel());
  }
}
