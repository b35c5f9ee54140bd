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

  /**
   * A patient with an active permit for AI use ({@code provisionExtra} adds to the permit, e.g. a nested
   * deny) and an encounter in progress today with practitioner {@code pr-1}, the care link of a key
   * made with {@code requester(…, "pr-1")}.
   */
  void patientInCare(String id, String provisionExtra) {
    put("{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"female\"}");
    put("""
        {"resourceType":"Consent","id":"c-%1$s","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
         "provision":{"type":"permit"%2$s}}""".formatted(id, provisionExtra));
    put("""
        {"resourceType":"Encounter","id":"e-%1$s","status":"in-progress","class":{"code":"AMB"},
         "period":{"start":"%2$s"},"subject":{"reference":"Patient/%1$s"},
         "participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""".formatted(id,
        java.time.LocalDate.now(java.time.ZoneOffset.UTC)));
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
