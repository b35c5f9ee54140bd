package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Collections;
import org.hl7.fhir.r4.model.Bundle;
import org.junit.jupiter.api.Test;

/**
 * A Bundle of more entries than the cap is refused before the parser reads it: the parser holds every
 * entry at once, and a 50 MB body of empty entries ({@code {}}, some 16 million) ran it out of memory.
 */
class BundleEntryCapTest {

  static final String ENTRY = "{\"request\":{\"method\":\"DELETE\",\"url\":\"Patient/p1\"}}";

  static String bundle(int entries, String entry) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + String.join(",", Collections.nCopies(entries, entry)) + "]}";
  }

  @Test
  void aBundleOverTheCapIsRefusedNamingTheCapAndTheWayOut() {
    FhirInputException e = catchThrowableOfType(FhirInputException.class,
        () -> Fhir.parseBundleBody(bundle(4, ENTRY), 3));
    assertThat(e).isNotNull();
    assertThat(e.httpStatus()).isEqualTo(400);
    assertThat(e.issues()).singleElement().satisfies(i -> {
      assertThat(i.code()).isEqualTo("too-costly");
      assertThat(i.path()).isEqualTo("Bundle.entry");
      assertThat(i.message()).contains("more than 3 entries", "CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", "$import",
          "nothing was stored");
    });
    assertThat(((Bundle) Fhir.parseBundleBody(bundle(3, ENTRY), 3)).getEntry()).hasSize(3);
    // without a cap, as before
    assertThat(((Bundle) Fhir.parseBundleBody(bundle(4, ENTRY))).getEntry()).hasSize(4);
  }

  @Test
  void theCountNeedsNoParseAndDoesNotDependOnWhereResourceTypeStands() {
    // two million empty entries, six megabytes: refused by the count, not parsed into entries
    assertThat(catchThrowableOfType(FhirInputException.class, () -> Fhir.parseBundleBody(bundle(2_000_000, "{}"), 10)))
        .hasMessageContaining("more than 10 entries");
    String last = "{\"type\":\"batch\",\"entry\":[" + String.join(",", Collections.nCopies(11, ENTRY))
        + "],\"resourceType\":\"Bundle\"}";
    assertThat(catchThrowableOfType(FhirInputException.class, () -> Fhir.parseBundleBody(last, 10)))
        .hasMessageContaining("more than 10 entries");
    // entries nested deeper (a contained Bundle's, an extension named entry) are not the Bundle's
    assertThat(JsonBody.topLevelEntries("{\"resourceType\":\"Bundle\",\"x\":{\"entry\":[1,2,3]},\"entry\":[{}]}", 10))
        .isEqualTo(1);
    // malformed JSON is the scan's to refuse, with its own message
    assertThat(catchThrowableOfType(FhirInputException.class, () -> Fhir.parseBundleBody("{\"entry\":[{},", 10)))
        .hasMessageContaining("malformed JSON");
  }
}
