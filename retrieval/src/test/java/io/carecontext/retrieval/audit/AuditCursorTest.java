package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class AuditCursorTest {

  @Test
  void aTokenNamesItsRowsTimeToTheMicrosecondAndItsId() {
    UUID id = UUID.randomUUID();
    AuditCursor c = new AuditCursor(Instant.parse("2026-01-01T00:00:00.000001Z"), id);
    AuditCursor back = AuditCursor.parse(c.token());
    assertThat(back).isEqualTo(c);
    assertThat(back.at()).isEqualTo(Instant.parse("2026-01-01T00:00:00.000001Z"));
    assertThat(c.token()).matches("[A-Za-z0-9_-]+");
    // before the epoch too (a row's time is its writer's to state)
    AuditCursor old = new AuditCursor(Instant.parse("1969-12-31T23:59:59.999999Z"), id);
    assertThat(AuditCursor.parse(old.token())).isEqualTo(old);
  }

  @Test
  void anythingElseIsRefusedWithoutEchoingIt() {
    for (String bad : new String[] {"", "not-a-token", "djE6eDp5", "djI6MTox", "%%%", "x".repeat(200)}) {
      assertThatThrownBy(() -> AuditCursor.parse(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessage("after must be the next token of an earlier listing, as it was given");
    }
  }

  @Test
  void aFilterCarriesItsCursorAndSaysOnlyItsTime() {
    AuditCursor c = new AuditCursor(Instant.parse("2026-01-01T00:00:00Z"), UUID.randomUUID());
    AuditFilter f = new AuditFilter("p1", null, null, null, null, 10).after(c);
    assertThat(f.after()).isEqualTo(c);
    assertThat(f.toString()).doesNotContain("p1").contains("2026-01-01T00:00:00Z");
  }
}
