package io.carecontext.services.ops;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.OptionalDouble;
import java.util.OptionalLong;

/**
 * The embedding worker's progress over the last {@link #WINDOW_NANOS} of successive status reads: resources a
 * second and the time left. One arithmetic for {@code ingest} / {@code tenant wait} (which read the status
 * endpoint) and for the endpoint itself (which reads the database): each feeds it its own reads.
 *
 * <p>Averaged since the first read, a worker stopped (SIGTERM) or never started showed a rate falling slowly from
 * its last value and an ETA that stayed small, and a queue whose every row waited out a failure's backoff showed
 * "ETA 0s" for minutes: hence the window, and no ETA while only retrying rows are left.
 */
public final class EmbedProgress {

  /** The span the rate is measured over. */
  public static final long WINDOW_NANOS = 30_000_000_000L;
  /** Less than this between the first read kept and now measures nothing. */
  static final long MIN_SPAN_NANOS = 500_000_000L;

  /**
   * Reads {nanos, done}, oldest first; the oldest kept is the newest at least a window old. A deque: reads leave from
   * the front, which an ArrayList did by moving every later one.
   */
  private final ArrayDeque<long[]> samples = new ArrayDeque<>();
  private long lastDone = Long.MIN_VALUE;
  private long lastNanos;
  private long lastProgressNanos;
  private boolean progressed;

  /**
   * What the window says after the read at {@code nanos}. {@code done} is a count that rises by one for each row
   * the worker finishes (its base does not matter: only its rise is used), {@code left} the rows queued, and
   * {@code retrying} how many of them wait out a failure's backoff. {@code nanos} is when {@code done} was counted.
   */
  public synchronized Estimate add(long nanos, long done, long left, long retrying) {
    if (lastDone != Long.MIN_VALUE && nanos < lastNanos) {
      // a read taken before one already added (two reads of the status answered at once): its older count, added
      // after the newer, read as the queue going back and then as progress the next read, which moved
      // lastProgressAt to a moment nothing finished; the newer read stands
      nanos = lastNanos;
      done = lastDone;
    }
    lastNanos = nanos;
    if (lastDone != Long.MIN_VALUE && done > lastDone) {
      progressed = true;
      lastProgressNanos = nanos;
    }
    lastDone = done;
    // reads closer together than the shortest span are not kept (a dashboard polling in a loop would fill the
    // window); the estimate still compares this read with the oldest one kept
    if (samples.isEmpty() || nanos - samples.peekLast()[0] >= MIN_SPAN_NANOS) {
      samples.addLast(new long[] {nanos, done});
    }
    while (samples.size() > 2 && nanos - second()[0] >= WINDOW_NANOS) {
      samples.removeFirst();
    }
    long[] first = samples.peekFirst();
    long span = nanos - first[0];
    OptionalLong lastProgress = progressed ? OptionalLong.of(lastProgressNanos) : OptionalLong.empty();
    if (span < MIN_SPAN_NANOS) {
      return new Estimate(OptionalDouble.empty(), OptionalLong.empty(), false, span, lastProgress);
    }
    long finished = done - first[1];
    if (finished <= 0) {
      // a whole window without progress while rows that are not backing off wait: no worker takes them
      boolean stalled = span >= WINDOW_NANOS && left > retrying;
      return new Estimate(OptionalDouble.empty(), OptionalLong.empty(), stalled, span, lastProgress);
    }
    double rate = finished / (span / 1e9);
    // every row left waits out a failure's backoff: no rate tells when they are done
    OptionalLong eta = left > retrying ? OptionalLong.of(Math.round(left / rate)) : OptionalLong.empty();
    return new Estimate(OptionalDouble.of(rate), eta, false, span, lastProgress);
  }

  /** The read after the oldest kept; there are at least two. */
  private long[] second() {
    Iterator<long[]> reads = samples.iterator();
    reads.next();
    return reads.next();
  }

  /**
   * {@code perSecond}: rows finished a second over {@code spanNanos} (empty when none were, or the span is too
   * short); {@code etaSeconds}: the time the rows left take at that rate (empty without a rate, or when only
   * retrying rows are left); {@code stalled}: a whole window passed without progress while rows that are not
   * backing off wait; {@code lastProgressNanos}: the read that last saw a row finished, if any did.
   */
  public record Estimate(OptionalDouble perSecond, OptionalLong etaSeconds, boolean stalled, long spanNanos,
                         OptionalLong lastProgressNanos) {

    /**
     * This estimate while the tenant's embedding endpoint is paused: no rate and no time left (the window still
     * held the progress made before the pause, and showed both for up to 30 s while nothing moved), the last
     * progress as it was. The window keeps its reads, so the rate comes back with the next progress.
     */
    public Estimate paused() {
      return new Estimate(OptionalDouble.empty(), OptionalLong.empty(), stalled, spanNanos, lastProgressNanos);
    }
  }
}
