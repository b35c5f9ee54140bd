package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class HealthDownReasonsTest {

  private static HealthResult result(String name, HealthStatus status) {
    return HealthResult.builder(name, status).build();
  }

  @Test
  void namesEveryCheckNotUpSortedAndNoOther() {
    Map<String, Object> checks = new LinkedHashMap<>();
    checks.put("shutdown", result("shutdown", HealthStatus.DOWN));
    checks.put("compositeDiscoveryClient()", result("x", HealthStatus.UP));
    checks.put("database", result("database", HealthStatus.DOWN));
    checks.put("service", result("service", HealthStatus.UNKNOWN));
    assertThat(HealthDownReasons.down(checks)).containsExactly("database", "service", "shutdown");
  }

  @Test
  void allUpNamesNothing() {
    assertThat(HealthDownReasons.down(Map.of("database", result("database", HealthStatus.UP)))).isEmpty();
  }

  @Test
  void theAnswerKeepsTheStatusAndOnlyTheNamesOfWhatIsDown() {
    HealthResult detailed = HealthResult.builder("carecontext", HealthStatus.DOWN)
        .details(Map.of("database", result("database", HealthStatus.DOWN), "shutdown", result("shutdown", HealthStatus.UP)))
        .build();
    HealthResult answer = HealthDownReasons.statusOnly(detailed);
    assertThat(answer.getName()).isNull();
    assertThat(answer.getStatus()).isEqualTo(HealthStatus.DOWN);
    assertThat(answer.getDetails()).isEqualTo(Map.of("down", List.of("database")));

    HealthResult up = HealthDownReasons.statusOnly(HealthResult.builder("carecontext", HealthStatus.UP)
        .details(Map.of("database", result("database", HealthStatus.UP))).build());
    assertThat(up.getStatus()).isEqualTo(HealthStatus.UP);
    assertThat(up.getDetails()).as("UP answers its status alone").isNull();
  }
}
