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

  /**
   * The daily token budgets count what a call cost. An endpoint that reports no usage (many
   * OpenAI-compatible servers leave it out) was counted as 0 tokens, so no budget ever bound it, and one
   * that reported a negative count took tokens off the day's total. Such a count is estimated from the
   * text, as the prompt's budget is.
   */
  @Test
  void aCallWhoseEndpointReportsNoOrANegativeUsageIsCountedFromItsText() {
    String text = "x".repeat(400);
    assertThat(LlmGateway.tokens(123, text)).isEqualTo(123);
    assertThat(LlmGateway.tokens(0, text)).isEqualTo(0); // a count the endpoint gives is taken
    assertThat(LlmGateway.tokens(null, text)).isEqualTo(100);
    assertThat(LlmGateway.tokens(-1_000_000, text)).isEqualTo(100);
    assertThat(LlmGateway.tokens(null, null)).isEqualTo(0);
  }

  /**
   * An answer without text (a null content, no message) is the endpoint's failure, a 502 saying so: it
   * reached the output filter and was a 500 "the answer could not be checked for identifiers".
   */
  @Test
  void anAnswerWithoutTextIsTheEndpointsFailure() {
    dev.langchain4j.model.chat.response.ChatResponse empty = dev.langchain4j.model.chat.response.ChatResponse.builder()
        .aiMessage(dev.langchain4j.data.message.AiMessage.builder().build()).build();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> LlmGateway.answerText(empty, "main"))
        .isInstanceOfSatisfying(ChatRefused.class, refused -> assertThat(refused.status()).isEqualTo(502))
        .hasMessageContaining("no usable answer");
    assertThat(LlmGateway.answerText(dev.langchain4j.model.chat.response.ChatResponse.builder()
        .aiMessage(dev.langchain4j.data.message.AiMessage.from("ok")).build(), "main")).isEqualTo("ok");
  }
}
