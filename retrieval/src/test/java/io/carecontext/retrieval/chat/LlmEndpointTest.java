package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LlmEndpointTest {

  private static Map<String, Object> llm(String secretName) {
    return Map.of("endpoints", List.of(Map.of("name", "m", "baseUrl", "https://models.example/v1", "model", "x",
        "baaCovered", true, "apiKeySecret", secretName)), "default", "m");
  }

  @Test
  void aTenantsSecretNameIsTaken() {
    assertThatCode(() -> LlmEndpoint.check(llm("AZURE_OPENAI_KEY"))).doesNotThrowAnyException();
  }

  /**
   * A tenant admin sets where prompts go and which variable's value goes with them as the bearer
   * token: naming the platform's own secrets (the operator key, the database passwords) would send
   * them to any host the tenant admin names.
   */
  @Test
  void thePlatformsOwnSecretsAreNotATenantsToSend() {
    for (String name : List.of("CARECONTEXT_ADMIN_KEY", "CARECONTEXT_DB_PASSWORD", "CARECONTEXT_DB_APP_PASSWORD",
        "CARECONTEXT_DB_URL", "carecontext_admin_key", "PGPASSWORD")) {
      assertThatThrownBy(() -> LlmEndpoint.check(llm(name))).as(name)
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("apiKeySecret");
    }
  }

  @Test
  void aSecretStoredBeforeTheChecksIsSentOnlyWhenGrantedToTheTenant() {
    String before = System.getProperty("carecontext.tenant.secrets");
    System.setProperty("carecontext.tenant.secrets", "acme:AZURE_OPENAI_KEY,acme:PGPASSWORD");
    try {
      assertThat(LlmEndpoint.secretFor("acme", "CARECONTEXT_ADMIN_KEY", n -> "leaked")).isNull();
      assertThat(LlmEndpoint.secretFor("acme", "PGPASSWORD", n -> "leaked")).isNull(); // granted or not
      assertThat(LlmEndpoint.secretFor("acme", "AZURE_OPENAI_KEY", n -> "sk-tenant")).isEqualTo("sk-tenant");
      assertThat(LlmEndpoint.secretFor("beta", "AZURE_OPENAI_KEY", n -> "sk-acme")).isNull();
      assertThat(LlmEndpoint.secretFor("acme", "HOME", n -> "/root")).isNull();
      assertThat(LlmEndpoint.secretFor("acme", null, n -> "leaked")).isNull();
      // the host, too, must be the operator's approval for the tenant
      assertThatThrownBy(() -> LlmEndpoint.checkGrants("acme", llm("AZURE_OPENAI_KEY")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("llm.endpoints[0].baseUrl")
          .hasMessageContaining("CARECONTEXT_MODEL_HOSTS");
      System.setProperty("carecontext.model.hosts", "acme:models.example");
      LlmEndpoint.checkGrants("acme", llm("AZURE_OPENAI_KEY"));
      assertThatThrownBy(() -> LlmEndpoint.checkGrants("beta", llm("AZURE_OPENAI_KEY")))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("llm.endpoints[0].apiKeySecret")
          .hasMessageContaining("CARECONTEXT_TENANT_SECRETS").hasMessageContaining("'beta:<VARIABLE>'");
    } finally {
      System.clearProperty("carecontext.model.hosts");
      if (before == null) {
        System.clearProperty("carecontext.tenant.secrets");
      } else {
        System.setProperty("carecontext.tenant.secrets", before);
      }
    }
  }

  private static Map<String, Object> withOutputCap(Object cap) {
    Map<String, Object> endpoint = new java.util.HashMap<>(Map.of("name", "m", "baseUrl", "https://models.example/v1",
        "model", "x"));
    endpoint.put("maxOutputTokens", cap);
    return Map.of("endpoints", List.of(endpoint));
  }

  /**
   * maxOutputTokens, the longest answer a request asks for and the budgets are charged ahead, is a whole
   * number from 1 to 32,768 (what the largest answer read, 128 KiB, holds); 1,024 when not set.
   */
  @Test
  void maxOutputTokensIsAWholeNumberWithinTheLargestAnswerRead() {
    assertThatCode(() -> LlmEndpoint.check(withOutputCap(1))).doesNotThrowAnyException();
    assertThatCode(() -> LlmEndpoint.check(withOutputCap(32_768))).doesNotThrowAnyException();
    for (Object bad : List.of(0, -5, 32_769, 1.5, "512", true, new java.math.BigInteger("18446744073709552128"))) {
      assertThatThrownBy(() -> LlmEndpoint.check(withOutputCap(bad))).as(String.valueOf(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("llm.endpoints[0].maxOutputTokens must be a whole number from 1 to 32768");
    }
    assertThat(LlmEndpoint.fromSettings(withOutputCap(700)).get(0).maxOutputTokens()).isEqualTo(700);
    assertThat(LlmEndpoint.fromSettings(llm("K")).get(0).maxOutputTokens()).isEqualTo(1024);
  }

  /**
   * A stored maxOutputTokens out of range (written before its check) is read within 1..32768: -1000000
   * made a reservation negative, crediting the day's budget while the call was in flight, and 4294967301
   * wrapped to 5.
   */
  @Test
  void aStoredAnswerCapIsReadWithinItsRange() {
    assertThat(LlmEndpoint.outputCap(null)).isEqualTo(1024);
    assertThat(LlmEndpoint.outputCap(700)).isEqualTo(700);
    assertThat(LlmEndpoint.outputCap(-1_000_000)).isEqualTo(1);
    assertThat(LlmEndpoint.outputCap(0)).isEqualTo(1);
    assertThat(LlmEndpoint.outputCap(4_294_967_301L)).isEqualTo(32768);
    assertThat(LlmEndpoint.outputCap(1e300)).isEqualTo(32768);
    assertThat(LlmEndpoint.outputCap(Double.NaN)).isEqualTo(1024);
    assertThat(LlmEndpoint.fromSettings(Map.of("endpoints", List.of(Map.of("name", "m", "maxOutputTokens", -5))))
        .get(0).maxOutputTokens()).isEqualTo(1);
  }

  /** tokenLimitField takes max_tokens or max_completion_tokens; anything else is refused, naming the field. */
  @Test
  void theTokenLimitFieldIsOneOfTheTwoTheApiKnows() {
    for (String ok : List.of("max_tokens", "max_completion_tokens")) {
      assertThatCode(() -> LlmEndpoint.check(Map.of("endpoints", List.of(Map.of("name", "m", "baseUrl",
          "https://models.example/v1", "model", "x", "tokenLimitField", ok))))).as(ok).doesNotThrowAnyException();
    }
    for (Object bad : List.of("maxTokens", "max_output_tokens", "", 5, true)) {
      assertThatThrownBy(() -> LlmEndpoint.check(Map.of("endpoints", List.of(Map.of("name", "m", "baseUrl",
          "https://models.example/v1", "model", "x", "tokenLimitField", bad))))).as(String.valueOf(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("llm.endpoints[0].tokenLimitField must be one of [max_tokens, max_completion_tokens]");
    }
  }
}
