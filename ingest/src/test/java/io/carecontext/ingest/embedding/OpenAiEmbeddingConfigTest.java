package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class OpenAiEmbeddingConfigTest {

  @Test
  void toStringHidesTheApiKey() {
    OpenAiEmbeddingConfig config = OpenAiEmbeddingConfig.of("https://llm.example/v1/", "sk-secret", "m", 8);
    assertThat(config.toString()).doesNotContain("sk-secret").contains("apiKey=***");
    assertThat(config.baseUrl()).isEqualTo("https://llm.example/v1");
  }

  @Test
  void rejectsPlainHttpToRemoteHosts() {
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("http://llm.example/v1", "k", "m", 8))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use https");
    assertThat(OpenAiEmbeddingConfig.of("http://localhost:8080/v1", "k", "m", 8).baseUrl())
        .startsWith("http://localhost");
  }

  @Test
  void rejectsCredentialsInTheUrlWithoutEchoingThem() {
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("https://user:pw@llm.example/v1", "k", "m", 8))
        .isInstanceOf(IllegalArgumentException.class)
        .message().doesNotContain("pw");
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("https://llm.example/v1?key=abc", "k", "m", 8))
        .message().doesNotContain("abc");
  }

  @Test
  void rejectsInvalidValues() {
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("ftp://x/v1", "k", "m", 8)).hasMessageContaining("http(s)");
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("https://x/v1", " ", "m", 8)).hasMessageContaining("apiKey");
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("https://x/v1", "k", "", 8)).hasMessageContaining("modelName");
    assertThatThrownBy(() -> OpenAiEmbeddingConfig.of("https://x/v1", "k", "m", 0)).hasMessageContaining("dimensions");
    assertThatThrownBy(() -> new OpenAiEmbeddingConfig("https://x/v1", "k", "m", 8, Duration.ZERO, 0))
        .hasMessageContaining("timeout");
    assertThatThrownBy(() -> new OpenAiEmbeddingConfig("https://x/v1", "k", "m", 8, Duration.ofSeconds(1), -1))
        .hasMessageContaining("maxRetries");
  }
}
