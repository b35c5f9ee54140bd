package io.carecontext.fhir;

import java.time.LocalDate;
import java.util.List;
import java.util.Objects;

/**
 * The direct identifiers the platform already knows about one patient from FHIR data: the
 * patient's own, and those of related persons and practitioners in the record. De-identification
 * matches these in chunk text before anything leaves the platform.
 *
 * <p>Holds PHI: never log it, never put it in an exception message.
 */
public record KnownIdentifiers(
    List<Name> names,
    List<String> identifiers,
    List<String> telecoms,
    List<Address> addresses,
    List<LocalDate> dates) {

  public KnownIdentifiers {
    names = List.copyOf(Objects.requireNonNull(names, "names"));
    identifiers = List.copyOf(Objects.requireNonNull(identifiers, "identifiers"));
    telecoms = List.copyOf(Objects.requireNonNull(telecoms, "telecoms"));
    addresses = List.copyOf(Objects.requireNonNull(addresses, "addresses"));
    dates = List.copyOf(Objects.requireNonNull(dates, "dates"));
  }

  /** Counts only: the values are PHI. */
  @Override
  public String toString() {
    return "KnownIdentifiers[" + names.size() + " names, " + identifiers.size() + " identifiers, " + telecoms.size()
        + " telecoms, " + addresses.size() + " addresses, " + dates.size() + " dates]";
  }

  public static KnownIdentifiers empty() {
    return new KnownIdentifiers(List.of(), List.of(), List.of(), List.of(), List.of());
  }

  /** Whose name it is decides the replacement token class ([PATIENT_1], [PERSON_2], [PROVIDER_1]). */
  public enum NameKind { PATIENT, RELATED_PERSON, PRACTITIONER }

  public record Name(NameKind kind, String family, List<String> given, String text) {
    public Name {
      Objects.requireNonNull(kind, "kind");
      given = given == null ? List.of() : List.copyOf(given);
    }

    @Override
    public String toString() {
      return "Name[" + kind + "]";
    }
  }

  public record Address(
      List<String> lines, String city, String district, String state, String postalCode, String country) {
    public Address {
      lines = lines == null ? List.of() : List.copyOf(lines);
    }

    @Override
    public String toString() {
      return "Address[…]";
    }
  }
}
