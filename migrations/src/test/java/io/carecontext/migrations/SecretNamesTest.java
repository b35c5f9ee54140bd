package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

  /**
   * A platform variable is told as such, not sent for a grant: the message sent the operator to add
   * one, which then was refused for being the platform's. Grants that can never work are listed for
   * the start's warning.
   */
  @Test
  void aPlatformVariableIsToldSoAndIneffectiveGrantsAreFound() {
    assertThatThrownBy(() -> SecretNames.requireGrantedTo("acme", "settings.embedding", "CARECONTEXT_ADMIN_KEY"))
        .hasMessageContaining("a variable of the platform's own configuration").hasMessageNotContaining("lists it in");
    assertThatThrownBy(() -> SecretNames.requireGrantedTo("acme", "settings.embedding", "OPENAI_KEY"))
        .hasMessageContaining("has not granted to this tenant");
    System.setProperty("carecontext.tenant.secrets", "acme:OPENAI_KEY, acme:CARECONTEXT_ADMIN_KEY,pgpass,b:PGPASSWORD,");
    try {
      assertThat(SecretNames.ineffectiveGrants()).containsExactly("acme:CARECONTEXT_ADMIN_KEY", "pgpass", "b:PGPASSWORD");
    } finally {
      System.clearProperty("carecontext.tenant.secrets");
    }
  }
}
