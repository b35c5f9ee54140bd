package io.carecontext.services.ops;

import io.carecontext.migrations.TenantKeys;
import io.micronaut.core.async.publisher.AsyncSingleResultPublisher;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Readiness;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
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
 */
@Singleton
@Readiness
public class KeyReadiness implements HealthIndicator {

  private static final Logger LOG = LoggerFactory.getLogger(KeyReadiness.class);
  private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(30);

  private final TenantKeys keys;
  private final ExecutorService blocking;
  private final AtomicBoolean checking = new AtomicBoolean();
  private volatile Boolean opensNone; // null until the first check
  private volatile long checkedAt;

  public KeyReadiness(TenantKeys keys, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
    this.keys = keys;
    this.blocking = blocking;
  }

  @Override
  public Publisher<HealthResult> getResult() {
    if (opensNone == null) {
      return new AsyncSingleResultPublisher<>(blocking, () -> {
        check();
        return result();
      });
    }
    if (System.nanoTime() - checkedAt >= RECHECK_NANOS && checking.compareAndSet(false, true)) {
      try {
        blocking.execute(this::check);
      } catch (RejectedExecutionException e) {
        checking.set(false);
      }
    }
    return Publishers.just(result());
  }

  private HealthResult result() {
    return HealthResult.builder("keys", Boolean.TRUE.equals(opensNone) ? HealthStatus.DOWN : HealthStatus.UP).build();
  }

  private void check() {
    try {
      boolean none = opensNone(keys.dataKeysByKek(), keys::holds);
      if (none && !Boolean.TRUE.equals(opensNone)) {
        LOG.warn("readiness is DOWN: this process holds none of the key-encryption keys the tenants' data keys are "
            + "wrapped under, so it can serve no tenant (the start's warning names the key they need)");
      }
      opensNone = none;
    } catch (RuntimeException e) {
      if (opensNone == null) {
        opensNone = false; // the database's check answers for an outage; this one says only what it found
      }
    } finally {
      checkedAt = System.nanoTime();
      checking.set(false);
    }
  }

  /** Data keys are stored, and none is wrapped under a key-encryption key this process {@code holds}. */
  static boolean opensNone(Map<String, Integer> dataKeysByKek, Predicate<String> holds) {
    return !dataKeysByKek.isEmpty() && dataKeysByKek.keySet().stream().noneMatch(holds);
  }
}
