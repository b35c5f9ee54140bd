package io.carecontext.services.bench;

import io.carecontext.fhir.synthetic.SyntheticPatients;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.RawModelThroughput;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.CareContextServer;
import io.carecontext.services.fhir.WriteAuditEntries;
import io.carecontext.services.tenancy.TenantEmbeddings;
import java.io.PrintStream;
import java.sql.PreparedStatement;
import java.util.ArrayList;
import java.util.List;

/**
 * Ingests N generated patients (~50 resources each) through the store and the embedding worker,
 * then embeds the very same chunk texts with the bare model in the same run: the ratio says what
 * parsing, encryption, database and queueing cost against what the cache and batching save.
 */
public final class IngestBenchmark {

  private IngestBenchmark() {}

  public static void run(CareContextServer server, int patients, PrintStream out) {
    var ctx = server.context();
    TenantProvisioner provisioner = ctx.getBean(TenantProvisioner.class);
    TenantTransactions tx = ctx.getBean(TenantTransactions.class);
    TenantKeys keys = ctx.getBean(TenantKeys.class);
    FhirStore store = ctx.getBean(FhirStore.class);
    EmbeddingWorker worker = ctx.getBean(EmbeddingWorker.class);
    TenantId tenant = TenantId.of("bench_ingest");
    provisioner.delete(tenant);
    provisioner.provision(tenant, "Ingest benchmark");
    AuditLog audit = ctx.getBean(AuditLog.class);
    FhirWriter writer = audited(RetrievalBenchmark.feedKey(server, tenant), audit);
    EmbeddingProvider model = ctx.getBean(TenantEmbeddings.class).forTenant(tenant);
    model.embedAll(List.of("warm up the model before timing"));

    long start = System.nanoTime();
    int resources = 0;
    var generated = SyntheticPatients.stream(7, patients);
    while (generated.hasNext()) {
      var p = generated.next();
      store.transaction(tenant, writer, p.bundle());
      resources += p.bundle().getEntry().size();
    }
    double storeSecs = (System.nanoTime() - start) / 1e9;
    long hits0 = worker.stats().cacheHits.get();
    long embedded0 = worker.stats().embedded.get();
    long embedStart = System.nanoTime();
    worker.drain(tenant);
    double embedSecs = (System.nanoTime() - embedStart) / 1e9;
    long hits = worker.stats().cacheHits.get() - hits0;
    long embedded = worker.stats().embedded.get() - embedded0;
    List<String> texts = chunkTexts(tx, keys, tenant);
    double raw = RawModelThroughput.measureAllCores(model, texts); // the tenant's pool: every core
    double total = storeSecs + embedSecs;
    double chunksPerSec = texts.size() / total;
    provisioner.delete(tenant);
    provisioner.provision(tenant, "Ingest benchmark");
    double overlapped = overlapped(store, audited(RetrievalBenchmark.feedKey(server, tenant), audit), worker,
        tenant, patients);
    double overlappedChunksPerSec = texts.size() / overlapped;

    out.println();
    out.println("| ingest of " + patients + " generated patients | value |");
    out.println("|---|---|");
    out.printf("| resources | %,d |%n", resources);
    out.printf("| chunks | %,d |%n", texts.size());
    out.printf("| store (parse, validate, encrypt, version, outbox) | %.1f s, %.0f resources/s |%n", storeSecs,
        resources / storeSecs);
    out.printf("| worker (render, cache, embed, write chunks) | %.1f s |%n", embedSecs);
    out.printf("| end to end | %.0f resources/s, %.0f chunks/s |%n", resources / total, chunksPerSec);
    out.printf("| embedding cache hit rate | %.1f %% (%,d of %,d distinct texts per batch were cached) |%n",
        100.0 * hits / Math.max(1, hits + embedded), hits, hits + embedded);
    out.printf("| raw model on the same %,d texts, every core busy (baseline) | %.0f texts/s |%n", texts.size(), raw);
    out.printf("| ratio, store then worker one after the other | %.2fx |%n", chunksPerSec / raw);
    out.printf("| end to end as the service runs it (worker draining while the store writes) | %.1f s, %.0f chunks/s |%n",
        overlapped, overlappedChunksPerSec);
    out.printf("| **ratio chunks/s ÷ raw model texts/s, as the service runs it** | **%.2fx** (target ≥ 1.0x) |%n",
        overlappedChunksPerSec / raw);
    provisioner.delete(tenant);
  }

  /** A feed's writer with its audit rows, as the service writes them (one a patient, in the write's transaction). */
  static FhirWriter audited(RetrievalBenchmark.FeedKey feed, AuditLog audit) {
    return WriteAuditEntries.audited(audit, feed.settings(), "bench-feed", feed.keyId(), List.of("ehr-integration"));
  }

  /** Seconds to store and embed the same patients with the worker draining alongside, as in the service. */
  static double overlapped(FhirStore store, FhirWriter writer, EmbeddingWorker worker, TenantId tenant,
                           int patients) {
    java.util.concurrent.atomic.AtomicBoolean stored = new java.util.concurrent.atomic.AtomicBoolean();
    long start = System.nanoTime();
    Thread drainer = new Thread(() -> {
      while (true) {
        boolean last = stored.get();
        if (worker.drain(tenant) == 0 && last) {
          return;
        }
      }
    }, "bench-worker");
    drainer.start();
    var generated = SyntheticPatients.stream(7, patients);
    while (generated.hasNext()) {
      store.transaction(tenant, writer, generated.next().bundle());
    }
    stored.set(true);
    try {
      drainer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return (System.nanoTime() - start) / 1e9;
  }

  static List<String> chunkTexts(TenantTransactions tx, TenantKeys keys, TenantId tenant) {
    var cipher = keys.cipher(tenant);
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      List<String> texts = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement("SELECT resource_type, resource_id, seq, text FROM chunks")) {
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            texts.add(cipher.decryptToString(rs.getBytes(4),
                Aad.chunk(tenant, rs.getString(1), rs.getString(2), rs.getInt(3))));
          }
        }
      }
      return texts;
    });
  }
}
