package io.carecontext.retrieval.audit;

import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.TenantTransactions;
import java.lang.reflect.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import java.util.function.IntSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Group commit for the audit trail: the rows of a tenant's requests that are waiting at the same
 * moment are appended in one transaction, one statement and one WAL flush, instead of one write
 * transaction per request. Each tenant has its own queue and writer (a lane), so tenants never wait
 * for each other and a write transaction never spans two tenants.
 *
 * <p><b>Flat combining.</b> A caller queues its row and takes its tenant's writer lock. Whoever
 * holds the lock writes every queued row (its own and those of the callers queued behind it) and
 * completes them, so a caller whose row an earlier holder wrote returns as soon as it gets the
 * lock. No thread hand-off, no writer thread. A caller returns only once its row is committed, so
 * no result leaves before its audit row is durable; if the row cannot be written, the caller gets
 * {@link AuditLog.AuditUnavailableException} (fail closed). A caller that waits longer than
 * {@link #PATIENCE_NANOS} for a stalled writer takes its row back (if no batch has taken it yet)
 * and writes it on its own.
 *
 * <p><b>Chaining.</b> The writer keeps the head of the one shard its lane appends to, computes the
 * rows' hashes itself ({@link AuditPayload#rowHash}, the verifier's own function) and moves the head
 * with a compare-and-set in the statement that inserts the rows: the rows are inserted only for a
 * head row the update matched. If another transaction holds that head (another process's lane, or
 * the row-at-a-time path, each a single short statement), the update waits for it to end, as any
 * update of a locked row does. If anyone moved the head, the update matches nothing, no row is
 * inserted and nothing of the batch is committed. The writer then forgets the head and writes each
 * row of the batch on the row-at-a-time path, which locks the current head of a free shard, so one
 * bad row fails only its own request.
 *
 * <p>Measured (docs/benchmarks.md): one writer for all tenants, sending every tenant's rows in one
 * round trip, made bigger batches and about the same throughput (within this machine's noise), but
 * it released the requests of every tenant at the same moment, which raised the new-question HTTP
 * p99 by 6–11 ms. Two writers for all tenants made smaller batches and less throughput.
 */
final class AuditGroupCommit {

  /** Rows per transaction at most; more waiting rows go in the next one. */
  static final int MAX_BATCH = 64;

  /** How long a row waits for the writer before it is written on its own (a batch takes 1–2 ms under load). */
  static final long PATIENCE_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  /** The columns a batch binds, one array each: the row's own, then its place in the chain. */
  private static final List<AuditRow.Column> COLUMNS = Stream.concat(AuditRow.COLUMNS.stream(),
      Stream.of(new AuditRow.Column("seq", "bigint"), new AuditRow.Column("prev_hash", "bytea"),
          new AuditRow.Column("row_hash", "bytea"))).toList();

  // The head moves by a plain compare-and-set update, and the insert takes its shard from the row
  // that update returned. (It used to lock the head first with FOR UPDATE SKIP LOCKED, so as not to
  // wait for a held head, and to count the inserted rows with an aggregate: a lock record in the
  // WAL and more plan to start on every batch, to avoid a wait one short statement long; see
  // docs/benchmarks.md.) The same text whatever the number of rows (arrays, not a VALUES list), so
  // each connection prepares it once per tenant. Array columns (roles, chunk ids) travel as array
  // literals in a text array, since an array of arrays must be rectangular. Sent with the tenant's
  // settings in one round trip, as one implicit transaction that PostgreSQL commits at the round
  // trip's end.
  private static final String MOVE_HEAD = """
      WITH h AS (
        UPDATE {schema}.audit_heads SET seq = ?, head = ?
        WHERE shard = ? AND seq = ? AND head = ?
        RETURNING shard)
      """;
  private static final String APPEND_ROWS = MOVE_HEAD + """
      , ins AS (
        INSERT INTO {schema}.audit_log (shard, %s)
        SELECT h.shard, %s
        FROM h, unnest(%s) AS r(%s))
      SELECT 1 FROM h""".formatted(
      join(c -> c.name()),
      join(c -> isArray(c) ? "r." + c.name() + "::" + c.type() : "r." + c.name()),
      join(c -> isArray(c) ? "?::text[]" : "?::" + c.type() + "[]"),
      join(c -> c.name()));
  // A batch of one row (most batches: 1.5 rows on average under load) binds its values as they are,
  // without a one-element array per column for unnest to take apart.
  private static final String APPEND_ROW = MOVE_HEAD + """
      , ins AS (
        INSERT INTO {schema}.audit_log (shard, %s)
        SELECT h.shard, %s FROM h)
      SELECT 1 FROM h""".formatted(join(c -> c.name()), join(c -> "?::" + c.type()));
  private static final List<Class<?>> ELEMENT_CLASSES = COLUMNS.stream().<Class<?>>map(AuditGroupCommit::elementClass)
      .toList();
  private static final String READ_HEAD = "SELECT seq, head FROM {schema}.audit_heads WHERE shard = ?";

  private record Head(int shard, long seq, byte[] hash) {}

  /** Writes one row in a transaction of its own, on a free chain head other than {@code avoidShard} if one is free (-1: any). */
  @FunctionalInterface
  interface RowAtATime {
    UUID write(TenantId tenant, AuditRow row, int avoidShard);
  }

  private static final class Pending {
    final AuditRow row;
    volatile boolean done;
    RuntimeException failure;

    Pending(AuditRow row) {
      this.row = row;
    }
  }

  /** One tenant's queue and writer, and the head of the shard its batches extend. */
  private static final class Lane {
    final ConcurrentLinkedQueue<Pending> queue = new ConcurrentLinkedQueue<>();
    final ReentrantLock writer = new ReentrantLock();
    Head head; // guarded by writer; null until read, and after a failed batch
    // The shard this lane extends, chosen before any row is queued, so that a row written on its
    // own while the writer is still reading the head already keeps off it.
    volatile int shard;

    Lane(int shard) {
      this.shard = shard;
    }
  }

  private final Map<TenantId, Lane> lanes = new ConcurrentHashMap<>();
  private final TenantTransactions tx;
  private final PolicySettings settings;
  private final RowAtATime rowAtATime;
  private final IntSupplier shardPicker;
  private final LongAdder rows = new LongAdder();
  private final LongAdder commits = new LongAdder();
  private final LongAdder fallbacks = new LongAdder();
  private final LongAdder writeNanos = new LongAdder();
  private final LongAdder alone = new LongAdder();

  /**
   * @param settings the policy settings of an audit write transaction
   * @param rowAtATime writes one row in a transaction of its own, on a free head other than the lane's if it can
   * @param shardPicker the shard a tenant's lane extends: asked when the lane is made and after a failed batch
   */
  AuditGroupCommit(TenantTransactions tx, PolicySettings settings, RowAtATime rowAtATime, IntSupplier shardPicker) {
    this.tx = tx;
    this.settings = settings;
    this.rowAtATime = rowAtATime;
    this.shardPicker = shardPicker;
  }

  /** Appends the row and returns once it is committed; throws if it could not be written. */
  UUID append(TenantId tenant, AuditRow row) {
    Lane lane = lanes.computeIfAbsent(tenant, t -> new Lane(shardPicker.getAsInt()));
    Pending mine = new Pending(row);
    lane.queue.add(mine);
    if (!lockWithin(lane, PATIENCE_NANOS)) {
      // The writer is stalled (its backend starved of CPU, a lock, say). A row no batch has taken
      // yet leaves the queue and is written on its own, instead of waiting in a convoy.
      if (lane.queue.remove(mine)) {
        try {
          rowAtATime.write(tenant, row, lane.shard);
        } catch (RuntimeException e) {
          throw new AuditLog.AuditUnavailableException(e);
        }
        rows.increment();
        commits.increment();
        alone.increment();
        return row.id();
      }
      lane.writer.lock(); // in a batch in flight: its writer completes it
    }
    try {
      while (!mine.done) {
        writeQueued(tenant, lane);
      }
    } finally {
      lane.writer.unlock();
    }
    if (mine.failure != null) {
      throw mine.failure;
    }
    return row.id();
  }

  private static boolean lockWithin(Lane lane, long nanos) {
    try {
      return lane.writer.tryLock(nanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /**
   * Drops the tenant's lane (its queue, lock and the chain head it knew), once the tenant is
   * deleted. A request still holding the lane finishes with it; a tenant of the same id made later
   * starts a new lane that reads its own head.
   */
  void forget(TenantId tenant) {
    lanes.remove(tenant);
  }

  /** Counters since start (see {@link AuditLog.GroupCommitStats}). */
  AuditLog.GroupCommitStats stats() {
    return new AuditLog.GroupCommitStats(rows.sum(), commits.sum(), fallbacks.sum(), alone.sum(), writeNanos.sum());
  }

  private void writeQueued(TenantId tenant, Lane lane) {
    List<Pending> batch = new ArrayList<>();
    for (Pending p; batch.size() < MAX_BATCH && (p = lane.queue.poll()) != null; ) {
      batch.add(p);
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      if (lane.head == null) {
        lane.head = readHead(tenant, lane.shard);
      }
      long start = System.nanoTime();
      lane.head = write(tenant, lane.head, batch);
      writeNanos.add(System.nanoTime() - start);
      rows.add(batch.size());
      commits.increment();
      batch.forEach(p -> p.done = true);
    } catch (RuntimeException batchFailed) {
      lane.head = null;
      lane.shard = shardPicker.getAsInt(); // read afresh, perhaps elsewhere, by the next batch
      for (Pending p : batch) {
        try {
          rowAtATime.write(tenant, p.row, -1);
          rows.increment();
          commits.increment();
          fallbacks.increment();
        } catch (RuntimeException e) {
          p.failure = new AuditLog.AuditUnavailableException(e);
        }
        p.done = true;
      }
    }
  }

  /** Inserts the rows chained onto the head, moves the head and commits, in one round trip; returns the new head. */
  private Head write(TenantId tenant, Head head, List<Pending> batch) {
    List<Object> parameters = new ArrayList<>();
    Head next = chain(head, batch, parameters);
    return tx.runOnce(tenant, settings, TenantSql.of(tenant, batch.size() == 1 ? APPEND_ROW : APPEND_ROWS), parameters,
        (c, written) -> {
          // one row when the head moved: the insert of the same statement then wrote the whole batch
          // (returning the new rows instead would need a read of them, which tenant migration 34 binds
          // to an auditor's key)
          if (!written.next() || written.next()) {
            throw new SQLException("audit batch not written");
          }
          return next;
        });
  }

  /** Chains the rows onto the head and adds the statement's parameters; returns the new head. */
  private static Head chain(Head head, List<Pending> group, List<Object> parameters) {
    int n = group.size();
    int own = AuditRow.COLUMNS.size();
    byte[][] links = new byte[n + 1][];
    links[0] = head.hash();
    for (int i = 0; i < n; i++) {
      links[i + 1] = AuditPayload.rowHash(links[i], head.seq() + i + 1, group.get(i).row.payload());
    }
    Head next = new Head(head.shard(), head.seq() + n, links[n]);
    parameters.addAll(List.of(next.seq(), next.hash(), head.shard(), head.seq(), head.hash()));
    if (n == 1) { // APPEND_ROW: the values as they are
      Object[] values = group.get(0).row.values();
      for (int j = 0; j < own; j++) {
        parameters.add(bindable(COLUMNS.get(j), values[j]));
      }
      parameters.addAll(List.of(head.seq() + 1, links[0], links[1]));
      return next;
    }
    Object[][] columns = new Object[COLUMNS.size()][];
    for (int j = 0; j < columns.length; j++) {
      columns[j] = (Object[]) Array.newInstance(ELEMENT_CLASSES.get(j), n);
    }
    for (int i = 0; i < n; i++) {
      Object[] values = group.get(i).row.values();
      for (int j = 0; j < own; j++) {
        columns[j][i] = bindable(COLUMNS.get(j), values[j]);
      }
      columns[own][i] = head.seq() + i + 1;
      columns[own + 1][i] = links[i];
      columns[own + 2][i] = links[i + 1];
    }
    parameters.addAll(List.of(columns));
    return next;
  }

  private static boolean isArray(AuditRow.Column c) {
    return c.type().endsWith("[]");
  }

  private static String join(Function<AuditRow.Column, String> part) {
    return COLUMNS.stream().map(part).collect(Collectors.joining(", "));
  }

  /** The Java element type of a column's parameter array, as pgjdbc maps it to a PostgreSQL array. */
  private static Class<?> elementClass(AuditRow.Column c) {
    return switch (c.type()) {
      case "boolean" -> Boolean.class;
      case "int" -> Integer.class;
      case "bigint" -> Long.class;
      case "bytea" -> byte[].class;
      default -> String.class; // text, and uuid, timestamptz and arrays as their text forms
    };
  }

  private static Object bindable(AuditRow.Column c, Object value) {
    if (value == null || value instanceof Boolean || value instanceof Number || value instanceof byte[]) {
      return value;
    }
    return value instanceof Object[] array ? arrayLiteral(array) : value.toString();
  }

  private Head readHead(TenantId tenant, int shard) {
    return tx.run(tenant, settings, c -> {
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, READ_HEAD))) {
        ps.setInt(1, shard);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("audit chain head missing");
          }
          return new Head(shard, rs.getLong(1), rs.getBytes(2));
        }
      }
    });
  }

  /** A PostgreSQL array literal, each element quoted and escaped. */
  static String arrayLiteral(Object[] values) {
    StringBuilder b = new StringBuilder("{");
    for (int i = 0; i < values.length; i++) {
      if (i > 0) {
        b.append(',');
      }
      if (values[i] == null) {
        b.append("NULL");
        continue;
      }
      b.append('"');
      for (char ch : values[i].toString().toCharArray()) {
        if (ch == '"' || ch == '\\') {
          b.append('\\');
        }
        b.append(ch);
      }
      b.append('"');
    }
    return b.append('}').toString();
  }
}
