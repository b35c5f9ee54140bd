package io.carecontext.services.fhir;

import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.services.platform.TenantRepository;
import io.carecontext.services.tenancy.TenantEmbeddings;
import io.micronaut.context.annotation.Factory;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.context.event.StartupEvent;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.time.Duration;

/** The write path's beans, and the embedding worker that runs inside the service. */
@Factory
public class IngestFactory {

  /** The most entries a transaction or batch Bundle may hold ({@code CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES}). */
  public static final String MAX_BUNDLE_ENTRIES = "carecontext.fhir.max-bundle-entries";

  @Singleton
  FhirStore fhirStore(TenantTransactions tx, TenantKeys keys,
                      @Value("${" + MAX_BUNDLE_ENTRIES + ":" + FhirStore.DEFAULT_MAX_BUNDLE_ENTRIES + "}") int maxEntries) {
    return new FhirStore(tx, keys, maxEntries);
  }

  @Singleton
  io.carecontext.ingest.PatientErasure patientErasure(TenantTransactions tx, TenantKeys keys) {
    return new io.carecontext.ingest.PatientErasure(tx, keys);
  }

  @Singleton
  EmbeddingWorker embeddingWorker(TenantTransactions tx, TenantKeys keys, TenantEmbeddings embeddings,
                                  TenantRepository tenants, @Value("${carecontext.worker.batch-size:64}") int batchSize) {
    return new EmbeddingWorker(tx, keys, embeddings::forTenant,
        () -> tenants.findByStatusOrderByTenantId("active").stream().map(t -> TenantId.of(t.tenantId())).toList(),
        batchSize);
  }

  /** Starts the in-process worker threads ({@code CARECONTEXT_WORKER_THREADS}, 0 = none) with the server. */
  @Singleton
  static final class WorkerLifecycle implements ApplicationEventListener<StartupEvent> {
    private final EmbeddingWorker worker;
    private final int threads;

    WorkerLifecycle(EmbeddingWorker worker, @Value("${carecontext.worker.threads:1}") int threads) {
      this.worker = worker;
      this.threads = threads;
    }

    @Override
    public void onApplicationEvent(StartupEvent event) {
      worker.start(threads, Duration.ofMillis(500));
    }

    @PreDestroy
    void stop() {
      worker.close();
    }
  }
}
