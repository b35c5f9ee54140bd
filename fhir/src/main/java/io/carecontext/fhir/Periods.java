package io.carecontext.fhir;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.Optional;
import org.hl7.fhir.r4.model.BaseDateTimeType;

/**
 * The bounds of an R4 Period as instants, for what is in force between them (a Consent, a care
 * team's or participant's link): FHIR's end is inclusive at its precision.
 */
public final class Periods {

  private Periods() {}

  /** A period's start: a date (or year, or month) begins at its first moment, UTC. */
  public static Instant startOf(BaseDateTimeType start) {
    return partialDate(start).map(d -> d.atStartOfDay(ZoneOffset.UTC).toInstant())
        .orElseGet(() -> start.getValue().toInstant());
  }

  /**
   * The first instant after a period's end: FHIR's end is inclusive at its precision, so
   * {@code 2026-12-04} ends as 2026-12-05 begins (UTC). It was taken as the day's first moment, and a
   * consent "until 2026-12-04" lapsed a day early.
   */
  public static Instant endOf(BaseDateTimeType end) {
    TemporalPrecisionEnum precision = end.getPrecision();
    return partialDate(end).map(d -> (precision == TemporalPrecisionEnum.YEAR ? d.plusYears(1)
            : precision == TemporalPrecisionEnum.MONTH ? d.plusMonths(1) : d.plusDays(1))
            .atStartOfDay(ZoneOffset.UTC).toInstant())
        .orElseGet(() -> end.getValue().toInstant());
  }

  /** The date a year, month or day value names (its first day); empty for a value with a time. */
  private static Optional<LocalDate> partialDate(BaseDateTimeType value) {
    TemporalPrecisionEnum precision = value.getPrecision();
    if (precision != TemporalPrecisionEnum.YEAR && precision != TemporalPrecisionEnum.MONTH
        && precision != TemporalPrecisionEnum.DAY) {
      return Optional.empty();
    }
    return Optional.of(LocalDate.of(value.getYear(), precision == TemporalPrecisionEnum.YEAR ? 1 : value.getMonth() + 1,
        precision == TemporalPrecisionEnum.DAY ? value.getDay() : 1));
  }
}
