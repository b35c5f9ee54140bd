package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code Prefer} as RFC 7240 writes it: quoted strings keep their commas, semicolons and escaped quotes. */
class PreferencesTest {

  @Test
  void aCommaOrSemicolonInsideAnotherPreferencesQuotedValueSplitsNothing() {
    assertThat(Preferences.values(List.of("wait=\"10, return=minimal\", return=representation"), "return"))
        .containsExactly("representation");
    assertThat(Preferences.values(List.of("foo=\"a;b\"; return=minimal, handling=strict"), "handling"))
        .containsExactly("strict");
    assertThat(Preferences.values(List.of("foo=\"a;b\"; return=minimal"), "return")).isEmpty();
  }

  @Test
  void aQuotedValueIsItsContent() {
    assertThat(Preferences.values(List.of("return=\"OperationOutcome\""), "return")).containsExactly("operationoutcome");
    assertThat(Preferences.values(List.of("note=\"say \\\"hi\\\", then go\", handling=lenient"), "note"))
        .containsExactly("say \"hi\", then go");
    assertThat(Preferences.values(List.of("return=\"minimal"), "return")).containsExactly("minimal");
  }

  @Test
  void unquotedValuesAcrossHeadersAsBefore() {
    assertThat(Preferences.values(List.of("handling=strict", " Return = Minimal ; x=1"), "return"))
        .containsExactly("minimal");
    assertThat(Preferences.values(null, "return")).isEmpty();
    assertThat(Preferences.values(List.of("respond-async; return=minimal"), "return")).isEmpty();
  }
}
