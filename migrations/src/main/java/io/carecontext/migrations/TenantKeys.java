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
 */
public final class TenantKeys {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TenantKeys.class);

  private final KeyEncryptionKeyProvider kek;
  private final List<KeyEncryptionKeyProvider> previous;
  private final DataSource app;
  private final SecureRandom random = new SecureRandom();
  /** How long a cached key is used before its stored row is read again (one small read a tenant). */
  public static final Duration REVALIDATE_AFTER = Duration.ofSeconds(5);

  /** A tenant's unwrapped key, its cipher, the stored bytes it came from, and when those were last read. */
  private record Loaded(TenantCipher cipher, DataKey key, byte[] wrapped, long checkedAt) {}

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
    if (cached != null) {
      if (System.nanoTime() - cached.checkedAt() >= revalidateNanos) {
        refreshLater(tenant);
      }
      return cached.cipher();
    }
    ReentrantLock lock = reloading.computeIfAbsent(tenant, t -> new ReentrantLock());
    lock.lock(); // nothing to use yet: the first load is waited for, once
    try {
      cached = loaded.get(tenant);
      return cached != null ? cached.cipher() : reload(tenant, null).cipher();
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

  /** The tenant's key as its row holds it now: {@code cached} when that is still the same key. */
  private Loaded reload(TenantId tenant, Loaded cached) {
    long now = System.nanoTime();
    Stored stored = stored(tenant);
    if (stored == null) {
      evict(tenant); // offboarded, here or by another process: its key is shredded here too
      throw new DataKeyUnavailableException(tenant);
    }
    if (cached != null && Arrays.equals(cached.wrapped(), stored.wrapped())) {
      Loaded checked = new Loaded(cached.cipher(), cached.key(), cached.wrapped(), now);
      loaded.put(tenant, checked);
      return checked;
    }
    DataKey key = DataKey.unwrap(opener(tenant, stored.kekId()), stored.wrapped());
    if (cached != null && cached.key().sameKeyAs(key)) {
      // rewrapped under another key-encryption key (a rotation): the same data key, so the cipher
      // in use stays, and nothing in flight fails
      key.destroy();
      Loaded checked = new Loaded(cached.cipher(), cached.key(), stored.wrapped(), now);
      loaded.put(tenant, checked);
      return checked;
    }
    Loaded next = new Loaded(new TenantCipher(key), key, stored.wrapped(), now);
    loaded.put(tenant, next);
    if (cached != null) {
      cached.key().destroy(); // another key under this id: the tenant was offboarded and made again
    }
    return next;
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
      gone.key().destroy();
    }
  }

  private record Stored(String kekId, byte[] wrapped) {}

  /** The tenant's newest stored data key, wrapped; null when it has none. */
  private Stored stored(TenantId tenant) {
    try (Connection c = app.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT kek_id, wrapped_key FROM platform.tenant_keys WHERE tenant_id = ? ORDER BY key_version DESC LIMIT 1")) {
      ps.setString(1, tenant.value());
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Stored(rs.getString(1), rs.getBytes(2)) : null;
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
