package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.context.FhirContext;
import io.carecontext.fhir.Category;
import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * Tenant migration 77's {@code pending_chunk_categories(type)} copies {@link ChunkRenderer#categoriesOf}: the read
 * path counts a pending resource only when every category its type's chunks can have is one the role reads, so a
 * type the renderer learns a category for and the SQL does not would be counted for a role that may not read it.
 * Every FHIR R4 resource type, both sides, compared.
 */
class PendingChunkCategoriesIT {

  @Test
  void theSqlTableNamesTheRenderersCategoriesForEveryType() throws SQLException {
    Set<String> types = new TreeSet<>(FhirContext.forR4Cached().getResourceTypes());
    Map<String, Set<String>> renderer = new TreeMap<>();
    for (String type : types) {
      renderer.put(type, ChunkRenderer.categoriesOf(type).stream().map(Category::code)
          .collect(Collectors.toCollection(TreeSet::new)));
    }
    Map<String, Set<String>> sql = new TreeMap<>();
    try (TestPlatform platform = new TestPlatform()) {
      platform.tenant("drift");
      try (Connection su = TestPostgres.superuser(platform.config); PreparedStatement ps = su.prepareStatement(
          "SELECT t, coalesce(tenant_drift.pending_chunk_categories(t), '{}') FROM unnest(?::text[]) t")) {
        ps.setArray(1, su.createArrayOf("text", types.toArray()));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            sql.put(rs.getString(1), new TreeSet<>(java.util.Arrays.asList((String[]) rs.getArray(2).getArray())));
          }
        }
      }
    }
    assertThat(renderer.values()).as("the renderer renders some types").anySatisfy(c -> assertThat(c).isNotEmpty());
    assertThat(sql).isEqualTo(renderer);
  }
}
