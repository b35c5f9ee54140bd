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
 * s, then one second more at a time until the compiler threads used at most
 * {@value #JIT_SETTLED_MILLIS} ms of CPU in each of the last {@value #QUIET_SECONDS} seconds, at
 * most {@value #WARM_UP_MAX_SECONDS} s.
 * With a fixed 3 s, the C2 compiler still took as much CPU as the 8 client threads during the
 * measured seconds of the first run (JFR thread CPU load), which a long-running service does not pay.
 * On a slower machine (2026-12-02) the earlier rule (the JVM's compilation-time counter quiet for
 * one second, at most 20 s) let the compiler take a fifth of the machine's CPU during the measured
 * HTTP runs (perf): the cap was reached with the compiler still busy, and that counter moves only
 * when a compilation ends, so one long C2 compilation looked like quiet seconds.
 */
final class Load {

  private Load() {}

  static final double WARM_UP_SECONDS = 3;
  static final double WARM_UP_MAX_SECONDS = 120;
  /** The warm-up's cap in force: {@link #WARM_UP_MAX_SECONDS}, lower only in the benchmark's smoke test. */
  static volatile double warmUpMaxSeconds = WARM_UP_MAX_SECONDS;
  static final long JIT_SETTLED_MILLIS = 50;
  static final int QUIET_SECONDS = 3;

  /**
   * The latencies of every call in the measured window, the cores each side kept busy ({JVM,
   * PostgreSQL, the JIT compiler as part of the JVM}) and how long the warm-up before it lasted.
   */
  record Result(long[] nanos, double[] cores, double warmUpSeconds) {}

  /** Two calls measured in turns ({@link #alternate}), and the ratio of their request counts in each round. */
  record Pair(Result a, Result b, double[] roundRatios) {

    /**
     * The 95 % confidence interval of the rounds' mean ratio (Student's t, rounds - 1 degrees of
     * freedom): how far this machine's noise leaves the ratio open. Needs at least two rounds.
     */
    double[] ratioInterval() {
      return meanInterval(roundRatios);
    }
  }

  /** Two-sided 97.5 % quantiles of Student's t for 1 to 10 degrees of freedom. */
  private static final double[] T_975 = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228};

  /** The mean of {@code x} and the 95 % confidence interval around it: {mean, low, high}. */
  static double[] meanInterval(double[] x) {
    int n = x.length;
    if (n < 2 || n > T_975.length + 1) {
      throw new IllegalArgumentException("2 to " + (T_975.length + 1) + " values, not " + n);
    }
    double mean = java.util.Arrays.stream(x).average().orElseThrow();
    double ss = java.util.Arrays.stream(x).map(v -> (v - mean) * (v - mean)).sum();
    double half = T_975[n - 2] * Math.sqrt(ss / (n - 1) / n);
    return new double[] {mean, mean - half, mean + half};
  }

  /** How far apart in the sequence of calls the rounds start: more calls than a round makes, so no round repeats another's. */
  static final int ROUND_STRIDE = 1_000_000;

  static Result run(int clients, double seconds, IntConsumer call) throws Exception {
    double warm = warmUp(clients, call);
    CpuUse start = CpuUse.now();
    long[] nanos = measure(clients, seconds, call, 0);
    return new Result(nanos, CpuUse.now().coresSince(start), warm);
  }

  /**
   * Measures two calls in turns, each for {@code seconds} in all: after both warm-ups,
   * {@code rounds} rounds of {@code seconds / rounds} each, the order swapped every round (a b,
   * b a, a b, ...), so that a machine that slows down or speeds up during the run weighs on both
   * alike. In a round both make the same calls (the same patients and queries); round r starts at
   * call r × {@link #ROUND_STRIDE}. The cores are the mean of the rounds (they are equally long).
   */
  static Pair alternate(int clients, double seconds, int rounds, IntConsumer a, IntConsumer b) throws Exception {
    double warmA = warmUp(clients, a);
    double warmB = warmUp(clients, b);
    double slice = seconds / rounds;
    List<long[]> aNanos = new ArrayList<>();
    List<long[]> bNanos = new ArrayList<>();
    double[] aCores = new double[3];
    double[] bCores = new double[3];
    double[] ratios = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      boolean aFirst = r % 2 == 0;
      Result first = segment(clients, slice, aFirst ? a : b, r * ROUND_STRIDE);
      Result second = segment(clients, slice, aFirst ? b : a, r * ROUND_STRIDE);
      Result ra = aFirst ? first : second;
      Result rb = aFirst ? second : first;
      aNanos.add(ra.nanos());
      bNanos.add(rb.nanos());
      for (int side = 0; side < aCores.length; side++) {
        aCores[side] += ra.cores()[side] / rounds;
        bCores[side] += rb.cores()[side] / rounds;
      }
      ratios[r] = ra.nanos().length / (double) Math.max(1, rb.nanos().length);
    }
    return new Pair(new Result(concat(aNanos), aCores, warmA), new Result(concat(bNanos), bCores, warmB), ratios);
  }

  private static Result segment(int clients, double seconds, IntConsumer call, int offset) throws Exception {
    CpuUse start = CpuUse.now();
    long[] nanos = measure(clients, seconds, call, offset);
    return new Result(nanos, CpuUse.now().coresSince(start), 0);
  }

  private static long[] concat(List<long[]> parts) {
    return parts.stream().flatMapToLong(java.util.Arrays::stream).toArray();
  }

  /** Runs the call until the JIT compiler is quiet (see above); the seconds it took. */
  private static double warmUp(int clients, IntConsumer call) throws Exception {
    measure(clients, WARM_UP_SECONDS, call, 0);
    double spent = WARM_UP_SECONDS;
    boolean timed = CpuUse.jitCpuMillis() >= 0;
    for (int quiet = 0; timed && quiet < QUIET_SECONDS && spent < warmUpMaxSeconds; spent++) {
      long before = CpuUse.jitCpuMillis();
      measure(clients, 1, call, 0);
      quiet = CpuUse.jitCpuMillis() - before <= JIT_SETTLED_MILLIS ? quiet + 1 : 0;
    }
    return spent;
  }

  /** Client c makes calls offset + c, offset + c + clients, ... until the time is up. */
  private static long[] measure(int clients, double seconds, IntConsumer call, int offset) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    List<Future<long[]>> futures = new ArrayList<>();
    for (int c = 0; c < clients; c++) {
      int client = c;
      futures.add(pool.submit(() -> {
        long[] lat = new long[1 << 16];
        int n = 0;
        int i = offset + client;
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
