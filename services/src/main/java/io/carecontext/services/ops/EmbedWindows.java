package io.carecontext.services.ops;

import io.carecontext.migrations.TenantId;
import jakarta.inject.Singleton;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Each tenant's {@link EmbedProgress} in this process, for the ingest status endpoint: the worker's rate without a
 * table or a timestamp on every chunk. A process that answered no read of a tenant before has no rate for it yet.
 *
 * <p>A window lives while its tenant's status is read: it is dropped when the tenant is offboarded through this
 * process ({@link #forget}), and, for a tenant offboarded through another replica or no longer polled, once no read
 * came for {@link #IDLE_NANOS}. The windows of deleted tenants were kept as long as the process ran.
 */
@Singleton
public final class EmbedWindows {

  /**
   * A window unread this long is dropped at the next read of any tenant: its rate would span the gap (the average
   * the window is there to avoid), and a tenant offboarded elsewhere is read no more. Twenty windows, so that a
   * dashboard polling every few minutes still sees a rate.
   */
  public static final long IDLE_NANOS = 20 * EmbedProgress.WINDOW_NANOS;

  /** A tenant's window, which tenant of that id it measures (its creation), and when it was last asked for. */
  private static final class Window {
    final Instant created;
    final EmbedProgress reads = new EmbedProgress();
    volatile long lastReadNanos;

    Window(Instant created, long nanos) {
      this.created = created;
      this.lastReadNanos = nanos;
    }
  }

  private final Map<TenantId, Window> windows = new ConcurrentHashMap<>();

  /**
   * The window of this tenant, as created at {@code created}, for a read at {@code nanos}: a tenant deleted and
   * created again under the same id (on this pod or another) starts a window of its own. It took over the deleted
   * one's, whose lastProgressAt and rate it then showed as its own before its worker had finished anything.
   */
  public EmbedProgress window(TenantId tenant, Instant created, long nanos) {
    windows.values().removeIf(w -> nanos - w.lastReadNanos > IDLE_NANOS);
    Window w = windows.compute(tenant, (k, was) -> was != null && Objects.equals(was.created, created)
        ? was : new Window(created, nanos));
    w.lastReadNanos = nanos;
    return w.reads;
  }

  /** Drops the tenant's window: it was offboarded. */
  public void forget(TenantId tenant) {
    windows.remove(tenant);
  }

  /** How many tenants have a window. */
  int size() {
    return windows.size();
  }
}
