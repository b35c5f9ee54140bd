package io.carecontext.retrieval;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteAudit;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.retrieval.audit.AuditLog;
import java.util.List;

/**
 * One tenant on a platform of its own, as the read-path tests of one feature need it: resources put as
 * the EHR feed writes them, the embedding worker drained by hand, the context service, and keys made
 * for requesters. Closing it drops the platform.
 */
final class ReadPathTenant implements AutoCloseable {

  static final EmbeddingProvider MODEL = new InProcessMiniLmProvider();

  final TestPlatform platform = new TestPlatform();
  final TenantId tenant;
  final FhirStore store;
  final ContextService service;
  private final FhirWriter feed;

  ReadPathTenant(String id) {
    tenant = platform.tenant(id);
    feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    store = new FhirStore(platform.tx, platform.keys);
    service = new ContextService(platform.tx, platform.keys, new AuditLog(platform.tx, platform.keys));
  }

  /** A key of this tenant with one role, as the request that presents it. */
  Requester requester(String principal, String role, String practitionerId) {
    TestPlatform.TestKey key = platform.issueKey(tenant, principal, List.of(role), practitionerId);
    return new Requester(principal, key.keyId(), List.of(role), practitionerId, key.secretHashHex());
  }

  /** Stores a resource as the feed does (it is chunked at the next {@link #drain}). */
  void put(String json) {
    store.put(tenant, feed, Fhir.parseResource(json));
  }

  /** Chunks and embeds everything queued, in this thread. */
  void drain() {
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
  }

  static float[] embed(String text) {
    return MODEL.embedAll(List.of(text)).get(0);
  }

  @Override
  public void close() {
    platform.close();
  }
}
