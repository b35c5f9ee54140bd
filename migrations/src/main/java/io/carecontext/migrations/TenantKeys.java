package io.carecontext.migrations;

import io.carecontext.migrations.crypto.DataKey;
import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.TenantCipher;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;

/**
 * Each tenant's AES-256 data key, stored wrapped by the key-encryption key in
 * {@code platform.tenant_keys}. Unwrapped keys are cached in memory; destroying a tenant's key
 * deletes the wrapped copy and evicts the cache, which makes every ciphertext of that tenant
 * unreadable (crypto-shredding).
 *
 * <p>During a rotation of the key-encryption key without downtime, the service also holds the
 * previous KEK: a data key is opened with whichever of the two its row's {@code kek_id} names, and
 * new data keys are wrapped only under the current one. {@link KekRotation} then rewraps the rest
 * while the service runs; the data keys themselves never change, so cached ones stay valid.
 *
 * <p>A cached key is checked against its stored row, in the background, at most every {@link #REVALIDATE_AFTER}: every
 * replica of the service (and every embedding worker) keeps its own cache, and only the one that
 * offboarded a tenant evicted its key. The others went on holding the shredded key for as long as they
 * ran, and when a tenant of the same id was created again they sealed its new data, audit bodies and
 * audit seals under the old key, which no other process could open, and could not open what the
 * others wrote. Now a key whose row is gone is forgotten, and one whose row holds another key is
 * replaced, within that interval; a row rewrapped under a new key-encryption key keeps its cipher.
 *
 * <p>A tenant's key is a ring of versions, one row each ({@link #rotate} adds one, {@link #retire} deletes one
 * nothing is sealed under): the newest seals new values, a value names the version it was sealed under, and a value
 * naming a version the cached ring lacks reads the rows at once (another process rotated).
 */
public final class TenantKeys {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TenantKeys.class);

  private final KeyEncryptionKeyProvider kek;
  private final List<KeyEncryptionKeyProvider> previous;
  private final DataSource app;
  private final SecureRandom random = new SecureRandom();
  /** How long a cached key is used before its stored row is read again (one small read a tenant). */
  public static final Duration REVALIDATE_AFTER = Duration.ofSeconds(5);
  /**
   * The oldest a cached key ring is used at all: past it, {@link #cipher} reads the rows first. So a value is sealed
   * under a version no longer active only within this long of a rotation, and {@link #retire} waits twice as long.
   * The {@link #SWEEP_EVERY sweep} keeps every ring far younger while the database answers, so that read on a
   * caller's thread is the exception (a ring the sweep could not read), not what an idle minute brings.
   */
  public static final Duration MAX_STALE = Duration.ofSeconds(60);

  /** A tenant's unwrapped key, its cipher, the stored bytes it came from, and when those were last read. */
  private record Loaded(TenantCipher cipher, java.util.SortedMap<Integer, DataKey> keys, List<Stored> wrapped,
                        long checkedAt) {
    void destroyKeys() {
      keys.values().forEach(DataKey::destroy);
    }
  }

  private final Map<TenantId, Loaded> loaded = new ConcurrentHashMap<>();
  /** One reload of a tenant's key at a time; other tenants' keys are not held up by it. */
  private final Map<TenantId, ReentrantLock> reloading = new ConcurrentHashMap<>();
  /** The tenants whose row the refresher is to read, or reads. */
  private final java.util.Set<TenantId> refreshing = ConcurrentHashMap.newKeySet();
  /** One daemon thread for every instance: a refresh is one small read. */
  private static final java.util.concurrent.ExecutorService REFRESHER =
      java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "tenant-key-refresh");
        t.setDaemon(true);
        return t;
      });
  private final long revalidateNanos;
  /**
   * How often every cached ring is read again whether it is used or not. {@link #cipher} reads only in the
   * background once it has a ring, so a ring no request used for a while was as old as that while: past
   * {@link #MAX_STALE} the next caller read the rows on its own thread, holding its request's connection (and the
   * audit chain's lock), which ran a small pool dry after an idle minute (the rotation's reviewer). Swept, a ring
   * is at most about this old while the database answers, and the read on a caller's thread is left to a ring the
   * sweep could not read (dropped: the first load's path) or one naming a version another process just made.
   */
  public static final Duration SWEEP_EVERY = Duration.ofSeconds(15);
  /** One daemon thread for every instance's sweep; an instance no longer referenced is swept no more. */
  private static final java.util.concurrent.ScheduledExecutorService SWEEPER =
      java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "tenant-key-sweep");
        t.setDaemon(true);
        return t;
      });

  public TenantKeys(KeyEncryptionKeyProvider kek, DataSource app) {
    this(kek, List.of(), app);
  }

  /**
   * With {@code previous}, the key-encryption keys data keys may still be wrapped under (a rotation
   * under way): they open those keys and wrap none.
   */
  public TenantKeys(KeyEncryptionKeyProvider kek, List<KeyEncryptionKeyProvider> previous, DataSource app) {
    this(kek, previous, app, REVALIDATE_AFTER);
  }

  /** For tests: a cached key checked against its row after {@code revalidateAfter} (zero: on every use). */
  TenantKeys(KeyEncryptionKeyProvider kek, List<KeyEncryptionKeyProvider> previous, DataSource app,
             Duration revalidateAfter) {
    this.kek = kek;
    this.previous = List.copyOf(previous);
    this.app = app;
    this.revalidateNanos = revalidateAfter.toNanos();
    sweepEvery(this);
  }

  /** Schedules {@link #sweep} of {@code keys} while anything references it. */
  private static void sweepEvery(TenantKeys keys) {
    java.lang.ref.WeakReference<TenantKeys> ref = new java.lang.ref.WeakReference<>(keys);
    java.util.concurrent.atomic.AtomicReference<java.util.concurrent.Future<?>> task =
        new java.util.concurrent.atomic.AtomicReference<>();
    task.set(SWEEPER.scheduleWithFixedDelay(() -> {
      TenantKeys live = ref.get();
      if (live == null) {
        task.get().cancel(false);
      } else {
        live.sweep();
      }
    }, SWEEP_EVERY.toMillis(), SWEEP_EVERY.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS));
  }

  /** Queues a read of every cached ring checked longer ago than the interval, used or not. */
  void sweep() {
    loaded.forEach((tenant, ring) -> {
      if (System.nanoTime() - ring.checkedAt() >= revalidateNanos) {
        refreshLater(tenant);
      }
    });
  }

  /** Creates the tenant's first data key, if it has none. Runs in the caller's (owner) connection. */
  public void create(Connection owner, TenantId tenant) throws SQLException {
    DataKey key = DataKey.generate(random);
    try (PreparedStatement ps = owner.prepareStatement(
        "INSERT INTO platform.tenant_keys (tenant_id, key_version, kek_id, wrapped_key) VALUES (?, 1, ?, ?) "
            + "ON CONFLICT DO NOTHING")) {
      ps.setString(1, tenant.value());
      ps.setString(2, kek.kekId());
      ps.setBytes(3, key.wrapWith(kek));
      ps.executeUpdate();
    } finally {
      key.destroy();
    }
  }

  /**
   * The tenant's cipher; fails when the tenant has no key (deleted, or key destroyed). A cached key older than
   * the interval is returned as it is, and its row read again in the background: a caller holds a connection
   * (its request's transaction, often with row locks), and reading the row on its thread needed a second one,
   * so with the pool's connections held by requests waiting on that caller's locks, the pool ran dry until its
   * timeout (503s under concurrent writes). Only the first load, with nothing to use yet, is read here.
   */
  public TenantCipher cipher(TenantId tenant) {
    Loaded cached = loaded.get(tenant);
    if (cached != null && System.nanoTime() - cached.checkedAt() < MAX_STALE.toNanos()) {
      if (System.nanoTime() - cached.checkedAt() >= revalidateNanos) {
        refreshLater(tenant);
      }
      return cached.cipher();
    }
    // none, or one unchecked for MAX_STALE (a process idle for the tenant since): read now, so a key ring older than
    // that never seals a value (a rotation's retired version could then not open it); a busy process's ring is
    // refreshed in the background long before, so this costs an idle one a read and no pool its connections
    ReentrantLock lock = reloading.computeIfAbsent(tenant, t -> new ReentrantLock());
    lock.lock(); // nothing to use yet: the first load is waited for, once
    try {
      cached = loaded.get(tenant);
      return cached != null && System.nanoTime() - cached.checkedAt() < MAX_STALE.toNanos() ? cached.cipher()
          : reload(tenant, cached).cipher();
    } finally {
      lock.unlock();
    }
  }

  /** Whether a read of the tenant's row is queued or under way (for tests). */
  boolean refreshPending(TenantId tenant) {
    return refreshing.contains(tenant);
  }

  /** Reads the tenant's row again on the refresher's thread, once at a time per tenant. */
  private void refreshLater(TenantId tenant) {
    if (!refreshing.add(tenant)) {
      return;
    }
    try {
      REFRESHER.execute(() -> {
        ReentrantLock lock = reloading.computeIfAbsent(tenant, t -> new ReentrantLock());
        lock.lock();
        try {
          Loaded cached = loaded.get(tenant);
          if (cached != null && System.nanoTime() - cached.checkedAt() >= revalidateNanos) {
            reload(tenant, cached);
          }
        } catch (DataKeyUnavailableException gone) {
          // offboarded: reload dropped and wiped the key; the next call is refused
        } catch (RuntimeException e) {
          // the row could not be read or its key not opened (a KEK this process lacks): the key is dropped, so
          // the next call loads it on its own and fails as a first load would (503 key_unavailable)
          evict(tenant);
          LOG.warn("the data key of tenant {} could not be checked against its row ({}); it is loaded again at "
              + "its next use", tenant, e.getClass().getSimpleName());
        } finally {
          lock.unlock();
          refreshing.remove(tenant);
        }
      });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      refreshing.remove(tenant);
    }
  }

  /**
   * The tenant's key ring as its rows hold it now: {@code cached} when those are still the same keys. A ring
   * rewrapped under another key-encryption key keeps its cipher; a ring with a version added (a data key rotation)
   * or retired gets a new cipher that reuses the keys it shares with the old one, so nothing in flight fails.
   */
  private Loaded reload(TenantId tenant, Loaded cached) {
    long now = System.nanoTime();
    List<Stored> stored = stored(tenant);
    if (stored.isEmpty()) {
      evict(tenant); // offboarded, here or by another process: its key is shredded here too
      throw new DataKeyUnavailableException(tenant);
    }
    if (cached != null && sameRows(cached.wrapped(), stored)) {
      Loaded checked = new Loaded(cached.cipher(), cached.keys(), stored, now);
      loaded.put(tenant, checked);
      return checked;
    }
    java.util.SortedMap<Integer, DataKey> keys = new java.util.TreeMap<>();
    boolean same = cached != null && cached.keys().keySet().equals(
        stored.stream().map(Stored::version).collect(java.util.stream.Collectors.toSet()));
    try {
      for (Stored row : stored) {
        DataKey key = DataKey.unwrap(opener(tenant, row.kekId()), row.wrapped());
        DataKey held = cached == null ? null : cached.keys().get(row.version());
        if (held != null && held.sameKeyAs(key)) {
          key.destroy(); // rewrapped, or the ring grew: the key in use stays
          keys.put(row.version(), held);
        } else {
          keys.put(row.version(), key);
          same = false;
        }
      }
    } catch (RuntimeException e) {
      keys.values().stream().filter(k -> cached == null || !cached.keys().containsValue(k)).forEach(DataKey::destroy);
      throw e;
    }
    if (!keys.containsKey(1)) {
      keys.values().stream().filter(k -> cached == null || !cached.keys().containsValue(k)).forEach(DataKey::destroy);
      throw new IllegalStateException("the data key ring of tenant '" + tenant + "' lacks version 1, under which its "
          + "keyed hashes are: restore platform.tenant_keys from a backup");
    }
    TenantCipher cipher = same ? cached.cipher() : new TenantCipher(keys, keys.lastKey(), v -> withVersion(tenant, v));
    Loaded next = new Loaded(cipher, keys, stored, now);
    loaded.put(tenant, next);
    if (cached != null) {
      // keys no longer in the ring: retired, or the tenant was offboarded and made again under this id
      cached.keys().values().stream().filter(k -> !keys.containsValue(k)).forEach(DataKey::destroy);
    }
    return next;
  }

  private static boolean sameRows(List<Stored> a, List<Stored> b) {
    if (a.size() != b.size()) {
      return false;
    }
    for (int i = 0; i < a.size(); i++) {
      if (a.get(i).version() != b.get(i).version() || !Arrays.equals(a.get(i).wrapped(), b.get(i).wrapped())) {
        return false;
      }
    }
    return true;
  }

  /**
   * A value names a key version this process's ring lacks: another process rotated the tenant's data key since the
   * ring was read (and its re-encryption, or a process already on the new ring, wrote the value). The rows are read
   * now, on the caller's thread: this happens once a rotation, for the seconds until the background check would.
   */
  private TenantCipher withVersion(TenantId tenant, int version) {
    ReentrantLock lock = reloading.computeIfAbsent(tenant, t -> new ReentrantLock());
    lock.lock();
    try {
      Loaded cached = loaded.get(tenant);
      if (cached == null || !cached.keys().containsKey(version)) {
        cached = reload(tenant, cached);
      }
      if (!cached.keys().containsKey(version)) {
        throw new io.carecontext.migrations.crypto.DecryptionException("the value is sealed under data key version "
            + version + ", which tenant '" + tenant + "' no longer holds (retired)");
      }
      return cached.cipher();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Adds a new data key version to the tenant's ring, in the caller's owner transaction, and returns it; the new
   * version seals every value written from then on (by each process within {@link #REVALIDATE_AFTER} of the commit).
   * Its row owes a data-key-rotate audit row until {@link #rotationAudited} clears it (platform migration 17).
   */
  public int rotate(Connection owner, TenantId tenant) throws SQLException {
    int next;
    try (PreparedStatement ps = owner.prepareStatement(
        // locks the tenant's rows: two rotations at once make two versions, one after the other
        "SELECT key_version FROM platform.tenant_keys WHERE tenant_id = ? ORDER BY key_version DESC FOR UPDATE")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          throw new DataKeyUnavailableException(tenant);
        }
        next = rs.getInt(1) + 1;
      }
    }
    DataKey key = DataKey.generate(random);
    try (PreparedStatement ps = owner.prepareStatement(
        "INSERT INTO platform.tenant_keys (tenant_id, key_version, kek_id, wrapped_key, rotation_unaudited) "
            + "VALUES (?, ?, ?, ?, true)")) {
      ps.setString(1, tenant.value());
      ps.setInt(2, next);
      ps.setString(3, kek.kekId());
      ps.setBytes(4, key.wrapWith(kek));
      ps.executeUpdate();
    } finally {
      key.destroy();
    }
    return next;
  }

  /** The versions of the tenant's data key whose rotation's audit row is not yet written, oldest first. */
  public static List<Integer> rotationsUnaudited(DataSource owner, TenantId tenant) {
    List<Integer> owed = new java.util.ArrayList<>();
    try (Connection c = owner.getConnection(); PreparedStatement ps = c.prepareStatement(
        "SELECT key_version FROM platform.tenant_keys WHERE tenant_id = ? AND rotation_unaudited ORDER BY key_version")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          owed.add(rs.getInt(1));
        }
      }
    } catch (SQLException e) {
      throw new DatabaseException("the data key rotations owing audit rows could not be read (" + e.getSQLState() + ")", e);
    }
    return owed;
  }

  /** Clears the audit row a rotation to {@code version} owed, once it is written. */
  public static void rotationAudited(DataSource owner, TenantId tenant, int version) {
    try (Connection c = owner.getConnection(); PreparedStatement ps = c.prepareStatement(
        "UPDATE platform.tenant_keys SET rotation_unaudited = false WHERE tenant_id = ? AND key_version = ?")) {
      ps.setString(1, tenant.value());
      ps.setInt(2, version);
      ps.executeUpdate();
    } catch (SQLException e) {
      throw new DatabaseException("a data key rotation's audit row was written, but its debt could not be cleared ("
          + e.getSQLState() + "); the next run writes the row again", e);
    }
  }

  /**
   * Deletes a data key version nothing is sealed under any more (the caller has checked every table), in the caller's
   * owner transaction. Version 1 (the keyed hashes' key) and the active version are refused.
   */
  public void retire(Connection owner, TenantId tenant, int version) throws SQLException {
    if (version == 1) {
      throw new IllegalArgumentException("data key version 1 is kept for good: the content hashes, identifier lookups "
          + "and audit seals are under it");
    }
    try (PreparedStatement ps = owner.prepareStatement(
        // only once its successor has been active for twice MAX_STALE: no process seals under it any more
        "DELETE FROM platform.tenant_keys k WHERE tenant_id = ? AND key_version = ? AND EXISTS (SELECT 1 FROM "
            + "platform.tenant_keys n WHERE n.tenant_id = k.tenant_id AND n.key_version > k.key_version "
            + "AND n.created_at < now() - make_interval(secs => ?))")) {
      ps.setString(1, tenant.value());
      ps.setInt(2, version);
      ps.setLong(3, MAX_STALE.multipliedBy(2).toSeconds());
      if (ps.executeUpdate() == 0) {
        throw new IllegalArgumentException("tenant '" + tenant + "' holds no retirable data key version " + version
            + " (the active version is kept, and one replaced less than " + MAX_STALE.multipliedBy(2).toSeconds()
            + " s ago, which a process may still seal under)");
      }
    }
  }

  /** Deletes the wrapped key (in the caller's owner transaction) and forgets the unwrapped one. */
  public void destroy(Connection owner, TenantId tenant) throws SQLException {
    try (PreparedStatement ps = owner.prepareStatement("DELETE FROM platform.tenant_keys WHERE tenant_id = ?")) {
      ps.setString(1, tenant.value());
      ps.executeUpdate();
    }
    evict(tenant);
  }

  /** Forgets the cached key (another instance may have destroyed it). */
  public void evict(TenantId tenant) {
    Loaded gone = loaded.remove(tenant);
    if (gone != null) {
      gone.destroyKeys();
    }
  }

  private record Stored(int version, String kekId, byte[] wrapped) {}

  /** The tenant's stored data key versions, wrapped, oldest first; empty when it has none. */
  private List<Stored> stored(TenantId tenant) {
    try (Connection c = app.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT key_version, kek_id, wrapped_key FROM platform.tenant_keys WHERE tenant_id = ? ORDER BY key_version")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        List<Stored> rows = new java.util.ArrayList<>();
        while (rs.next()) {
          rows.add(new Stored(rs.getInt(1), rs.getString(2), rs.getBytes(3)));
        }
        return rows;
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not load the data key of tenant '" + tenant + "'", e);
    }
  }

  /**
   * How many stored data keys each key-encryption key wraps, by KEK id, and whether this process holds
   * it (the current or a previous KEK): a start-time check, so that a KEK left out of the settings is
   * named once, not found as each of its tenants' requests fails. Reads no KEK when no tenant has a key.
   */
  public Map<String, Integer> dataKeysByKek() {
    return dataKeysByKek(app);
  }

  /** As {@link #dataKeysByKek()}, read through {@code db} (a rotation's check that a key it made wraps none). */
  public static Map<String, Integer> dataKeysByKek(DataSource db) {
    Map<String, Integer> counts = new java.util.TreeMap<>();
    try (Connection c = db.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT kek_id, count(*) FROM platform.tenant_keys GROUP BY kek_id");
        ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        counts.put(rs.getString(1), rs.getInt(2));
      }
    } catch (SQLException e) {
      throw new DatabaseException("could not count the tenants' data keys by key-encryption key", e);
    }
    return counts;
  }

  /** Whether this process can open a data key wrapped under {@code kekId}. */
  public boolean holds(String kekId) {
    return kek.kekId().equals(kekId) || previous.stream().anyMatch(p -> p.kekId().equals(kekId));
  }

  /** The id of the key-encryption key new data keys are wrapped under. */
  public String currentKekId() {
    return kek.kekId();
  }

  /** The key-encryption key a data key was wrapped under, by its id; refused when this process holds none such. */
  private KeyEncryptionKeyProvider opener(TenantId tenant, String kekId) {
    if (kek.kekId().equals(kekId)) {
      return kek;
    }
    for (KeyEncryptionKeyProvider p : previous) {
      if (p.kekId().equals(kekId)) {
        return p;
      }
    }
    throw new KekNotHeldException(tenant, kekId, kek.kekId());
  }

  /** The tenant has no data key: its data cannot be read or written. */
  public static final class DataKeyUnavailableException extends RuntimeException {
    public DataKeyUnavailableException(TenantId tenant) {
      super("tenant '" + tenant + "' has no data key (deleted or destroyed): its data cannot be decrypted");
    }
  }

  /**
   * The tenant's data key is wrapped under a key-encryption key this process does not hold: a
   * restore with another key, a rotation's previous key not configured, or a process still on the old
   * key while a new tenant's key was made under the new one. Not the tenant's fault, and it passes
   * once the process runs with the key (the start-time check names it).
   */
  public static final class KekNotHeldException extends RuntimeException {
    public KekNotHeldException(TenantId tenant, String wrappedUnder, String current) {
      super("the data key of tenant '" + tenant + "' is wrapped under kek " + wrappedUnder + ", which this process "
          + "does not hold (CARECONTEXT_KEK_FILE is kek " + current + "; CARECONTEXT_KEK_PREVIOUS_FILE, if set, "
          + "is another): give it the key the data key was made under");
    }
  }
}
