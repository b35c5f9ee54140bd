package io.carecontext.services.ops;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.core.async.publisher.Publishers;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.endpoint.health.HealthLevelOfDetail;
import io.micronaut.management.health.aggregator.DefaultHealthAggregator;
import io.micronaut.management.health.aggregator.HealthAggregator;
import io.micronaut.management.health.indicator.HealthIndicator;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.runtime.ApplicationConfiguration;
import jakarta.inject.Singleton;
import java.util.List;
import java.util.Map;
import org.reactivestreams.Publisher;

/**
 * A DOWN health answer names the checks that are down ({@code {"status":"DOWN","details":{"down":["database"]}}}),
 * so an operator reading a probe's 503 knows whether the database stopped answering or the process is draining
 * for a stop, without the log. Only the names of the checks ({@code database}, {@code shutdown}, Micronaut's
 * own): no host, no count, nothing a caller without a key could use beyond what the 503 itself says. An UP
 * answer stays {@code {"status":"UP"}}; any other level of detail (ours is never shown) is Micronaut's.
 */
@Singleton
@Replaces(DefaultHealthAggregator.class)
public class HealthDownReasons implements HealthAggregator<HealthResult> {

  private final DefaultHealthAggregator micronaut;

  public HealthDownReasons(ApplicationConfiguration applicationConfiguration) {
    this.micronaut = new DefaultHealthAggregator(applicationConfiguration);
  }

  @Override
  public Publisher<HealthResult> aggregate(HealthIndicator[] indicators, HealthLevelOfDetail levelOfDetail) {
    if (levelOfDetail != HealthLevelOfDetail.STATUS) {
      return micronaut.aggregate(indicators, levelOfDetail);
    }
    // the same checks, run once, with each one's result kept for its name; then only the status (and, when
    // DOWN, the names) is answered
    return Publishers.map(micronaut.aggregate(indicators, HealthLevelOfDetail.STATUS_DESCRIPTION_DETAILS),
        HealthDownReasons::statusOnly);
  }

  @Override
  public Publisher<HealthResult> aggregate(String name, Publisher<HealthResult> result) {
    return micronaut.aggregate(name, result);
  }

  static HealthResult statusOnly(HealthResult detailed) {
    HealthResult.Builder answer = HealthResult.builder(null, detailed.getStatus());
    if (!HealthStatus.UP.equals(detailed.getStatus()) && detailed.getDetails() instanceof Map<?, ?> checks) {
      List<String> down = down(checks);
      if (!down.isEmpty()) {
        answer.details(Map.of("down", down));
      }
    }
    return answer.build();
  }

  /** The names of the checks whose own result is not UP, sorted. */
  static List<String> down(Map<?, ?> checks) {
    return checks.entrySet().stream()
        .filter(e -> e.getValue() instanceof HealthResult r && !HealthStatus.UP.equals(r.getStatus()))
        .map(e -> String.valueOf(e.getKey()))
        .sorted()
        .toList();
  }
}
