package io.carecontext.ingest.embedding;

import java.util.List;

/**
 * Turns texts into vectors. Implementations: {@link InProcessMiniLmProvider} (default, no
 * network) and {@link OpenAiCompatibleEmbeddingProvider}; {@link BatchingEmbedder} decorates
 * either. Every implementation passes {@code EmbeddingProviderContract}.
 *
 * <p>Implementations are thread-safe, return one vector per text in input order, return an
 * empty list for an empty input, and reject null or blank texts with {@link
 * IllegalArgumentException}. Failures are reported as {@link EmbeddingException}, whose messages
 * never contain the texts (they are PHI).
 */
public interface EmbeddingProvider {

  /** Stable id stored on every chunk, so vectors from different models are never compared. */
  String modelId();

  /** Length of every returned vector. */
  int dimensions();

  List<float[]> embedAll(List<String> texts);
}
