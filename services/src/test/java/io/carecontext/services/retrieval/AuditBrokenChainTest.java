package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditVerification.BrokenLink;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What verify tells an officer about a broken trail: which row, since when, what it means, what to do next. */
class AuditBrokenChainTest {

  @Test
  void everyProblemIsSaidInWordsWithTheTenantAndTheNextStep() {
    TenantId t = TenantId.of("ward");
    for (String problem : List.of("row", "seal", "forged-seal", "behind-seal", "head", "shard")) {
      String m = AuditController.brokenMessage(t, new BrokenLink(3, 41, null, problem));
      assertThat(m).as(problem).startsWith("the audit trail of tenant ward does not verify: ").contains("shard 3")
          .contains("Next: keep this answer").contains("audit-verify, reason chain_broken")
          .doesNotContain("(" + problem + ")");
    }
    assertThat(AuditController.brokenMessage(t, new BrokenLink(3, 41, "0190a1b2-0000-7000-8000-000000000001", "row")))
        .contains("the row at shard 3, seq 41 (auditId 0190a1b2-0000-7000-8000-000000000001) does not follow");
    // an anchor the key did not make: the chain was not checked, and the officer is told what to send instead
    assertThat(AuditController.brokenMessage(t, new BrokenLink(2, 7, null, "forged-anchor")))
        .startsWith("the audit trail of tenant ward was not checked: ").contains("audit-anchor log lines")
        .doesNotContain("chain_broken");
  }

  /** Since when: the time a row's id (a UUIDv7) carries; nothing for no row or an id of another form. */
  @Test
  void theBrokenRowsTimeIsTheOneItsIdCarries() {
    java.util.UUID v7 = new java.util.UUID((Instant.parse("2026-12-07T15:38:45.783Z").toEpochMilli() << 16) | 0x7000L,
        0x8000_0000_0000_0001L);
    assertThat(AuditController.writtenAt(v7.toString())).isEqualTo(Instant.parse("2026-12-07T15:38:45.783Z"));
    assertThat(AuditController.writtenAt(null)).isNull();
    assertThat(AuditController.writtenAt(java.util.UUID.randomUUID().toString())).isNull(); // version 4
    assertThat(AuditController.writtenAt("not-an-id")).isNull();
  }

  /**
   * A seal's break is found at the sealed row, but the change may be at any row before it since the last good seal:
   * that row's time is no "since when", so only a row's own break (and a row on no chain's shard) carries one.
   */
  @Test
  void onlyABreakAtTheRowItselfSaysSinceWhen() {
    java.util.UUID v7 = new java.util.UUID((Instant.parse("2026-12-07T15:38:45.783Z").toEpochMilli() << 16) | 0x7000L,
        0x8000_0000_0000_0001L);
    for (String problem : List.of("row", "shard")) {
      assertThat(AuditController.since(new BrokenLink(3, 41, v7.toString(), problem))).as(problem)
          .isEqualTo(Instant.parse("2026-12-07T15:38:45.783Z"));
    }
    for (String problem : List.of("seal", "forged-seal")) {
      assertThat(AuditController.since(new BrokenLink(3, 41, v7.toString(), problem))).as(problem).isNull();
    }
    // a row of before the trail's ids were time-ordered (a version-4 id) carries no time
    assertThat(AuditController.since(new BrokenLink(3, 41, java.util.UUID.randomUUID().toString(), "row"))).isNull();
  }
}
