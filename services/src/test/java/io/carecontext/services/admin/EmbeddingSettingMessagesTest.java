package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.services.http.ApiException;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** settings.embedding's refusals name what the platform takes, never the provider or field the caller sent. */
class EmbeddingSettingMessagesTest {

  @Test
  void anUnknownProviderOrFieldIsNotQuotedBack() {
    assertThatThrownBy(() -> TenantController.usableEmbeddingProvider(Map.of("provider", "MRN4471902")))
        .isInstanceOf(ApiException.class)
        .hasMessage("settings.embedding is not usable: settings.embedding.provider is not one the platform knows; "
            + "expected 'in-process' or 'openai-compatible'");
    for (String provider : new String[] {"in-process", "openai-compatible"}) {
      assertThatThrownBy(() -> TenantController.usableEmbeddingProvider(Map.of("provider", provider, "janeDoe1962", 1)))
          .as(provider).isInstanceOf(ApiException.class)
          .hasMessageStartingWith("settings.embedding is not usable: settings.embedding has an unknown field for its "
              + "provider; allowed: [")
          .hasMessageNotContaining("janeDoe1962");
    }
  }
}
