package io.carecontext.fhir;

import java.util.List;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.Period;
import org.hl7.fhir.r4.model.PrimitiveType;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;

/**
 * FHIR's invariant per-1 on every Period of a resource, its contained resources' included: the start
 * is no later than the end ({@link Periods#inverted}). The parser keeps an inverted period as sent, and
 * the periods that bound access read one as a span that never holds: a Consent's deny that is never in
 * force (the record exposed), a care team or participant whose link never holds or, merged with the
 * same practitioner's other periods, widens them. The issue names the element path, never the dates
 * (a birth or admission date is PHI).
 */
final class PeriodValidator {

  private PeriodValidator() {}

  static void check(Resource resource, String type, List<FhirIssue> issues) {
    walk(resource, type, issues);
  }

  private static void walk(Base element, String path, List<FhirIssue> issues) {
    for (Property p : element.children()) {
      if (!p.hasValues()) {
        continue;
      }
      List<Base> values = p.getValues();
      String name = p.getName();
      for (int i = 0; i < values.size(); i++) {
        Base v = values.get(i);
        if (v == null || v instanceof PrimitiveType<?> || v.isEmpty()) {
          continue;
        }
        String step = name.endsWith("[x]") ? name.substring(0, name.length() - 3) + capitalized(v.fhirType()) : name;
        String at = path + "." + step + (p.getMaxCardinality() > 1 ? "[" + i + "]" : "");
        if (v instanceof Period period) {
          if (Periods.inverted(period)) {
            issues.add(FhirIssue.error("invariant", null, at, at + ": end is before start (FHIR invariant per-1): "
                + "send the period with its start on or before its end"));
          }
          continue;
        }
        walk(v, at, issues);
      }
    }
  }

  private static String capitalized(String type) {
    return type.isEmpty() ? type : Character.toUpperCase(type.charAt(0)) + type.substring(1);
  }
}
