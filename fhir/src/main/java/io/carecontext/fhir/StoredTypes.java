package io.carecontext.fhir;

import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The resource types the FHIR endpoint stores: what create, update, delete, read, Bundle entries
 * and {@code $import} lines take, and what the CapabilityStatement lists. Every R4 type but two:
 * an EHR feed sends far more than the types retrieval chunks (Location, Medication, Provenance,
 * Specimen…), and refusing one would refuse its whole transaction. A Bundle is posted to the base
 * URL and written entry by entry, never stored itself; a Parameters carries an operation's inputs
 * and outputs, and R4 gives it no endpoint of its own.
 */
public final class StoredTypes {

  /**
   * What a resourceType R4 does not define is told after saying so, never echoing the value (the sender's,
   * which may be anything): what to check, and where the types taken here are listed.
   */
  public static final String UNKNOWN_TYPE_ADVICE = "check its spelling and case (R4 names such as Observation or "
      + "MedicationRequest): GET /fhir/{tenant}/metadata lists the types this endpoint takes";

  /** A top-level resourceType R4 does not define. */
  public static final String UNKNOWN_TYPE = "unknown resource type: not an R4 resource type; " + UNKNOWN_TYPE_ADVICE;

  private static final Set<String> NOT_STORED = Set.of("Bundle", "Parameters");

  private static volatile List<String> all;

  private StoredTypes() {}

  /** In alphabetical order. */
  public static List<String> all() {
    List<String> a = all;
    if (a == null) {
      a = Fhir.context().getResourceTypes().stream().filter(t -> !NOT_STORED.contains(t)).sorted().toList();
      all = a;
    }
    return a;
  }

  public static boolean contains(String type) {
    return type != null && !NOT_STORED.contains(type) && Fhir.context().getResourceTypes().contains(type);
  }

  /**
   * Why {@code type} is not stored, naming it only when it is an R4 type (a name that is none may be
   * anything the caller typed); empty for a stored type.
   */
  public static Optional<String> refusal(String type) {
    if (contains(type)) {
      return Optional.empty();
    }
    if ("Bundle".equals(type)) {
      return Optional.of("post Bundles to the tenant's base URL as a transaction or batch");
    }
    if ("Parameters".equals(type)) {
      return Optional.of("a Parameters resource carries an operation's inputs and outputs and is not stored");
    }
    return Optional.of(UNKNOWN_TYPE);
  }
}
