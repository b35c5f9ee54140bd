package io.carecontext.ingest.embedding;

import org.junit.jupiter.api.AfterAll;

/** The decorator must itself behave like any provider (batch size 2 forces several batches). */
class BatchingEmbedderContractTest extends EmbeddingProviderContract {

  private static final BatchingEmbedder EMBEDDER =
      new BatchingEmbedder(new DeterministicProvider(), new BatchingConfig(2, 2, 2));

  @AfterAll
  static void close() {
    EMBEDDER.close();
  }

  @Override
  protected EmbeddingProvider provider() {
    return EMBEDDER;
  }
}
