package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.ConnectException;
import org.junit.jupiter.api.Test;

class LlmGatewayTest {

  /**
   * A failed model call is named by what a tenant admin can act on, found in the exception's causes,
   * and never by a message, which can quote the prompt. It named a Java class ("RuntimeException").
   */
  @Test
  void aFailedModelCallIsNamedByWhatToCheckNeverByItsMessage() {
    String phi = "Synthetic Doe, MRN 4455667";
    assertThat(LlmGateway.failure(new RuntimeException(phi, new ConnectException(phi))))
        .isEqualTo("connection refused: check baseUrl and that the endpoint is up");
    assertThat(LlmGateway.failure(new dev.langchain4j.exception.TimeoutException(phi)))
        .isEqualTo("timed out: raise timeoutSeconds or check the endpoint");
    assertThat(LlmGateway.failure(new dev.langchain4j.exception.HttpException(503, phi)))
        .isEqualTo("the endpoint answered HTTP 503");
    assertThat(LlmGateway.failure(new dev.langchain4j.exception.AuthenticationException(phi)))
        .contains("check apiKeySecret");
    assertThat(LlmGateway.failure(new IllegalStateException(phi))).isEqualTo("no usable answer");
  }
}
