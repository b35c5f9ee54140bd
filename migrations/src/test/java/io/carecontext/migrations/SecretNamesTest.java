package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SecretNamesTest {

  private static final String GRANTS = " acme:OPENAI_KEY_ACME, a_b:SHARED_KEY ,a:CARECONTEXT_ADMIN_KEY,a:PGPASSWORD";

  @Test
  void aTenantMayNameOnlyWhatTheOperatorGrantedIt() {
    assertThat(SecretNames.isGrantedTo("acme", "OPENAI_KEY_ACME", GRANTS)).isTrue();
    assertThat(SecretNames.isGrantedTo("a_b", "SHARED_KEY", GRANTS)).isTrue();
    // another tenant's key, anything else in the environment, or nothing granted at all
    assertThat(SecretNames.isGrantedTo("beta", "OPENAI_KEY_ACME", GRANTS)).isFalse();
    assertThat(SecretNames.isGrantedTo("a", "SHARED_KEY", GRANTS)).isFalse();
    assertThat(SecretNames.isGrantedTo("acme", "HOME", GRANTS)).isFalse();
    assertThat(SecretNames.isGrantedTo("acme", "OPENAI_KEY_ACME", null)).isFalse();
    assertThat(SecretNames.isGrantedTo("acme", "OPENAI_KEY_ACME", "")).isFalse();
    // not by a prefix or a pattern: the exact pair
    assertThat(SecretNames.isGrantedTo("acm", "OPENAI_KEY_ACME", GRANTS)).isFalse();
    assertThat(SecretNames.isGrantedTo("acme", "OPENAI_KEY", GRANTS)).isFalse();
    // the platform's own variables never, even when listed
    assertThat(SecretNames.isGrantedTo("a", "CARECONTEXT_ADMIN_KEY", GRANTS)).isFalse();
    assertThat(SecretNames.isGrantedTo("a", "PGPASSWORD", GRANTS)).isFalse();
  }
}
