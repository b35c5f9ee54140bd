package io.carecontext.services.tenancy;

import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.research.ResearchEmbeddings;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.context.event.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns research on and off for tenants (the setting researchIndex), in the background, one tenant
 * at a time: the research HNSW index (over research_embedding, tenant migration 64), then the
 * research embeddings of every chunk ({@link ResearchEmbeddings}: each chunk's de-identified text
 * embedded by the tenant's model), which for a tenant with millions of chunks takes far longer than
 * an HTTP request should. While research is on, a sweep every {@link #SWEEP_SECONDS} seconds (in
 * the processes that run embedding worker threads) embeds the chunks written since (ingest itself
 * never does: a tenant without research embeds each chunk once). The state (absent, queued,
 * building with progress, ready, failed) comes from PostgreSQL's catalog, its index-build progress view,
 * the count of chunks still without a research embedding and the build's completion (tenant migration
 * 66: research answers once it is set), so it is right whichever API process started the build.
 */
@Singleton
public class ResearchIndexBuilds implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(ResearchIndexBuilds.class);
  static final long SWEEP_SECONDS = 5;

  private final TenantProvisioner provisioner;
  private final ResearchEmbeddings embeddings;
  private final TenantEmbeddings models;
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
    Thread t = new Thread(r, "research-index-builds");
    t.setDaemon(true);
    return t;
  });
  private final Set<TenantId> queued = ConcurrentHashMap.newKeySet();
  /** Tenants whose queued build has started (read the marker): a turning-on from then on is not its generation. */
  private final Set<TenantId> running = ConcurrentHashMap.newKeySet();
  /** Tenants whose research was turned on again while their build was running: built again after it. */
  private final Set<TenantId> again = ConcurrentHashMap.newKeySet();
  private final Map<TenantId, String> failed = new ConcurrentHashMap<>();

  public ResearchIndexBuilds(TenantProvisioner provisioner, TenantTransactions tx, TenantKeys keys,
                             TenantEmbeddings models) {
    this.provisioner = provisioner;
    this.embeddings = new ResearchEmbeddings(tx, keys);
    this.models = models;
  }

  /**
   * Starts the sweep with the embedding worker's threads ({@code CARECONTEXT_WORKER_THREADS}): in
   * each process that embeds the tenants' chunks ({@code serve} with worker threads, {@code worker}),
   * none in an API process that runs no worker. Several processes sweeping one tenant take different
   * chunks (SKIP LOCKED).
   */
  @Singleton
  static final class Sweeping implements ApplicationEventListener<StartupEvent> {
    private final ResearchIndexBuilds builds;
    private final int threads;

    Sweeping(ResearchIndexBuilds builds, @Value("${carecontext.worker.threads:1}") int threads) {
      this.builds = builds;
      this.threads = threads;
    }

    @Override
    public void onApplicationEvent(StartupEvent event) {
      if (threads > 0) {
        builds.executor.scheduleWithFixedDelay(builds::sweep, SWEEP_SECONDS, SWEEP_SECONDS, TimeUnit.SECONDS);
      }
    }
  }

  /**
   * Starts a build in the background, or drops the index at once. Either way the build's completion
   * (tenant migration 66) is forgotten first, in the database, so every API process refuses research
   * until a build completes again. The change of the marker waits for a research batch storing its
   * embeddings (never for its model call), which then stores none ({@link ResearchEmbeddings#embedPending}).
   */
  public void request(TenantId tenant, boolean enabled) {
    failed.remove(tenant);
    if (!enabled) {
      again.remove(tenant);
      embeddings.turnOff(tenant);
      provisioner.researchIndex(tenant, false); // waits for a research batch in flight
      return;
    }
    embeddings.turnOn(tenant);
    synchronized (queued) {
      if (!queued.add(tenant)) {
        // The build under way stops at its next batch (research was turned on again: another generation), and
        // may already have made its indexes, which turning research off in between dropped: one more build,
        // after it, for this generation. Without it research stayed off for good (the index absent).
        // A build still queued, not started, reads the marker when it starts: it is this generation's, and
        // one more after it would forget and embed every chunk a second time (hours on a large tenant).
        if (running.contains(tenant)) {
          again.add(tenant);
        }
        return;
      }
    }
    executor.submit(() -> build(tenant));
  }

  private void build(TenantId tenant) {
    try {
      // Made again from scratch: what an earlier turning-on made used the identifiers and detectors of then.
      // Once per generation (tenant migration 69): another process's sweep that finds the index there already
      // (research was on) and comes first forgets them itself, and cannot mark this generation completed before
      // they are forgotten; this then forgets nothing it has made since.
      // A turning-off whose drop of the indexes is still waiting for a batch in flight, in this process or
      // another, is waited for by TenantProvisioner#researchIndex, which changes them one at a time per tenant
      // and makes them only while research is on, drops them only while it is off.
      synchronized (queued) {
        running.add(tenant); // a turning-on before this is built by this build (every read below is after it)
      }
      if (!embeddings.enabled(tenant)) {
        return; // turned off again while queued: nothing to build, no index to leave behind
      }
      // Forgotten before the index is made, so it is built over an empty column, not over every old
      // embedding only to drop them; ResearchEmbeddings#build forgets again only if no one has for this generation.
      embeddings.forgetAll(tenant);
      provisioner.researchIndex(tenant, true);
      embed(tenant, false);
    } catch (RuntimeException e) {
      // Shown in the admin status: our own database errors name a SQLSTATE, never data; any other
      // exception's message is not ours to vouch for, so only its kind is kept.
      failed.put(tenant, e instanceof DatabaseException ? e.getMessage()
          : "the research build failed (" + e.getClass().getSimpleName() + "); set researchIndex again to retry");
      LOG.warn("tenant {}: research index build failed ({})", tenant, e.getClass().getSimpleName());
    } finally {
      synchronized (queued) {
        running.remove(tenant);
        if (again.remove(tenant) && !executor.isShutdown()) {
          executor.submit(() -> build(tenant));
        } else {
          queued.remove(tenant);
        }
      }
    }
  }

  /**
   * The research embeddings of every chunk of the tenant's model that has none, then the build marked
   * completed (research answers from then on, saying when some chunk is still pending).
   */
  private void embed(TenantId tenant, boolean sweep) {
    EmbeddingProvider model = models.forTenant(tenant);
    long made = sweep ? embeddings.sweep(tenant, model.modelId(), model.dimensions(), model::embedAll)
        : embeddings.build(tenant, model.modelId(), model.dimensions(), model::embedAll);
    if (made > 0) {
      LOG.info("tenant {}: {} research embeddings made", tenant, made);
    }
  }

  /**
   * The chunks written since, for every tenant with research on (its index ready). A tenant whose
   * sweep fails is tried again at the next one; research leaves its pending chunks out meanwhile,
   * saying it is incomplete. A sweep that has made every chunk's also marks a build completed that no
   * build marked (a tenant that had the index before tenant migration 66, a build whose process ended),
   * forgetting the research embeddings first if that generation's build has not yet (tenant migration 69).
   */
  public void sweep() {
    try {
      for (TenantId tenant : provisioner.list()) {
        if (queued.contains(tenant) || !provisioner.researchIndexState(tenant).state().equals("ready")) {
          continue;
        }
        try {
          embed(tenant, true); // nothing while the tenant is re-embedded (ResearchEmbeddings#sweep)
        } catch (RuntimeException e) {
          LOG.warn("tenant {}: research embeddings not made this time ({})", tenant, e.getClass().getSimpleName());
        }
      }
    } catch (RuntimeException e) {
      LOG.warn("research sweep: tenants not listed ({})", e.getClass().getSimpleName());
    }
  }

  /**
   * {@code {"state": …}}, with {@code percent} while building (the index, then the research
   * embeddings: {@code pending} chunks still without one) and {@code message} after a failure. Once the
   * build has completed (research answers) the state is {@code ready}, with {@code pending} while the
   * sweep has chunks written since to make. {@code counted} is the research embeddings' progress, which the
   * caller (the ingest status) counts in the one scan of the tenant's chunks it makes anyway.
   */
  public Map<String, Object> status(TenantId tenant, ResearchEmbeddings.Progress counted) {
    Map<String, Object> out = new LinkedHashMap<>();
    TenantProvisioner.ResearchIndexState s = provisioner.researchIndexState(tenant);
    ResearchEmbeddings.Progress p = s.state().equals("ready") ? counted : null;
    boolean ready = p != null && embeddings.completed(tenant);
    if (ready) {
      out.put("state", "ready");
      if (p.pending() > 0) {
        out.put("pending", p.pending());
      }
    } else if (failed.containsKey(tenant)) {
      out.put("state", "failed");
      out.put("message", failed.get(tenant));
    } else if (s.state().equals("building")) {
      out.put("state", "building");
      out.put("percent", 0.0); // the index over an empty column: the embeddings are the build's work
    } else if (p != null) {
      out.put("state", "building");
      out.put("percent", p.percent());
      out.put("pending", p.pending());
    } else if (queued.contains(tenant)) {
      out.put("state", "queued");
    } else {
      out.put("state", s.state());
    }
    return out;
  }

  /** Whether this process has a build of the tenant's research queued or running. */
  public boolean underWay(TenantId tenant) {
    return queued.contains(tenant);
  }

  @PreDestroy
  @Override
  public void close() {
    executor.shutdownNow();
  }
}
