package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The OpenAI-compatible provider against a fake server on loopback: no network, no real key. */
class OpenAiCompatibleEmbeddingProviderTest extends EmbeddingProviderContract {

  private static final int DIMENSIONS = 16;
  private static FakeOpenAiServer server;
  private static OpenAiCompatibleEmbeddingProvider provider;

  @BeforeAll
  static void startServer() throws IOException {
    server = FakeOpenAiServer.start();
    provider = new OpenAiCompatibleEmbeddingProvider(new OpenAiEmbeddingConfig(server.baseUrl(),
        "test-key", "text-embedding-3-small", DIMENSIONS, Duration.ofSeconds(5), 0));
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }

  @AfterEach
  void healServer() {
    server.succeed();
  }

  @Override
  protected EmbeddingProvider provider() {
    return provider;
  }

  @Test
  void sendsModelDimensionsKeyAndAllTextsInOneRequest() {
    int before = server.requests().size();
    List<float[]> vectors = provider.embedAll(List.of("first note", "second note"));

    assertThat(server.requests()).hasSize(before + 1);
    FakeOpenAiServer.Recorded request = server.requests().get(before);
    assertThat(request.method()).isEqualTo("POST");
    assertThat(request.path()).isEqualTo("/v1/embeddings");
    assertThat(request.authorization()).isEqualTo("Bearer test-key");
    assertThat(request.body().path("model").asText()).isEqualTo("text-embedding-3-small");
    assertThat(request.body().path("dimensions").asInt()).isEqualTo(DIMENSIONS);
    assertThat(request.body().path("input")).hasSize(2);
    assertClose(vectors.get(1), FakeOpenAiServer.vectorFor("second note", DIMENSIONS));
  }

  @Test
  void modelIdNamesTheRemoteModel() {
    assertThat(provider.modelId()).isEqualTo("openai:text-embedding-3-small");
    assertThat(provider.dimensions()).isEqualTo(DIMENSIONS);
  }

  @Test
  void serverErrorsBecomeEmbeddingExceptionsWithoutTheTexts() {
    // Real servers often quote the offending input in their error body.
    server.fail(400, "{\"error\":{\"message\":\"bad input: " + PHI_TEXT + "\",\"type\":\"invalid_request_error\"}}");

    assertThatThrownBy(() -> provider.embedAll(List.of(PHI_TEXT)))
        .isInstanceOf(EmbeddingException.class)
        .hasMessageContaining("openai:text-embedding-3-small")
        .hasMessageContaining("HTTP 400")
        .satisfies(e -> assertThat(fullText(e)).doesNotContain("Jane").doesNotContain("biktarvy"))
        // what to check, for the caller's 502 and the ingest status (it said only "EmbeddingException")
        .satisfies(e -> assertThat(((EmbeddingException) e).kind()).isEqualTo("the endpoint answered HTTP 400" + EmbeddingException.REFUSED_INPUT))
        // a 400 may be one text's: the worker retries the batch's rows one by one
        .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isFalse());
  }

  /** Failures of the endpoint whatever it is sent: the worker pauses the tenant instead of spending the rows' attempts. */
  @Test
  void serverSideFailuresAreEndpointWide() {
    for (int status : new int[] {500, 503, 429, 401, 404}) {
      server.fail(status, "{\"error\":{\"message\":\"no\"}}");
      assertThatThrownBy(() -> provider.embedAll(List.of("x"))).as("HTTP " + status)
          .isInstanceOf(EmbeddingException.class)
          .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).as("HTTP " + status).isTrue());
    }
  }

  /**
   * A 429 or 503 with Retry-After is not asked again at once (LangChain4j's retries called a rate-limited
   * endpoint three times in two seconds, whatever it asked for): the failure carries the wait, for the
   * worker's pause and the caller's Retry-After, and says nothing of what was sent.
   */
  @Test
  void aBusyEndpointsRetryAfterIsHandedUpNotRetriedAtOnce() {
    OpenAiCompatibleEmbeddingProvider retrying = new OpenAiCompatibleEmbeddingProvider(new OpenAiEmbeddingConfig(
        server.baseUrl(), "test-key", "text-embedding-3-small", DIMENSIONS, Duration.ofSeconds(5), 2));
    for (int status : new int[] {429, 503}) {
      server.fail(status, "{\"error\":{\"message\":\"slow down: " + PHI_TEXT + "\"}}", "120");
      int before = server.requests().size();
      assertThatThrownBy(() -> retrying.embedAll(List.of(PHI_TEXT))).as("HTTP " + status)
          .isInstanceOf(EmbeddingException.class)
          .satisfies(e -> assertThat(((EmbeddingException) e).retryAfterSeconds()).isEqualTo(120))
          .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isTrue())
          .satisfies(e -> assertThat(fullText(e)).doesNotContain("Jane").doesNotContain("biktarvy"));
      assertThat(server.requests()).as("HTTP " + status + ": called once").hasSize(before + 1);
    }
    // an HTTP date is read too
    server.fail(429, "{}", java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME.format(
        java.time.ZonedDateTime.now(java.time.ZoneOffset.UTC).plusSeconds(90)));
    assertThatThrownBy(() -> retrying.embedAll(List.of("x")))
        .satisfies(e -> assertThat(((EmbeddingException) e).retryAfterSeconds()).isBetween(85L, 90L));
  }

  /** Without Retry-After (or with one on a status it means nothing on) a failure is retried as before. */
  @Test
  void failuresWithoutRetryAfterAreStillRetried() {
    OpenAiCompatibleEmbeddingProvider retrying = new OpenAiCompatibleEmbeddingProvider(new OpenAiEmbeddingConfig(
        server.baseUrl(), "test-key", "text-embedding-3-small", DIMENSIONS, Duration.ofSeconds(5), 1));
    String[][] answers = {{"429", null}, {"500", "120"}, {"503", "soon"}};
    for (String[] answer : answers) {
      server.fail(Integer.parseInt(answer[0]), "{\"error\":{\"message\":\"no\"}}", answer[1]);
      int before = server.requests().size();
      assertThatThrownBy(() -> retrying.embedAll(List.of("x"))).as("HTTP " + answer[0])
          .isInstanceOf(EmbeddingException.class)
          .satisfies(e -> assertThat(((EmbeddingException) e).retryAfterSeconds()).isEqualTo(-1));
      assertThat(server.requests()).as("HTTP " + answer[0] + ": asked again once").hasSize(before + 2);
    }
    // a failure that cannot pass is not asked again (LangChain4j's rule, kept)
    server.fail(400, "{\"error\":{\"message\":\"no\"}}");
    int before = server.requests().size();
    assertThatThrownBy(() -> retrying.embedAll(List.of("x"))).isInstanceOf(EmbeddingException.class);
    assertThat(server.requests()).hasSize(before + 1);
  }

  /** The wait survives the batching pool's wrapping, which is what the worker and the question path call. */
  @Test
  void theBatchingPoolKeepsTheWait() {
    server.fail(429, "{}", "42");
    try (BatchingEmbedder batching = new BatchingEmbedder(provider, new BatchingConfig(4, 2, 4))) {
      assertThatThrownBy(() -> batching.embedAll(List.of("a", "b", "c")))
          .isInstanceOf(EmbeddingException.class)
          .satisfies(e -> assertThat(((EmbeddingException) e).retryAfterSeconds()).isEqualTo(42))
          .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isTrue());
    }
  }

  @Test
  void wrongDimensionsFromTheServerAreRejected() {
    // e.g. a server that ignores the "dimensions" parameter: storing such vectors would corrupt search.
    server.answerWithDimensions(DIMENSIONS * 2);
    assertThatThrownBy(() -> provider.embedAll(List.of("x")))
        .isInstanceOf(EmbeddingException.class)
        .hasMessageContaining("32-dimensional")
        .hasMessageContaining("16 dimensions are configured")
        // every text would meet it: the worker pauses the tenant rather than park each row after 5 attempts
        .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isTrue())
        .satisfies(e -> assertThat(((EmbeddingException) e).kind()).isEqualTo("the model answered 32-dimensional "
            + "vectors where settings.embedding.dimensions is 16: check settings.embedding.model and dimensions"));
  }

  @Test
  void worksWithoutAnApiKey() {
    OpenAiCompatibleEmbeddingProvider keyless = new OpenAiCompatibleEmbeddingProvider(
        new OpenAiEmbeddingConfig(server.baseUrl(), null, "local-model", 4, Duration.ofSeconds(5), 0));
    assertThat(keyless.embedAll(List.of("x")).get(0)).hasSize(4);
  }

  @Test
  void unreachableServerFailsCleanly() {
    OpenAiCompatibleEmbeddingProvider dead = new OpenAiCompatibleEmbeddingProvider(
        new OpenAiEmbeddingConfig("http://127.0.0.1:1/v1", "k", "m", 4, Duration.ofSeconds(2), 0));
    assertThatThrownBy(() -> dead.embedAll(List.of(PHI_TEXT)))
        .isInstanceOf(EmbeddingException.class)
        .satisfies(e -> assertThat(fullText(e)).doesNotContain("Jane"))
        .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isTrue());
  }

  @Test
  void constructionDoesNotTouchTheNetwork() {
    int before = server.requests().size();
    new OpenAiCompatibleEmbeddingProvider(OpenAiEmbeddingConfig.of(server.baseUrl(), "k", "m", 4));
    assertThat(server.requests()).hasSize(before);
  }

  static String fullText(Throwable e) {
    StringBuilder text = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      text.append(t).append('\n');
    }
    return text.toString();
  }
}
