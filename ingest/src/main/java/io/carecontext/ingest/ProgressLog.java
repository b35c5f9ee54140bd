package io.carecontext.ingest;

import io.carecontext.migrations.TenantId;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * When the embedding worker writes a progress line to the log: once a minute while a tenant's queue is being worked
 * (a bulk load, a re-embedding), and once when the queue is empty after such a line. A queue worked off within the
 * minute writes none, so everyday writes stay quiet. An on-call engineer who reads the log alone saw the one line a
 * re-embedding's start writes, then nothing until it ended (the ingest status and /metrics had the figures). Counts
 * and times only: a line names the tenant, never a resource. Shared by the worker's threads.
 */
final class ProgressLog {

  /** The least time between two progress lines of one tenant. */
  static final long INTERVAL_NANOS = 60_000_000_000L;

  /** What a line says: rows done since the last line over its seconds, and since the run began over its seconds. */
  record Line(long done, long seconds, long total, long totalSeconds) {

    /** Rows a second since the last line, rounded down. */
    long perSecond() {
      return seconds == 0 ? done : done / seconds;
    }
  }

  /** A tenant's run: from its first row done after an empty queue to the next empty queue. */
  private record Run(long startNanos, long lineNanos, long total, long sinceLine, boolean lined) {}

  private final Map<TenantId, Run> runs = new ConcurrentHashMap<>();
  /**
   * The worker's threads draining each tenant now: every thread drains every tenant, and one that found the queue
   * empty while another still worked its last batch ended the run, writing "the queue is empty" early with the
   * other's rows left out of it, and starting a run of its own for them.
   */
  private final Map<TenantId, Integer> draining = new ConcurrentHashMap<>();

  /** A thread begins to drain the tenant: {@link #emptied} or {@link #left} follows it. */
  void begin(TenantId tenant) {
    draining.merge(tenant, 1, Integer::sum);
  }

  /** A thread stops draining the tenant without finding its queue empty (its batch failed): the run goes on. */
  void left(TenantId tenant) {
    draining.computeIfPresent(tenant, (t, n) -> n == 1 ? null : n - 1);
  }

  /** {@code n} rows of the tenant done at {@code nanos}; the line to write, when one is due. */
  Optional<Line> done(TenantId tenant, int n, long nanos) {
    Line[] due = new Line[1];
    runs.compute(tenant, (t, run) -> {
      if (run == null) {
        return new Run(nanos, nanos, n, n, false);
      }
      long total = run.total() + n;
      long sinceLine = run.sinceLine() + n;
      if (nanos - run.lineNanos() < INTERVAL_NANOS) {
        return new Run(run.startNanos(), run.lineNanos(), total, sinceLine, run.lined());
      }
      due[0] = new Line(sinceLine, seconds(nanos - run.lineNanos()), total, seconds(nanos - run.startNanos()));
      return new Run(run.startNanos(), nanos, total, 0, true);
    });
    return Optional.ofNullable(due[0]);
  }

  /**
   * The tenant's queue found empty at {@code nanos}: the run ends when no other thread drains the tenant, and its
   * closing line is due when it wrote a progress line (the whole run's figures).
   */
  Optional<Line> emptied(TenantId tenant, long nanos) {
    boolean[] last = {true};
    draining.computeIfPresent(tenant, (t, n) -> {
      last[0] = n == 1;
      return n == 1 ? null : n - 1;
    });
    if (!last[0]) {
      return Optional.empty(); // another thread still works the tenant's last rows: the run ends with it
    }
    Run run = runs.remove(tenant);
    if (run == null || !run.lined()) {
      return Optional.empty();
    }
    long seconds = seconds(nanos - run.startNanos());
    return Optional.of(new Line(run.total(), seconds, run.total(), seconds));
  }

  private static long seconds(long nanos) {
    return nanos / 1_000_000_000L;
  }
}
