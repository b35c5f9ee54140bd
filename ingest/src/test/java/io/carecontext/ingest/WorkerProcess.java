package io.carecontext.ingest;

import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import java.nio.file.Path;
import java.util.List;

/** A worker in its own JVM, so a test can kill it for real in the middle of a batch. */
public final class WorkerProcess {

  private WorkerProcess() {}

  public static void main(String[] a) {
    DatabaseConfig config = new DatabaseConfig(a[0], a[1], a[2], a[3], a[4], a[5], 2);
    PlatformDatabase db = PlatformDatabase.bootstrap(config);
    TenantKeys keys = new TenantKeys(new LocalFileKeyProvider(Path.of(a[6])), db.appDataSource());
    TenantId tenant = TenantId.of(a[7]);
    InProcessMiniLmProvider model = new InProcessMiniLmProvider();
    EmbeddingProvider slow = new EmbeddingProvider() {
      @Override public String modelId() { return model.modelId(); }
      @Override public int dimensions() { return model.dimensions(); }
      @Override public List<float[]> embedAll(List<String> texts) {
        System.out.println("embedding " + texts.size());
        System.out.flush();
        try {
          Thread.sleep(300); // a window for the test to kill this process mid-batch
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
        return model.embedAll(texts);
      }
    };
    EmbeddingWorker worker = new EmbeddingWorker(new TenantTransactions(db.appDataSource(), db.config()), keys,
        t -> slow, () -> List.of(tenant), 4);
    while (true) {
      int n = worker.processBatch(tenant);
      System.out.println("committed " + n);
      System.out.flush();
    }
  }
}
