package io.carecontext.services.ops;

import io.carecontext.migrations.PlatformDatabase;
import io.micronaut.core.async.publisher.AsyncSingleResultPublisher;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Readiness;
import io.micronaut.scheduling.TaskExecutors;
import jakarta.inject.Named;
import jakarta.inject.Singleton;
import java.util.concurrent.ExecutorService;
import org.reactivestreams.Publisher;

/**
 * Readiness says DOWN (503) within about a second when the database does not answer, and UP as
 * soon as it does again. It replaces Micronaut's JDBC indicator, which borrowed from the request
 * pool and so waited the pool's whole acquire timeout, longer than a probe's patience, and read a
 * pool busy under load as an outage. Liveness does not look at the database: restarting the
 * process would not bring it back.
 */
@Singleton
@Readiness
public class DatabaseReadiness implements HealthIndicator {

  private final PlatformDatabase db;
  private final ExecutorService blocking;

  public DatabaseReadiness(PlatformDatabase db, @Named(TaskExecutors.BLOCKING) ExecutorService blocking) {
    this.db = db;
    this.blocking = blocking;
  }

  @Override
  public Publisher<HealthResult> getResult() {
    return new AsyncSingleResultPublisher<>(blocking,
        () -> HealthResult.builder("database", db.reachable() ? HealthStatus.UP : HealthStatus.DOWN).build());
  }
}
