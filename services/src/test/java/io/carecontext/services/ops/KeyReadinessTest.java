package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.reactivestreams.Publisher;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

class KeyReadinessTest {

  @Test
  void downOnlyWhenDataKeysAreStoredAndNoneOpens() {
    assertThat(KeyReadiness.opensNone(Map.of(), kek -> false)).as("no tenant yet: nothing to open").isFalse();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3), kek -> false)).as("the wrong key file").isTrue();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3, "b2", 1), "b2"::equals))
        .as("one tenant's key opens: that tenant is served, the start's warning names the rest").isFalse();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3), "a1"::equals)).isFalse();
  }

  /**
   * The first probe while the check waits on the request pool (the database gone, or the pool busy: 3 s by
   * default, the chart's probe timeout) answers UP within the readiness bound instead of waiting with it, and the
   * probes that come meanwhile share that one check rather than each holding a blocking thread on the pool.
   */
  @Test
  void theFirstProbeDoesNotWaitForACheckTheDatabaseHoldsUpAndProbesShareOneCheck() throws Exception {
    CountDownLatch databaseBack = new CountDownLatch(1);
    AtomicInteger reads = new AtomicInteger();
    ExecutorService blocking = Executors.newCachedThreadPool();
    try {
      KeyReadiness readiness = new KeyReadiness(() -> {
        reads.incrementAndGet();
        try {
          databaseBack.await();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return Map.of("a1", 3);
      }, kek -> false, blocking);

      // a generous bound for the answer: without the first probe's own bound it waits until the database is back
      assertThat(first(readiness.getResult()).get(30, TimeUnit.SECONDS).getStatus())
          .as("nothing read yet: the database's check answers for the outage").isEqualTo(HealthStatus.UP);
      assertThat(first(readiness.getResult()).get(30, TimeUnit.SECONDS).getStatus()).isEqualTo(HealthStatus.UP);
      assertThat(reads.get()).as("one check in flight, shared").isEqualTo(1);

      databaseBack.countDown();
      HealthResult after;
      do {
        after = first(readiness.getResult()).get(30, TimeUnit.SECONDS);
      } while (after.getStatus() == HealthStatus.UP && !Thread.currentThread().isInterrupted());
      assertThat(after.getStatus()).as("the check read no key it opens").isEqualTo(HealthStatus.DOWN);
      assertThat(reads.get()).as("then answered from what it found, not read again at once").isEqualTo(1);
    } finally {
      databaseBack.countDown();
      blocking.shutdownNow();
    }
  }

  private static CompletableFuture<HealthResult> first(Publisher<HealthResult> p) {
    CompletableFuture<HealthResult> f = new CompletableFuture<>();
    p.subscribe(new Subscriber<>() {
      @Override
      public void onSubscribe(Subscription s) {
        s.request(1);
      }

      @Override
      public void onNext(HealthResult r) {
        f.complete(r);
      }

      @Override
      public void onError(Throwable t) {
        f.completeExceptionally(t);
      }

      @Override
      public void onComplete() {
        f.complete(null);
      }
    });
    return f;
  }
}
