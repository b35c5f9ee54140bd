package io.carecontext.fhir;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import org.hl7.fhir.r4.model.BaseDateTimeType;
import org.hl7.fhir.r4.model.Period;

/**
 * The bounds of an R4 Period as instants, for what is in force between them (a Consent, a care
 * team's or participant's link): FHIR's end is inclusive at its precision.
 *
 * <p>A bound given as a date (a year, a month or a day) has no time zone. Beside a bound with a time
 * and a zone, it is read in that zone: {@code "start": "2024-01-05T23:30:00-05:00", "end": "2024-01-05"}
 * is one evening in New York, not a period that ends (at midnight UTC) before it starts. Beside another
 * date, or alone, it is read in UTC, as before.
 */
public final class Periods {

  private Periods() {}

  /** A period's start: a date (or year, or month) begins at its first moment, UTC. */
  public static Instant startOf(BaseDateTimeType start) {
    return startOf(start, ZoneOffset.UTC);
  }

  /**
   * The first instant after a period's end: FHIR's end is inclusive at its precision, so
   * {@code 2026-12-04} ends as 2026-12-05 begins (UTC). It was taken as the day's first moment, and a
   * consent "until 2026-12-04" lapsed a day early.
   */
  public static Instant endOf(BaseDateTimeType end) {
    return endOf(end, ZoneOffset.UTC);
  }

  /** The period's start, a date read in the zone of its end (see the class comment); null when it has none. */
  public static Instant startOf(Period period) {
    return period == null || !has(period.getStartElement()) ? null
        : startOf(period.getStartElement(), zoneBeside(period.getEndElement()));
  }

  /** The first instant after the period's end, a date read in the zone of its start; null when it has none. */
  public static Instant endOf(Period period) {
    return period == null || !has(period.getEndElement()) ? null
        : endOf(period.getEndElement(), zoneBeside(period.getStartElement()));
  }

  /**
   * Whether the period ends before it starts (FHIR's invariant per-1: start SHALL be no later than end),
   * comparing what each bound can mean at its precision: {@code 2024} to {@code 2024-01-05} is sound (the
   * year holds that day), {@code 2024-02} to {@code 2024-01-31} is not, and an end at the very moment of
   * the start is sound.
   */
  public static boolean inverted(Period period) {
    Instant start = startOf(period);
    Instant afterEnd = endOf(period);
    if (start == null || afterEnd == null) {
      return false;
    }
    // a date's end is the first instant after it; a time is itself, and may equal the start
    return partialDate(period.getEndElement()).isPresent() ? !afterEnd.isAfter(start) : afterEnd.isBefore(start);
  }

  /** A bound with a value: one sent with extensions alone (a data-absent-reason) has none, and bounds nothing. */
  static boolean has(BaseDateTimeType value) {
    return value != null && value.getValue() != null;
  }

  private static Instant startOf(BaseDateTimeType start, ZoneId zone) {
    return partialDate(start).map(d -> d.atStartOfDay(zone).toInstant())
        .orElseGet(() -> start.getValue().toInstant());
  }

  private static Instant endOf(BaseDateTimeType end, ZoneId zone) {
    TemporalPrecisionEnum precision = end.getPrecision();
    return partialDate(end).map(d -> (precision == TemporalPrecisionEnum.YEAR ? d.plusYears(1)
            : precision == TemporalPrecisionEnum.MONTH ? d.plusMonths(1) : d.plusDays(1))
            .atStartOfDay(zone).toInstant())
        .orElseGet(() -> end.getValue().toInstant());
  }

  /** The zone of the other bound when it has a time of day with one, else UTC. */
  private static ZoneId zoneBeside(BaseDateTimeType other) {
    if (!has(other) || partialDate(other).isPresent() || other.getTimeZone() == null) {
      return ZoneOffset.UTC;
    }
    return other.getTimeZone().toZoneId();
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
