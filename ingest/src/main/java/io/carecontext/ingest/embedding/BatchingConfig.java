package io.carecontext.ingest.embedding;

/**
 * How {@link BatchingEmbedder} splits and schedules work.
 *
 * @param batchSize     texts per call to the provider
 * @param threads       worker threads (fixed)
 * @param queueCapacity batches that may wait for a worker; beyond that the submitting thread
 *                      embeds the batch itself, which is the back-pressure
 */
public record BatchingConfig(int batchSize, int threads, int queueCapacity) {

  public static final int DEFAULT_BATCH_SIZE = 32;

  public BatchingConfig {
    if (batchSize < 1 || batchSize > 2048) {
      throw new IllegalArgumentException("batchSize must be between 1 and 2048, was " + batchSize);
    }
    if (threads < 1 || threads > 256) {
      throw new IllegalArgumentException("threads must be between 1 and 256, was " + threads);
    }
    if (queueCapacity < 1 || queueCapacity > 100_000) {
      throw new IllegalArgumentException("queueCapacity must be between 1 and 100000, was " + queueCapacity);
    }
  }

  /** Batches of 32 on one thread per core (at most 8), with a queue of four batches per thread. */
  public static BatchingConfig defaults() {
    int threads = Math.max(1, Math.min(8, Runtime.getRuntime().availableProcessors()));
    return new BatchingConfig(DEFAULT_BATCH_SIZE, threads, 4 * threads);
  }
}
