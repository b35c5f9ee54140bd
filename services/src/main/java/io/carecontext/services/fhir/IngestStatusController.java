package io.carecontext.services.fhir;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.admin.AdminAttempts;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.ops.EmbedProgress;
import io.carecontext.services.ops.EmbedWindows;
import io.carecontext.services.tenancy.ResearchIndexBuilds;
import io.carecontext.services.tenancy.TenantDirectory;
import io.carecontext.services.tenancy.TenantEmbeddings;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.Parameter;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The write path's progress for admins: outbox depth, parked items with their reasons, stored
 * resources and chunks. Long loads poll it for their progress bars.
 */
@Controller("/admin/tenants/{tenant}/ingest")
@ExecuteOn(TaskExecutors.BLOCKING)
public class IngestStatusController {

  private final TenantTransactions tx;
  private final EmbeddingWorker worker;
  private final TenantDirectory tenants;
  private final ResearchIndexBuilds researchIndexes;
  private final TenantEmbeddings embeddings;
  private final AuditLog audit;

  private final AdminAttempts attempts;
  private final EmbedWindows windows;

  public IngestStatusController(TenantTransactions tx, EmbeddingWorker worker, TenantDirectory tenants,
                                ResearchIndexBuilds researchIndexes, TenantEmbeddings embeddings, AuditLog audit,
                                AdminAttempts attempts, EmbedWindows windows) {
    this.windows = windows;
    this.attempts = attempts;
    this.tx = tx;
    this.audit = audit;
    this.worker = worker;
    this.tenants = tenants;
    this.researchIndexes = researchIndexes;
    this.embeddings = embeddings;
  }

  @Get
  public Map<String, Object> status(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                   HttpRequest<?> request) {
    // Counts and states only, the kind /metrics publishes, polled by `tenant wait`: an allowed read writes
    // no row. A tenant key refused it is recorded (admin-request, as on the admin paths of no action).
    TenantId t = attempts.requireTenantAdmin(caller, tenant, "admin-request", request);
    java.time.Instant created = tenants.active(t).orElseThrow(ApiException::tenantNotFound).createdAt();
    // when the counts were taken (not when they were answered): two reads answered at once stay in their order
    long now = System.nanoTime();
    EmbeddingWorker.OutboxDepth depth = worker.outboxDepth(t); // the same counts /metrics reports
    EmbeddingWorker.Failing failing = worker.failing(t);
    // the tenant's model, as its worker embeds with it; unknown when its setting cannot be used now
    // (a secret no longer granted, say: lastError then says why nothing is embedded)
    io.carecontext.ingest.embedding.EmbeddingProvider model;
    try {
      model = embeddings.forTenant(t);
    } catch (RuntimeException e) {
      model = null;
    }
    io.carecontext.retrieval.research.ResearchEmbeddings.Progress[] researchProgress = {null};
    Map<String, Object> status = tx.run(t, PolicySettings.ingest(), c -> {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("outboxDepth", depth.ready());
      out.put("parked", depth.parked());
      // rows of outboxDepth that failed and wait to be tried again, and why the latest failed (a kind
      // of failure, never content): a depth that does not move says nothing of a model that is down
      out.put("retrying", failing.retrying());
      if (failing.lastError() != null) {
        out.put("lastError", failing.lastError());
      }
      if (failing.paused()) {
        // the endpoint failed as a whole and the worker waits before calling it again: nothing moves meanwhile,
        // and the last half minute's rate and time left are not shown (they read as progress for ~30 s)
        out.put("paused", true);
      }
      // the chunks read once for the counts below (the research build's progress too: it read them
      // twice more, a whole-table count each, on every poll of `tenant wait`)
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT (SELECT count(*) FROM resources WHERE NOT deleted), k.all_chunks,
                 (SELECT count(*) FROM embedding_cache), k.research_pending
          FROM (SELECT count(*) AS all_chunks, count(*) FILTER (WHERE research_embedding IS NULL) AS research_pending
                FROM chunks k) k""")) {
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          out.put("resources", rs.getLong(1));
          out.put("chunks", rs.getLong(2));
          out.put("cachedEmbeddings", rs.getLong(3));
          researchProgress[0] = new io.carecontext.retrieval.research.ResearchEmbeddings.Progress(rs.getLong(4),
              rs.getLong(2));
        }
      }
      return out;
    });
    if (model != null) {
      // Chunks the tenant's model did not make (or made at another size): a search that meets one answers 503
      // reembedding_in_progress. The re-embedding is done when this is 0. The worker's count, the metric's: the
      // ends of the (model, size) index, and index-only counts while a re-embedding runs, where a filter on
      // vector_dims in the scan above read every chunk's vector (not leakproof: no index condition under RLS).
      status.put("chunksOfAnotherModel", worker.chunksOfAnotherModel(t, model));
    }
    status.put("researchIndex", researchIndexes.status(t, researchProgress[0]));
    EmbedProgress.Estimate estimate = windows.window(t, created, now).add(now,
        (Long) status.get("resources") - depth.ready() - depth.parked(), depth.ready(), failing.retrying());
    putProgress(status, failing.paused() ? estimate.paused() : estimate);
    return status;
  }

  /**
   * The rate, the time left and the last progress, each only when known. The work done is the resources stored
   * less those queued or parked: it rises as the worker finishes them, and not when a load stores more (the
   * queue alone rose then, and a load's progress read as none).
   */
  static void putProgress(Map<String, Object> status, EmbedProgress.Estimate e) {
    e.perSecond().ifPresent(rate -> {
      status.put("embeddedPerSecond", Math.round(rate * 10) / 10.0);
      status.put("rateWindowSeconds", Math.round(e.spanNanos() / 1e8) / 10.0);
    });
    e.etaSeconds().ifPresent(eta -> status.put("etaSeconds", eta));
    e.lastProgressNanos().ifPresent(at -> status.put("lastProgressAt", java.time.Instant.now()
        .minusNanos(System.nanoTime() - at).truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString()));
  }

  @Get("/parked")
  public List<Map<String, Object>> parked(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                         HttpRequest<?> request) {
    // a tenant key refused the list is recorded in its own tenant's trail, as an allowed list that named any item
    TenantId t = active(attempts.requireTenantAdmin(caller, tenant, AuditEntry.INGEST_PARKED_READ, request));
    List<Map<String, Object>> items = worker.parked(t);
    if (caller.platformAdmin()) {
      return withoutResourceIds(items);
    }
    if (!items.isEmpty()) {
      // A tenant admin sees which resources were parked, and a resource id may be an MRN: a read of
      // patient identifiers, recorded (before the answer, which fails with the row) with how many it
      // listed and the first of the resources it named. Not all of them: a dashboard polling a list of
      // a thousand would add some 80 kB to a trail kept for years at every poll.
      audit.record(t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
          AuditEntry.INGEST_PARKED_READ, AuditEntry.Decision.ALLOWED, "parked_listed")
          .withDetail("listed", Integer.toString(items.size()))
          .withDetail("resources", AuditEntry.jsonStrings(items.stream().limit(RESOURCES_RECORDED)
              .map(i -> String.valueOf(i.get("resource"))).toList())));
    }
    return items;
  }

  /** How many of the resources a parked list named its audit row records. */
  static final int RESOURCES_RECORDED = 50;

  /**
   * The platform operator's key never reads patient data, and a resource id may be an MRN: it sees
   * each parked item's resource type, attempts and reason, not which resource it is.
   */
  static List<Map<String, Object>> withoutResourceIds(List<Map<String, Object>> items) {
    return items.stream().map(item -> {
      Map<String, Object> copy = new LinkedHashMap<>(item);
      copy.computeIfPresent("resource", (k, v) -> String.valueOf(v).replaceFirst("/.*", "/{id}"));
      return copy;
    }).toList();
  }

  @Post("/parked/retry")
  public Map<String, Object> retry(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                   HttpRequest<?> request,
                                   @Parameter(hidden = true) @Nullable @Body byte[] raw) { // no body: see noBody
    TenantId t = active(attempts.requireTenantAdmin(caller, tenant, AuditEntry.INGEST_PARKED_RETRY, request));
    if (!noBody(raw)) {
      // The retry takes every parked item of the tenant and no choice: a body naming some
      // ({"resources":[…]}) was ignored and every item requeued, answered 200 as if it had applied.
      // Never quoted: it is the caller's text, and may name a patient's resource.
      throw ApiException.badRequest("this endpoint takes no body: it requeues every parked resource of the tenant "
          + "(GET /admin/tenants/{tenant}/ingest/parked lists them); send the POST without a body, or with {}");
    }
    // who sent the parked items to the worker again, recorded first (no change without its row)
    audit.record(t, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
        AuditEntry.INGEST_PARKED_RETRY, AuditEntry.Decision.ALLOWED, "parked_requeued"));
    return Map.of("requeued", worker.retryParked(t));
  }

  /** Whether {@code raw} is no body: none, only whitespace, or an empty JSON object ({@code {}}), which some clients always send. */
  static boolean noBody(@Nullable byte[] raw) {
    String sent = raw == null ? "" : new String(raw, StandardCharsets.UTF_8).replaceAll("\\s", "");
    return sent.isEmpty() || "{}".equals(sent);
  }

  /** {@code t}, the tenant the caller was admitted to ({@link AdminAttempts}; the operator may name any), if it is active. */
  private TenantId active(TenantId t) {
    tenants.active(t).orElseThrow(ApiException::tenantNotFound);
    return t;
  }
}
