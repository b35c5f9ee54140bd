package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class MigrationsTest {

  @Test
  void anUpgradedTenantIsLoggedWithHowFarTheRunIs() {
    // an upgrade of many tenants printed nothing between its start and "platform database ready"
    assertThat(Migrations.upgraded(TenantId.of("acme"), 3, "48", 12, 120, 812))
        .isEqualTo("tenant acme: 3 template migration(s) applied, now at V48 (12 of 120 tenants, 812 ms)");
  }
}
