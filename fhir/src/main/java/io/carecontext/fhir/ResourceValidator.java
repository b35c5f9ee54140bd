package io.carecontext.fhir;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Required elements, well-formed references and narratives without active content
 * ({@link NarrativeValidator}), beyond what the parser checks. Messages name the
 * element path; they never quote values.
 */
public final class ResourceValidator {

  private static final Map<String, List<String>> REQUIRED = Map.ofEntries(
      Map.entry("Observation", List.of("status", "code", "subject")),
      Map.entry("Condition", List.of("subject")),
      Map.entry("MedicationRequest", List.of("status", "intent", "medication[x]", "subject")),
      Map.entry("MedicationStatement", List.of("status", "medication[x]", "subject")),
      Map.entry("AllergyIntolerance", List.of("patient")),
      Map.entry("Procedure", List.of("status", "subject")),
      Map.entry("Immunization", List.of("status", "vaccineCode", "patient")),
      Map.entry("Encounter", List.of("status", "class")),
      Map.entry("DiagnosticReport", List.of("status", "code", "subject")),
      Map.entry("DocumentReference", List.of("status", "content", "subject")),
      Map.entry("CarePlan", List.of("status", "intent", "subject")),
      Map.entry("Coverage", List.of("status", "beneficiary", "payor")),
      Map.entry("Claim", List.of("patient")),
      Map.entry("ExplanationOfBenefit", List.of("patient")),
      Map.entry("Consent", List.of("status", "scope", "category", "patient")),
      Map.entry("CareTeam", List.of("subject")));

  /**
   * The required elements above that R4 itself leaves optional: a feed that sends valid R4 is told
   * why this endpoint asks for them.
   */
  private static final java.util.Set<String> BEYOND_R4 = java.util.Set.of("Observation.subject",
      "DiagnosticReport.subject", "CareTeam.subject", "Consent.patient", "DocumentReference.subject");

  /** The elements above that file a record under its patient ({@link PatientCompartment}'s links). */
  private static final java.util.Set<String> PATIENT_LINKS = java.util.Set.of("patient", "subject", "beneficiary");

  private ResourceValidator() {}

  public static List<FhirIssue> validate(Resource resource) {
    return validate(resource, null);
  }

  /**
   * {@code entries}: the transaction the resource came in, each entry's fullUrl with its resource type,
   * which its references may name; null for a resource written on its own or in a batch, where a
   * urn:uuid names nothing (refused with its own message by the writer).
   */
  public static List<FhirIssue> validate(Resource resource, java.util.Map<String, String> entries) {
    return validate(resource, entries, Fhir.skipped(resource));
  }

  /**
   * {@code skipped}: the paths, from the resource ({@code Encounter.class[0]}, {@code Consent}), in which its
   * lenient parse skipped elements R4 does not define ({@link Fhir#skipped}). A required element missing
   * where such an element was skipped was most likely sent, in another FHIR version's shape (R5's
   * {@code Encounter.class} is a list of CodeableConcepts, R5's Consent names its patient {@code subject}) or
   * misspelt: the message says so, where "is required" alone told the feed to add what it had sent.
   */
  static List<FhirIssue> validate(Resource resource, java.util.Map<String, String> entries, List<String> skipped) {
    String type = resource.fhirType();
    List<FhirIssue> issues = new ArrayList<>();
    for (String element : REQUIRED.getOrDefault(type, List.of())) {
      Property p = resource.getNamedProperty(element);
      if (p == null || !p.hasValues() || p.getValues().stream().allMatch(Base::isEmpty)) {
        String path = type + "." + element.replace("[x]", "");
        issues.add(FhirIssue.error("required", null, path, path + " is required"
            + (BEYOND_R4.contains(path) ? " here, though R4 leaves it optional"
                + (path.startsWith("Consent") ? "" : " (US Core requires it too)") + ": every record is filed under "
                + "the patient it is about, and one about no patient could never be retrieved" : "")
            + skippedNear(path, type, skipped)));
      }
    }
    checkReferences(resource, type, issues);
    checkIdentifierSystems(resource, type, issues);
    checkPatientLinks(resource, type, entries, issues);
    for (String element : PatientCompartment.foreignPatientLinks(resource,
        url -> entries != null && "Patient".equals(entries.get(url)))) {
      issues.add(FhirIssue.error("business-rule", null, element, element + " names a Patient by an absolute URL, "
          + "which is a patient of another server: records are filed under the patients this tenant stores, so send "
          + "Patient/<id> (or the fullUrl of a Patient entry in the same Bundle)"));
    }
    NarrativeValidator.check(resource, type, issues);
    PeriodValidator.check(resource, type, issues);
    checkContained(resource, type, entries, issues);
    return issues;
  }

  /**
   * What to add to the message of a missing required element {@code path} when the parse skipped elements R4
   * does not define in the resource itself or inside that element: paths only, never the skipped names.
   */
  private static String skippedNear(String path, String type, List<String> skipped) {
    List<String> near = skipped.stream().filter(s -> s.equals(type) || s.equals(path)
        || s.startsWith(path + "[") || s.startsWith(path + ".")).toList();
    if (near.isEmpty()) {
      return "";
    }
    return "; elements FHIR R4 does not define were skipped in " + String.join(", ", near) + ": if " + path
        + " was sent, it was sent in another shape than R4's (a resource of FHIR R5 or STU3?) or under another "
        + "name. This endpoint takes FHIR R4: send " + path + " as R4 defines it (Prefer: handling=strict refuses "
        + "elements R4 does not define, naming where)";
  }

  /**
   * Resources whose content decides who may read a patient's records, read only when written as resources
   * of their own: a contained deny Consent was stored, rendered into its container's chunk and enforced
   * nowhere, so the records it denied were served.
   */
  private static final java.util.Map<String, String> ACCESS_DEFINING_WHAT = java.util.Map.of(
      "Consent", "what the patient allows",
      "CareTeam", "which practitioners care for the patient",
      "Encounter", "which practitioners care for the patient",
      "PractitionerRole", "whom a role's care links reach");
  private static final java.util.Set<String> ACCESS_DEFINING = ACCESS_DEFINING_WHAT.keySet();

  /**
   * A contained resource is part of its container: its text is rendered into the container's chunks,
   * filed under the container's patient and read under the container's security labels. So it may not
   * carry labels of its own (FHIR dom-5; the parser kept them and the store dropped them, and a
   * contained result labelled restricted was served under an unlabelled panel), nor be about another
   * patient than its container (it was served in the container's patient's context). Nested contained
   * resources (dom-2) are refused while the body is read ({@link JsonShapes}), before the parser
   * flattens them into the container. Nor may it be a Consent, CareTeam, Encounter or PractitionerRole,
   * which are enforced only as resources of their own. Messages name the element, never a value.
   */
  private static void checkContained(Resource resource, String type, java.util.Map<String, String> entries,
                                     List<FhirIssue> issues) {
    if (!(resource instanceof org.hl7.fhir.r4.model.DomainResource container) || !container.hasContained()) {
      return;
    }
    String patient = patientReference(resource, entries);
    List<Resource> contained = container.getContained();
    for (int i = 0; i < contained.size(); i++) {
      Resource c = contained.get(i);
      String at = type + ".contained[" + i + "]";
      if (c.hasMeta() && c.getMeta().hasSecurity()) {
        issues.add(FhirIssue.error("invariant", null, at + ".meta.security", at + ".meta.security: a contained "
            + "resource SHALL NOT carry security labels (FHIR invariant dom-5): label the containing " + type
            + ", whose labels govern who may read all of it"));
      }
      if (ACCESS_DEFINING.contains(c.fhirType())) {
        issues.add(FhirIssue.error("business-rule", null, at, at + ": a contained " + c.fhirType() + " is not "
            + "enforced (only a " + c.fhirType() + " of its own decides " + ACCESS_DEFINING_WHAT.get(c.fhirType())
            + "): send it as a resource of its own, and reference it"));
        continue;
      }
      if (c instanceof org.hl7.fhir.r4.model.Patient) {
        continue; // a contained Patient is filed under no one, and no chunk renders it
      }
      for (String element : PATIENT_LINKS) {
        Property p = c.getNamedProperty(element);
        if (p == null) {
          continue;
        }
        for (Base v : p.getValues()) {
          if (patient != null && v instanceof Reference ref && ref.hasReference()
              && namesPatient(ref.getReference(), entries) && !patient.equals(unversioned(ref.getReference()))) {
            String path = at + "." + element;
            issues.add(FhirIssue.error("business-rule", null, path, path + " names another patient than the "
                + type + " that contains it: a contained resource is part of its container and is read as "
                + "the container's patient's record; send a record about another patient as a resource of its own"));
          }
        }
      }
    }
  }

  /**
   * The required element that files the record under its patient names a Patient: a Device, a
   * Location, a Group, a Practitioner or an identifier alone filed it under no patient, where no
   * retrieval could ever find it (R4 allows some of these: an Observation about a device). Messages
   * name the element, never the reference.
   */
  private static void checkPatientLinks(Resource resource, String type, java.util.Map<String, String> entries,
                                        List<FhirIssue> issues) {
    for (String element : REQUIRED.getOrDefault(type, List.of())) {
      Property p = PATIENT_LINKS.contains(element) ? resource.getNamedProperty(element) : null;
      if (p == null) {
        continue;
      }
      for (Base v : p.getValues()) {
        if (v instanceof Reference ref && !ref.isEmpty() && !namesAPatient(ref, entries)) {
          String path = type + "." + element;
          issues.add(FhirIssue.error("business-rule", null, path, path + " must reference a Patient (Patient/<id>, "
              + "a conditional Patient?identifier=…, or the fullUrl of a Patient entry of the same transaction): every "
              + "record is filed under the patient it is about, and one about a device, a location, a group or a "
              + "practitioner, or naming its patient by an identifier alone, could never be retrieved"));
          break;
        }
      }
    }
  }

  private static boolean namesAPatient(Reference ref, java.util.Map<String, String> entries) {
    String r = ref.getReference();
    if (r == null) {
      return false; // an identifier or a display alone
    }
    if (!wellFormed(r)) {
      return true; // reported as not a valid reference already
    }
    if (r.startsWith("urn:")) {
      // in a transaction, the fullUrl of one of its Patient entries; one that names no entry, or a
      // urn:uuid outside a transaction, the writer refuses with its own message
      String named = entries == null ? null : entries.get(r);
      return named == null || "Patient".equals(named);
    }
    return r.startsWith("Patient/") || r.startsWith("Patient?") || PatientCompartment.isAbsolutePatientUrl(r);
  }

  /**
   * The reference, without its version, that files the resource under its patient ({@code Patient/<id>}
   * for a Patient with an id), as sent; null when none does (no contained resource is then compared).
   */
  private static String patientReference(Resource resource, java.util.Map<String, String> entries) {
    if (resource instanceof org.hl7.fhir.r4.model.Patient p) {
      return p.getIdElement().hasIdPart() ? "Patient/" + p.getIdElement().getIdPart() : null;
    }
    for (String element : List.of("patient", "subject", "beneficiary")) {
      Property p = resource.getNamedProperty(element);
      if (p != null) {
        for (Base v : p.getValues()) {
          if (v instanceof Reference ref && ref.hasReference() && namesPatient(ref.getReference(), entries)) {
            return unversioned(ref.getReference());
          }
        }
      }
    }
    return null;
  }

  /** A reference to a Patient: relative, conditional, absolute, or a transaction's Patient entry. */
  private static boolean namesPatient(String r, java.util.Map<String, String> entries) {
    return r.startsWith("Patient/") || r.startsWith("Patient?") || PatientCompartment.isAbsolutePatientUrl(r)
        || r.startsWith("urn:") && entries != null && "Patient".equals(entries.get(r));
  }

  private static String unversioned(String reference) {
    return reference.replaceAll("/_history/[^/]*$", "");
  }

  /**
   * Every reference, at any depth (a participant's individual, a contained resource's subject), is
   * {@code Type/id}, {@code urn:uuid:…}, an absolute URL or a conditional {@code Type?…}, and its type is
   * one of R4's resource types: {@code Zzyzx/p-1} was stored as sent, and a record whose subject named
   * no type the platform knows was filed under no patient and could never be retrieved. The issue names
   * the element, never the reference.
   */
  private static void checkReferences(Resource resource, String type, List<FhirIssue> issues) {
    checkReferences((Base) resource, type, issues);
  }

  private static void checkReferences(Base element, String path, List<FhirIssue> issues) {
    for (Property p : element.children()) {
      if (!p.hasValues()) {
        continue;
      }
      String at = path + "." + p.getName().replace("[x]", "");
      for (Base v : p.getValues()) {
        if (v == null || v instanceof org.hl7.fhir.r4.model.PrimitiveType<?> || v.isEmpty()) {
          continue;
        }
        if (v instanceof Reference ref) {
          if (ref.hasReference() && !wellFormed(ref.getReference())) {
            issues.add(FhirIssue.error("invalid", null, at, at + " is not a valid reference (use Type/id with an R4 "
                + "resource type, urn:uuid:… or Type?identifier=system|value)"));
          }
          continue;
        }
        checkReferences(v, at, issues);
      }
    }
  }

  /**
   * An identifier's system is a URI, in which '|' cannot stand unescaped (RFC 3986); and the store's
   * identifier index hashes system and value as {@code system|value}, so a system with a '|' in it hashed
   * alike with another identifier ({@code a|b} and {@code c} as {@code a} and {@code b|c}), and a
   * conditional create or reference of the one matched a resource, perhaps another patient's, carrying
   * the other. Refused wherever an Identifier stands (contained resources included), naming the element,
   * never the system.
   */
  private static void checkIdentifierSystems(Base element, String path, List<FhirIssue> issues) {
    for (Property p : element.children()) {
      if (!p.hasValues()) {
        continue;
      }
      List<Base> values = p.getValues();
      for (int i = 0; i < values.size(); i++) {
        Base v = values.get(i);
        if (v == null || v instanceof org.hl7.fhir.r4.model.PrimitiveType<?> || v.isEmpty()) {
          continue;
        }
        String at = path + "." + p.getName().replace("[x]", "") + (p.getMaxCardinality() > 1 ? "[" + i + "]" : "");
        if (v instanceof org.hl7.fhir.r4.model.Identifier id && id.hasSystem() && id.getSystem().indexOf('|') >= 0) {
          issues.add(FhirIssue.error("invalid", null, at + ".system", at + ".system is a URI, which cannot "
              + "contain '|': conditional matching reads the first '|' of "
              + "identifier=system|value as the end of the system"));
        }
        checkIdentifierSystems(v, at, issues);
      }
    }
  }

  /** R4's resource types, by the names references use. */
  private static final java.util.Set<String> RESOURCE_TYPES = java.util.Arrays.stream(
      org.hl7.fhir.r4.model.ResourceType.values()).map(Enum::name).collect(java.util.stream.Collectors.toUnmodifiableSet());

  /**
   * The resource type a reference names: the segment before the id of an absolute URL, the first
   * segment of a relative or conditional one; null for {@code urn:…} and {@code #…}, which name none.
   */
  static String referencedType(String ref) {
    if (ref.startsWith("http://") || ref.startsWith("https://")) {
      int last = ref.lastIndexOf('/');
      int before = ref.lastIndexOf('/', last - 1);
      return before < 0 ? null : ref.substring(before + 1, last);
    }
    for (int i = 0; i < ref.length(); i++) {
      char c = ref.charAt(i);
      if (c == '/' || c == '?') {
        return ref.substring(0, i);
      }
      if (c == ':' || c == '#') {
        return null;
      }
    }
    return null;
  }

  static boolean wellFormed(String ref) {
    String type = referencedType(ref);
    if (type != null && !RESOURCE_TYPES.contains(type)) {
      return false;
    }
    return ref.matches("^[A-Z][A-Za-z]+/" + FhirId.REGEX + "(/_history/" + FhirId.REGEX + ")?$")
        || ref.matches("^urn:uuid:[0-9a-fA-F\\-]{36}$")
        || ref.matches("^urn:oid:[0-9.]+$")
        || ref.matches("^[A-Z][A-Za-z]+\\?[^\\s]+$")
        || ref.matches("^https?://\\S+/[A-Z][A-Za-z]+/" + FhirId.REGEX + "$")
        || ref.startsWith("#");
  }
}
