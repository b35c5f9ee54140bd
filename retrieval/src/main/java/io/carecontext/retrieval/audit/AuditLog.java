package io.carecontext.retrieval.audit;

import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.Requester;
import java.security.MessageDigest;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;

/**
 * The tenant's append-only audit trail. Each row is chained to the previous row of its shard
 * (SHA-256 over the previous hash, the sequence number and the row's canonical payload), and the
 * chain head moves in the statement that inserts the row. Rows are written with group commit
 * ({@link #record}): the caller waits until its row is committed, so a query whose audit row cannot
 * be written returns nothing (fail closed).
 */
public final class AuditLog {

  public static final int SHARDS = 8;

  /** Where each seal is published as it is made ({@link AuditAnchor}). */
  private static final org.slf4j.Logger ANCHORS = org.slf4j.LoggerFactory.getLogger(AuditAnchor.LOGGER);

  // The row goes to the first chain head no other transaction holds, starting at a random shard:
  // concurrent writers (also in other processes) take different shards instead of queueing on
  // one head's row lock. Only when every head is held does a writer wait, for the random one.
  // Both picks lock the head and read its latest version in the same step (FOR UPDATE), so the
  // row always extends the current head.
  private static final String APPEND = append(AuditRow.COLUMNS);
  /** The append of the releases before tenant migration 22 (no justification column), for upgrade tests. */
  private static final String APPEND_BEFORE_22 = append(AuditRow.COLUMNS.subList(0, AuditRow.COLUMNS_BEFORE_22));
  /** The append of the releases before tenant migration 75 (no request id or client address), for upgrade tests. */
  private static final String APPEND_BEFORE_75 = append(AuditRow.COLUMNS.subList(0, AuditRow.COLUMNS_BEFORE_75));

  private static String append(List<AuditRow.Column> columns) {
    return """
      WITH free AS (
        SELECT shard, seq + 1 AS seq, head, sha256(head || int8send(seq + 1) || ?) AS row_hash
        FROM {schema}.audit_heads ORDER BY (shard + ?) %% %1$d LIMIT 1 FOR UPDATE SKIP LOCKED),
      held AS (
        SELECT shard, seq + 1 AS seq, head, sha256(head || int8send(seq + 1) || ?) AS row_hash
        FROM {schema}.audit_heads WHERE shard = ? AND NOT EXISTS (SELECT 1 FROM free) FOR UPDATE),
      prev AS (SELECT * FROM free UNION ALL SELECT * FROM held),
      ins AS (
        INSERT INTO {schema}.audit_log (shard, seq, prev_hash, row_hash, %2$s)
        SELECT prev.shard, prev.seq, prev.head, prev.row_hash, %3$s FROM prev)
      UPDATE {schema}.audit_heads h SET seq = prev.seq, head = prev.row_hash FROM prev WHERE h.shard = prev.shard"""
      .formatted(SHARDS, columns.stream().map(AuditRow.Column::name).collect(Collectors.joining(", ")),
          String.join(", ", Collections.nCopies(columns.size(), "?")));
  }

  private static final String APPEND_AND_COMMIT = APPEND + TenantTransactions.AND_COMMIT;

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final AuditGroupCommit groupCommit;
  /**
   * The latest seal of each shard this process made or checked, per tenant: what the trail must still
   * reach. An owner who cuts rows from the end of a chain can also remove the seals beyond the new end
   * and move the head back, leaving a shorter trail every remaining seal agrees with; verify compares
   * each shard's end with this mark (a seal the tenant's key made: a tenant made again under the same
   * id, with a new key, is not held to its predecessor's). Kept in memory only: a process that never
   * saw a removed seal cannot tell it was there.
   */
  private final Map<TenantId, Seal[]> latestSeals = new ConcurrentHashMap<>();

  /** A seal as the tenant's key made it. */
  private record Seal(long seq, byte[] head, byte[] mac) {}

  public AuditLog(TenantTransactions tx, TenantKeys keys) {
    this.tx = tx;
    this.keys = keys;
    this.groupCommit = new AuditGroupCommit(tx, recordSettings(), this::recordAlone,
        () -> ThreadLocalRandom.current().nextInt(SHARDS));
  }

  /** Writes one prepared row in a transaction of its own, on a free chain head, {@code avoidShard} only if no other is free. */
  UUID recordAlone(TenantId tenant, AuditRow row, int avoidShard) {
    return tx.run(tenant, recordSettings(), c -> write(c, tenant, row, APPEND_AND_COMMIT, AuditRow.COLUMNS.size(),
        startAvoiding(avoidShard)));
  }

  /**
   * Appends inside the caller's tenant transaction, on a free chain head, which it holds until that
   * transaction ends; throws if the row cannot be written. For tests that hold a head.
   */
  UUID append(Connection c, TenantId tenant, AuditEntry e) throws SQLException {
    return write(c, tenant, AuditRow.of(tenant, keys.cipher(tenant), e), APPEND, AuditRow.COLUMNS.size(),
        startAvoiding(-1));
  }

  /**
   * {@link #append} as a release before tenant migration 22 wrote the row, into a template without
   * its column: for upgrade tests. Such rows carry no justification (their payload names none).
   */
  UUID appendBefore22(Connection c, TenantId tenant, AuditEntry e) throws SQLException {
    if (e.justification() != null) {
      throw new IllegalArgumentException("releases before tenant migration 22 recorded no justification");
    }
    return write(c, tenant, AuditRow.of(tenant, keys.cipher(tenant), e), APPEND_BEFORE_22,
        AuditRow.COLUMNS_BEFORE_22, startAvoiding(-1));
  }

  /**
   * {@link #append} as a release before tenant migration 75 wrote the row, into a template without its columns:
   * for upgrade tests. Such rows name no request id or client address (their payload names neither).
   */
  UUID appendBefore75(Connection c, TenantId tenant, AuditEntry e) throws SQLException {
    if (e.requestId() != null || e.clientAddress() != null) {
      throw new IllegalArgumentException("releases before tenant migration 75 recorded no request id or address");
    }
    return write(c, tenant, AuditRow.of(tenant, keys.cipher(tenant), e), APPEND_BEFORE_75,
        AuditRow.COLUMNS_BEFORE_75, startAvoiding(-1));
  }

  /**
   * Where the append's search for a free head starts: at random, or right after {@code avoidShard}
   * (≥ 0), which puts that one last. The statement tries shards in the order of (shard + start) % SHARDS.
   */
  private static int startAvoiding(int avoidShard) {
    return avoidShard < 0 ? ThreadLocalRandom.current().nextInt(SHARDS) : (SHARDS - 1 - avoidShard) % SHARDS;
  }

  /**
   * {@code columns}: how many of the row's values {@code append} binds, in the order of
   * {@link AuditRow#COLUMNS}; {@code start}: see {@link #startAvoiding}.
   */
  private static UUID write(Connection c, TenantId tenant, AuditRow r, String append, int columns, int start)
      throws SQLException {
    Object[] values = r.values();
    try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, append))) {
      ps.setBytes(1, r.payload());
      ps.setInt(2, start);
      ps.setBytes(3, r.payload());
      ps.setInt(4, start);
      for (int i = 0; i < columns; i++) {
        ps.setObject(i + 5, values[i]);
      }
      if (ps.executeUpdate() != 1) {
        throw new SQLException("audit chain head missing");
      }
    }
    return r.id();
  }

  /**
   * Appends rows inside the caller's open tenant transaction, as its last step, as the audit role:
   * they commit with the caller's work or not at all (a FHIR write and its record). The rows extend
   * one free chain head, held until that transaction ends. Returns the rows' ids, in order.
   */
  public List<UUID> appendWithin(Connection c, TenantId tenant, List<AuditEntry> entries) throws SQLException {
    tx.switchTo(c, tenant, recordSettings());
    // One start for all: the first row takes a free head, and the later ones find that head first,
    // which this transaction already holds, so a write holds one head, not one a row.
    int start = startAvoiding(-1);
    List<UUID> ids = new ArrayList<>(entries.size());
    for (AuditEntry e : entries) {
      ids.add(write(c, tenant, AuditRow.of(tenant, keys.cipher(tenant), e.withOrigin(AuditOrigin.current())), APPEND,
          AuditRow.COLUMNS.size(), start));
    }
    return ids;
  }

  /** Records a denial taken before any tenant data was read, with its true reason; returns its id. */
  public UUID recordDenial(TenantId tenant, AuditEntry base, String reason, long startNanos) {
    return record(tenant, base.withResult(AuditEntry.Decision.DENIED, reason, List.of(),
        (System.nanoTime() - startNanos) / 1_000_000));
  }

  /**
   * Appends and returns once the row is committed, in one transaction with the rows of the other
   * requests waiting at the same moment ({@link AuditGroupCommit}). Callers hold their results
   * until this returns, so nothing leaves without its audit row; if the row cannot be written it
   * throws {@link AuditUnavailableException} and the caller returns nothing.
   */
  public UUID record(TenantId tenant, AuditEntry e) {
    return groupCommit.append(tenant, AuditRow.of(tenant, keys.cipher(tenant), e.withOrigin(AuditOrigin.current())));
  }

  /**
   * Forgets what this process keeps for a deleted tenant: its audit writes (see {@link AuditGroupCommit#forget})
   * and the latest seals it knew, which were kept for every tenant ever sealed until the process ended (a tenant
   * made again under the same id is not held to its predecessor's seals either way).
   */
  public void forget(TenantId tenant) {
    groupCommit.forget(tenant);
    latestSeals.remove(tenant);
    // beside the anchors: a tenant made again under this id has another key, and its predecessor's anchors, kept in
    // the same log, are no longer its own to verify against (they were reported forged-anchor)
    ANCHORS.info(AuditAnchor.offboardedLine(tenant));
  }

  /** Whether this process keeps a latest seal of the tenant's (for tests). */
  boolean knowsSealsOf(TenantId tenant) {
    return latestSeals.containsKey(tenant);
  }

  /** How well group commit combines, since start (see {@link GroupCommitStats}). */
  public GroupCommitStats groupCommitStats() {
    return groupCommit.stats();
  }

  /**
   * Counters since start: rows written, commits, rows written one at a time after their batch
   * failed, rows written on their own because the writer was stalled, and the writers' time spent
   * in batches. {@code rows / commits} is the mean number of audit rows per commit.
   */
  public record GroupCommitStats(long rows, long commits, long fallbacks, long alone, long writeNanos) {}

  /**
   * Recomputes every shard's chain from its anchor (or genesis) to its head, and checks it against
   * the shard's keyed seals (tenant migration 37): each seal's MAC under the tenant's key, and that
   * the recomputed chain passes through each sealed head. A row on a shard no chain knows (tenant
   * migration 30 refuses new ones) is covered by no chain: it is reported as the break, since it was
   * listed and exported like the rest.
   */
  public AuditVerification verify(TenantId tenant, Requester auditor) {
    return verify(tenant, auditor, List.of());
  }

  /**
   * {@link #verify(TenantId, Requester)}, also against anchors kept outside the database (the seals'
   * log lines, {@link AuditAnchor}): each must carry the MAC the tenant's key gives its shard, seq and
   * head, or it is reported as {@code forged-anchor} and nothing else is checked; the recomputed chain
   * must pass through each one's head ({@code seal}) and reach it ({@code behind-seal}). What the
   * database holds cannot show a cut made together with the seals past it; anchors the owner could not
   * reach can. An anchor of rows a retention purge removed can no longer be compared with anything.
   * The anchors the key made are remembered as this process's own seals are.
   *
   * @throws IllegalArgumentException for an anchor of a shard no chain knows
   */
  public AuditVerification verify(TenantId tenant, Requester auditor, List<AuditAnchor> anchors) {
    List<List<AuditAnchor>> anchorsOf = new ArrayList<>();
    for (int shard = 0; shard < SHARDS; shard++) {
      anchorsOf.add(new ArrayList<>());
    }
    for (AuditAnchor a : anchors) {
      if (a.shard() < 0 || a.shard() >= SHARDS || a.seq() < 0) {
        throw new IllegalArgumentException("an anchor's shard is 0 to " + (SHARDS - 1) + " and its seq 0 or more");
      }
      anchorsOf.get(a.shard()).add(a);
    }
    anchorsOf.forEach(l -> l.sort(java.util.Comparator.comparingLong(AuditAnchor::seq)));
    TenantCipher cipher = keys.cipher(tenant);
    // The seals this process knows, taken before the snapshot: each was committed before it, so the
    // snapshot holds its rows (one sealed meanwhile is not the snapshot's to reach).
    Seal[] knownSeals = latestSeals.getOrDefault(tenant, new Seal[SHARDS]);
    // One snapshot: read one after the other, a batch committed in between made a shard's head look
    // ahead of its rows, and a trail in use was reported broken.
    return tx.runInSnapshot(tenant, readSettings(auditor), c -> {
      requireAdmitted(c);
      // Anchors are checked only for a key the database admits: the MAC check answers whether the
      // tenant's key made a line, which is no one else's to ask.
      for (int shard = 0; shard < SHARDS; shard++) {
        for (AuditAnchor a : anchorsOf.get(shard)) {
          if (!a.madeBy(cipher, tenant)) { // never trusted: one made up would otherwise mark a sound trail cut
            return AuditVerification.broken(0, shard, a.seq(), null, "forged-anchor");
          }
        }
      }
      for (int shard = 0; shard < SHARDS; shard++) {
        for (AuditAnchor a : anchorsOf.get(shard)) {
          sawSeal(tenant, shard, a.seq(), a.head(), a.mac());
        }
      }
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT shard, seq, audit_id FROM audit_log WHERE shard < 0 OR shard >= ? ORDER BY shard, seq LIMIT 1")) {
        ps.setInt(1, SHARDS);
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            return AuditVerification.broken(0, rs.getInt(1), rs.getLong(2), rs.getString(3), "shard");
          }
        }
      }
      long entries = 0;
      long sealedEntries = 0;
      byte[] combined = new byte[0];
      for (int shard = 0; shard < SHARDS; shard++) {
        byte[] prev;
        long seq;
        try (PreparedStatement ps = c.prepareStatement(
            "SELECT through_seq, anchor_hash FROM audit_anchors WHERE shard = ?")) {
          ps.setInt(1, shard);
          try (ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
              seq = rs.getLong(1);
              prev = rs.getBytes(2);
            } else {
              seq = 0;
              prev = AuditPayload.sha256(("carecontext-audit-genesis:" + shard).getBytes(java.nio.charset.StandardCharsets.UTF_8));
            }
          }
        }
        long start = seq;
        long sealedThrough = start;
        List<AuditAnchor> outside = anchorsOf.get(shard);
        int nextAnchor = 0;
        while (nextAnchor < outside.size() && outside.get(nextAnchor).seq() < start) {
          nextAnchor++; // of rows a retention purge removed
        }
        for (; nextAnchor < outside.size() && outside.get(nextAnchor).seq() == start; nextAnchor++) {
          if (!Arrays.equals(outside.get(nextAnchor).head(), prev)) {
            return AuditVerification.broken(entries, shard, start, null, "seal");
          }
        }
        // The shard's seals and rows are read side by side, each through a cursor (a trail keeps
        // years of rows: never all of a shard in memory). Seals of rows a retention purge removed
        // can no longer be compared with anything: only a seal at the anchor itself still can.
        try (PreparedStatement sealsPs = c.prepareStatement(
                 "SELECT seq, head, mac FROM audit_seals WHERE shard = ? AND seq >= ? ORDER BY seq");
             PreparedStatement rowsPs = c.prepareStatement("SELECT * FROM audit_log WHERE shard = ? ORDER BY seq")) {
          sealsPs.setInt(1, shard);
          sealsPs.setLong(2, start);
          sealsPs.setFetchSize(FETCH);
          rowsPs.setInt(1, shard);
          rowsPs.setFetchSize(FETCH);
          try (ResultSet seals = sealsPs.executeQuery(); ResultSet rs = rowsPs.executeQuery()) {
            boolean sealAhead = seals.next();
            if (sealAhead && seals.getLong(1) == start) {
              if (!sealMade(seals, cipher, tenant, shard)) {
                return AuditVerification.broken(entries, shard, start, null, "forged-seal");
              }
              if (!Arrays.equals(seals.getBytes(2), prev)) {
                return AuditVerification.broken(entries, shard, start, null, "seal");
              }
              sawSeal(tenant, shard, start, prev, seals.getBytes(3));
              sealAhead = seals.next();
            }
            while (rs.next()) {
              long rowSeq = rs.getLong("seq");
              byte[] expected = AuditPayload.rowHash(prev, rowSeq, payload(rs));
              if (rowSeq != seq + 1 || !Arrays.equals(rs.getBytes("prev_hash"), prev)
                  || !Arrays.equals(rs.getBytes("row_hash"), expected)) {
                return AuditVerification.broken(entries, shard, rowSeq, rs.getString("audit_id"), "row");
              }
              // Rows are contiguous (checked above), so a seal's row is met before any later row.
              if (sealAhead && seals.getLong(1) == rowSeq) {
                if (!sealMade(seals, cipher, tenant, shard)) {
                  return AuditVerification.broken(entries, shard, rowSeq, rs.getString("audit_id"), "forged-seal");
                }
                if (!Arrays.equals(seals.getBytes(2), expected)) {
                  return AuditVerification.broken(entries, shard, rowSeq, rs.getString("audit_id"), "seal");
                }
                sawSeal(tenant, shard, rowSeq, expected, seals.getBytes(3));
                sealedThrough = rowSeq;
                sealAhead = seals.next();
              }
              for (; nextAnchor < outside.size() && outside.get(nextAnchor).seq() == rowSeq; nextAnchor++) {
                if (!Arrays.equals(outside.get(nextAnchor).head(), expected)) {
                  return AuditVerification.broken(entries, shard, rowSeq, rs.getString("audit_id"), "seal");
                }
                sealedThrough = rowSeq;
              }
              prev = expected;
              seq = rowSeq;
              entries++;
            }
            if (sealAhead) { // a seal beyond the last row: rows were cut from the end, or the seal is not the key's
              long sealSeq = seals.getLong(1);
              return AuditVerification.broken(entries, shard, sealSeq, null,
                  sealMade(seals, cipher, tenant, shard) ? "behind-seal" : "forged-seal");
            }
          }
        }
        if (nextAnchor < outside.size()) { // an anchor kept outside that the chain no longer reaches: the same cut
          return AuditVerification.broken(entries, shard, outside.get(nextAnchor).seq(), null, "behind-seal");
        }
        // a seal this process made or checked, removed with the rows after it: the same cut
        Seal known = knownSeals[shard];
        if (known != null && !MessageDigest.isEqual(known.mac(), sealMac(cipher, tenant, shard, known.seq(), known.head()))) {
          latestSeals.remove(tenant); // a predecessor's under the same id: this tenant's own are learnt afresh
        } else if (known != null && known.seq() > seq) {
          return AuditVerification.broken(entries, shard, known.seq(), null, "behind-seal");
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, head FROM audit_heads WHERE shard = ?")) {
          ps.setInt(1, shard);
          try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next() || rs.getLong(1) != seq || !Arrays.equals(rs.getBytes(2), prev)) {
              return AuditVerification.broken(entries, shard, seq + 1, null, "head");
            }
          }
        }
        sealedEntries += sealedThrough - start;
        combined = AuditPayload.sha256(concat(combined, prev));
      }
      return AuditVerification.valid(entries, AuditPayload.hex(combined), sealedEntries);
    });
  }

  // Every shard whose head moved past its latest seal (or that has rows and no seal yet).
  private static final String UNSEALED_HEADS = """
      SELECT h.shard, h.seq, h.head FROM {schema}.audit_heads h
      WHERE h.seq > coalesce((SELECT max(s.seq) FROM {schema}.audit_seals s WHERE s.shard = h.shard), 0)
      ORDER BY h.shard""";
  // Two processes sealing the same head write the same seal: the second adds nothing.
  private static final String SEAL = """
      INSERT INTO {schema}.audit_seals (shard, seq, head, mac) VALUES (?, ?, ?, ?)
      ON CONFLICT (shard, seq) DO NOTHING""";

  /**
   * Seals every shard whose head moved since its latest seal: records the head with a MAC under the
   * tenant's key (tenant migration 37), so that verify can tell a chain recomputed after an edit
   * from the one that was written. A head read here is a committed one (it moves in the statement
   * that inserts its rows). Returns the number of seals written.
   */
  public int seal(TenantId tenant) {
    TenantCipher cipher = keys.cipher(tenant);
    List<AuditAnchor> made = new ArrayList<>(); // a seal as it leaves the database, once committed
    int written = tx.run(tenant, recordSettings(), c -> {
      made.clear(); // (a transaction run again)
      List<Object[]> heads = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, UNSEALED_HEADS));
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          heads.add(new Object[] {rs.getInt(1), rs.getLong(2), rs.getBytes(3)});
        }
      }
      int sealed = 0;
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, SEAL))) {
        for (Object[] h : heads) {
          int shard = (Integer) h[0];
          long seq = (Long) h[1];
          byte[] head = (byte[]) h[2];
          ps.setInt(1, shard);
          ps.setLong(2, seq);
          ps.setBytes(3, head);
          byte[] mac = sealMac(cipher, tenant, shard, seq, head);
          ps.setBytes(4, mac);
          sealed += ps.executeUpdate();
          made.add(new AuditAnchor(shard, seq, head, mac)); // (another process sealing this head wrote the same seal)
        }
      }
      return sealed;
    });
    // remembered and published once committed: a seal whose transaction failed is not one the trail must reach
    for (AuditAnchor m : made) {
      sawSeal(tenant, m.shard(), m.seq(), m.head(), m.mac());
      // kept outside the database (a log shipper's, a SIEM's copy): what verify's anchors are
      ANCHORS.info(AuditAnchor.line(tenant, m.shard(), m.seq(), m.head(), m.mac()));
    }
    return written;
  }

  /** Remembers a seal the tenant's key made, if it is the shard's latest this process knows. */
  private void sawSeal(TenantId tenant, int shard, long seq, byte[] head, byte[] mac) {
    latestSeals.compute(tenant, (t, seals) -> {
      if (seals != null && seals[shard] != null && seals[shard].seq() >= seq) {
        return seals;
      }
      Seal[] next = seals == null ? new Seal[SHARDS] : seals.clone();
      next[shard] = new Seal(seq, head.clone(), mac.clone());
      return next;
    });
  }

  /** Rows and seals verify reads from the database at a time. */
  private static final int FETCH = 1_000;

  /** Whether the seal at the cursor carries the MAC the tenant's key gives its shard, seq and head. */
  private static boolean sealMade(ResultSet seal, TenantCipher cipher, TenantId tenant, int shard) throws SQLException {
    return MessageDigest.isEqual(seal.getBytes(3), sealMac(cipher, tenant, shard, seal.getLong(1), seal.getBytes(2)));
  }

  /** The MAC of a seal: tenant, shard, seq and head, under the tenant's audit-seal key. */
  static byte[] sealMac(TenantCipher cipher, TenantId tenant, int shard, long seq, byte[] head) {
    return cipher.auditSeal(("carecontext-audit-seal:v1;" + tenant.value() + ";" + shard + ";" + seq + ";"
        + AuditPayload.hex(head)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
  }

  /** Entries matching the filter, newest first (rows of one time by audit id); bodies decrypted only when asked (and that read is audited by the caller). */
  public List<Map<String, Object>> list(TenantId tenant, Requester auditor, AuditFilter f, boolean includeBodies) {
    return tx.run(tenant, readSettings(auditor), c -> {
      requireAdmitted(c);
      StringBuilder sql = new StringBuilder("SELECT a.*, rv.review_id, rv.review_outcome FROM audit_log a "
          + LATEST_REVIEW + " WHERE true");
      List<Object> args = new ArrayList<>();
      if (f.patient() != null) {
        // the rows of the patient's own, and the research searches that returned the patient's
        // de-identified chunks (they name no one patient; AuditEntry.PATIENTS_DETAIL), each found by
        // an index (the second by a partial one of research rows, tenant migration 71)
        sql.append(" AND (patient_id = ? OR (action = 'research' AND " + RESEARCH_PATIENTS
            + " @> jsonb_build_array(?::text)))");
        args.add(f.patient());
        args.add(f.patient());
      }
      if (f.identifiedPatients() != null) {
        patientsOf(c, f.identifiedPatients(), sql, args);
      }
      if (f.principal() != null) {
        sql.append(" AND principal = ?");
        args.add(f.principal());
      }
      if (f.action() != null) {
        sql.append(" AND action = ?");
        args.add(f.action());
      }
      if (f.from() != null) {
        sql.append(" AND at >= ?");
        args.add(Timestamp.from(f.from()));
      }
      if (f.to() != null) {
        sql.append(" AND at < ?");
        args.add(Timestamp.from(f.to()));
      }
      if (f.requestId() != null) {
        sql.append(" AND request_id = ?");
        args.add(f.requestId());
      }
      if (f.breakGlass() != null) {
        sql.append(" AND break_glass = ?");
        args.add(f.breakGlass());
      }
      if (f.reviewed() != null) {
        // the break-glass rows with (or without) an allowed review row naming them
        sql.append(f.reviewed() ? " AND break_glass AND rv.review_id IS NOT NULL" : " AND break_glass AND rv.review_id IS NULL");
      }
      if (f.after() != null) {
        // strictly after the cursor in the listing's order (at descending, then audit_id ascending): the
        // rest of its microsecond, then the older ones; the first bound lets the (at) index start there
        OffsetDateTime at = OffsetDateTime.ofInstant(f.after().at(), ZoneOffset.UTC);
        sql.append(" AND at <= ? AND (at < ? OR audit_id > ?)");
        args.add(at);
        args.add(at);
        args.add(f.after().auditId());
      }
      sql.append(" ORDER BY at DESC, audit_id LIMIT ?");
      args.add(f.limit());
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          ps.setObject(i + 1, args.get(i));
        }
        List<Map<String, Object>> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Map<String, Object> m = row(tenant, rs, includeBodies);
            if (rs.getBoolean("break_glass")) {
              // whether it was reviewed, by which row, and that row's outcome: the latest review when there are several
              String review = rs.getString("review_id");
              m.put("reviewed", review != null);
              m.put("reviewAuditId", review);
              m.put("reviewOutcome", rs.getString("review_outcome"));
            }
            if (includeBodies && AuditEntry.BREAK_GLASS_REVIEWED.equals(m.get("action")) && m.containsKey("justification")) {
              m.put("note", m.remove("justification")); // a review's note, kept in the justification column
            }
            out.add(m);
          }
        }
        return out;
      }
    });
  }

  /** The predicate of tenant migration 76's index: allowed review rows. */
  private static final String REVIEWS = "r.action = '" + AuditEntry.BREAK_GLASS_REVIEWED + "' AND r.decision = 'allowed'";

  /** The expression of tenant migration 76's index: the audit id a review row names. */
  private static final String REVIEWED = "((r.details::jsonb) ->> '" + AuditEntry.REVIEWED_DETAIL + "')";

  /**
   * The latest allowed review of each break-glass row the listing reads (by time, then id; reviews of one row are
   * written one after the other, {@link #review}), found by tenant migration 76's index, whose expression and
   * predicate these are. A row that is not break-glass has none (the join is not tried for it).
   */
  private static final String LATEST_REVIEW = "LEFT JOIN LATERAL (SELECT r.audit_id AS review_id, r.reason AS "
      + "review_outcome FROM audit_log r WHERE a.break_glass AND " + REVIEWS + " AND " + REVIEWED + " = a.audit_id::text "
      + "ORDER BY r.at DESC, r.audit_id DESC LIMIT 1) rv ON true";

  /** What {@link #review} did: the review row's id (and the review it supersedes), or why it wrote none. */
  public record Review(Status status, String patient, UUID reviewId, String supersedes) {
    public enum Status { REVIEWED, NOT_FOUND, NOT_BREAK_GLASS, SELF_REVIEW }
  }

  /**
   * Records an auditor's review of the break-glass row {@code reviewed}: in one transaction, as the auditor's key
   * (the database shows the trail only to a live auditor key of the tenant), it reads that row and the latest review
   * of it, and appends the review row ({@code entry}, completed here with the reviewed row's patient, the outcome as
   * its reason, and the ids in its details) to a chain head, like every row. Reviews of one row are taken one at a
   * time (a transaction-scoped advisory lock on its id): the second of two concurrent reviews names the first as
   * the one it supersedes, and the latest by time is the later. The reviewed row is never changed (the trail is
   * append-only; tenant migration 57 refuses an UPDATE). A row of no such id in the tenant, or one that is not
   * break-glass, gets no review row: the caller records the refusal. Nor does a row the reviewer made itself (its
   * principal, compared without case as a principal is held, {@link Review.Status#SELF_REVIEW}): a key may hold the
   * auditor role beside clinician, and the one who broke the glass does not judge the access.
   *
   * @throws KeyNotAdmittedException when the database does not admit the auditor's key
   */
  public Review review(TenantId tenant, Requester auditor, UUID reviewed, AuditEntry entry, String outcome) {
    if (!AuditEntry.REVIEW_OUTCOMES.contains(outcome)) {
      throw new IllegalArgumentException("a review's outcome is one of " + AuditEntry.REVIEW_OUTCOMES);
    }
    AuditOrigin origin = AuditOrigin.current();
    return tx.run(tenant, readSettings(auditor), c -> {
      requireAdmitted(c);
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))")) {
        ps.setString(1, "carecontext-audit-review:" + tenant.value() + ":" + reviewed);
        ps.execute();
      }
      String patient;
      try (PreparedStatement ps = c.prepareStatement("SELECT patient_id, break_glass, principal FROM audit_log "
          + "WHERE audit_id = ?")) {
        ps.setObject(1, reviewed);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return new Review(Review.Status.NOT_FOUND, null, null, null);
          }
          patient = rs.getString(1);
          if (!rs.getBoolean(2)) {
            return new Review(Review.Status.NOT_BREAK_GLASS, patient, null, null);
          }
          if (entry.principal().equalsIgnoreCase(rs.getString(3))) { // a row may name no principal
            return new Review(Review.Status.SELF_REVIEW, patient, null, null);
          }
        }
      }
      String supersedes = null;
      try (PreparedStatement ps = c.prepareStatement("SELECT r.audit_id FROM audit_log r WHERE " + REVIEWS + " AND "
          + REVIEWED + " = ? ORDER BY r.at DESC, r.audit_id DESC LIMIT 1")) {
        ps.setString(1, reviewed.toString());
        try (ResultSet rs = ps.executeQuery()) {
          if (rs.next()) {
            supersedes = rs.getString(1);
          }
        }
      }
      AuditEntry row = entry.withPatient(patient)
          .withResult(AuditEntry.Decision.ALLOWED, outcome, List.of(), entry.latencyMillis())
          .withDetail(AuditEntry.REVIEWED_DETAIL, AuditEntry.jsonString(reviewed.toString()))
          .withDetail("outcome", AuditEntry.jsonString(outcome));
      if (supersedes != null) {
        row = row.withDetail("supersedesAuditId", AuditEntry.jsonString(supersedes));
      }
      // made now, under the lock: its time is after the review it supersedes committed
      UUID id = write(c, tenant, AuditRow.of(tenant, keys.cipher(tenant), row.withOrigin(origin)), APPEND,
          AuditRow.COLUMNS.size(), startAvoiding(-1));
      return new Review(Review.Status.REVIEWED, patient, id, supersedes);
    });
  }

  /**
   * The condition of the rows of any of {@code patients}, each as a {@code patient} filter finds its own (the rows that
   * name it, and the research searches that returned its chunks, by the index of tenant migration 71); none: no row.
   */
  private static void patientsOf(Connection c, List<String> patients, StringBuilder sql, List<Object> args)
      throws SQLException {
    if (patients.isEmpty()) {
      sql.append(" AND false");
      return;
    }
    sql.append(" AND (patient_id = ANY(?) OR (action = 'research' AND (");
    args.add(c.createArrayOf("text", patients.toArray()));
    for (int i = 0; i < patients.size(); i++) {
      sql.append(i == 0 ? "" : " OR ").append(RESEARCH_PATIENTS).append(" @> jsonb_build_array(?::text)");
      args.add(patients.get(i));
    }
    sql.append(")))");
  }

  /** A patient identifier an auditor asked by: its keyed hash (hex) and the ids of the Patients stored under it. */
  public record IdentifiedPatients(String key, List<String> patients) {}

  /**
   * The Patients the tenant's identifier index holds under {@code system|value} (a null or empty system: an identifier
   * sent without one), read as the auditor's key (tenant migration 79: the audit role reads the index of Patients
   * alone, for a live auditor key). The index holds the identifier's HMAC under the tenant's key, made as the write path
   * makes it (TenantCipher.identifierHash): the identifier is hashed here and never stored, logged or sent. A Patient
   * erased, or deleted by the EHR, has left the index, and so is named by no identifier.
   *
   * @throws KeyNotAdmittedException when the database does not admit the auditor's key
   */
  public IdentifiedPatients patientsWithIdentifier(TenantId tenant, Requester auditor, String system, String value) {
    byte[] hash = keys.cipher(tenant).identifierHash(system, value);
    List<String> ids = tx.run(tenant, readSettings(auditor), c -> {
      requireAdmitted(c);
      try (PreparedStatement ps = c.prepareStatement("SELECT resource_id FROM resource_identifiers "
          + "WHERE resource_type = 'Patient' AND value_hash = ? ORDER BY resource_id")) {
        ps.setBytes(1, hash);
        List<String> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(rs.getString(1));
          }
        }
        return out;
      }
    });
    return new IdentifiedPatients(AuditPayload.hex(hash), ids);
  }

  /** The patients a research row names, as tenant migration 71 indexes them (the listing's expression must be the index's). */
  private static final String RESEARCH_PATIENTS = "(details::jsonb -> '" + AuditEntry.PATIENTS_DETAIL + "')";

  /** Rows an export sends between two checks that its key is still admitted: one fetch from the cursor. */
  public static final int EXPORT_RECHECK_ROWS = 500;

  /**
   * Streams every entry, oldest first, to the consumer (for the AuditEvent export). The key is
   * asked for again before each further {@value #EXPORT_RECHECK_ROWS} rows, in a statement of its own
   * (so in a snapshot of its own: the cursor's is fixed when it opens): an export of years of trail
   * that started before its key was revoked stops within that many rows of the revocation, with
   * {@link KeyNotAdmittedException}, instead of streaming to its end.
   */
  public void forEach(TenantId tenant, Requester auditor, java.util.function.Consumer<Map<String, Object>> consumer) {
    forEach(tenant, auditor, null, consumer);
  }

  /**
   * {@link #forEach(TenantId, Requester, java.util.function.Consumer)} for the rows of {@code patients} alone (as a
   * listing's patient filter finds them: a patient's accounting as AuditEvents); null: every row.
   */
  public void forEach(TenantId tenant, Requester auditor, List<String> patients,
                      java.util.function.Consumer<Map<String, Object>> consumer) {
    tx.run(tenant, readSettings(auditor), c -> {
      c.setAutoCommit(false);
      requireAdmitted(c);
      StringBuilder sql = new StringBuilder("SELECT * FROM audit_log WHERE true");
      List<Object> args = new ArrayList<>();
      if (patients != null) {
        patientsOf(c, patients, sql, args);
      }
      sql.append(" ORDER BY at, audit_id");
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          ps.setObject(i + 1, args.get(i));
        }
        ps.setFetchSize(EXPORT_RECHECK_ROWS);
        try (ResultSet rs = ps.executeQuery()) {
          int sinceCheck = 0;
          while (rs.next()) {
            if (++sinceCheck > EXPORT_RECHECK_ROWS) {
              requireAdmitted(c);
              sinceCheck = 1;
            }
            consumer.accept(row(tenant, rs, false));
          }
        }
      }
      return null;
    });
  }

  /**
   * Retention: deletes, as the schema owner, every shard's entries older than {@code before} that
   * form a prefix of the shard, and records the last deleted row's hash as the shard's anchor, so
   * the rest still verifies. When it deletes any, it appends a row of its own to the trail it cut
   * ({@link #purgeEntry}): action {@code audit-purge}, the system's principal, the count and the
   * cut-off in its details, no patient. One transaction: a purge whose row cannot be written deletes
   * nothing. Returns the number of rows deleted.
   */
  public static int purge(Connection owner, TenantId tenant, Instant before) throws SQLException {
    boolean autoCommit = owner.getAutoCommit();
    owner.setAutoCommit(false);
    try {
      int purged = purgeShards(owner, tenant, before);
      if (purged > 0) {
        // After the deletes, on a chain head like any row (the owner's connection names the schema in
        // the statement): it extends a shard past its new anchor, so verify walks it as every other row.
        // The database admits this insert under the retention setting for this action only (tenant migration 72).
        write(owner, tenant, AuditRow.withoutBodies(purgeEntry(purged, before)), APPEND, AuditRow.COLUMNS.size(),
            startAvoiding(-1));
      }
      owner.commit();
      return purged;
    } catch (SQLException | RuntimeException e) {
      owner.rollback();
      throw e;
    } finally {
      owner.setAutoCommit(autoCommit);
    }
  }

  // Each shard's purge ends at the last row of its prefix of rows older than the cut-off: the row
  // before the shard's first row that is not older (or its last row, when every row is older). The
  // time of a row is what its writer stated, and the audit role may append a row dated years back
  // after this year's rows: taking the shard's last old row wherever it lies would then delete
  // every row before it, recent ones included, and move the anchor past them, so the trail would
  // still verify. A row that is not old stops the purge; old rows after it wait until it is old too.
  // Two index probes a shard on (shard, seq): the first kept row is found by walking the old prefix
  // (what the purge deletes anyway), the last old row by one step back from it, so no plan walks
  // the chain back through the years of rows that are kept.
  private static final String PURGE_THROUGH = """
      SELECT s.shard, o.seq, o.row_hash
      FROM generate_series(0, %d) AS s(shard)
      LEFT JOIN LATERAL (SELECT k.seq FROM {schema}.audit_log k
                         WHERE k.shard = s.shard AND k.at >= ? ORDER BY k.seq LIMIT 1) kept ON true
      JOIN LATERAL (SELECT p.seq, p.row_hash FROM {schema}.audit_log p
                    WHERE p.shard = s.shard AND p.seq < coalesce(kept.seq, 9223372036854775807) AND p.at < ?
                    ORDER BY p.seq DESC LIMIT 1) o ON true
      ORDER BY s.shard""".formatted(SHARDS - 1);
  // An anchor only moves forward: a purge with an earlier cut-off (another process's, running at
  // the same time) must not point the chain back at rows already deleted.
  private static final String MOVE_ANCHOR = """
      INSERT INTO {schema}.audit_anchors (shard, through_seq, anchor_hash) VALUES (?, ?, ?)
      ON CONFLICT (shard) DO UPDATE SET through_seq = excluded.through_seq, anchor_hash = excluded.anchor_hash,
        purged_at = now()
      WHERE audit_anchors.through_seq < excluded.through_seq""";
  private static final String DELETE_THROUGH = "DELETE FROM {schema}.audit_log WHERE shard = ? AND seq <= ?";

  /** Where a shard's purge ends: its last row older than the cut-off, and that row's hash. */
  private record Cut(int shard, long throughSeq, byte[] anchor) {}

  /** The row a purge that deleted {@code purged} rows older than {@code before} writes: counts and the instant, no patient. */
  static AuditEntry purgeEntry(int purged, Instant before) {
    return AuditEntry.of(AuditEntry.SYSTEM_PRINCIPAL, null, List.of(), null, null, AuditEntry.AUDIT_PURGE,
            AuditEntry.Decision.ALLOWED, "retention")
        .withDetail("purged", Integer.toString(purged))
        .withDetail("before", AuditEntry.jsonString(before.toString()));
  }

  private static int purgeShards(Connection owner, TenantId tenant, Instant before) throws SQLException {
    // Transaction-scoped, like every policy setting: it ends with this purge's COMMIT.
    try (PreparedStatement ps = owner.prepareStatement("SELECT set_config('cc.access', 'retention', true)")) {
      ps.execute();
    }
    List<Cut> cuts = new ArrayList<>();
    try (PreparedStatement ps = owner.prepareStatement(TenantSql.of(tenant, PURGE_THROUGH))) {
      ps.setTimestamp(1, Timestamp.from(before));
      ps.setTimestamp(2, Timestamp.from(before));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          cuts.add(new Cut(rs.getInt(1), rs.getLong(2), rs.getBytes(3)));
        }
      }
    }
    int purged = 0;
    try (PreparedStatement anchor = owner.prepareStatement(TenantSql.of(tenant, MOVE_ANCHOR));
         PreparedStatement delete = owner.prepareStatement(TenantSql.of(tenant, DELETE_THROUGH))) {
      for (Cut cut : cuts) {
        anchor.setInt(1, cut.shard());
        anchor.setLong(2, cut.throughSeq());
        anchor.setBytes(3, cut.anchor());
        anchor.executeUpdate();
        delete.setInt(1, cut.shard());
        delete.setLong(2, cut.throughSeq());
        purged += delete.executeUpdate();
      }
    }
    return purged;
  }

  private Map<String, Object> row(TenantId tenant, ResultSet rs, boolean bodies) throws SQLException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("auditId", rs.getString("audit_id"));
    m.put("at", rs.getTimestamp("at").toInstant().toString());
    m.put("principal", rs.getString("principal"));
    m.put("keyId", rs.getString("key_id"));
    m.put("roles", List.of((String[]) rs.getArray("roles").getArray()));
    m.put("patient", rs.getString("patient_id"));
    m.put("purposeOfUse", rs.getString("purpose"));
    m.put("action", rs.getString("action"));
    m.put("decision", rs.getString("decision"));
    m.put("reason", rs.getString("reason"));
    m.put("breakGlass", rs.getBoolean("break_glass"));
    m.put("chunkIds", List.of((Long[]) rs.getArray("chunk_ids").getArray()));
    m.put("model", rs.getString("model"));
    m.put("promptHash", AuditPayload.hex(rs.getBytes("prompt_hash")));
    m.put("responseHash", AuditPayload.hex(rs.getBytes("response_hash")));
    m.put("details", rs.getString("details"));
    m.put("latencyMillis", rs.getInt("latency_ms"));
    // which request (its X-Request-Id) and from where (the client's address), tenant migration 75; null on rows before
    m.put("requestId", rs.getString("request_id"));
    m.put("clientAddress", rs.getString("client_address"));
    m.put("shard", rs.getInt("shard"));
    m.put("seq", rs.getLong("seq"));
    m.put("hash", AuditPayload.hex(rs.getBytes("row_hash")));
    if (bodies) {
      TenantCipher cipher = keys.cipher(tenant);
      m.put("query", decrypt(cipher, tenant, "query", rs.getBytes("query_enc")));
      m.put("prompt", decrypt(cipher, tenant, "prompt", rs.getBytes("prompt_enc")));
      m.put("response", decrypt(cipher, tenant, "response", rs.getBytes("response_enc")));
      byte[] justification = rs.getBytes("justification_enc");
      if (justification != null) { // break-glass rows: the reason the caller gave
        m.put("justification", decrypt(cipher, tenant, "justification", justification));
      }
    }
    return m;
  }

  static byte[] payload(ResultSet rs) throws SQLException {
    Array roles = rs.getArray("roles");
    Array chunks = rs.getArray("chunk_ids");
    int latency = rs.getInt("latency_ms");
    Integer lat = rs.wasNull() ? null : latency;
    return AuditPayload.of(rs.getString("audit_id"), rs.getTimestamp("at").toInstant(), rs.getString("principal"),
        rs.getString("key_id"), List.of((String[]) roles.getArray()), rs.getString("patient_id"), rs.getString("purpose"),
        rs.getString("action"), rs.getString("decision"), rs.getString("reason"), rs.getBoolean("break_glass"),
        List.of((Long[]) chunks.getArray()), rs.getString("model"), rs.getBytes("prompt_hash"),
        rs.getBytes("response_hash"), rs.getBytes("query_enc"), rs.getBytes("prompt_enc"), rs.getBytes("response_enc"),
        rs.getString("details"), lat, rs.getBytes("justification_enc"), rs.getString("request_id"),
        rs.getString("client_address"));
  }

  /** The audit settings for the write path, whose statements name the tenant's schema themselves. */
  static PolicySettings recordSettings() {
    return auditSettings().withQualifiedNames();
  }

  private static PolicySettings auditSettings() {
    return PolicySettings.read().set("cc.access", "audit").build();
  }

  /**
   * Reading the trail presents the auditor's key: the database shows its rows only while that is a
   * live key of this tenant with the auditor role (tenant migration 34).
   */
  private static PolicySettings readSettings(Requester auditor) {
    return auditSettings().withCaller(auditor.keyId(), auditor.keySecretHash());
  }

  /** Whether the database admits the key for reading the trail (before a read that cannot fail cleanly halfway). */
  public boolean admits(TenantId tenant, Requester auditor) {
    try {
      tx.run(tenant, readSettings(auditor), c -> {
        requireAdmitted(c);
        return null;
      });
      return true;
    } catch (KeyNotAdmittedException e) {
      return false;
    }
  }

  /**
   * Whether the database admits the presented key, asked first: a trail it hides would otherwise
   * read as empty, and verify would call every chain broken.
   */
  private static void requireAdmitted(Connection c) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{auditor}'::text[])");
        ResultSet rs = ps.executeQuery()) {
      if (!rs.next() || !rs.getBoolean(1)) {
        throw new KeyNotAdmittedException();
      }
    }
  }

  /**
   * The database did not admit the key that asked to read the trail (revoked or expired since the
   * request was authenticated, a key of another tenant, or one without the auditor role). Carries no data.
   */
  public static final class KeyNotAdmittedException extends RuntimeException {
    public KeyNotAdmittedException() {
      super("the database did not admit the request's key for reading the audit trail", null, false, false);
    }
  }

  private static String decrypt(TenantCipher cipher, TenantId tenant, String field, byte[] data) {
    return data == null ? null : cipher.decryptToString(data, Aad.audit(tenant, field));
  }

  private static byte[] concat(byte[] a, byte[] b) {
    byte[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }

  /** A database failure while auditing: the operation it audits must not return anything. */
  public static final class AuditUnavailableException extends DatabaseException {
    public AuditUnavailableException(Throwable cause) {
      super("the audit trail could not be written; the request returned nothing", cause);
    }
  }
}
