package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.exception.UnresolvedModelServerException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import org.junit.jupiter.api.Test;

/**
 * One reading of a failed model call for the chat and the embedding paths: the kind found among the
 * exception and its causes, told in the words of the caller's settings, and never a message, which
 * can quote the prompt or the texts sent.
 */
class ModelFailureTest {

  private static final String PHI = "Synthetic Doe, MRN 4455667";
  private static final ModelFailure.Advice EMBEDDING = new ModelFailure.Advice("settings.embedding.",
      "timed out: check that settings.embedding.baseUrl answers in time");

  @Test
  void eachKindIsToldInTheCallersSettingsNeverInItsMessage() {
    assertThat(describe(new RuntimeException(PHI, new ConnectException(PHI))))
        .isEqualTo("connection refused: check settings.embedding.baseUrl and that the endpoint is up");
    for (Throwable slow : new Throwable[] {new TimeoutException(PHI), new HttpTimeoutException(PHI),
        new SocketTimeoutException(PHI)}) {
      assertThat(describe(slow)).isEqualTo("timed out: check that settings.embedding.baseUrl answers in time");
    }
    assertThat(describe(new UnknownHostException(PHI))).isEqualTo("host not found: check settings.embedding.baseUrl");
    assertThat(describe(new UnresolvedModelServerException(PHI))).isEqualTo("host not found: check settings.embedding.baseUrl");
    assertThat(describe(new AuthenticationException(PHI)))
        .isEqualTo("the endpoint refused the credentials: check settings.embedding.apiKeySecret and the secret it names");
    assertThat(describe(new ModelNotFoundException(PHI)))
        .isEqualTo("the endpoint does not know the model: check settings.embedding.model");
    assertThat(describe(new RateLimitException(PHI))).isEqualTo("the endpoint is rate limiting: retry later");
    assertThat(describe(new IllegalStateException(PHI, new HttpException(502, PHI))))
        .isEqualTo("the endpoint answered HTTP 502");
    // the first cause of a known kind decides
    assertThat(describe(new RuntimeException(new RateLimitException(PHI, new ConnectException(PHI)))))
        .isEqualTo("the endpoint is rate limiting: retry later");
    // no kind known: the caller says what it says then
    assertThat(ModelFailure.describe(new IllegalStateException(PHI), EMBEDDING)).isEmpty();
    assertThat(ModelFailure.describe(null, EMBEDDING)).isEmpty();
  }

  @Test
  void aFailureIsTheEndpointsWhenItWouldFailWhateverWasSent() {
    for (Throwable wide : new Throwable[] {new TimeoutException(PHI), new ConnectException(PHI),
        new UnknownHostException(PHI), new AuthenticationException(PHI), new ModelNotFoundException(PHI),
        new RateLimitException(PHI), new RuntimeException(new SocketTimeoutException(PHI))}) {
      assertThat(ModelFailure.endpointWide(wide)).as(wide.getClass().getSimpleName()).isTrue();
    }
    for (int status : new int[] {500, 502, 503, 401, 403, 404, 408, 429}) {
      assertThat(ModelFailure.endpointWide(new HttpException(status, PHI))).as("HTTP " + status).isTrue();
    }
    // what may be one input's fault: a 400, a 413, an answer of the wrong shape
    for (Throwable own : new Throwable[] {new HttpException(400, PHI), new HttpException(413, PHI),
        new IllegalStateException(PHI)}) {
      assertThat(ModelFailure.endpointWide(own)).as(own.toString()).isFalse();
    }
  }

  private static String describe(Throwable ex) {
    return ModelFailure.describe(ex, EMBEDDING).orElseThrow();
  }
}
