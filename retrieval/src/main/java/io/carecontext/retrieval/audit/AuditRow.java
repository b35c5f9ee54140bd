package io.carecontext.retrieval.audit;

import io.carecontext.migrations.Aad;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.crypto.TenantCipher;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * One audit row ready to be written: its id and time fixed, its bodies encrypted, its canonical
 * payload computed. Only the place in a shard's chain (shard, seq, previous hash) is left to the
 * writer, which decides it under the chain head's lock.
 */
record AuditRow(UUID id, Instant at, String principal, String keyId, String[] roles, String patientId, String purpose,
                String action, String decision, String reason, boolean breakGlass, Long[] chunkIds, String model,
                byte[] promptHash, byte[] responseHash, byte[] queryEnc, byte[] promptEnc, byte[] responseEnc,
                String details, Integer latency, byte[] justificationEnc, String requestId, String clientAddress,
                byte[] payload) {

  static AuditRow of(TenantId tenant, TenantCipher cipher, AuditEntry e) {
    UUID id = timeOrderedId();
    Instant at = Instant.now().truncatedTo(ChronoUnit.MICROS);
    byte[] queryEnc = encrypt(cipher, tenant, "query", e.queryText());
    byte[] promptEnc = encrypt(cipher, tenant, "prompt", e.promptBody());
    byte[] responseEnc = encrypt(cipher, tenant, "response", e.responseBody());
    byte[] justificationEnc = encrypt(cipher, tenant, "justification", e.justification());
    byte[] promptHash = AuditPayload.sha256(bytes(e.promptBody()));
    byte[] responseHash = AuditPayload.sha256(bytes(e.responseBody()));
    String decision = e.decision().name().toLowerCase(Locale.ROOT);
    Integer latency = (int) Math.min(Integer.MAX_VALUE, e.latencyMillis());
    byte[] payload = AuditPayload.of(id.toString(), at, e.principal(), e.keyId(), e.roles(), e.patientId(),
        e.purpose(), e.action(), decision, e.reason(), e.breakGlass(), e.chunkIds(), e.model(), promptHash,
        responseHash, queryEnc, promptEnc, responseEnc, e.details(), latency, justificationEnc, e.requestId(), e.clientAddress());
    return new AuditRow(id, at, e.principal(), e.keyId(), e.roles().toArray(String[]::new), e.patientId(),
        e.purpose(), e.action(), decision, e.reason(), e.breakGlass(), e.chunkIds().toArray(Long[]::new), e.model(),
        promptHash, responseHash, queryEnc, promptEnc, responseEnc, e.details(), latency, justificationEnc, e.requestId(),
        e.clientAddress(), payload);
  }

  /**
   * A row with no query, prompt, response or justification, which has nothing to encrypt: for the
   * owner's connection, which holds no tenant key (a retention purge's row).
   */
  static AuditRow withoutBodies(AuditEntry e) {
    if (e.queryText() != null || e.promptBody() != null || e.responseBody() != null || e.justification() != null) {
      throw new IllegalArgumentException("a row without bodies carries none");
    }
    return of(null, null, e);
  }

  /** An {@code audit_log} column a row carries, and its SQL type. */
  record Column(String name, String type) {}

  /** The columns of {@link #values()}, in that order; the writer adds the place in the chain. */
  static final List<Column> COLUMNS = List.of(new Column("audit_id", "uuid"), new Column("at", "timestamptz"),
      new Column("principal", "text"), new Column("key_id", "text"), new Column("roles", "text[]"),
      new Column("patient_id", "text"), new Column("purpose", "text"), new Column("action", "text"),
      new Column("decision", "text"), new Column("reason", "text"), new Column("break_glass", "boolean"),
      new Column("chunk_ids", "bigint[]"), new Column("model", "text"), new Column("prompt_hash", "bytea"),
      new Column("response_hash", "bytea"), new Column("query_enc", "bytea"), new Column("prompt_enc", "bytea"),
      new Column("response_enc", "bytea"), new Column("details", "text"), new Column("latency_ms", "int"),
      new Column("justification_enc", "bytea"), new Column("request_id", "text"),
      new Column("client_address", "text"));

  /** How many of {@link #COLUMNS} the releases before tenant migration 22 wrote (no justification, no origin). */
  static final int COLUMNS_BEFORE_22 = 20;
  /** How many of {@link #COLUMNS} the releases before tenant migration 75 wrote (no request id, no client address). */
  static final int COLUMNS_BEFORE_75 = 21;

  /** The row's column values in the order of {@link #COLUMNS}, as JDBC binds them. */
  Object[] values() {
    return new Object[] {id, atUtc(), principal, keyId, roles, patientId, purpose, action, decision, reason,
        breakGlass, chunkIds, model, promptHash, responseHash, queryEnc, promptEnc, responseEnc, details, latency,
        justificationEnc, requestId, clientAddress};
  }

  /** The time as bound to a timestamptz parameter (pgjdbc binds a Timestamp through a Calendar, which is slow). */
  OffsetDateTime atUtc() {
    return OffsetDateTime.ofInstant(at, ZoneOffset.UTC);
  }

  /**
   * A version-7 style UUID: milliseconds first, then random bits, so new rows land at the right
   * edge of the primary-key index instead of on a random page. Not a secret: audit ids grant
   * nothing.
   */
  static UUID timeOrderedId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long msb = (System.currentTimeMillis() << 16) | 0x7000L | (r.nextLong() & 0x0FFFL);
    long lsb = (r.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb);
  }

  private static byte[] encrypt(TenantCipher cipher, TenantId tenant, String field, String text) {
    return text == null ? null : cipher.encryptString(text, Aad.audit(tenant, field));
  }

  private static byte[] bytes(String s) {
    return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public String toString() {
    return "AuditRow[" + id + ", " + action + ", " + decision + ", " + reason + "]";
  }
}
