package io.carecontext.services.ops;

import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.management.health.indicator.annotation.Readiness;
import jakarta.inject.Singleton;
import java.util.concurrent.atomic.AtomicBoolean;
import org.reactivestreams.Publisher;

/**
 * The first step of a stop: readiness answers 503 DOWN while the listener still accepts and answers, so a load
 * balancer (a Kubernetes Service's endpoints, which drop a terminating pod asynchronously) stops sending new
 * requests before any is refused. Liveness stays UP: the process is not wedged, only leaving.
 */
@Singleton
@Readiness
public class ShutdownDrain implements HealthIndicator {

  private final AtomicBoolean draining = new AtomicBoolean();

  /** From now on readiness is DOWN; the requests that still come are served as before. */
  public void begin() {
    draining.set(true);
  }

  public boolean draining() {
    return draining.get();
  }

  @Override
  public Publisher<HealthResult> getResult() {
    return Publishers.just(HealthResult.builder("shutdown", draining.get() ? HealthStatus.DOWN : HealthStatus.UP).build());
  }
}
