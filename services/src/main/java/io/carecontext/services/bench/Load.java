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
 *
 * <p>The warm-up lasts until the JIT compiler is nearly idle: at least {@value #WARM_UP_SECONDS}
 * s, then one second more at a time while the compiler still worked more than
 * {@value #JIT_SETTLED_MILLIS} ms in the last second, at most {@value #WARM_UP_MAX_SECONDS} s.
 * With a fixed 3 s, the C2 compiler still took as much CPU as the 8 client threads during the
 * measured seconds of the first run (JFR thread CPU load), which a long-running service does not pay.
 */
final class Load {

  private Load() {}

  static final double WARM_UP_SECONDS = 3;
  static final double WARM_UP_MAX_SECONDS = 20;
  static final long JIT_SETTLED_MILLIS = 50;

  /** The latencies of every call in the measured window, and the cores each side kept busy. */
  record Result(long[] nanos, double[] cores) {}

  static Result run(int clients, double seconds, IntConsumer call) throws Exception {
    warmUp(clients, call);
    CpuUse start = CpuUse.now();
    long[] nanos = measure(clients, seconds, call);
    return new Result(nanos, CpuUse.now().coresSince(start));
  }

  private static void warmUp(int clients, IntConsumer call) throws Exception {
    var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
    boolean timed = jit != null && jit.isCompilationTimeMonitoringSupported();
    measure(clients, WARM_UP_SECONDS, call);
    for (double spent = WARM_UP_SECONDS; timed && spent < WARM_UP_MAX_SECONDS; spent++) {
      long before = jit.getTotalCompilationTime();
      measure(clients, 1, call);
      if (jit.getTotalCompilationTime() - before <= JIT_SETTLED_MILLIS) {
        return;
      }
    }
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
