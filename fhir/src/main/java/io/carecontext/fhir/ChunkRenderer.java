package io.carecontext.fhir;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.hl7.fhir.r4.model.AllergyIntolerance;
import org.hl7.fhir.r4.model.Annotation;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Attachment;
import org.hl7.fhir.r4.model.CarePlan;
import org.hl7.fhir.r4.model.Claim;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.Coverage;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.DocumentReference;
import org.hl7.fhir.r4.model.Dosage;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Encounter;
import org.hl7.fhir.r4.model.ExplanationOfBenefit;
import org.hl7.fhir.r4.model.FamilyMemberHistory;
import org.hl7.fhir.r4.model.Immunization;
import org.hl7.fhir.r4.model.Medication;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.MedicationStatement;
import org.hl7.fhir.r4.model.Observation;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.Procedure;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Quantity;
import org.hl7.fhir.r4.model.Range;
import org.hl7.fhir.r4.model.Ratio;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.Timing;
import org.hl7.fhir.r4.model.Type;

/**
 * Renders a resource into short clinical statements for embedding. Each statement names codes
 * with their system ({@code Hemoglobin A1c 7.2 % (LOINC 4548-4)}); narrative becomes plain text in
 * bounded sentence windows. The Patient renders without direct identifiers (no name, identifier,
 * contact or address; birth year only). Types not listed render nothing, and neither does a record
 * that says it is not a fact (entered in error, a superseded document, a cancelled result): see
 * {@link #notAFact}. A record that is a fact with a caveat (refuted, provisional, preliminary) says so.
 */
public final class ChunkRenderer {

  /**
   * Raised whenever what a resource's chunks say changes: chunks made by an older renderer are made
   * again by the embedding worker at its start (tenant migration 41), so a stored entered-in-error
   * note stops being served without waiting for its resource to change. 3: a care plan's status,
   * intent and period, a medication request's intent other than an order, a dosage's site, method,
   * instructions and bounds. 4: "<" and ">" kept in plain text; a component's range and
   * interpretation; a result dated by its effective time; do-not-perform, not-done and their reasons;
   * a condition's onset in any form and its abatement; a reaction's severity; an encounter class's code;
   * a medication named by a contained Medication; a standard coding named before a local one. 5: every
   * reference range, with whom it applies to; an interpretation code without a display in words; a
   * document dated by the care it documents (context.period) before the day it was written. 6: a
   * chunk's date keeps the precision it was written with (a year, a month), stored beside it (tenant
   * migration 50). 7: RTF notes as their text, not their markup. 8: a condition's and an allergy's recorded
   * date, an allergy's onset, a medication request's status reason, an immunization's date as words. 9:
   * HTML character references; an attachment's charset; an intolerance and an allergy's category; a
   * procedure's outcome and complications. 10: FamilyMemberHistory; a condition's and an allergy's notes (NOTE
   * chunks); a panel's members; a medication statement not taken says so first; a do-not-perform request's status
   * and reason are the prohibition's.
   */
  public static final int VERSION = 10;

  public static final int DEFAULT_WINDOW = 600;

  /**
   * The categories each rendered type's chunks are filed under (every other type renders none). A role policy
   * whose resource types and categories meet in none of these reads nothing, which the tenant settings refuse
   * when it is written; the renderer asserts each chunk it makes against it, so the table cannot fall behind.
   */
  private static final Map<String, Set<Category>> CATEGORIES = Map.ofEntries(
      Map.entry("Patient", Set.of(Category.DEMOGRAPHIC)),
      Map.entry("Condition", Set.of(Category.CLINICAL, Category.NOTE)),
      Map.entry("Observation", Set.of(Category.LAB, Category.CLINICAL, Category.NOTE)),
      Map.entry("MedicationRequest", Set.of(Category.MEDICATION)),
      Map.entry("MedicationStatement", Set.of(Category.MEDICATION)),
      Map.entry("AllergyIntolerance", Set.of(Category.CLINICAL, Category.NOTE)),
      Map.entry("Procedure", Set.of(Category.CLINICAL)),
      Map.entry("Immunization", Set.of(Category.CLINICAL)),
      Map.entry("FamilyMemberHistory", Set.of(Category.CLINICAL, Category.NOTE)),
      Map.entry("Encounter", Set.of(Category.ADMINISTRATIVE, Category.CLINICAL)),
      Map.entry("DiagnosticReport", Set.of(Category.LAB, Category.CLINICAL, Category.NOTE)),
      Map.entry("DocumentReference", Set.of(Category.NOTE)),
      Map.entry("CarePlan", Set.of(Category.CLINICAL)),
      Map.entry("Coverage", Set.of(Category.ADMINISTRATIVE)),
      Map.entry("Claim", Set.of(Category.ADMINISTRATIVE)),
      Map.entry("ExplanationOfBenefit", Set.of(Category.ADMINISTRATIVE)));

  /** The categories a resource type's chunks can be filed under; empty for a type that renders no chunk. */
  public static Set<Category> categoriesOf(String resourceType) {
    return CATEGORIES.getOrDefault(resourceType, Set.of());
  }

  private static final String ENTERED_IN_ERROR = "entered-in-error";
  /** Report statuses whose results are missing or may still change. */
  private static final Set<String> UNFINISHED_REPORTS = Set.of("registered", "partial", "preliminary");

  /** Where a report's section code comes from: HL7 v2 table 0074, or the observation categories. */
  private static final Set<String> SERVICE_SECTIONS = Set.of(
      "http://terminology.hl7.org/CodeSystem/v2-0074", "http://terminology.hl7.org/CodeSystem/observation-category");
  /** The laboratory sections of table 0074 (chemistry, hematology, microbiology, pathology…), and "laboratory". */
  private static final Set<String> LAB_SECTIONS = Set.of("LAB", "laboratory", "BG", "BLB", "CH", "CP", "GE", "HM",
      "IMM", "MB", "MCB", "MYC", "OSL", "PAT", "SP", "SR", "TX", "URN", "VR");

  private final int maxChars;

  public ChunkRenderer() {
    this(DEFAULT_WINDOW);
  }

  public ChunkRenderer(int maxChars) {
    if (maxChars < 80) {
      throw new IllegalArgumentException("chunk windows must be at least 80 characters");
    }
    this.maxChars = maxChars;
  }

  public List<ClinicalChunk> render(Resource resource) {
    return renderValued(withoutValuelessPrimitives(resource));
  }

  /**
   * The resource as rendered: a primitive sent with extensions alone (US Core's data-absent-reason on a
   * birthDate, a coding's display, a criticality) has no value, yet HAPI reports it as present, and the
   * renderer read its missing value (a NullPointerException, or a date cut to its year): the worker
   * failed on the resource until it parked it, and it was never retrievable. On a copy, such primitives
   * lose their extensions, which the renderer does not read, and so count as absent; a resource without
   * any is rendered as it is.
   */
  static Resource withoutValuelessPrimitives(Resource resource) {
    java.util.function.Function<Resource, List<org.hl7.fhir.r4.model.PrimitiveType>> valueless = r ->
        Fhir.context().newTerser().getAllPopulatedChildElementsOfType(r, org.hl7.fhir.r4.model.PrimitiveType.class)
            .stream().filter(x -> ((org.hl7.fhir.r4.model.PrimitiveType<?>) x).getValue() == null)
            .map(x -> (org.hl7.fhir.r4.model.PrimitiveType) x).toList();
    if (valueless.apply(resource).isEmpty()) {
      return resource;
    }
    Resource copy = resource.copy();
    for (org.hl7.fhir.r4.model.PrimitiveType<?> x : valueless.apply(copy)) {
      x.getExtension().clear();
      x.setId(null);
    }
    return copy;
  }

  private List<ClinicalChunk> renderValued(Resource resource) {
    if (notAFact(resource)) {
      return List.of();
    }
    Builder b = new Builder(resource);
    if (resource instanceof Patient p) {
      patient(p, b);
    } else if (resource instanceof Condition c) {
      // the recorded date leads the chunk (its date): said as such, "2024-03-06: Condition: diabetes" read as
      // the day it began, though the record put its onset years before or did not say
      b.add(Category.CLINICAL, date(c.getRecordedDateElement(), c.getOnset()),
          Texts.join("Condition:", Texts.concept(c.getCode()), statuses(c.getClinicalStatus(), c.getVerificationStatus()),
              labelled("onset", when(c.getOnset())), labelled("abated", when(c.getAbatement())),
              labelled("recorded", when(c.getRecordedDateElement()))));
      notes(b, date(c.getRecordedDateElement(), c.getOnset()), "Condition note, " + about(c.getCode(),
          c.getVerificationStatus()), c.getNote());
    } else if (resource instanceof Observation o) {
      observation(o, b);
    } else if (resource instanceof MedicationRequest m) {
      b.add(Category.MEDICATION, date(m.getAuthoredOnElement(), null),
          // "do not give spironolactone" (doNotPerform) read as an active order for it; then "do not give
          // spironolactone ... status active. Reason: Hyperkalemia." could still read as spironolactone active,
          // given for hyperkalemia: the status is said to be the prohibition's, the reason the reason not to give
          Texts.join("Medication request:", m.getDoNotPerform() ? "do NOT give" : "", medication(m, m.getMedication()),
              dosage(m.getDosageInstruction()),
              // a proposal or a plan is not an order: said, so that it never reads as a prescription
              "status " + code(m.getStatus())
                  + (m.hasIntent() && m.getIntent() != MedicationRequest.MedicationRequestIntent.ORDER
                      ? ", intent " + code(m.getIntent()) : "")
                  + (m.getDoNotPerform() ? " (an order NOT to give it)" : "") + ".",
              // why it was stopped or held ("stopped" for kidney failure, an adverse reaction) was left out
              labelled("Status reason:", sentence(Texts.label(m.getStatusReason()))),
              m.getDoNotPerform() ? labelled("Reason not to give:", sentence(m.getReasonCode().stream().map(Texts::label)
                  .filter(r -> !r.isBlank()).collect(Collectors.joining(", ")))) : reasons(m.getReasonCode())));
    } else if (resource instanceof MedicationStatement m) {
      medicationStatement(m, b);
    } else if (resource instanceof AllergyIntolerance a) {
      b.add(Category.CLINICAL, date(a.getRecordedDateElement(), a.getOnset()),
          Texts.join("Allergy:", Texts.concept(a.getCode()), statuses(a.getClinicalStatus(), a.getVerificationStatus()),
              // an intolerance (lactose: bloating) read as an allergy, and a food allergy as a drug's
              a.getType() == AllergyIntolerance.AllergyIntoleranceType.INTOLERANCE ? "Type intolerance (not an allergy)." : "",
              a.hasCategory() ? "Category " + a.getCategory().stream().map(c -> c.getValue() == null ? "" : c.getValue().toCode())
                  .filter(c -> !c.isEmpty()).collect(Collectors.joining(", ")) + "." : "",
              a.hasCriticality() ? "criticality " + a.getCriticality().toCode() + "." : "",
              // the onset was not shown at all, and the chunk's date (the recorded one) read as when it began
              labelled("onset", when(a.getOnset())), labelled("recorded", when(a.getRecordedDateElement())),
              a.getReaction().stream().map(ChunkRenderer::reaction).filter(r -> !r.isEmpty())
                  .collect(Collectors.joining(", ", "Reaction: ", ".")).replace("Reaction: .", "")));
      notes(b, date(a.getRecordedDateElement(), a.getOnset()), "Allergy note, " + about(a.getCode(),
          a.getVerificationStatus()), a.getNote());
    } else if (resource instanceof Procedure p) {
      b.add(Category.CLINICAL, date(null, p.getPerformed()),
          Texts.join(p.getStatus() == Procedure.ProcedureStatus.NOTDONE ? "Procedure not done:" : "Procedure:",
              Texts.concept(p.getCode()), "status " + code(p.getStatus()) + ".", reasons(List.of(p.getStatusReason())),
              // what came of it: a colonoscopy stopped for bleeding read as one simply stopped
              labelled("Outcome:", sentence(Texts.label(p.getOutcome()))),
              labelled("Complication:", sentence(p.getComplication().stream().map(Texts::label)
                  .filter(x -> !x.isBlank()).collect(Collectors.joining(", "))))));
    } else if (resource instanceof Immunization i) {
      b.add(Category.CLINICAL, date(null, i.getOccurrence()),
          Texts.join(i.getStatus() == Immunization.ImmunizationStatus.NOTDONE ? "Immunization not given:" : "Immunization:",
              Texts.concept(i.getVaccineCode()), "status " + code(i.getStatus()) + ".", reasons(List.of(i.getStatusReason())),
              // a date the patient recalled ("around 2010", occurrenceString) has no date to file under: it was lost
              i.hasOccurrenceStringType() ? labelled("Given:", sentence(i.getOccurrenceStringType().getValue())) : ""));
    } else if (resource instanceof FamilyMemberHistory f) {
      familyMemberHistory(f, b);
    } else if (resource instanceof Encounter e) {
      encounter(e, b);
    } else if (resource instanceof DiagnosticReport d) {
      diagnosticReport(d, b);
    } else if (resource instanceof DocumentReference d) {
      documentReference(d, b);
    } else if (resource instanceof CarePlan c) {
      b.addText(Category.CLINICAL, date(c.hasPeriod() ? c.getPeriod().getStartElement() : null, null),
          Texts.join("Care plan:", c.getTitle(), c.getDescription(),
              c.getCategory().stream().map(Texts::concept).collect(Collectors.joining(", ")),
              c.getActivity().stream().filter(a -> a.hasDetail()).map(a -> Texts.concept(a.getDetail().getCode()))
                  .collect(Collectors.joining("; ")),
              // a revoked or completed plan read as the plan in force; a proposal as one agreed
              "status " + code(c.getStatus()) + (c.hasIntent() && c.getIntent() != CarePlan.CarePlanIntent.PLAN
                  ? ", intent " + code(c.getIntent()) : "") + "."
                  + (c.hasPeriod() ? " " + period(c.getPeriod()) : ""),
              Texts.plain(c.getText().getDivAsString())));
    } else if (resource instanceof Coverage c) {
      b.add(Category.ADMINISTRATIVE, c.hasPeriod() ? day(c.getPeriod().getStartElement()) : null,
          Texts.join("Coverage:", Texts.concept(c.getType()), "status " + code(c.getStatus()) + ".",
              c.getPayor().stream().filter(Reference::hasDisplay).map(Reference::getDisplay)
                  .collect(Collectors.joining(", ", "payor ", ".")).replace("payor .", "")));
    } else if (resource instanceof Claim c) {
      b.add(Category.ADMINISTRATIVE, day(c.getCreatedElement()),
          Texts.join("Claim:", Texts.concept(c.getType()), c.hasTotal() ? "total " + money(c.getTotal()) + "." : "",
              c.getItem().stream().map(i -> Texts.concept(i.getProductOrService())).collect(Collectors.joining("; ")),
              "status " + code(c.getStatus()) + "."));
    } else if (resource instanceof ExplanationOfBenefit e) {
      b.add(Category.ADMINISTRATIVE, day(e.getCreatedElement()),
          Texts.join("Explanation of benefit:", Texts.concept(e.getType()), "outcome " + code(e.getOutcome()) + ".",
              e.getTotal().stream().map(t -> Texts.concept(t.getCategory()) + " " + money(t.getAmount()))
                  .collect(Collectors.joining("; "))));
    }
    // Other types carry no clinical statements for retrieval (Practitioner, Organization, Consent…).
    return b.chunks;
  }

  /**
   * A medication statement. One the patient does not take ({@code not-taken}) read "Medication
   * statement: warfarin 5 mg daily. status not-taken.", the drug and dose first, as any medication the
   * patient takes: a reader (or a model asked for the current medications) listed warfarin. It now
   * says first and in words that it is not taken, its dosage as the one not taken, and why (R4's
   * {@code statusReason}; STU3 called it {@code reasonNotTaken}).
   */
  private void medicationStatement(MedicationStatement m, Builder b) {
    String drug = medication(m, m.getMedication());
    String dosage = dosage(m.getDosage());
    String when = m.hasEffectivePeriod() ? period(m.getEffectivePeriod()) : "";
    if (m.getStatus() == MedicationStatement.MedicationStatementStatus.NOTTAKEN) {
      String why = m.getStatusReason().stream().map(Texts::label).filter(s -> !s.isBlank())
          .collect(Collectors.joining(", "));
      b.add(Category.MEDICATION, date(null, m.getEffective()), Texts.join("Medication NOT taken:", sentence(drug),
          "The patient is not taking this medication (status not-taken).", labelled("Dosage not taken:", dosage),
          labelled("Reason not taken:", sentence(why)), when));
      return;
    }
    b.add(Category.MEDICATION, date(null, m.getEffective()), Texts.join("Medication statement:", drug, dosage,
        "status " + code(m.getStatus()) + ".", reasons(m.getStatusReason()), when));
  }

  /**
   * Free text ({@code note[].text}) as NOTE chunks, each led by what it is about. Notes may name people
   * and places: as a note they reach only roles that read notes, and, like every chunk's text, they
   * pass the prompt's de-identification. Who wrote a note and when are not said.
   */
  private void notes(Builder b, ClinicalDate when, String lead, List<Annotation> notes) {
    for (Annotation n : notes) {
      if (n.hasText() && !n.getText().isBlank()) {
        b.addText(Category.NOTE, when, lead + ": " + n.getText());
      }
    }
  }

  /** What a note is about: its concept's words, and "ruled out" for a refuted one. */
  private static String about(CodeableConcept code, CodeableConcept verification) {
    String what = Texts.label(code);
    return (what.isBlank() ? "unnamed" : what) + ("refuted".equals(firstCode(verification)) ? " (ruled out)" : "");
  }

  /**
   * A relative's history (CLINICAL, as the patient's own conditions are; its resource type is the class a
   * Consent names): the relationship, never the relative's name or birth date; each condition with its
   * onset, outcome and whether it contributed to death; the relative's age and death; a history the
   * record says is partial or unknown says so. Notes, the resource's and each condition's, are NOTE chunks.
   * The relationship is followed by a colon: "mother Breast cancer" would read, to the de-identifier's
   * relative rule, as a mother named Breast.
   */
  private void familyMemberHistory(FamilyMemberHistory f, Builder b) {
    ClinicalDate when = date(f.getDateElement(), null);
    String relative = relative(f);
    List<String> facts = new ArrayList<>();
    String conditions = f.getCondition().stream().map(ChunkRenderer::familyCondition).filter(c -> !c.isBlank())
        .collect(Collectors.joining("; "));
    facts.add(sentence(conditions));
    if (f.hasDeceasedBooleanType()) {
      // a primitive sent with extensions alone (a data-absent-reason) has no value, and unboxing it
      // failed the worker on the resource until it was parked: nothing is said
      Boolean deceased = f.getDeceasedBooleanType().getValue();
      facts.add(deceased == null ? "" : deceased ? "Deceased." : "Living.");
    } else if (f.hasDeceased()) {
      Type d = f.getDeceased();
      facts.add(d instanceof BaseDateTimeType dt ? "Deceased " + dayText(dt) + "."
          : d instanceof Quantity || d instanceof Range ? "Deceased at " + age(d) + "."
          : labelled("Deceased:", sentence(d.primitiveValue())));
    }
    if (f.hasAge()) {
      String age = f.getAge() instanceof Quantity || f.getAge() instanceof Range ? age(f.getAge())
          : Objects.toString(f.getAge().primitiveValue(), "");
      facts.add(age.isBlank() ? "" : "Relative's age: " + (f.getEstimatedAge() ? "about " : "") + sentence(age));
    }
    if (f.getStatus() == FamilyMemberHistory.FamilyHistoryStatus.HEALTHUNKNOWN) {
      facts.add("Health unknown.");
    } else if (f.getStatus() == FamilyMemberHistory.FamilyHistoryStatus.PARTIAL) {
      facts.add("History partial.");
    }
    facts.add(labelled("No history available:", sentence(Texts.label(f.getDataAbsentReason()))));
    String text = Texts.join(facts.toArray(String[]::new));
    b.add(Category.CLINICAL, when, "Family history, " + relative + ":" + (text.isEmpty() ? " nothing recorded." : " " + text));
    notes(b, when, "Family history note, " + relative, f.getNote());
    for (var c : f.getCondition()) {
      notes(b, when, "Family history note, " + relative + ", " + about(c.getCode(), null), c.getNote());
    }
  }

  /** The relationship in words, and the relative's sex when the relationship does not say it (a sibling, a child). */
  private static String relative(FamilyMemberHistory f) {
    Coding c = f.getRelationship().getCoding().stream().filter(Coding::hasCode).findFirst().orElse(null);
    String words = f.getRelationship().hasText() ? f.getRelationship().getText()
        : c != null && c.hasDisplay() ? c.getDisplay() : c != null ? RELATIONSHIPS.getOrDefault(c.getCode(), c.getCode()) : "";
    String who = words.isBlank() ? "relative" : words.strip().toLowerCase(java.util.Locale.ROOT);
    String sex = Texts.label(f.getSex()).toLowerCase(java.util.Locale.ROOT);
    boolean said = who.matches(".*\\b(mother|father|sister|brother|son|daughter|aunt|uncle|niece|nephew|wife|husband"
        + "|grandmother|grandfather|grandson|granddaughter)\\b.*");
    return sex.isBlank() || said ? who : who + " (" + sex + ")";
  }

  /** HL7 v3 RoleCode family members in words, for a relationship sent as a code alone. */
  private static final Map<String, String> RELATIONSHIPS = Map.ofEntries(Map.entry("MTH", "mother"),
      Map.entry("FTH", "father"), Map.entry("NMTH", "natural mother"), Map.entry("NFTH", "natural father"),
      Map.entry("PRN", "parent"), Map.entry("SIB", "sibling"), Map.entry("SIS", "sister"), Map.entry("BRO", "brother"),
      Map.entry("HSIB", "half-sibling"), Map.entry("TWIN", "twin"), Map.entry("CHILD", "child"), Map.entry("SON", "son"),
      Map.entry("DAU", "daughter"), Map.entry("GRPRN", "grandparent"), Map.entry("GRMTH", "grandmother"),
      Map.entry("GRFTH", "grandfather"), Map.entry("MGRMTH", "maternal grandmother"),
      Map.entry("MGRFTH", "maternal grandfather"), Map.entry("PGRMTH", "paternal grandmother"),
      Map.entry("PGRFTH", "paternal grandfather"), Map.entry("AUNT", "aunt"), Map.entry("UNCLE", "uncle"),
      Map.entry("MAUNT", "maternal aunt"), Map.entry("PAUNT", "paternal aunt"), Map.entry("MUNCLE", "maternal uncle"),
      Map.entry("PUNCLE", "paternal uncle"), Map.entry("COUSN", "cousin"), Map.entry("NIECE", "niece"),
      Map.entry("NEPHEW", "nephew"), Map.entry("FAMMEMB", "family member"));

  /** {@code Breast cancer (SNOMED CT 254837009), onset at age 45 years, outcome remission, contributed to death}. */
  private static String familyCondition(FamilyMemberHistory.FamilyMemberHistoryConditionComponent c) {
    String what = Texts.concept(c.getCode());
    List<String> parts = new ArrayList<>(List.of(what.isBlank() ? "a condition not named" : what));
    if (c.hasOnset()) {
      Type o = c.getOnset();
      String onset = o instanceof Quantity || o instanceof Range ? "at " + age(o)
          : o instanceof Period p ? period(p) : Objects.toString(o.primitiveValue(), "");
      parts.add(labelled("onset", onset));
    }
    parts.add(labelled("outcome", Texts.label(c.getOutcome())));
    if (c.hasContributedToDeath() && c.getContributedToDeath()) {
      parts.add("contributed to death");
    }
    return parts.stream().filter(p -> !p.isBlank()).collect(Collectors.joining(", "));
  }

  /** An age or an age range: {@code age 45 years}, {@code age 40 to 50 years}; a UCUM code in words. */
  private static String age(Type t) {
    if (t instanceof Range r) {
      String low = ageUnit(r.getLow());
      String high = ageUnit(r.getHigh());
      String lv = r.getLow().hasValue() ? Texts.decimal(r.getLow().getValueElement()) : "";
      String hv = r.getHigh().hasValue() ? Texts.decimal(r.getHigh().getValueElement()) : "";
      String range = lv.isEmpty() ? hv.isEmpty() ? "" : "up to " + hv + suffix(high)
          : hv.isEmpty() ? lv + suffix(low) + " or older" : low.equals(high) ? lv + " to " + hv + suffix(high)
          : lv + suffix(low) + " to " + hv + suffix(high);
      return labelled("age", range);
    }
    if (t instanceof Quantity q && q.hasValue()) {
      return "age " + (q.hasComparator() ? q.getComparator().toCode() + " " : "") + Texts.decimal(q.getValueElement())
          + suffix(ageUnit(q));
    }
    return "";
  }

  private static String suffix(String unit) {
    return unit.isEmpty() ? "" : " " + unit;
  }

  /** UCUM's units of age in words ("a" is a year), any other unit as sent. */
  private static String ageUnit(Quantity q) {
    String u = q.hasUnit() ? q.getUnit() : q.hasCode() ? q.getCode() : "";
    return switch (u) {
      case "a" -> "years";
      case "mo" -> "months";
      case "wk" -> "weeks";
      case "d" -> "days";
      case "h" -> "hours";
      default -> Texts.unit(u);
    };
  }

  /**
   * An encounter as two chunks: what billing may see (class, dates, status: API.md's "Encounter
   * dates") as ADMINISTRATIVE, and what it was and why (type and reason codes) as CLINICAL, so that a
   * role allowed only administrative content never receives a diagnosis. The type was in the
   * administrative chunk, and a type's text ("HIV post-exposure counseling and psychiatric intake")
   * reached billing keys.
   */
  private void encounter(Encounter e, Builder b) {
    String start = e.hasPeriod() ? dayText(e.getPeriod().getStartElement()) : "";
    String kind = e.hasClass_() ? encounterClass(e.getClass_()) : "";
    String type = e.getType().stream().map(Texts::concept).filter(t -> !t.isBlank()).collect(Collectors.joining(", "));
    String end = e.hasPeriod() ? dayText(e.getPeriod().getEndElement()) : "";
    String when = start.isEmpty() ? ""
        : end.isEmpty() || end.equals(start) ? "on " + start + "." : "from " + start + " to " + end + ".";
    ClinicalDate day = e.hasPeriod() ? day(e.getPeriod().getStartElement()) : null;
    b.add(Category.ADMINISTRATIVE, day, Texts.join("Encounter:", kind, when, "status " + code(e.getStatus()) + "."));
    String reasons = e.getReasonCode().stream().map(Texts::concept).filter(r -> !r.isBlank())
        .collect(Collectors.joining(", "));
    if (!reasons.isEmpty()) {
      b.add(Category.CLINICAL, day, Texts.join("Encounter reason:", reasons + ".", Texts.join(kind, type), when));
    } else if (!type.isEmpty()) {
      b.add(Category.CLINICAL, day, Texts.join("Encounter:", Texts.join(kind, type), when));
    }
  }

  private void patient(Patient p, Builder b) {
    // a birthDate sent with extensions alone (US Core's data-absent-reason) has no value: it failed the
    // worker on the Patient until it was parked, and the patient's demographics were never retrievable
    String born = dayText(p.getBirthDateElement());
    String year = born.length() >= 4 ? "born " + born.substring(0, 4) : "";
    // "Patient: ." and "Patient: male ." came out for a patient without a birth date or gender
    String facts = Texts.join(p.hasGender() ? p.getGender().toCode() : "", year);
    b.add(Category.DEMOGRAPHIC, null, Texts.join(facts.isEmpty() ? "Patient." : "Patient: " + facts + ".",
        p.hasDeceased() && (p.hasDeceasedDateTimeType() || Boolean.TRUE.equals(p.getDeceasedBooleanType().getValue()))
            ? "Deceased." : "",
        p.getCommunication().stream().map(c -> Texts.concept(c.getLanguage()))
            .collect(Collectors.joining(", ", "Language: ", ".")).replace("Language: .", "")));
  }

  private void observation(Observation o, Builder b) {
    boolean lab = o.getCategory().stream().flatMap(c -> c.getCoding().stream())
        .anyMatch(c -> "laboratory".equals(c.getCode()));
    StringBuilder text = new StringBuilder(Texts.join(Texts.concept(o.getCode()), value(o.getValue(), o.getDataAbsentReason())));
    text.append(referenceRange(o.getReferenceRange()));
    // a component's own range and interpretation: a systolic of 168 flagged High read as a bare 168
    for (var c : o.getComponent()) {
      text.append("; ").append(Texts.join(Texts.concept(c.getCode()), value(c.getValue(), c.getDataAbsentReason())))
          .append(referenceRange(c.getReferenceRange()))
          .append(c.hasInterpretation() ? ", interpretation " + interpretation(c.getInterpretation()) : "");
    }
    if (o.hasInterpretation()) {
      text.append(". Interpretation: ").append(interpretation(o.getInterpretation()));
    }
    text.append(members(o));
    text.append('.');
    String caveat = resultCaveat(code(o.getStatus()));
    String qualifier = caveat.isEmpty() ? "" : " (" + caveat + ")";
    ClinicalDate when = taken(o.getEffective(), o.getIssuedElement());
    b.add(lab ? Category.LAB : Category.CLINICAL, when,
        "Observation" + qualifier + ": " + text.toString().replace("..", "."));
    for (var note : o.getNote()) {
      b.addText(Category.NOTE, when, "Observation note" + qualifier + ": " + note.getText());
    }
  }

  /**
   * A panel's members ({@code hasMember}): "Lipid panel." said nothing of what it held. Each member by
   * its display, or by its code and value when it is contained in the panel or resolved; the others are
   * counted, not named by their ids (a record's id identifies the record, and each member is a chunk of
   * its own). "" when the observation has no members.
   */
  private static String members(Observation o) {
    List<String> named = new ArrayList<>();
    int unnamed = 0;
    for (Reference r : o.getHasMember()) {
      String m = member(o, r);
      if (m.isBlank()) {
        unnamed++;
      } else {
        named.add(m);
      }
    }
    if (named.isEmpty() && unnamed == 0) {
      return "";
    }
    String more = unnamed == 0 ? "" : (named.isEmpty() ? "" : "; and ") + unnamed + (named.isEmpty() ? "" : " more")
        + (unnamed == 1 ? " result" : " results") + " not named here, recorded on " + (unnamed == 1 ? "its" : "their")
        + " own";
    return ". Panel members: " + String.join("; ", named) + more;
  }

  /** One member: its display, else a contained or resolved observation's code and value; "" when neither. */
  private static String member(Observation panel, Reference r) {
    if (r.hasDisplay() && !r.getDisplay().isBlank()) {
      return r.getDisplay().strip();
    }
    String ref = r.getReference();
    Resource target = r.getResource() instanceof Resource res ? res
        : ref != null && ref.startsWith("#") ? panel.getContained().stream()
            .filter(c -> ref.substring(1).equals(c.getIdElement().getIdPart())).findFirst().orElse(null) : null;
    return target instanceof Observation m && target != panel
        ? Texts.join(Texts.concept(m.getCode()), value(m.getValue(), m.getDataAbsentReason())) : "";
  }

  /**
   * Every reference range, as bounds or as its text, with whom it applies to when it says
   * ({@code appliesTo}, {@code age}); "" when none. Only the first was shown: a lab that sends a
   * female and a male range had the other one dropped, and the reader could not tell which it was.
   */
  private static String referenceRange(List<Observation.ObservationReferenceRangeComponent> ranges) {
    List<String> shown = new ArrayList<>();
    for (var r : ranges) {
      String bounds = r.hasLow() || r.hasHigh() ? Texts.range(r.getLow(), r.getHigh()) : r.hasText() ? r.getText() : "";
      if (bounds.isEmpty()) {
        continue;
      }
      List<String> whom = new ArrayList<>();
      r.getAppliesTo().stream().map(Texts::label).filter(x -> !x.isBlank()).forEach(whom::add);
      if (r.hasAge()) {
        whom.add("age " + Texts.range(r.getAge().getLow(), r.getAge().getHigh()));
      }
      shown.add(bounds + (whom.isEmpty() ? "" : " for " + String.join(", ", whom)));
    }
    return shown.isEmpty() ? "" : " (reference range " + String.join("; ", shown) + ")";
  }

  /** HL7 v3 ObservationInterpretation codes in words, for a flag sent without a display. */
  private static final Map<String, String> INTERPRETATIONS = Map.ofEntries(Map.entry("H", "High"),
      Map.entry("L", "Low"), Map.entry("HH", "Critical high"), Map.entry("LL", "Critical low"),
      Map.entry("HU", "Significantly high"), Map.entry("LU", "Significantly low"), Map.entry("N", "Normal"),
      Map.entry("A", "Abnormal"), Map.entry("AA", "Critical abnormal"), Map.entry("POS", "Positive"),
      Map.entry("NEG", "Negative"), Map.entry("DET", "Detected"), Map.entry("ND", "Not detected"),
      Map.entry("IND", "Indeterminate"), Map.entry("E", "Equivocal"), Map.entry("R", "Resistant"),
      Map.entry("S", "Susceptible"), Map.entry("I", "Intermediate"), Map.entry(">", "Off scale high"),
      Map.entry("<", "Off scale low"));
  private static final String V3_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation";

  /**
   * Each interpretation in words: its text, a display, or a v3 code's meaning ("H" is High); it was
   * shown as "(v3-ObservationInterpretation H)", a flag a reader had to decode.
   */
  private static String interpretation(List<CodeableConcept> interpretations) {
    return interpretations.stream().map(i -> {
      if (i.hasText()) {
        return i.getText();
      }
      var c = i.getCodingFirstRep();
      if (c.hasDisplay()) {
        return c.getDisplay();
      }
      String word = (!c.hasSystem() || V3_INTERPRETATION.equals(c.getSystem())) && c.hasCode()
          ? INTERPRETATIONS.get(c.getCode()) : null;
      return word != null ? word : Texts.concept(i);
    }).collect(Collectors.joining(", "));
  }

  /**
   * A result's day: when it was taken (effective, the clinically relevant time), else when it was
   * issued. The issued instant came first, and it is when the result was released, often in UTC: a
   * pressure taken at 21:40 at -04:00 and issued at 02:05Z was filed under the next day.
   */
  private static ClinicalDate taken(Type effective, BaseDateTimeType issued) {
    ClinicalDate d = date(null, effective);
    return d != null ? d : date(issued, null);
  }

  /** Why, from reason or status-reason concepts: {@code Reason: patient objection.}, or "". */
  private static String reasons(List<CodeableConcept> reasons) {
    String r = reasons.stream().map(Texts::label).filter(s -> !s.isBlank()).collect(Collectors.joining(", "));
    return r.isEmpty() ? "" : "Reason: " + sentence(r);
  }

  /** A reaction's manifestations, then its severity: {@code Anaphylaxis (severe)}. */
  private static String reaction(AllergyIntolerance.AllergyIntoleranceReactionComponent r) {
    String m = r.getManifestation().stream().map(Texts::concept).filter(s -> !s.isBlank()).collect(Collectors.joining(", "));
    return m.isEmpty() || !r.hasSeverity() ? m : m + " (" + r.getSeverity().toCode() + ")";
  }

  /** An onset or abatement in any of its forms: a day, a period, an age, a range or words; "" when none. */
  private static String when(Type t) {
    if (t == null || t.isEmpty()) {
      return "";
    }
    String s = t instanceof BaseDateTimeType d ? dayText(d)
        : t instanceof Period p ? period(p)
        : t instanceof org.hl7.fhir.r4.model.Age a ? labelled("age", Texts.quantity(a))
        : t instanceof Range r ? labelled("age", Texts.range(r))
        : t.primitiveValue() == null ? "" : t.primitiveValue();
    return s.isBlank() ? "" : sentence(s);
  }

  /** HL7 v3 ActEncounterCode words for a class sent as a code alone (Synthea sends {"code":"AMB"}). */
  private static final java.util.Map<String, String> ENCOUNTER_CLASSES = java.util.Map.of(
      "AMB", "ambulatory", "EMER", "emergency", "IMP", "inpatient encounter", "ACUTE", "inpatient acute",
      "NONAC", "inpatient non-acute", "OBSENC", "observation encounter", "PRENC", "pre-admission",
      "SS", "short stay", "VR", "virtual", "HH", "home health");

  private static String encounterClass(Coding c) {
    return c.hasDisplay() ? c.getDisplay() : c.hasCode() ? ENCOUNTER_CLASSES.getOrDefault(c.getCode(), c.getCode()) : "";
  }

  /**
   * What a reader must know about a result that is not simply final: a preliminary value may still
   * change, and an amended or corrected one replaced what was reported before.
   */
  private static String resultCaveat(String status) {
    return switch (status) {
      case "registered" -> "registered, no result yet";
      case "preliminary", "amended", "corrected" -> status + " result";
      case "unknown" -> "result status unknown";
      default -> ""; // final
    };
  }

  private void diagnosticReport(DiagnosticReport d, Builder b) {
    ClinicalDate when = taken(d.getEffective(), d.getIssuedElement());
    b.add(reportCategory(d), when, Texts.join("Diagnostic report:", Texts.concept(d.getCode()),
        "status " + code(d.getStatus()) + ".", d.getConclusion(),
        d.getConclusionCode().stream().map(Texts::concept).collect(Collectors.joining(", "))));
    // The report's own chunk says its status; its text, read alone, would pass for the final report.
    String status = code(d.getStatus());
    String prefix = UNFINISHED_REPORTS.contains(status) ? "Report (" + status + "): " : "";
    for (Attachment a : d.getPresentedForm()) {
      String text = attachmentText(a);
      if (!text.isBlank()) {
        b.addText(Category.NOTE, when, prefix + text);
      }
    }
  }

  /**
   * LAB for a laboratory report, CLINICAL for any other diagnostic service (imaging, cardiology,
   * pulmonary function…), which is not a lab result. A report without a category stays LAB, as
   * such reports were before categories were read, and most of them are lab panels.
   */
  private static Category reportCategory(DiagnosticReport d) {
    if (!d.hasCategory()) {
      return Category.LAB;
    }
    boolean lab = d.getCategory().stream().flatMap(c -> c.getCoding().stream())
        .anyMatch(c -> (!c.hasSystem() || SERVICE_SECTIONS.contains(c.getSystem())) && LAB_SECTIONS.contains(c.getCode()));
    return lab ? Category.LAB : Category.CLINICAL;
  }

  private void documentReference(DocumentReference d, Builder b) {
    // the day the care it documents happened (context.period), else the day it was written: a note
    // of a visit signed days later was filed, and sorted in a trend, under the day of signing
    ClinicalDate when = d.getContext().hasPeriod() && d.getContext().getPeriod().hasStart()
        ? day(d.getContext().getPeriod().getStartElement()) : day(d.getDateElement());
    String status = d.hasDocStatus() && !"final".equals(d.getDocStatus().toCode()) ? "(" + d.getDocStatus().toCode() + ")" : "";
    String title = Texts.join(Texts.concept(d.getType()), d.getDescription(), status);
    int before = b.chunks.size();
    for (var content : d.getContent()) {
      String text = attachmentText(content.getAttachment());
      if (!text.isBlank()) {
        b.addText(Category.NOTE, when, (title.isBlank() ? "" : title + ": ") + text);
      }
    }
    if (b.chunks.size() == before) {
      b.add(Category.NOTE, when, documentWithoutText(d, status));
    }
  }

  /**
   * A document whose content has no text here (a PDF, an image, only a URL to the source system)
   * still exists: without a chunk, a discharge summary sent as a PDF was as if never written. Its
   * metadata says what and when, and that it must be read at the source; the URL is left out, as
   * a reader of the chunk cannot follow it and it may carry identifiers.
   */
  private static String documentWithoutText(DocumentReference d, String status) {
    String titles = d.getContent().stream().map(c -> c.getAttachment().getTitle())
        .filter(t -> t != null && !t.isBlank()).distinct().collect(Collectors.joining("; "));
    String types = d.getContent().stream().map(c -> c.getAttachment().getContentType())
        .filter(t -> t != null && !t.isBlank()).distinct().collect(Collectors.joining(", "));
    String authors = d.getAuthor().stream().filter(Reference::hasDisplay).map(Reference::getDisplay)
        .collect(Collectors.joining(", "));
    String date = dayText(d.getDateElement());
    return Texts.join("Document" + (status.isEmpty() ? "" : " " + status) + ":", sentence(Texts.concept(d.getType())),
        titles.isEmpty() ? "" : "Title: " + sentence(titles), sentence(d.getDescription()),
        date.isEmpty() ? "" : "Dated " + date + ".", authors.isEmpty() ? "" : "Author: " + sentence(authors),
        "Its content" + (types.isEmpty() ? "" : " (" + types + ")") + " is not included here.");
  }

  private static String sentence(String s) {
    String t = s == null ? "" : s.strip();
    return t.isEmpty() || t.endsWith(".") || t.endsWith("!") || t.endsWith("?") ? t : t + ".";
  }

  /**
   * text/plain, HTML or RTF attachments, base64 data decoded; other media types are skipped. Only HTML
   * loses tags: plain text read as HTML lost everything between a "<" and a later ">", and "troponin
   * <0.01 ng/mL ... age >90" became "troponin 90". RTF (text/rtf, application/rtf, or plain text that
   * is an RTF document) is read by {@link RtfText}: its control words were served as the note's text.
   * An RTF type whose content is not RTF gives no text, so the document says its content is not included.
   */
  static String attachmentText(Attachment a) {
    if (a == null || !a.hasData()) {
      return "";
    }
    String type = a.hasContentType() ? a.getContentType().toLowerCase(java.util.Locale.ROOT) : "text/plain";
    if (type.startsWith("text/rtf") || type.startsWith("application/rtf")) {
      // RTF is 8-bit text whose default code page is Windows-1252; its own escapes say the rest
      return RtfText.toText(new String(a.getData(), java.nio.charset.Charset.forName("windows-1252")));
    }
    String raw = new String(a.getData(), charset(type));
    if (type.startsWith("text/html") || type.startsWith("application/xhtml")) {
      return Texts.plain(raw);
    }
    if (!type.startsWith("text/")) {
      return "";
    }
    return RtfText.isRtf(raw) ? RtfText.toText(raw) : Texts.folded(raw);
  }

  /**
   * The charset a content type names ({@code text/plain; charset=ISO-8859-1}), else UTF-8: a Latin-1
   * note read as UTF-8 turned "38.4°C" into "38.4" and a replacement character, then "C".
   */
  private static java.nio.charset.Charset charset(String type) {
    var m = java.util.regex.Pattern.compile(";\\s*charset=\"?([A-Za-z0-9._:-]+)").matcher(type);
    if (m.find()) {
      try {
        return java.nio.charset.Charset.forName(m.group(1));
      } catch (IllegalArgumentException e) {
        return StandardCharsets.UTF_8; // an unknown charset: UTF-8, as before
      }
    }
    return StandardCharsets.UTF_8;
  }

  /** A result's value, or why it has none: without the reason, "Glucose." reads as a result lost. */
  private static String value(Type v, CodeableConcept absentReason) {
    String value = value(v);
    return value.isEmpty() && absentReason != null && !absentReason.isEmpty()
        ? "no value: " + Texts.label(absentReason) : value;
  }

  private static String value(Type v) {
    if (v == null || v.isEmpty()) {
      return "";
    }
    if (v instanceof Quantity q) {
      return Texts.quantity(q);
    }
    if (v instanceof Range r) {
      return Texts.range(r);
    }
    if (v instanceof Ratio r) {
      return Texts.ratio(r);
    }
    if (v instanceof org.hl7.fhir.r4.model.CodeableConcept cc) {
      return Texts.concept(cc);
    }
    return v.primitiveValue() == null ? "" : v.primitiveValue();
  }

  /**
   * The medication's concept, its reference's display, or the code of the Medication it names when
   * that is contained in the resource (as Epic sends it): "medication" alone lost the drug. A
   * Medication elsewhere is not read here, and the text says the drug is not named.
   */
  private static String medication(DomainResource owner, Type m) {
    if (m instanceof org.hl7.fhir.r4.model.CodeableConcept cc) {
      return Texts.concept(cc);
    }
    if (m instanceof org.hl7.fhir.r4.model.Reference r) {
      if (r.hasDisplay()) {
        return r.getDisplay();
      }
      String ref = r.getReference();
      String named = r.getResource() instanceof Medication med ? Texts.concept(med.getCode())
          : ref != null && ref.startsWith("#") ? owner.getContained().stream()
              .filter(c -> c instanceof Medication && ref.substring(1).equals(c.getIdElement().getIdPart()))
              .map(c -> Texts.concept(((Medication) c).getCode())).findFirst().orElse("") : "";
      return named.isBlank() ? "medication (not named here)" : named;
    }
    return "";
  }

  private static String dosage(List<Dosage> dosages) {
    String all = dosages.stream().map(ChunkRenderer::dosage).filter(d -> !d.isEmpty()).collect(Collectors.joining("; "));
    return all.isEmpty() ? "" : all + ".";
  }

  /**
   * A dosage's text, then what its structure says: the text is optional and often partial ("as
   * directed"), while dose, route and timing are what the order actually says, and many orders
   * carry nothing else.
   */
  private static String dosage(Dosage d) {
    List<String> parts = new ArrayList<>();
    parts.add(d.getText());
    for (var dr : d.getDoseAndRate()) {
      parts.add(labelled("dose", value(dr.getDose())));
      parts.add(labelled("rate", value(dr.getRate())));
    }
    parts.add(labelled("route", Texts.label(d.getRoute())));
    parts.add(labelled("site", Texts.label(d.getSite())));
    parts.add(labelled("method", Texts.label(d.getMethod())));
    parts.add(labelled("timing", timing(d.getTiming())));
    if (d.hasAsNeededBooleanType() && Boolean.TRUE.equals(d.getAsNeededBooleanType().getValue())) {
      parts.add("as needed");
    } else if (d.hasAsNeededCodeableConcept()) {
      parts.add(Texts.join("as needed for", Texts.label(d.getAsNeededCodeableConcept())));
    }
    for (Type max : List.of(d.getMaxDosePerPeriod(), d.getMaxDosePerAdministration(), d.getMaxDosePerLifetime())) {
      parts.add(labelled("at most", value(max)));
    }
    d.getAdditionalInstruction().forEach(i -> parts.add(Texts.label(i)));
    parts.add(d.getPatientInstruction());
    return parts.stream().filter(p -> p != null && !p.isBlank()).map(String::strip).collect(Collectors.joining(", "));
  }

  /**
   * A timing's code ({@code BID}) and its repeat: {@code 1 per 1 d}, {@code 1-2 per 4-6 h},
   * {@code every 8 h}, then when, on which days and for how long.
   */
  private static String timing(Timing t) {
    if (t == null || !t.hasRepeat()) {
      return t == null ? "" : Texts.label(t.getCode());
    }
    var r = t.getRepeat();
    String period = r.hasPeriod()
        ? span(r.getPeriodElement().getValueAsString(), r.hasPeriodMax() ? r.getPeriodMaxElement().getValueAsString() : "")
            + (r.hasPeriodUnit() ? " " + r.getPeriodUnit().toCode() : "")
        : "";
    String frequency = r.hasFrequency()
        ? span(r.getFrequencyElement().getValueAsString(), r.hasFrequencyMax() ? r.getFrequencyMaxElement().getValueAsString() : "")
        : "";
    String often = period.isEmpty() ? frequency.isEmpty() ? "" : frequency + " times"
        : frequency.isEmpty() ? "every " + period : frequency + " per " + period;
    return Texts.join(Texts.label(t.getCode()), often,
        r.hasWhen() ? "at " + r.getWhen().stream().map(w -> w.getCode()).collect(Collectors.joining(", ")) : "",
        r.hasTimeOfDay() ? "at " + r.getTimeOfDay().stream().map(x -> x.getValueAsString()).collect(Collectors.joining(", ")) : "",
        r.hasDayOfWeek() ? "on " + r.getDayOfWeek().stream().map(x -> x.getCode()).collect(Collectors.joining(", ")) : "",
        r.hasBoundsDuration() ? "for " + Texts.quantity(r.getBoundsDuration()) : "",
        r.hasBoundsPeriod() ? period(r.getBoundsPeriod()) : "",
        r.hasCount() ? span(r.getCountElement().getValueAsString(),
            r.hasCountMax() ? r.getCountMaxElement().getValueAsString() : "") + " times in all" : "");
  }

  /** {@code from 2024-05-02 to 2024-06-30}, or either half alone; the dates as sent, at their precision. */
  private static String period(org.hl7.fhir.r4.model.Period p) {
    return Texts.join(p.hasStart() ? "from " + dayText(p.getStartElement()) : "",
        p.hasEnd() ? "to " + dayText(p.getEndElement()) : "");
  }

  private static String span(String from, String to) {
    return to.isEmpty() ? from : from + "-" + to;
  }

  private static String labelled(String label, String value) {
    return value.isEmpty() ? "" : label + " " + value;
  }

  private static String money(org.hl7.fhir.r4.model.Money m) {
    return m == null || !m.hasValue() ? "" : Texts.decimal(m.getValueElement()) + (m.hasCurrency() ? " " + m.getCurrency() : "");
  }

  /**
   * Whether this version of a record says that what its earlier versions said is wrong or void: it
   * is not a fact ({@link #notAFact}: entered in error, superseded, cancelled), or it corrects a
   * result ({@code amended}, {@code corrected}). The write path, which removes an updated resource's earlier
   * chunks at once whatever the update, then also waits for a worker embedding the earlier text, so that it cannot
   * commit that text's chunks after them.
   */
  public static boolean voidsEarlierText(Resource r) {
    String status = primitive(r, "status");
    return notAFact(r) || CORRECTIONS.contains(status) || CORRECTIONS.contains(primitive(r, "docStatus"));
  }

  private static final Set<String> CORRECTIONS = Set.of("amended", "corrected");

  /**
   * Whether a record says it is not a fact, so that no chunk may present it as one: entered in error
   * ("should never have existed"), on whichever element its type keeps that (status, docStatus,
   * verificationStatus); a superseded document, since a newer version replaces it (an old dose in a
   * superseded discharge note could outrank the current one); a cancelled observation or report, as
   * no result exists. Rendering nothing also removes the chunks an earlier version of the record made.
   */
  private static boolean notAFact(Resource r) {
    String status = primitive(r, "status");
    return ENTERED_IN_ERROR.equals(status) || ENTERED_IN_ERROR.equals(primitive(r, "docStatus"))
        || ENTERED_IN_ERROR.equals(verification(r))
        || r instanceof DocumentReference && "superseded".equals(status)
        || (r instanceof Observation || r instanceof DiagnosticReport) && "cancelled".equals(status);
  }

  /** A primitive element by name: most types have a status, each with its own enum. "" when absent. */
  private static String primitive(Resource r, String name) {
    Property p = r.getNamedProperty(name);
    return p == null || !p.hasValues() ? "" : Objects.toString(p.getValues().get(0).primitiveValue(), "");
  }

  private static String verification(Resource r) {
    return r instanceof Condition c ? firstCode(c.getVerificationStatus())
        : r instanceof AllergyIntolerance a ? firstCode(a.getVerificationStatus()) : "";
  }

  /**
   * Verification and clinical status in one parenthesis, {@code (provisional, active)}. A refuted
   * diagnosis or allergy is first said to be ruled out, so that it never reads as one the patient has.
   */
  private static String statuses(CodeableConcept clinical, CodeableConcept verification) {
    String v = firstCode(verification);
    String both = Stream.of(v, firstCode(clinical)).filter(s -> !s.isEmpty()).collect(Collectors.joining(", "));
    return both.isEmpty() ? "" : ("refuted".equals(v) ? "ruled out " : "") + "(" + both + ")";
  }

  private static String firstCode(CodeableConcept cc) {
    return cc == null ? "" : cc.getCoding().stream().filter(Coding::hasCode).map(Coding::getCode).findFirst().orElse("");
  }

  private static String code(Enum<?> e) {
    if (e == null) {
      return "unknown";
    }
    try {
      return (String) e.getClass().getMethod("toCode").invoke(e);
    } catch (ReflectiveOperationException ex) {
      return e.name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private static ClinicalDate date(BaseDateTimeType primary, Type effective) {
    if (primary != null && !primary.isEmpty()) {
      return day(primary);
    }
    if (effective instanceof BaseDateTimeType dt) {
      return day(dt);
    }
    if (effective instanceof Period p && p.hasStart()) {
      return day(p.getStartElement());
    }
    return null;
  }

  /**
   * The day as written where it happened: 2026-11-30T23:30:00-05:00 is 30 November, which a
   * conversion to UTC (what {@code getValue()} invites) would make 1 December. A partial date
   * (2026-11, 2026) keeps its precision: it sorts under its first day, and is shown as written.
   */
  private static ClinicalDate day(BaseDateTimeType d) {
    return ClinicalDate.parse(dayText(d));
  }

  /** The date part of a date, dateTime or instant as sent: {@code 2026-11-30}, {@code 2026-11}, or "". */
  private static String dayText(BaseDateTimeType d) {
    String s = d == null || d.isEmpty() ? null : d.getValueAsString();
    return s == null ? "" : s.length() > 10 ? s.substring(0, 10) : s;
  }

  /** Collects the chunks of one resource with their shared metadata. */
  private final class Builder {
    final List<ClinicalChunk> chunks = new ArrayList<>();
    final String type;
    final String id;
    final String patient;
    final List<String> labels;

    Builder(Resource r) {
      type = r.fhirType();
      id = r.getIdElement().getIdPart();
      patient = PatientCompartment.patientIdOf(r).orElse(null);
      labels = r.getMeta().getSecurity().stream().map(Coding::getCode).filter(c -> c != null).distinct().toList();
    }

    void add(Category category, ClinicalDate when, String text) {
      assert categoriesOf(type).contains(category) : type + " rendered a " + category + " chunk: add it to CATEGORIES";
      String t = text.replaceAll("\\s+", " ").strip();
      if (!t.isEmpty() && patient != null) {
        chunks.add(new ClinicalChunk(type, id, patient, category, labels, when, chunks.size(), t));
      }
    }

    /**
     * Text already plain (HTML is made plain where it is read): split into bounded sentence windows.
     * It was made plain a second time here, which read the "<" of a decoded "&lt;" as a tag.
     */
    void addText(Category category, ClinicalDate when, String text) {
      for (String w : Texts.windows(Texts.folded(text), maxChars)) {
        add(category, when, w);
      }
    }
  }

  /** Narrative of any DomainResource as plain text (used by consumers that need it). */
  public static String narrative(DomainResource r) {
    return r.hasText() ? Texts.plain(r.getText().getDivAsString()) : "";
  }
}
