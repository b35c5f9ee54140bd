package io.carecontext.ingest.embedding;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Embeds through any server speaking the OpenAI embeddings API (OpenAI, Azure-style gateways,
 * vLLM, TEI, Ollama), via LangChain4j's {@link OpenAiEmbeddingModel}.
 *
 * <p>Texts are PHI: request/response logging is forced off, and errors are re-thrown without the
 * client's message (which can quote the request). The HTTP client is built on first use so that
 * constructing the provider starts no threads.
 */
public final class OpenAiCompatibleEmbeddingProvider implements EmbeddingProvider {

  /** Texts in one HTTP call: a longer batch is sent as several, each answer bounded by {@link #maxAnswerBytes}. */
  static final int MAX_TEXTS_PER_CALL = 256;

  private final OpenAiEmbeddingConfig config;
  private final String modelId;
  private volatile EmbeddingModel model;

  public OpenAiCompatibleEmbeddingProvider(OpenAiEmbeddingConfig config) {
    this.config = Objects.requireNonNull(config, "config");
    this.modelId = idOf(config.modelName());
  }

  /** The id of the chunks and cache entries this provider's vectors make, for the model the endpoint names. */
  static String idOf(String modelName) {
    return "openai:" + modelName;
  }

  @Override
  public String modelId() {
    return modelId;
  }

  @Override
  public int dimensions() {
    return config.dimensions();
  }

  @Override
  public List<float[]> embedAll(List<String> texts) {
    Texts.requireValid(texts);
    if (texts.isEmpty()) {
      return List.of();
    }
    try {
      return Texts.vectors(embedWithRetries(Texts.segments(texts)), texts.size(), config.dimensions(), modelId);
    } catch (EmbeddingException e) {
      throw e;
    } catch (RuntimeException e) {
      if (tooLarge(e)) {
        throw new EmbeddingException("model '" + modelId + "' answered " + texts.size() + " texts with more than "
            + maxAnswerBytes(config.dimensions()) + " bytes a call");
      }
      throw EmbeddingException.of("embedding " + texts.size() + " texts with '" + modelId + "' at "
          + config.baseUrl() + " failed", e);
    }
  }

  /**
   * The call, asked again up to {@code maxRetries} times after a failure that may pass (as LangChain4j's own
   * retries did: anything but a {@link NonRetriableException}), except an answer 429 or 503 with
   * {@code Retry-After}. LangChain4j asked such an endpoint again within a second or two, whatever it had
   * asked for, so a rate-limited endpoint was called three times a batch; now its wait is handed up in the
   * {@link EmbeddingException} ({@link EmbeddingException#retryAfterSeconds}): the worker pauses the tenant
   * that long, and a question is answered 503 with that Retry-After. Waiting here would hold the worker's
   * transaction and its claimed rows, or a caller's request, for as long as the endpoint liked.
   */
  private List<Embedding> embedWithRetries(List<TextSegment> segments) {
    for (int attempt = 0; ; attempt++) {
      try {
        return model().embedAll(segments).content();
      } catch (RuntimeException e) {
        if (attempt >= config.maxRetries() || !mayRetry(e)) {
          throw e;
        }
        try {
          Thread.sleep(backoff(attempt).toMillis());
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** Whether a failed call is asked again: not when the endpoint said when to come back, nor when it cannot pass. */
  static boolean mayRetry(Throwable e) {
    if (EmbeddingException.retryAfter(e) >= 0) {
      return false;
    }
    for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof NonRetriableException) {
        return false;
      }
    }
    return true;
  }

  /** 0.5 s, 1 s, 2 s… at most 8 s between attempts (LangChain4j waited about 1 s, 1.5 s, 2.25 s…). */
  static Duration backoff(int attempt) {
    return Duration.ofMillis(500L << Math.min(attempt, 4));
  }

  private static boolean tooLarge(Throwable e) {
    return io.carecontext.migrations.ModelHttpClient.TooLarge.causedBy(e);
  }

  private EmbeddingModel model() {
    EmbeddingModel built = model;
    if (built == null) {
      synchronized (this) {
        built = model;
        if (built == null) {
          built = OpenAiEmbeddingModel.builder()
              .baseUrl(config.baseUrl())
              .apiKey(config.apiKey())
              .modelName(config.modelName())
              .dimensions(config.dimensions())
              .timeout(config.timeout())
              .maxRetries(0) // retried by embedWithRetries, which honours Retry-After
              .logRequests(false)
              .logResponses(false)
              .maxSegmentsPerBatch(MAX_TEXTS_PER_CALL)
              .httpClientBuilder(io.carecontext.migrations.ModelHttpClient.builder(maxAnswerBytes(config.dimensions())))
              .build();
          model = built;
        }
      }
    }
    return built;
  }

  /**
   * The longest answer a call of {@link #MAX_TEXTS_PER_CALL} texts may have: per text, its numbers
   * written out at up to 32 bytes each (pretty-printed, as some servers do) and 4 KiB of fields, plus
   * 1 MiB. Answers are far shorter; longer ones are a broken or hostile endpoint filling the heap.
   */
  static long maxAnswerBytes(int dimensions) {
    return MAX_TEXTS_PER_CALL * (32L * dimensions + 4096) + (1 << 20);
  }

  @Override
  public String toString() {
    return "OpenAiCompatibleEmbeddingProvider[" + modelId + " at " + config.baseUrl() + "]";
  }
}
