package io.carecontext.fhir;

import java.time.LocalDate;
import java.time.Year;
import java.time.YearMonth;
import java.time.format.DateTimeParseException;
import java.util.Objects;

/**
 * The date of a clinical fact at the precision it was written with: FHIR lets a date be a year
 * ({@code 2019}) or a month ({@code 2019-03}). {@link #day()} is the first day it covers, for sorting
 * and filtering only; {@link #asWritten()} is what a reader may be shown. A partial date shown as its
 * first day ("onset 2019-01-01") states a fact nobody recorded.
 */
public record ClinicalDate(LocalDate day, Precision precision) implements Comparable<ClinicalDate> {

  /** How much of the date was written. */
  public enum Precision {
    YEAR(4), MONTH(7), DAY(10);

    private final int length;

    Precision(int length) {
      this.length = length;
    }

    /** The name stored beside the chunk's date (tenant migration 50). */
    public String code() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }

    /** The precision of a stored code; a chunk stored before the column existed (null) is a day. */
    public static Precision ofCode(String code) {
      return code == null ? DAY : valueOf(code.toUpperCase(java.util.Locale.ROOT));
    }
  }

  public ClinicalDate {
    Objects.requireNonNull(day, "day");
    Objects.requireNonNull(precision, "precision");
  }

  /** A whole day. */
  public static ClinicalDate ofDay(LocalDate day) {
    return day == null ? null : new ClinicalDate(day, Precision.DAY);
  }

  /**
   * {@code 2019}, {@code 2019-03} or {@code 2019-03-04} (anything after the day, a time or an offset,
   * is not read: the day is the one written); null for anything else.
   */
  public static ClinicalDate parse(String written) {
    if (written == null) {
      return null;
    }
    String s = written.length() > 10 ? written.substring(0, 10) : written;
    try {
      return switch (s.length()) {
        case 10 -> new ClinicalDate(LocalDate.parse(s), Precision.DAY);
        case 7 -> new ClinicalDate(YearMonth.parse(s).atDay(1), Precision.MONTH);
        case 4 -> new ClinicalDate(Year.parse(s).atDay(1), Precision.YEAR);
        default -> null;
      };
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /** {@code 2019}, {@code 2019-03} or {@code 2019-03-04}: as precise as it was written, never more. */
  public String asWritten() {
    return day.toString().substring(0, precision.length);
  }

  /** Earlier first; of two that start on the same day, the less precise first (2019 before 2019-01-01). */
  @Override
  public int compareTo(ClinicalDate o) {
    int c = day.compareTo(o.day);
    return c != 0 ? c : precision.compareTo(o.precision);
  }

  /** As written, like {@link LocalDate#toString()}: a date, no more PHI than the LocalDate it replaces. */
  @Override
  public String toString() {
    return asWritten();
  }
}
