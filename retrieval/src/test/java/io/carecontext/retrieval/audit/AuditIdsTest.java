package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditIdsTest {

  @Test
  void auditIdsAreVersionSevenUuidsThatStartWithTheTime() throws InterruptedException {
    UUID first = AuditRow.timeOrderedId();
    Thread.sleep(3);
    UUID later = AuditRow.timeOrderedId();
    assertThat(first.version()).isEqualTo(7);
    assertThat(first.variant()).isEqualTo(2);
    assertThat(later.getMostSignificantBits() >>> 16).isGreaterThan(first.getMostSignificantBits() >>> 16);
    assertThat(later.toString()).isGreaterThan(first.toString());
  }

  @Test
  void auditIdsDoNotRepeat() {
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 100_000; i++) {
      ids.add(AuditRow.timeOrderedId());
    }
    assertThat(ids).hasSize(100_000);
  }
}
