package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Each tenant's rate window lives while its status is read, and not past its tenant. */
class EmbedWindowsTest {

  static final long S = 1_000_000_000L;
  static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void aTenantsWindowIsKeptBetweenReadsAndDroppedWhenItIsOffboarded() {
    EmbedWindows windows = new EmbedWindows();
    TenantId acme = TenantId.of("acme");
    EmbedProgress first = windows.window(acme, CREATED, 0);
    first.add(0, 0, 100, 0);
    assertThat(windows.window(acme, CREATED, 2 * S)).isSameAs(first);
    windows.forget(acme);
    assertThat(windows.size()).isZero();
    assertThat(windows.window(acme, CREATED, 3 * S)).isNotSameAs(first);
  }

  @Test
  void aTenantCreatedAgainUnderItsIdStartsAWindowOfItsOwn() {
    EmbedWindows windows = new EmbedWindows();
    TenantId acme = TenantId.of("acme");
    EmbedProgress old = windows.window(acme, CREATED, 0);
    assertThat(windows.window(acme, CREATED.plusSeconds(60), S)).isNotSameAs(old);
    assertThat(windows.size()).isEqualTo(1);
  }

  /**
   * A tenant offboarded through another replica is never forgotten here: its window goes once no read came for
   * {@link EmbedWindows#IDLE_NANOS}, at any tenant's next read. A window read within that time is kept.
   */
  @Test
  void aWindowUnreadForLongerThanTheIdleTimeIsDroppedAtAnyTenantsNextRead() {
    EmbedWindows windows = new EmbedWindows();
    TenantId gone = TenantId.of("gone");
    TenantId polled = TenantId.of("polled");
    long start = -5 * S; // nanoTime's origin is arbitrary: the times may be negative
    EmbedProgress goneWindow = windows.window(gone, CREATED, start);
    EmbedProgress polledWindow = windows.window(polled, CREATED, start);
    assertThat(windows.window(polled, CREATED, start + EmbedWindows.IDLE_NANOS)).isSameAs(polledWindow);
    assertThat(windows.size()).isEqualTo(2); // exactly the idle time: kept
    assertThat(windows.window(polled, CREATED, start + EmbedWindows.IDLE_NANOS + 1)).isSameAs(polledWindow);
    assertThat(windows.size()).isEqualTo(1);
    assertThat(windows.window(gone, CREATED, start + EmbedWindows.IDLE_NANOS + 2)).isNotSameAs(goneWindow);
  }

  /**
   * Reads of several tenants' status at once, from request threads, with offboardings among them: each read gets a
   * window and an estimate (the deque of a window is only touched under its lock), and no window outlives its tenant.
   */
  @Test
  void concurrentReadsAndOffboardingsKeepEveryWindowWhole() throws Exception {
    EmbedWindows windows = new EmbedWindows();
    int threads = 4;
    int reads = 2_000;
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(threads);
    java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
    java.util.List<java.util.concurrent.Future<Integer>> done = new java.util.ArrayList<>();
    java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
    try {
      for (int i = 0; i < threads; i++) {
        int me = i;
        done.add(pool.submit(() -> {
          start.await();
          int estimates = 0;
          for (int r = 0; r < reads; r++) {
            TenantId t = TenantId.of("t" + (r % 3));
            long now = clock.addAndGet(S / 10);
            if (me == 0 && r % 100 == 99) {
              windows.forget(t);
            }
            EmbedProgress.Estimate e = windows.window(t, CREATED, now).add(now, now / S, 1_000, 0);
            if (e != null) {
              estimates++;
            }
          }
          return estimates;
        }));
      }
      start.countDown();
      for (java.util.concurrent.Future<Integer> f : done) {
        assertThat(f.get()).isEqualTo(reads);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(windows.size()).isBetween(1, 3);
    windows.forget(TenantId.of("t0"));
    windows.forget(TenantId.of("t1"));
    windows.forget(TenantId.of("t2"));
    assertThat(windows.size()).isZero();
  }
}
