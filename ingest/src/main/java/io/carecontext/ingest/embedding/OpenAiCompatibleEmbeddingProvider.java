package io.carecontext.ingest.embedding;

import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.openai.OpenAiEmbeddingModel;
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
      return Texts.vectors(model().embedAll(Texts.segments(texts)).content(), texts.size(),
          config.dimensions(), modelId);
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
              .maxRetries(config.maxRetries())
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
