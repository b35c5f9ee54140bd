package io.carecontext.fhir;

import java.util.List;
import java.util.Objects;

/**
 * One short clinical statement rendered from a resource, ready to embed. The text is PHI: never
 * log it; {@link #toString()} leaves it out. {@code effectiveDate} is at the precision the resource
 * wrote it with (a year, a month or a day).
 */
public record ClinicalChunk(String resourceType, String resourceId, String patientId, Category category,
                            List<String> securityLabels, ClinicalDate effectiveDate, int seq, String text) {

  public ClinicalChunk {
    Objects.requireNonNull(resourceType, "resourceType");
    Objects.requireNonNull(category, "category");
    Objects.requireNonNull(text, "text");
    securityLabels = securityLabels == null ? List.of() : List.copyOf(securityLabels);
  }

  @Override
  public String toString() {
    return "ClinicalChunk[" + resourceType + "#" + seq + ", " + category.code() + "]"; // no id: it may be an MRN
  }
}
