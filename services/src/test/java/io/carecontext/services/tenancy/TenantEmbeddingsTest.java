package io.carecontext.services.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TenantEmbeddingsTest {

  @Test
  void aRepeatedQueryIsEmbeddedOnceAndANewOneByTheModel() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      Map<String, Object> settings = Map.of();
      float[] first = embeddings.embedQuery(settings, "recent HbA1c trend");
      float[] again = embeddings.embedQuery(settings, "recent HbA1c trend");
      float[] other = embeddings.embedQuery(settings, "blood pressure control");
      assertThat(again).isSameAs(first);
      assertThat(other).isNotEqualTo(first).hasSize(first.length);
      assertThat(embeddings.queryCacheCounts()).containsExactly(1, 2);
    }
  }

  @Test
  void tenantsWithAnotherEmbeddingSettingDoNotShareCachedVectors() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      embeddings.embedQuery(Map.of(), "allergies");
      embeddings.embedQuery(Map.of("embedding", Map.of("provider", "in-process")), "allergies");
      assertThat(embeddings.queryCacheCounts()[1]).isEqualTo(2);
    }
  }
}
