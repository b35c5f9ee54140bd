package io.carecontext.services;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.migrations.KekRotation;
import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.KeyEncryptionKeyProvider;
import io.carecontext.migrations.crypto.LocalFileKeyProvider;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./carecontext kek rotate}: every tenant's data key wrapped again under a new key-encryption
 * key ({@link KekRotation}), on the embedded default or CARECONTEXT_DB_URL's database, as its owner,
 * and a {@code kek-rotate} row in the trail of each tenant whose key it rewrapped.
 */
public final class KeyEncryptionKeyRotation {

  private static final Logger LOG = LoggerFactory.getLogger(KeyEncryptionKeyRotation.class);

  private KeyEncryptionKeyRotation() {}

  /**
   * Rewraps from one key-encryption key to another, in one of two ways:
   * <ul>
   *   <li>{@code newKekFile} given (serve and worker stopped): from CARECONTEXT_KEK_FILE to the key in
   *       {@code newKekFile}, made there (mode 600) when it does not exist. On the embedded default,
   *       {@code otherSessions} receives how many connections the application role holds on it (a serve
   *       or worker still running, on the old key); 0 when none does.</li>
   *   <li>none given, with CARECONTEXT_KEK_PREVIOUS_FILE set (serve and worker running on both keys):
   *       from the previous key to CARECONTEXT_KEK_FILE. The running services open a data key with the
   *       key its row names, before and after this commits, so nothing stops.</li>
   * </ul>
   */
  public static KekRotation.Result run(RuntimeSettings settings, Optional<Path> newKekFile,
                                       Consumer<Long> otherSessions) {
    Path current = settings.kekFile().toAbsolutePath();
    KeyEncryptionKeyProvider from;
    KeyEncryptionKeyProvider to;
    Path made = null; // the --to file, when this run makes the key there
    if (newKekFile.isPresent()) {
      if (settings.previousKekFile().isPresent()) {
        throw new IllegalArgumentException("--to and CARECONTEXT_KEK_PREVIOUS_FILE both name a rotation: with serve "
            + "and worker running on both keys (" + settings.currentKekSetting() + " the new one, "
            + "CARECONTEXT_KEK_PREVIOUS_FILE the old one) run `kek rotate` without --to; with them stopped, unset "
            + "CARECONTEXT_KEK_PREVIOUS_FILE; nothing was changed");
      }
      if (settings.kekToken().isPresent()) {
        // out of the token into a file would put the key where the token was meant to keep it from
        throw new IllegalArgumentException("--to rotates from one key file to another; the current key is "
            + settings.currentKekSetting() + ", and data keys are not moved out of a token into a file; nothing was "
            + "changed");
      }
      Path target = newKekFile.get().toAbsolutePath();
      Path folder = target.getParent();
      if (folder != null && !Files.isDirectory(folder)) {
        // The folders were made (mode 700) without a word: a mistyped path put the only key that opens
        // the data keys after the rotation where nobody would look for it. The key file itself is made
        // here, as the help says; the folder, a place the operator names by hand (a secret mount, say),
        // is the operator's to make, with its mode. (The default key's folder, the home, is made at the
        // first start, before there is any key to lose.)
        throw new IllegalArgumentException("the folder of --to, " + folder + ", does not exist: check the path, or "
            + "create it readable by this user only (mkdir -m 700 " + folder + ") and run this again; nothing was "
            + "changed");
      }
      requireKeyFile(current, "CARECONTEXT_KEK_FILE, default $CARECONTEXT_HOME/kek.key",
          "point CARECONTEXT_KEK_FILE at the key the data keys were made under");
      if (target.equals(current)) {
        throw new IllegalArgumentException("--to names the current key-encryption key file: give a new file (it is "
            + "made if it does not exist); nothing was changed");
      }
      from = new LocalFileKeyProvider(current);
      made = java.nio.file.Files.exists(target) ? null : target;
      to = new LocalFileKeyProvider(target);
    } else if (settings.previousKekFile().isEmpty() && settings.kekToken().flatMap(KekToken::previousKeyLabel).isPresent()) {
      // from one key of the token to another: both in the token; the previous one must exist, the new one
      // the running services have made already (or this run makes it)
      from = settings.previousKek().orElseThrow();
      to = settings.currentKek();
    } else {
      Path previous = settings.previousKekFile().map(Path::toAbsolutePath).orElseThrow(() -> new IllegalArgumentException(
          "give the new key's file: `kek rotate --to NEW_FILE`, with serve and worker stopped; or, to rotate while "
              + "they run, restart them with CARECONTEXT_KEK_FILE=NEW_FILE (or CARECONTEXT_KEK_PKCS11_* for a key in "
              + "a token) and CARECONTEXT_KEK_PREVIOUS_FILE=the old key (or, within a token, "
              + "CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL=the old key's label), then run `kek rotate` with the same "
              + "settings; nothing was changed"));
      requireKeyFile(previous, "CARECONTEXT_KEK_PREVIOUS_FILE", "point it at the key the data keys were made under");
      if (settings.kekToken().isEmpty()) {
        // the services already run with the new key: one made here would be a third key
        requireKeyFile(current, "CARECONTEXT_KEK_FILE", "point it at the new key the services run with");
        if (previous.equals(current)) {
          throw new IllegalArgumentException("CARECONTEXT_KEK_PREVIOUS_FILE names the same file as CARECONTEXT_KEK_FILE: "
              + "give the old key's file; nothing was changed");
        }
      }
      from = new LocalFileKeyProvider(previous);
      to = settings.currentKek();
    }
    OwnerDatabase owner = OwnerDatabase.open(settings);
    EmbeddedPostgres embedded = owner.embedded();
    DatabaseConfig config = owner.config();
    if (embedded != null) {
      if (newKekFile.isPresent()) {
        // Before this process opens pools of its own. A cluster already running said nothing by itself
        // (a `db start`, or a serve that found it running and has stopped since): the warning used to
        // follow the cluster, and asked for a rerun that warned again.
        otherSessions.accept(embedded.startedHere() ? 0L : applicationSessions(config));
      }
    }
    try (PlatformDatabase db = PlatformDatabase.bootstrap(config)) {
      if (settings.kekToken().isPresent()) {
        KekToken.makeOnce(db.ownerDataSource(), to); // the running services have made it, or this makes it, once
      }
      KekRotation.Result result;
      try {
        result = KekRotation.rewrap(db.ownerDataSource(), from, to);
      } catch (RuntimeException e) {
        removeUnused(db, to, made);
        throw e;
      }
      LOG.info("key-encryption key rotated from kek {} to kek {}: {} data key(s) rewrapped, {} already under it",
          result.fromKekId(), result.toKekId(), result.rewrapped(), result.alreadyUnderNew());
      record(db, from, to);
      return result;
    } finally {
      if (embedded != null) {
        embedded.close(); // stops it only if it was started here
      }
    }
  }

  /**
   * The database a key command works on as its owner: CARECONTEXT_DB_URL's, or the embedded default's, started if it
   * is not running ({@code embedded} then is that cluster, to close when done: it stops only if started here).
   */
  record OwnerDatabase(@io.micronaut.core.annotation.Nullable EmbeddedPostgres embedded, DatabaseConfig config) {
    static OwnerDatabase open(RuntimeSettings settings) {
      if (settings.dbUrl().isPresent()) {
        return new OwnerDatabase(null, CareContextServer.databaseConfig(settings));
      }
      EmbeddedPostgres embedded = EmbeddedPostgres.at(settings.home().resolve("postgres")).start();
      return new OwnerDatabase(embedded, CareContextServer.embeddedConfig(embedded, settings));
    }
  }

  /**
   * The key a refused {@code --to} run made, removed: it said "nothing was changed" and left a new key
   * behind that wraps nothing, for the operator to take for the one to run with. Removed only when the
   * database says no data key is under it (a commit whose answer was lost may have stored some); when
   * that cannot be read, it stays.
   */
  private static void removeUnused(PlatformDatabase db, KeyEncryptionKeyProvider to, Path made) {
    if (made == null || !java.nio.file.Files.exists(made)) {
      return;
    }
    try {
      if (TenantKeys.dataKeysByKek(db.ownerDataSource()).getOrDefault(to.kekId(), 0) == 0) {
        java.nio.file.Files.delete(made);
      }
    } catch (java.io.IOException | RuntimeException e) {
      LOG.warn("the key made in {} for this rotation could not be checked or removed ({}); it wraps no data key unless "
          + "platform.tenant_keys names kek {}", made, e.getClass().getSimpleName(), to.kekId());
    }
  }

  /**
   * Connections the application role holds on the database now, i.e. serve and worker processes
   * (they connect as that role; this command has not yet); 0 when it cannot tell, with a warning.
   * The owner sees other roles' sessions in pg_stat_activity, if not what they run.
   */
  static long applicationSessions(DatabaseConfig config) {
    java.util.Properties login = new java.util.Properties();
    login.setProperty("user", config.ownerUser());
    login.setProperty("password", config.ownerPassword());
    login.setProperty("connectTimeout", String.valueOf(config.connectTimeoutSeconds()));
    login.setProperty("loginTimeout", String.valueOf(config.connectTimeoutSeconds()));
    login.setProperty("logServerErrorDetail", "false");
    try (java.sql.Connection c = java.sql.DriverManager.getConnection(config.jdbcUrl(), login);
         java.sql.PreparedStatement ps = c.prepareStatement(
             "SELECT count(*) FROM pg_stat_activity WHERE usename = ? AND datname = current_database()")) {
      ps.setString(1, config.appUser());
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    } catch (java.sql.SQLException e) {
      LOG.warn("could not tell whether a serve or worker is connected ({}): make sure they are stopped",
          e.getClass().getSimpleName());
      return 0;
    }
  }

  /** A key file that must exist: LocalFileKeyProvider would make one, and nothing stored could be opened with it. */
  static void requireKeyFile(Path file, String setting, String fix) {
    if (!Files.isRegularFile(file)) {
      throw new IllegalArgumentException("there is no key-encryption key at " + file + " (" + setting + "): " + fix
          + "; nothing was changed");
    }
  }

  /**
   * One row in the trail of each tenant whose data key was rewrapped, so its auditor sees when, and
   * from which KEK to which (their ids, never key bytes). Written after the rotation's commit, which
   * records the rows it owes (platform migration 12); each is cleared once its row is written. So this
   * also writes the rows an earlier run owed, stopped after its commit: a row that cannot be written is
   * logged and stays owed, for the next `kek rotate` (which may be run again for that alone).
   */
  private static void record(PlatformDatabase db, KeyEncryptionKeyProvider from, KeyEncryptionKeyProvider to) {
    try {
      recordOwed(db, new AuditLog(new TenantTransactions(db.appDataSource(), db.config()),
          new TenantKeys(to, List.of(from), db.appDataSource())));
    } catch (RuntimeException e) {
      // the rewrap has committed: the command must still say so and what to do next; the rows stay owed
      LOG.warn("the data keys are rotated, but the kek-rotate audit rows could not be written ({}); they stay owed, "
          + "and the next start of serve or worker writes them", e.getClass().getSimpleName());
    }
  }

  /** The advisory lock under which one process at a time writes the owed rows (serve and worker start together). */
  static final long OWED_ROWS_LOCK = 0x63634b454b524f57L; // "ccKEKROW"

  /**
   * Writes the kek-rotate rows the rotations owe (see {@link #record}); also run by serve and worker at
   * start, so that a rotation stopped after its commit, whose operator has already moved on to the new
   * key, still gets its rows. Returns how many were written.
   */
  public static int recordOwed(PlatformDatabase db, AuditLog audit) {
    // Held for the whole run, and the owed rows read only once it is held: serve and worker start
    // together, and both wrote every owed row (a review found it).
    return InstallationLock.holding(db.ownerDataSource(), OWED_ROWS_LOCK, "writing the owed kek-rotate audit rows",
        () -> recordOwedUnderLock(db, audit));
  }

  private static int recordOwedUnderLock(PlatformDatabase db, AuditLog audit) {
    int written = 0;
    for (KekRotation.Unaudited owed : KekRotation.unaudited(db.ownerDataSource())) {
      try {
        audit.record(owed.tenant(), AuditEntry.of("platform-admin", AuditEntry.KEK_ROTATE, List.of(), null, null,
                AuditEntry.KEK_ROTATE, AuditEntry.Decision.ALLOWED, "kek_rotated")
            .withDetail("fromKek", AuditEntry.jsonString(owed.fromKekId()))
            .withDetail("toKek", AuditEntry.jsonString(owed.toKekId()))
            .withDetail("rotatedAt", AuditEntry.jsonString(owed.at().toString())));
      } catch (RuntimeException e) {
        LOG.warn("tenant {}: its data key was rewrapped, but the audit row saying so could not be written ({}); "
            + "it stays owed, and the next kek rotate or start of serve or worker writes it", owed.tenant(), e.getClass().getSimpleName());
        continue;
      }
      KekRotation.audited(db.ownerDataSource(), owed);
      written++;
    }
    return written;
  }
}
