package io.carecontext.services;

import io.carecontext.ingest.DataKeyReencryption;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * {@code ./carecontext tenant rotate-data-key TENANT}: a new version of the tenant's data key made active
 * ({@link TenantKeys#rotate}), a {@code data-key-rotate} row in its trail, then its resources, their versions and its
 * chunk texts sealed again under it ({@link DataKeyReencryption}), on the embedded default or CARECONTEXT_DB_URL's
 * database, as its owner, while serve and worker run. With {@code resume}, no new version: the re-encryption of the
 * last one goes on. Afterwards, the older versions still in use are counted by table, and with {@code retire} each one
 * no value names any more is deleted (version 1 never: the keyed hashes are under it).
 */
public final class DataKeyRotation {

  /**
   * What a run did: the versions, how many values it sealed again, and what each older version still seals;
   * {@code replacedTooRecently}: each version --retire had to keep because its successor is younger than the wait, with
   * the time from which it may be retired.
   */
  public record Result(int fromVersion, int toVersion, long reencrypted, SortedMap<Integer, Map<String, Long>> stillUsed,
                       List<Integer> retired, SortedMap<Integer, java.time.Instant> replacedTooRecently) {}

  private DataKeyRotation() {}

  public static Result run(RuntimeSettings settings, TenantId tenant, boolean resume, boolean retire, int batchSize,
                           Consumer<DataKeyReencryption.Batch> progress) {
    if (settings.kekToken().isEmpty()) {
      // A key file is made where it is missing, on first use: a mistyped CARECONTEXT_KEK_FILE got a new key of its
      // own, left behind after the refusal, and with CARECONTEXT_KEK_PREVIOUS_FILE set (serve and worker mid
      // `kek rotate`) the new version was wrapped under that stray key, which no running process holds. The tenant
      // has a data key to rotate, so its key-encryption keys exist already: refused, as kek rotate refuses.
      KeyEncryptionKeyRotation.requireKeyFile(settings.kekFile().toAbsolutePath(), "CARECONTEXT_KEK_FILE, default "
          + "$CARECONTEXT_HOME/kek.key", "point CARECONTEXT_KEK_FILE at the key the tenant's data key is wrapped under");
    }
    settings.previousKekFile().ifPresent(previous -> KeyEncryptionKeyRotation.requireKeyFile(
        previous.toAbsolutePath(), "CARECONTEXT_KEK_PREVIOUS_FILE", "point it at the previous key, or unset it"));
    KeyEncryptionKeyRotation.OwnerDatabase owner = KeyEncryptionKeyRotation.OwnerDatabase.open(settings);
    EmbeddedPostgres embedded = owner.embedded();
    try (PlatformDatabase db = PlatformDatabase.bootstrap(owner.config())) {
      TenantKeys keys = new TenantKeys(settings.currentKek(), settings.previousKek().map(List::of).orElse(List.of()),
          db.appDataSource());
      int before = keys.cipher(tenant).activeVersion();
      int active = before;
      if (!resume) {
        try (Connection c = db.ownerDataSource().getConnection()) {
          c.setAutoCommit(false); // the tenant's rows stay locked until the new one is in: one rotation at a time
          active = keys.rotate(c, tenant);
          c.commit();
        } catch (SQLException e) {
          throw new DatabaseException("the new data key version could not be stored (" + e.getSQLState()
              + "); nothing was changed", e);
        }
        keys.evict(tenant);
      }
      recordOwed(db, keys, tenant);
      long done = new DataKeyReencryption(db.ownerDataSource(), keys, batchSize).run(tenant, progress);
      SortedMap<Integer, Map<String, Long>> used = new TreeMap<>();
      List<Integer> retired = new java.util.ArrayList<>();
      SortedMap<Integer, java.time.Instant> recent = new TreeMap<>();
      for (int v : keys.cipher(tenant).versions()) {
        if (v == active) {
          continue;
        }
        if (retire && v != 1) {
          // counted and deleted in one transaction, the counts read once no process seals under it any more
          DataKeyReencryption.Retirement r = DataKeyReencryption.retire(db.ownerDataSource(), keys, tenant, v);
          if (r.retired()) {
            retired.add(v);
            continue;
          }
          if (r.tooRecent()) {
            recent.put(v, r.retirableFrom()); // replaced within 2 x TenantKeys.MAX_STALE: a process may still seal under it
          }
          used.put(v, r.stillUnder());
        } else {
          used.put(v, DataKeyReencryption.stillUnder(db.ownerDataSource(), tenant, v));
        }
      }
      return new Result(resume ? active : before, active, done, used, retired, recent);
    } finally {
      if (embedded != null) {
        embedded.close(); // stops it only if it was started here
      }
    }
  }

  /**
   * The data-key-rotate rows the tenant's rotations owe (platform migration 17), written and then cleared: a run
   * stopped between its commit and its row writes the row at its next run (at least once, never silently not).
   */
  private static void recordOwed(PlatformDatabase db, TenantKeys keys, TenantId tenant) {
    AuditLog audit = new AuditLog(new TenantTransactions(db.appDataSource(), db.config()), keys);
    for (int version : TenantKeys.rotationsUnaudited(db.ownerDataSource(), tenant)) {
      audit.record(tenant, AuditEntry.of("platform-admin", AuditEntry.DATA_KEY_ROTATE, List.of(), null, null,
              AuditEntry.DATA_KEY_ROTATE, AuditEntry.Decision.ALLOWED, "data_key_rotated")
          .withDetail("fromVersion", String.valueOf(version - 1))
          .withDetail("toVersion", String.valueOf(version)));
      TenantKeys.rotationAudited(db.ownerDataSource(), tenant, version);
    }
  }
}
