package io.carecontext.ingest.embedding;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * A fake provider for decorator tests: vectors derived from the text only, optional delay,
 * failure on a chosen text, and a record of batch sizes, threads and peak concurrency.
 */
final class DeterministicProvider implements EmbeddingProvider {

  static final int DIMENSIONS = 8;

  final List<Integer> batchSizes = new CopyOnWriteArrayList<>();
  final Set<String> threads = ConcurrentHashMap.newKeySet();
  final AtomicInteger running = new AtomicInteger();
  final AtomicInteger peak = new AtomicInteger();
  private final long delayMillis;
  private final Predicate<String> failOn;

  DeterministicProvider(long delayMillis, Predicate<String> failOn) {
    this.delayMillis = delayMillis;
    this.failOn = failOn;
  }

  DeterministicProvider() {
    this(0, text -> false);
  }

  @Override
  public String modelId() {
    return "fake-deterministic";
  }

  @Override
  public int dimensions() {
    return DIMENSIONS;
  }

  @Override
  public List<float[]> embedAll(List<String> texts) {
    Texts.requireValid(texts);
    batchSizes.add(texts.size());
    threads.add(Thread.currentThread().getName());
    peak.accumulateAndGet(running.incrementAndGet(), Math::max);
    try {
      if (delayMillis > 0) {
        Thread.sleep(delayMillis);
      }
      List<float[]> vectors = new ArrayList<>(texts.size());
      for (String text : texts) {
        if (failOn.test(text)) {
          // Deliberately careless, like many client libraries: the text is in the message.
          throw new IllegalStateException("cannot embed: " + text);
        }
        vectors.add(FakeOpenAiServer.vectorFor(text, DIMENSIONS));
      }
      return vectors;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted");
    } finally {
      running.decrementAndGet();
    }
  }
}
