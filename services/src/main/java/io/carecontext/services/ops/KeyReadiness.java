package io.carecontext.services.ops;

import io.carecontext.migrations.TenantKeys;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Readiness;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Inject;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.reactivestreams.Publisher;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Readiness is DOWN ({@code "keys"}) while this process can open none of the stored tenant data keys: started
 * with another key-encryption key than the one they are wrapped under (a restore with the wrong key file, a
 * rotation's previous key left out after every key moved). Such a process answers every tenant request 503
 * {@code key_unavailable}, yet readiness said UP, so a load balancer kept sending it requests (the recovery drill).
 * A process that opens some of them stays UP: the others' tenants are served, and the start's warning names
 * the key the rest need. Checked at the first probe, then again in the background at most every 30 s (a new
 * tenant, a rotation); a check that cannot read the database keeps the last answer (the database's own check
 * says DOWN then).
 *
 * <p>The check borrows from the request pool, which waits its acquire timeout (3 s by default, the chart's
 * probe timeout) when the database is gone or the pool busy. So the first probe waits for it at most
 * {@link #FIRST_ANSWER_MILLIS} and answers UP meanwhile (the database's check answers for an outage): readiness
 * keeps its bound of about a second, and a probe is not timed out instead of told DOWN. One check runs at a
 * time; probes that come while it runs share it.
 */
@Singleton
@Readiness
public class KeyReadiness implements HealthIndicator {

  private static final Logger LOG = LoggerFactory.getLogger(KeyReadiness.class);
  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(30);
  /** How long the first probe waits for the first check, as the database's check waits for its answer. */
  static final long FIRST_ANSWER_MILLIS = 1_000;

  private final Supplier<Map<String, Integer>> dataKeysByKek;
  private final Predicate<String> holds;
  private final ExecutorService blocking;
  private final Object lock = new Object();
  private volatile Boolean opensNone; // null until a check has read the database
  private CompletableFuture<Void> running; // the check in flight, under lock
  private long checkedAt; // under lock: when the last check ended

  @Inject
  public KeyReadiness(TenantKeys keys, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
    this(keys::dataKeysByKek, keys::holds, blocking);
  }

  KeyReadiness(Supplier<Map<String, Integer>> dataKeysByKek, Predicate<String> holds, ExecutorService blocking) {
    this.dataKeysByKek = dataKeysByKek;
    this.holds = holds;
    this.blocking = blocking;
  }

  @Override
  public Publisher<HealthResult> getResult() {
    CompletableFuture<Void> check = startCheckIfDue();
    if (opensNone == null && check != null) {
      // the first answer: wait for the check, but no longer than the database's check waits for its own
      // (a copy: the bound ends this probe's wait, not the check that the next probes share)
      return Publishers.fromCompletableFuture(check.copy().completeOnTimeout(null, FIRST_ANSWER_MILLIS, TimeUnit.MILLISECONDS)
          .thenApply(ignored -> result()));
    }
    return Publishers.just(result());
  }

  /** The check in flight, one started now when none is and the last is 30 s old (or none has read the database). */
  private CompletableFuture<Void> startCheckIfDue() {
    synchronized (lock) {
      if (running != null) {
        return running;
      }
      if (opensNone != null && System.nanoTime() - checkedAt < RECHECK_NANOS) {
        return null;
      }
      CompletableFuture<Void> check;
      try {
        check = CompletableFuture.runAsync(this::check, blocking);
      } catch (RejectedExecutionException e) {
        return null;
      }
      running = check;
      check.whenComplete((ignored, failure) -> {
        synchronized (lock) {
          checkedAt = System.nanoTime();
          running = null;
        }
      });
      return check;
    }
  }

  private HealthResult result() {
    return HealthResult.builder("keys", Boolean.TRUE.equals(opensNone) ? HealthStatus.DOWN : HealthStatus.UP).build();
  }

  private void check() {
    try {
      boolean none = opensNone(dataKeysByKek.get(), holds);
      if (none && !Boolean.TRUE.equals(opensNone)) {
        LOG.warn("readiness is DOWN: this process holds none of the key-encryption keys the tenants' data keys are "
            + "wrapped under, so it can serve no tenant (the start's warning names the key they need)");
      }
      opensNone = none;
    } catch (RuntimeException e) {
      // the last answer stands (UP before any): the database's check answers for an outage; this one says only
      // what it found
    }
  }

  /**
   * Data keys are stored, and none is wrapped under a key-encryption key this process {@code holds} (backup's check
   * of the key it copies too).
   */
  public static boolean opensNone(Map<String, Integer> dataKeysByKek, Predicate<String> holds) {
    return !dataKeysByKek.isEmpty() && dataKeysByKek.keySet().stream().noneMatch(holds);
  }
}
