package io.carecontext.services.bench;

import java.util.Arrays;

/** Latencies of one benchmark run and the figures printed from them. */
record Stats(String name, long[] nanos, double[] cores, double seconds, double recall, double warmUpSeconds) {

  Stats(String name, Load.Result run, double seconds, double recall) {
    this(name, run.nanos(), run.cores(), seconds, recall, run.warmUpSeconds());
  }

  double qps() {
    return nanos.length / seconds;
  }

  double percentileMillis(double p) {
    if (nanos.length == 0) {
      return Double.NaN;
    }
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return sorted[(int) Math.min(sorted.length - 1, Math.ceil(p / 100.0 * sorted.length) - 1)] / 1e6;
  }

  /** Cores both sides (JVM and PostgreSQL) kept busy during the run (the JIT's share is in the JVM's). */
  double busyCores() {
    return cores[0] + cores[1];
  }

  /** CPU of both sides per request, in microseconds: what decides throughput once the cores are busy. */
  double cpuMicrosPerRequest() {
    return busyCores() / qps() * 1e6;
  }

  String row(Stats tuned, Stats asCreated) {
    return String.format("| %-38s | %9.1f | %8.2f | %8.2f | %8.2f | %6.3f | %8s | %9s | %4.2f | %4.2f | %8.0f | %4.2f | %11.0f |",
        name, qps(), percentileMillis(50), percentileMillis(95), percentileMillis(99), recall,
        tuned == null ? "" : String.format("%.2fx", qps() / tuned.qps()),
        asCreated == null ? "" : String.format("%.1fx", qps() / asCreated.qps()), cores[0], cores[1],
        cpuMicrosPerRequest(), cores[2], warmUpSeconds);
  }

  static String header() {
    return "| run                                    |       QPS | p50 (ms) | p95 (ms) | p99 (ms) | rec@10 |  ÷ tuned | ÷ created |  JVM |   PG | CPU µs/q |  JIT | warm-up (s) |\n"
        + "|----------------------------------------|-----------|----------|----------|----------|--------|----------|-----------|------|------|----------|------|-------------|";
  }
}
