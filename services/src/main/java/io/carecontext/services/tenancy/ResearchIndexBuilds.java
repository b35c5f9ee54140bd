package io.carecontext.services.tenancy;

import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantProvisioner;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds tenants' research indexes in the background, one at a time: for a tenant with millions
 * of chunks a build takes far longer than an HTTP request should. The state (absent, queued,
 * building with progress, ready, failed) comes from PostgreSQL's catalog and progress view, so it
 * is right whichever API process started the build.
 */
@Singleton
public class ResearchIndexBuilds implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ResearchIndexBuilds.class);

  private final TenantProvisioner provisioner;
  private final ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "research-index-builds");
    t.setDaemon(true);
    return t;
  });
  private final Set<TenantId> queued = ConcurrentHashMap.newKeySet();
  private final Map<TenantId, String> failed = new ConcurrentHashMap<>();

  public ResearchIndexBuilds(TenantProvisioner provisioner) {
    this.provisioner = provisioner;
  }

  /** Starts a build in the background, or drops the index at once. */
  public void request(TenantId tenant, boolean enabled) {
    failed.remove(tenant);
    if (!enabled) {
      provisioner.researchIndex(tenant, false);
      return;
    }
    if (queued.add(tenant)) {
      executor.submit(() -> build(tenant));
    }
  }

  private void build(TenantId tenant) {
    try {
      provisioner.researchIndex(tenant, true);
    } catch (RuntimeException e) {
      // Shown in the admin status: our own database errors name a SQLSTATE, never data; any other
      // exception's message is not ours to vouch for, so only its kind is kept.
      failed.put(tenant, e instanceof DatabaseException ? e.getMessage()
          : "the index build failed (" + e.getClass().getSimpleName() + "); set researchIndex again to retry");
      LOG.warn("tenant {}: research index build failed ({})", tenant, e.getClass().getSimpleName());
    } finally {
      queued.remove(tenant);
    }
  }

  /** {@code {"state": …}}, with {@code percent} while building and {@code message} after a failure. */
  public Map<String, Object> status(TenantId tenant) {
    Map<String, Object> out = new LinkedHashMap<>();
    TenantProvisioner.ResearchIndexState s = provisioner.researchIndexState(tenant);
    if (failed.containsKey(tenant) && !s.state().equals("ready")) {
      out.put("state", "failed");
      out.put("message", failed.get(tenant));
    } else if (s.state().equals("building")) {
      out.put("state", "building");
      out.put("percent", s.total() == 0 ? 0 : Math.round(1000.0 * s.done() / s.total()) / 10.0);
    } else if (queued.contains(tenant) && !s.state().equals("ready")) {
      out.put("state", "queued");
    } else {
      out.put("state", s.state());
    }
    return out;
  }

  @PreDestroy
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
