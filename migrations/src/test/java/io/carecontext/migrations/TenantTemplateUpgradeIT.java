package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tenant that an earlier release provisioned, at any template version, and that a start of this
 * release migrated forward has exactly the schema of a tenant provisioned now: the same tables,
 * columns, indexes, constraints, row-level security, policies, functions, views, triggers and
 * grants. Every other test provisions fresh, so without this one the path every existing tenant
 * takes is never checked.
 */
class TenantTemplateUpgradeIT {

  private static final Logger LOG = LoggerFactory.getLogger(TenantTemplateUpgradeIT.class);

  static TestPlatform platform;
  static TenantId fresh;
  static int latest;
  /** The template versions before the latest (a reserved number that has no migration yet is not one). */
  static List<Integer> earlier;
  /** The tenant provisioned at template version earlier.get(i) is at index i. */
  static final List<TenantId> older = new ArrayList<>();
  /**
   * The catalog of the newest earlier tenant whose schema differs from a fresh one, read before the start that
   * upgrades it: the one version behind, unless the latest migrations change data only (tenant migration 58
   * re-queues care links and changes no schema), when it is the one behind them.
   */
  static TenantCatalog behindBeforeUpgrade;

  @BeforeAll
  static void setUp() throws SQLException {
    platform = new TestPlatform();
    long started = System.nanoTime();
    fresh = platform.tenant("fresh");
    latest = OlderTemplates.version(platform, fresh);
    earlier = OlderTemplates.versions(platform, fresh).stream().filter(v -> v < latest).toList();
    for (int v : earlier) {
      older.add(OlderTemplates.provision(platform, "v%02d".formatted(v), v));
    }
    long provisioned = System.nanoTime();
    TenantCatalog freshBefore = catalog(fresh);
    for (int i = older.size() - 1; i >= 0 && behindBeforeUpgrade == null; i--) {
      TenantCatalog c = catalog(older.get(i));
      if (!c.diff(freshBefore, "fresh", "behind").isEmpty()) {
        behindBeforeUpgrade = c;
      }
    }
    OlderTemplates.startCurrentRelease(platform);
    LOG.info("provisioned {} tenants (V1..V{}) in {} ms; the start that upgraded {} of them took {} ms", earlier.size() + 1,
        latest, (provisioned - started) / 1_000_000, earlier.size(), (System.nanoTime() - provisioned) / 1_000_000);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void everyEarlierTemplateVersionUpgradesToTheSchemaOfAFreshTenant() throws SQLException {
    TenantCatalog expected = catalog(fresh);
    StringBuilder differences = new StringBuilder();
    for (int i = 0; i < earlier.size(); i++) {
      int v = earlier.get(i);
      TenantId tenant = older.get(i);
      assertThat(OlderTemplates.version(platform, tenant)).as("template version of %s after the start", tenant)
          .isEqualTo(latest);
      String diff = catalog(tenant).diff(expected, "fresh V" + latest, "upgraded from V" + v);
      if (!diff.isEmpty()) {
        differences.append("tenant provisioned at V").append(v).append(" and upgraded to V").append(latest)
            .append(" differs from one provisioned at V").append(latest).append(":\n").append(diff);
      }
    }
    assertThat(differences.toString()).as("schema differences after upgrade").isEmpty();
  }

  /** The comparison sees what it compares: a tenant still behind the last schema change differs, and every kind is read. */
  @Test
  void theComparisonTellsATenantBehindTheLastSchemaChangeFromAFreshOne() throws SQLException {
    TenantCatalog expected = catalog(fresh);
    assertThat(behindBeforeUpgrade).as("an earlier template version with another schema").isNotNull();
    assertThat(behindBeforeUpgrade.diff(expected, "fresh", "behind")).isNotEmpty();
    for (String kind : List.of("relations", "columns", "indexes", "constraints", "policies", "functions", "views",
        "table grants", "function grants")) {
      assertThat(expected.count(kind)).as(kind).isPositive();
    }
    // RLS flags are part of what is compared: every table of patient data is enabled and forced.
    assertThat(expected.kinds().get("relations"))
        .anyMatch(l -> l.startsWith("chunks | r | p | rls=true | forced=true"));
  }

  static TenantCatalog catalog(TenantId tenant) throws SQLException {
    try (Connection su = TestPostgres.superuser(platform.config)) {
      return TenantCatalog.read(su, platform.config, tenant);
    }
  }
}
