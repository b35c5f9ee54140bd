package io.carecontext.services.retrieval;

import io.carecontext.migrations.PlatformDatabase;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.KeyEncryptionKeyRotation;
import io.micronaut.context.annotation.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * At start, writes the kek-rotate audit rows that a `kek rotate` stopped after its commit still owes
 * (platform migration 12): its operator may already run serve on the new key, where `kek rotate --to`
 * can no longer be run again. Off the start's path, on a thread of its own; logs tenant ids and counts.
 */
@Context
public class OwedKekRotationRows {

  private static final Logger LOG = LoggerFactory.getLogger(OwedKekRotationRows.class);

  public OwedKekRotationRows(PlatformDatabase db, AuditLog audit) {
    Thread t = new Thread(() -> {
      try {
        int written = KeyEncryptionKeyRotation.recordOwed(db, audit);
        if (written > 0) {
          LOG.info("wrote {} kek-rotate audit row(s) that an interrupted `kek rotate` owed", written);
        }
      } catch (RuntimeException e) {
        LOG.warn("could not read the kek-rotate audit rows owed ({}); the next start tries again",
            e.getClass().getSimpleName());
      }
    }, "owed-kek-rotation-rows");
    t.setDaemon(true);
    t.start();
  }
}
