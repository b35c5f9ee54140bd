package io.carecontext.services.tenancy;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.ingest.embedding.BatchingConfig;
import io.carecontext.ingest.embedding.BatchingEmbedder;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.TenantId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TenantEmbeddingsTest {

  static final TenantId CLINIC = TenantId.of("clinic");

  @Test
  void aRepeatedQueryIsEmbeddedOnceAndANewOneByTheModel() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      Map<String, Object> settings = Map.of();
      float[] first = embeddings.embedQuery(CLINIC, settings, "recent HbA1c trend");
      float[] again = embeddings.embedQuery(CLINIC, settings, "recent HbA1c trend");
      float[] other = embeddings.embedQuery(CLINIC, settings, "blood pressure control");
      assertThat(again).isSameAs(first);
      assertThat(other).isNotEqualTo(first).hasSize(first.length);
      assertThat(embeddings.queryCacheCounts()).containsExactly(1, 2);
    }
  }

  @Test
  void tenantsNeverShareCachedQueries() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      embeddings.embedQuery(CLINIC, Map.of(), "allergies");
      embeddings.embedQuery(TenantId.of("hospital"), Map.of(), "allergies");
      assertThat(embeddings.queryCacheCounts()).containsExactly(0, 2);
    }
  }

  @Test
  void anEndpointWhoseSecretIsNotGrantedToTheTenantIsNeverCalled() {
    // stored before grants existed: the shared provider of another tenant must not serve this one
    Map<String, Object> settings = Map.of("embedding", Map.of("provider", "openai-compatible",
        "baseUrl", "http://127.0.0.1:9/v1", "model", "m", "dimensions", 384, "apiKeySecret", "HOME",
        "baaCovered", true));
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> embeddings.embedQuery(CLINIC, settings, "allergies"))
          .isInstanceOf(io.carecontext.migrations.SecretNotGrantedException.class)
          .hasMessageContaining("CARECONTEXT_TENANT_SECRETS");
    }
  }

  @Test
  void anotherEmbeddingSettingDoesNotReuseCachedVectors() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null)) {
      embeddings.embedQuery(CLINIC, Map.of(), "allergies");
      embeddings.embedQuery(CLINIC, Map.of("embedding", Map.of("provider", "in-process")), "allergies");
      assertThat(embeddings.queryCacheCounts()[1]).isEqualTo(2);
    }
  }

  @Test
  void aQueryIsEmbeddedOnTheRequestsThreadWithTheVectorIngestWouldGiveIt() {
    try (TenantEmbeddings embeddings = new TenantEmbeddings(null);
         BatchingEmbedder ingest = new BatchingEmbedder(new InProcessMiniLmProvider(), BatchingConfig.defaults())) {
      long poolThreads = embeddingThreads();
      float[] query = embeddings.embedQuery(CLINIC, Map.of(), "latest creatinine");
      // no pool thread started for it: the model ran here, without a hand-off and a queue
      assertThat(embeddingThreads()).isLessThanOrEqualTo(poolThreads); // (threads of closed pools may still be ending)
      assertThat(query).containsExactly(ingest.embedAll(List.of("latest creatinine")).get(0));
    }
  }

  private static long embeddingThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("embedding-")).count();
  }
}
