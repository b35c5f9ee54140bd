package io.carecontext.services.auth;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.platform.ActiveKeys;
import jakarta.inject.Singleton;
import io.carecontext.retrieval.RefusalRows;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A tenant's key that authentication refused — revoked, expired, or presented with a secret that is
 * not its own — recorded in that tenant's trail (action {@code authenticate}, denied, reason
 * {@code key_revoked}, {@code key_expired} or {@code key_secret_mismatch}), with the route's shape
 * and, on a patient path, the patient. Before, such a request was answered 401 and left no trace but
 * an access-log line without tenant or principal: a revoked (perhaps stolen) key used on patient data
 * was invisible to the auditor. A token that names no key of an active tenant is not recorded: there
 * is no tenant to record it in.
 */
@Singleton
public class RefusedKeys {

  private static final Logger LOG = LoggerFactory.getLogger(RefusedKeys.class);
  static final String ACTION = "authenticate";

  private final ActiveKeys keys;
  private final AuditLog audit;
  /**
   * The rows a key's refusals may add ({@link RefusalRows}). Anyone who has seen a key id (it is in
   * every key, in listings and in the export) could otherwise grow the tenant's trail without limit by
   * sending wrong secrets, and with it every verify and export.
   */
  private final RefusalRows rows = new RefusalRows();

  public RefusedKeys(ActiveKeys keys, AuditLog audit) {
    this.keys = keys;
    this.audit = audit;
  }

  /** Records the refusal of {@code token} on {@code method path}, if it names a key of an active tenant; never throws. */
  void record(String token, String method, String path) {
    try {
      lenient(token).flatMap(parsed -> refusal(parsed, ApiKeySecrets.sha256(parsed.secret()))).ifPresent(r -> {
        String keyId = r.key().keyId();
        AuditEntry entry = AuditEntry.of(r.key().principal(), keyId, r.key().roles(), patientOf(path, r.tenant()), null,
                ACTION, AuditEntry.Decision.DENIED, r.reason())
            .withDetail("route", AuditEntry.jsonString(AuthenticationFilter.routeShape(path)))
            .withDetail("method", AuditEntry.jsonString(method));
        rows.record(audit, r.tenant(), keyId, entry);
      });
    } catch (RuntimeException e) {
      // The caller gets its 401 whatever happens here; the class only, as everywhere in the logs.
      LOG.warn("a refused API key could not be recorded in its tenant's audit trail ({})", e.getClass().getSimpleName());
    }
  }

  private record Refusal(TenantId tenant, ActiveKeys.KnownKey key, String reason) {}

  private static final Pattern KEY_ID = Pattern.compile("^cck_([a-z0-9]{20})_(.+)$");

  /**
   * The key id of a token that names one, whatever its secret looks like: a secret of another length
   * than a real one (43 characters) is a wrong secret too, and was not recorded.
   */
  static Optional<ApiKeySecrets.Parsed> lenient(String token) {
    Matcher m = KEY_ID.matcher(token);
    return m.matches() ? Optional.of(new ApiKeySecrets.Parsed(m.group(1), m.group(2))) : Optional.empty();
  }

  /**
   * Why the key was refused, from one read of it (authentication's own read dropped the record once
   * it found the key unusable); empty for a key that names no key of an active tenant, or that is
   * usable by now.
   */
  private Optional<Refusal> refusal(ApiKeySecrets.Parsed parsed, byte[] secretHash) {
    return keys.known(parsed.keyId(), secretHash).flatMap(k -> {
      String reason = !k.secretMatches() ? "key_secret_mismatch" : k.revoked() ? "key_revoked"
          : k.expired() ? "key_expired" : null;
      return reason == null ? Optional.empty() : Optional.of(new Refusal(TenantId.of(k.tenantId()), k, reason));
    });
  }

  /** The patient of a {@code /v1/{tenant}/patients/{id}/…} path of the key's own tenant; null on any other. */
  static String patientOf(String path, TenantId tenant) {
    String[] s = path.split("/", -1);
    return s.length > 4 && s[1].equals("v1") && s[2].equals(tenant.value()) && s[3].equals("patients") && !s[4].isEmpty()
        ? s[4] : null;
  }
}
