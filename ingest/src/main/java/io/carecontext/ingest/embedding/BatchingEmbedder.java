package io.carecontext.ingest.embedding;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Splits texts into batches and embeds them in parallel on a bounded pool, keeping input order;
 * a call with fewer texts than a full batch per thread is split evenly over the threads.
 *
 * <p>The pool has a fixed number of threads and a bounded queue; when the queue is full the
 * calling thread embeds the batch itself. That slows producers down instead of letting work pile
 * up in memory (each queued batch holds PHI). So at most {@code threads} pool threads plus the
 * callers run the model at once. Threads start on first use, not at construction.
 */
public final class BatchingEmbedder implements EmbeddingProvider, AutoCloseable {

  private static final long CLOSE_TIMEOUT_SECONDS = 30;

  private final EmbeddingProvider delegate;
  private final int batchSize;
  private final ThreadPoolExecutor executor;

  public BatchingEmbedder(EmbeddingProvider delegate, BatchingConfig config) {
    this.delegate = Objects.requireNonNull(delegate, "delegate");
    this.batchSize = config.batchSize();
    this.executor = new ThreadPoolExecutor(config.threads(), config.threads(), 0L, TimeUnit.MILLISECONDS,
        new ArrayBlockingQueue<>(config.queueCapacity()), new EmbeddingThreads(),
        BatchingEmbedder::runInCaller);
  }

  @Override
  public String modelId() {
    return delegate.modelId();
  }

  @Override
  public int dimensions() {
    return delegate.dimensions();
  }

  @Override
  public List<float[]> embedAll(List<String> texts) {
    Texts.requireValid(texts);
    if (executor.isShutdown()) {
      throw new IllegalStateException("BatchingEmbedder is closed");
    }
    List<List<String>> batches = partition(texts);
    List<Future<List<float[]>>> futures = new ArrayList<>(batches.size());
    try {
      for (List<String> batch : batches) {
        futures.add(executor.submit(() -> delegate.embedAll(batch)));
      }
      List<float[]> vectors = new ArrayList<>(texts.size());
      for (int i = 0; i < futures.size(); i++) {
        vectors.addAll(await(futures.get(i), i, batches));
      }
      return vectors;
    } catch (RejectedExecutionException e) {
      throw new IllegalStateException("BatchingEmbedder is closed");
    } finally {
      // After a failure the remaining batches are useless; on success this is a no-op.
      futures.forEach(f -> f.cancel(true));
    }
  }

  private List<float[]> await(Future<List<float[]>> future, int index, List<List<String>> batches) {
    String which = "batch " + (index + 1) + " of " + batches.size() + " (" + batches.get(index).size()
        + " texts) for '" + delegate.modelId() + "'";
    try {
      List<float[]> vectors = future.get();
      if (vectors == null || vectors.size() != batches.get(index).size()) {
        throw new EmbeddingException(which + " returned "
            + (vectors == null ? "no" : vectors.size()) + " vectors");
      }
      return vectors;
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      throw EmbeddingException.of(which + " failed", cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EmbeddingException("interrupted while waiting for " + which);
    }
  }

  /**
   * Batches of at most {@code batchSize}, but smaller when there are fewer texts than a batch per
   * thread, so that every thread gets a share: 20 texts on 2 threads are two batches of 10, not one
   * of 20 on one core while the other idles.
   */
  private List<List<String>> partition(List<String> texts) {
    int threads = executor.getMaximumPoolSize();
    int size = Math.max(1, Math.min(batchSize, (texts.size() + threads - 1) / threads));
    List<List<String>> batches = new ArrayList<>((texts.size() + size - 1) / size);
    for (int from = 0; from < texts.size(); from += size) {
      // A copy, so a caller mutating its list cannot change what a worker embeds.
      batches.add(List.copyOf(texts.subList(from, Math.min(texts.size(), from + size))));
    }
    return batches;
  }

  /** Caller-runs, except after close: the JDK's CallerRunsPolicy then silently drops the task. */
  private static void runInCaller(Runnable task, ThreadPoolExecutor executor) {
    if (executor.isShutdown()) {
      throw new RejectedExecutionException("closed");
    }
    task.run();
  }

  /** Stops accepting work, lets running batches finish (up to 30 s), then interrupts them. */
  @Override
  public void close() {
    executor.shutdown();
    try {
      if (!executor.awaitTermination(CLOSE_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      executor.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "BatchingEmbedder[" + delegate + ", batchSize=" + batchSize + ", threads="
        + executor.getMaximumPoolSize() + "]";
  }

  /** Named daemon threads: visible in thread dumps, and a missed close() cannot block JVM exit. */
  private static final class EmbeddingThreads implements ThreadFactory {
    private static final AtomicInteger POOLS = new AtomicInteger();
    private final int pool = POOLS.incrementAndGet();
    private final AtomicInteger count = new AtomicInteger();

    @Override
    public Thread newThread(Runnable task) {
      Thread thread = new Thread(task, "embedding-" + pool + "-" + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    }
  }
}
