package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TenantIdTest {

  @ParameterizedTest
  @ValueSource(strings = {"a;drop", "A", "", "a", "1abc", "ab-c", "ab c", "tenänt", "ab\u0000c", "acme'--",
      "abcdefghijklmnopqrstuvwxyzabcdef"})
  void rejectsBadIds(String bad) {
    assertThat(TenantId.isValid(bad)).isFalse();
    var thrown = assertThatThrownBy(() -> TenantId.of(bad)).isInstanceOf(TenantId.InvalidTenantIdException.class);
    if (bad.length() > 3) {
      thrown.hasMessageNotContaining(bad); // the input is never echoed
    }
  }

  @org.junit.jupiter.api.Test
  void rejectsTwoHundredCharactersAndNull() {
    assertThat(TenantId.isValid("a".repeat(200))).isFalse();
    assertThat(TenantId.isValid(null)).isFalse();
  }

  @ParameterizedTest
  @ValueSource(strings = {"acme", "ab", "a1", "acme_health", "abcdefghijklmnopqrstuvwxyzabcde"})
  void acceptsGoodIds(String good) {
    assertThat(TenantId.of(good).schemaName()).isEqualTo("tenant_" + good);
  }

  @org.junit.jupiter.api.Test
  void identifiersAreQuotedOnlyWhenSafe() {
    assertThat(Identifiers.quote("tenant_acme")).isEqualTo("\"tenant_acme\"");
    assertThatThrownBy(() -> Identifiers.quote("x\"; drop")).isInstanceOf(IllegalArgumentException.class);
    assertThat(Identifiers.literal("it's")).isEqualTo("'it''s'");
  }
}
