package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Each tenant's rate window lives while its status is read, and not past its tenant. */
class EmbedWindowsTest {

  static final long S = 1_000_000_000L;
  static final Instant CREATED = Instant.parse("2026-01-01T00:00:00Z");

  @Test
  void aTenantsWindowIsKeptBetweenReadsAndDroppedWhenItIsOffboarded() {
    EmbedWindows windows = new EmbedWindows();
    TenantId acme = TenantId.of("acme");
    EmbedProgress first = windows.window(acme, CREATED, 0);
    first.add(0, 0, 100, 0);
    assertThat(windows.window(acme, CREATED, 2 * S)).isSameAs(first);
    windows.forget(acme);
    assertThat(windows.size()).isZero();
    assertThat(windows.window(acme, CREATED, 3 * S)).isNotSameAs(first);
  }

  @Test
  void aTenantCreatedAgainUnderItsIdStartsAWindowOfItsOwn() {
    EmbedWindows windows = new EmbedWindows();
    TenantId acme = TenantId.of("acme");
    EmbedProgress old = windows.window(acme, CREATED, 0);
    assertThat(windows.window(acme, CREATED.plusSeconds(60), S)).isNotSameAs(old);
    assertThat(windows.size()).isEqualTo(1);
  }

  /**
   * A tenant offboarded through another replica is never forgotten here: its window goes once no read came for
   * {@link EmbedWindows#IDLE_NANOS}, at any tenant's next read. A window read within that time is kept.
   */
  @Test
  void aWindowUnreadForLongerThanTheIdleTimeIsDroppedAtAnyTenantsNextRead() {
    EmbedWindows windows = new EmbedWindows();
    TenantId gone = TenantId.of("gone");
    TenantId polled = TenantId.of("polled");
    long start = -5 * S; // nanoTime's origin is arbitrary: the times may be negative
    EmbedProgress goneWindow = windows.window(gone, CREATED, start);
    EmbedProgress polledWindow = windows.window(polled, CREATED, start);
    assertThat(windows.window(polled, CREATED, start + EmbedWindows.IDLE_NANOS)).isSameAs(polledWindow);
    assertThat(windows.size()).isEqualTo(2); // exactly the idle time: kept
    assertThat(windows.window(polled, CREATED, start + EmbedWindows.IDLE_NANOS + 1)).isSameAs(polledWindow);
    assertThat(windows.size()).isEqualTo(1);
    assertThat(windows.window(gone, CREATED, start + EmbedWindows.IDLE_NANOS + 2)).isNotSameAs(goneWindow);
  }
}
