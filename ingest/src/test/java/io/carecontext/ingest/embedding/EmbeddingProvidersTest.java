package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

class EmbeddingProvidersTest {

  private static final Function<String, Optional<String>> SECRETS =
      name -> name.equals("EMBEDDING_KEY") ? Optional.of("sk-from-secret-store") : Optional.empty();

  @Test
  void defaultsToTheInProcessModel() {
    assertThat(EmbeddingProviders.forSettings(null, SECRETS)).isInstanceOf(InProcessMiniLmProvider.class);
    assertThat(EmbeddingProviders.forSettings(Map.of(), SECRETS).modelId()).isEqualTo("all-minilm-l6-v2-q");
    assertThat(EmbeddingProviders.forSettings(Map.of("provider", "in-process"), SECRETS).dimensions())
        .isEqualTo(384);
  }

  @Test
  void buildsAnOpenAiCompatibleProvider() {
    EmbeddingProvider provider = EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://llm.internal/v1", "model", "nomic-embed-text", "dimensions", 768,
        "apiKeySecret", "EMBEDDING_KEY", "timeoutSeconds", "10", "baaCovered", true), SECRETS);

    assertThat(provider.modelId()).isEqualTo("openai:nomic-embed-text");
    assertThat(provider.dimensions()).isEqualTo(768);
    OpenAiEmbeddingConfig config = EmbeddingProviders.openAiConfig(Map.of("baseUrl", "https://llm.internal/v1",
        "model", "m", "dimensions", 768L, "apiKeySecret", "EMBEDDING_KEY"), SECRETS);
    assertThat(config.apiKey()).isEqualTo("sk-from-secret-store");
    assertThat(config.timeout()).isEqualTo(OpenAiEmbeddingConfig.DEFAULT_TIMEOUT);
  }

  /**
   * The read path names the question's model from the setting alone (tenant migration 52): it must
   * be the id the built provider stamps on the chunks it makes, or every search would be refused.
   */
  @Test
  void theModelIdReadFromTheSettingIsTheProvidersOwn() {
    Map<String, Object> endpoint = Map.of("provider", "openai-compatible", "baseUrl", "https://llm.internal/v1",
        "model", "nomic-embed-text", "dimensions", 768, "baaCovered", true);
    for (Map<String, Object> setting : java.util.List.of(Map.<String, Object>of(), Map.<String, Object>of("provider",
        "in-process"), endpoint)) {
      assertThat(EmbeddingProviders.modelIdOf(setting)).isEqualTo(EmbeddingProviders.forSettings(setting, SECRETS)
          .modelId());
    }
    assertThat(EmbeddingProviders.modelIdOf(null)).isEqualTo(InProcessMiniLmProvider.MODEL_ID);
    assertThat(EmbeddingProviders.modelIdOf(Map.of("provider", "openai-compatible"))).isNull();
    assertThat(EmbeddingProviders.modelIdOf(Map.of("provider", "no-such"))).isNull();
  }

  @Test
  void missingSettingsSayWhatIsMissing() {
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "model", "m", "dimensions", 8), SECRETS)).hasMessageContaining("'baseUrl' is required");
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://x/v1", "model", "m"), SECRETS)).hasMessageContaining("'dimensions' is required");
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://x/v1", "model", "m", "dimensions", 8, "apiKeySecret", "NOPE"), SECRETS))
        .hasMessageContaining("'NOPE', which is not set");
    // a key pasted where its variable's name belongs is not echoed back
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://x/v1", "model", "m", "dimensions", 8, "apiKeySecret", "sk-live-123"), SECRETS))
        .hasMessageContaining("must be the name of an environment variable").hasMessageNotContaining("sk-live-123");
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://x/v1", "model", "m", "dimensions", 8.5), SECRETS))
        .hasMessageContaining("whole number");
  }

  @Test
  void unknownProvidersAndKeysAreRejected() {
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "cohere"), SECRETS))
        .hasMessageContaining("unknown embedding provider 'cohere'");
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "in-process", "model", "x"), SECRETS))
        .hasMessageContaining("unknown embedding settings [model]");
    assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
        "baseUrl", "https://x/v1", "model", "m", "dimensions", 8, "apiKey", "sk-inline"), SECRETS))
        .hasMessageContaining("[apiKey]")
        .message().doesNotContain("sk-inline");
  }

  /**
   * A tenant admin chooses the endpoint and the variable whose value is sent to it as the bearer
   * token: the platform's own secrets (operator key, database passwords) are never a tenant's to send.
   */
  @Test
  void thePlatformsOwnSecretsAreNeverSentToATenantsEndpoint() {
    Function<String, Optional<String>> env = name -> Optional.of("platform-secret-value");
    for (String name : java.util.List.of("CARECONTEXT_ADMIN_KEY", "CARECONTEXT_DB_PASSWORD",
        "CARECONTEXT_DB_APP_PASSWORD", "carecontext_admin_key", "PGPASSWORD")) {
      assertThatThrownBy(() -> EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible",
          "baseUrl", "https://x/v1", "model", "m", "dimensions", 8, "apiKeySecret", name), env))
          .as(name).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("apiKeySecret").hasMessageNotContaining("platform-secret-value");
    }
  }

  /** Chunk texts and questions reach the endpoint identified: only one under a BAA may get them. */
  @Test
  void anEndpointNotDeclaredCoveredByABaaIsRefused() {
    for (Object baa : new Object[] {null, false, "true", 1}) {
      java.util.Map<String, Object> settings = new java.util.HashMap<>(Map.of("provider", "openai-compatible",
          "baseUrl", "https://x/v1", "model", "m", "dimensions", 8));
      if (baa != null) {
        settings.put("baaCovered", baa);
      }
      assertThatThrownBy(() -> EmbeddingProviders.forSettings(settings, SECRETS)).as(String.valueOf(baa))
          .isInstanceOf(EndpointNotCoveredException.class)
          .hasMessageContaining("baaCovered must be true").hasMessageContaining("business associate agreement");
    }
    assertThat(EmbeddingProviders.forSettings(Map.of("provider", "openai-compatible", "baseUrl", "https://x/v1",
        "model", "m", "dimensions", 8, "baaCovered", true), SECRETS).modelId()).isEqualTo("openai:m");
  }
}
