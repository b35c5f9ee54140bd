package io.carecontext.services.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.IntConsumer;

/**
 * Runs a call from N client threads for a bounded time and collects every latency, after an
 * unmeasured warm-up of the same calls (JIT compilation, prepared statements, PostgreSQL's buffer
 * cache), so the run measured first is not penalised against those after it.
 */
final class Load {

  private Load() {}

  static final double WARM_UP_SECONDS = 3;

  /** The latencies of every call in the measured window, and the cores each side kept busy. */
  record Result(long[] nanos, double[] cores) {}

  static Result run(int clients, double seconds, IntConsumer call) throws Exception {
    measure(clients, Math.min(WARM_UP_SECONDS, seconds), call);
    CpuUse start = CpuUse.now();
    long[] nanos = measure(clients, seconds, call);
    return new Result(nanos, CpuUse.now().coresSince(start));
  }

  private static long[] measure(int clients, double seconds, IntConsumer call) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<Future<long[]>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      futures.add(pool.submit(() -> {
        long[] lat = new long[1 << 16];
        int n = 0;
        int i = client;
        while (System.nanoTime() < deadline) {
          long t = System.nanoTime();
          call.accept(i);
          if (n == lat.length) {
            lat = java.util.Arrays.copyOf(lat, n * 2);
          }
          lat[n++] = System.nanoTime() - t;
          i += clients;
        }
        return java.util.Arrays.copyOf(lat, n);
      }));
    }
    List<long[]> all = new ArrayList<>();
    for (Future<long[]> f : futures) {
      all.add(f.get());
    }
    pool.shutdown();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    return all.stream().flatMapToLong(java.util.Arrays::stream).toArray();
  }
}
