package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.KekRotation;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A tenant's data key rotated against real PostgreSQL: after the re-encryption every resource, version and chunk
 * names version 2, reads answer as before, new writes are under version 2, an interrupted run resumes, the old
 * version can then be retired, and a `kek rotate` afterwards rewraps both versions.
 */
class DataKeyReencryptionIT {

  static TestPlatform platform;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    PatientErasureIT.platform = platform; // its record() and embed() write through this platform
  }

  @AfterAll
  static void tearDown() {
    PatientErasureIT.platform = null;
    platform.close();
  }

  static Map<Integer, Long> versions(TenantId t, String table, String column) throws SQLException {
    Map<Integer, Long> out = new java.util.TreeMap<>();
    for (int v = 1; v <= 3; v++) {
      long n = TestPostgres.superuserLong(platform.config, "SELECT count(*) FROM " + t.schemaName() + "." + table
          + " WHERE octet_length(" + column + ") > 0 AND CASE get_byte(" + column + ", 0) WHEN 1 THEN 1 ELSE ('x' || encode("
          + "substring(" + column + " FROM 2 FOR 4), 'hex'))::bit(32)::int END = " + v);
      if (n > 0) {
        out.put(v, n);
      }
    }
    return out;
  }

  static int rotate(TenantId t) throws SQLException {
    try (Connection c = platform.db.ownerDataSource().getConnection()) {
      return platform.keys.rotate(c, t);
    }
  }

  @Test
  void everyValueMovesToTheNewVersionAndReadsAnswerAsBefore() throws Exception {
    TenantId t = platform.tenant("dekrot");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = PatientErasureIT.feed(t);
    PatientErasureIT.record(store, t, feed, "p-rot-1");
    PatientErasureIT.record(store, t, feed, "p-rot-2");
    PatientErasureIT.embed(t);
    List<String> ids = List.of("Patient/p-rot-1", "Observation/obs-p-rot-1", "Condition/cond-p-rot-2",
        "Encounter/enc-p-rot-2");
    List<String> before = new ArrayList<>();
    for (String id : ids) {
      before.add(store.read(t, id.split("/")[0], id.split("/")[1]).orElseThrow().json());
    }
    long chunks = versions(t, "chunks", "text").get(1);
    assertThat(versions(t, "resources", "body")).containsOnlyKeys(1);

    assertThat(rotate(t)).isEqualTo(2);
    List<DataKeyReencryption.Batch> batches = new ArrayList<>();
    DataKeyReencryption job = new DataKeyReencryption(platform.db.ownerDataSource(), platform.keys, 3);
    // killed after its second batch: what it committed stays, the rest is under version 1 still
    assertThatThrownBy(() -> job.run(t, b -> {
      batches.add(b);
      if (batches.size() == 2) {
        throw new IllegalStateException("killed");
      }
    })).hasMessage("killed");
    assertThat(batches).extracting(DataKeyReencryption.Batch::table).containsExactly("resources", "resources");
    long committed = batches.stream().mapToLong(DataKeyReencryption.Batch::reencrypted).sum();
    assertThat(versions(t, "resources", "body")).as("%s", batches).containsEntry(2, committed).containsKey(1);
    long moved = job.run(t, batches::add);
    assertThat(moved).isPositive();
    assertThat(versions(t, "resources", "body")).containsOnlyKeys(2);
    assertThat(versions(t, "resource_versions", "body")).containsOnlyKeys(2);
    assertThat(versions(t, "chunks", "text")).containsOnly(Map.entry(2, chunks));
    assertThat(batches).allSatisfy(b -> assertThat(b.reencrypted()).isBetween(1, 3));
    assertThat(job.run(t, batches::add)).as("a rerun finds nothing left").isZero();

    // reads answer as before, in this process and in one that never saw version 2 in its cache
    TenantKeys fresh = new TenantKeys(new LocalFileKeyProvider(platform.kekFile), platform.db.appDataSource());
    for (FhirStore reader : List.of(store, new FhirStore(platform.tx, fresh))) {
      List<String> after = new ArrayList<>();
      for (String id : ids) {
        after.add(reader.read(t, id.split("/")[0], id.split("/")[1]).orElseThrow().json());
      }
      assertThat(after).isEqualTo(before);
    }
    // a write after the rotation is under version 2; content hashes still match (an unchanged put is a no-op)
    PatientErasureIT.record(store, t, feed, "p-rot-3");
    assertThat(versions(t, "resources", "body")).containsOnlyKeys(2);

    Map<String, Long> under1 = DataKeyReencryption.stillUnder(platform.db.ownerDataSource(), t, 1);
    assertThat(under1).containsEntry("resources", 0L).containsEntry("resource_versions", 0L)
        .containsEntry("chunks", 0L);

    // a kek rotation after the data key rotation rewraps both versions, and both still open
    Path next = Files.createTempDirectory("dekrot").resolve("kek2.key");
    LocalFileKeyProvider to = new LocalFileKeyProvider(next);
    KekRotation.Result r = KekRotation.rewrap(platform.db.ownerDataSource(),
        new LocalFileKeyProvider(platform.kekFile), to);
    assertThat(r.rewrappedTenants()).contains(t);
    assertThat(TestPostgres.superuserLong(platform.config, "SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = '"
        + t.value() + "' AND kek_id = '" + to.kekId() + "'")).isEqualTo(2);
    TenantKeys underNew = new TenantKeys(to, platform.db.appDataSource());
    FhirStore afterKek = new FhirStore(platform.tx, underNew);
    assertThat(afterKek.read(t, "Patient", "p-rot-1").orElseThrow().json()).isEqualTo(before.get(0));
    assertThat(underNew.cipher(t).versions()).containsExactly(1, 2);
  }

  /**
   * Retire proves no row of any table names the version: the counts were read as the owner without cc.access, which
   * FORCE ROW LEVEL SECURITY showed no row, so every count was 0 and --retire deleted a version audit bodies (never
   * re-encrypted) and not yet re-encrypted resources were sealed under, unreadable for good.
   */
  @Test
  void aVersionIsRetiredOnlyWhenNoValueOfAnyTableNamesIt() throws Exception {
    TenantId t = platform.tenant("dekret");
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    FhirWriter feed = PatientErasureIT.feed(t);
    assertThat(rotate(t)).isEqualTo(2);
    platform.keys.evict(t);
    PatientErasureIT.record(store, t, feed, "p-ret-1");
    byte[] body = platform.keys.cipher(t).encryptString("who saw p-ret-1", io.carecontext.migrations.Aad.audit(t,
        "query"));
    try (java.sql.Connection su = TestPostgres.superuser(platform.config);
        java.sql.PreparedStatement ps = su.prepareStatement("INSERT INTO " + t.schemaName() + ".audit_log (audit_id, "
            + "shard, seq, at, principal, action, decision, reason, query_enc, prev_hash, row_hash) VALUES "
            + "(gen_random_uuid(), 7, 1000000, now(), 'test', 'context', 'allowed', 'test', ?, '\\x00', '\\x00')")) {
      ps.setBytes(1, body);
      ps.executeUpdate();
    }
    Map<String, Long> before = DataKeyReencryption.stillUnder(platform.db.ownerDataSource(), t, 2);
    assertThat(before.get("resources")).as("%s", before).isPositive();
    assertThat(before).containsEntry("audit_log", 1L);

    assertThat(rotate(t)).isEqualTo(3);
    new DataKeyReencryption(platform.db.ownerDataSource(), platform.keys, 50).run(t, b -> { });
    String backdate = "UPDATE platform.tenant_keys SET created_at = created_at - interval '1 hour' WHERE tenant_id = '"
        + t.value() + "'";
    // replaced just now: a process may still seal under it
    DataKeyReencryption.Retirement recent = DataKeyReencryption.retire(platform.db.ownerDataSource(), platform.keys,
        t, 2);
    assertThat(recent.retired()).isFalse();
    assertThat(recent.tooRecent()).isTrue();
    TestPostgres.superuserExecute(platform.config, backdate);
    // the audit body still needs version 2: it is kept, and the body opens
    DataKeyReencryption.Retirement kept = DataKeyReencryption.retire(platform.db.ownerDataSource(), platform.keys,
        t, 2);
    assertThat(kept.retired()).isFalse();
    assertThat(kept.tooRecent()).isFalse();
    assertThat(kept.stillUnder()).containsEntry("audit_log", 1L).containsEntry("resources", 0L);
    assertThat(TestPostgres.superuserLong(platform.config, "SELECT count(*) FROM platform.tenant_keys WHERE tenant_id = '"
        + t.value() + "' AND key_version = 2")).isEqualTo(1);
    TenantKeys fresh = new TenantKeys(new LocalFileKeyProvider(platform.kekFile), platform.db.appDataSource());
    assertThat(fresh.cipher(t).decryptToString(body, io.carecontext.migrations.Aad.audit(t, "query")))
        .isEqualTo("who saw p-ret-1");

    // a tenant whose audit bodies are all under version 1: version 2 goes once nothing names it
    TenantId u = platform.tenant("dekret2");
    assertThat(rotate(u)).isEqualTo(2);
    platform.keys.evict(u);
    PatientErasureIT.record(store, u, PatientErasureIT.feed(u), "p-ret-2");
    assertThat(rotate(u)).isEqualTo(3);
    TestPostgres.superuserExecute(platform.config, backdate.replace(t.value(), u.value()));
    assertThat(DataKeyReencryption.retire(platform.db.ownerDataSource(), platform.keys, u, 2).retired())
        .as("resources are still under version 2").isFalse();
    new DataKeyReencryption(platform.db.ownerDataSource(), platform.keys, 50).run(u, b -> { });
    DataKeyReencryption.Retirement gone = DataKeyReencryption.retire(platform.db.ownerDataSource(), platform.keys, u, 2);
    assertThat(gone.retired()).as("%s", gone).isTrue();
    assertThat(new FhirStore(platform.tx, fresh).read(u, "Patient", "p-ret-2")).isPresent();
  }
}
