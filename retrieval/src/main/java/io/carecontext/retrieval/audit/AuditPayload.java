package io.carecontext.retrieval.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;

/**
 * The canonical bytes of one audit row that the chain hashes: every field, length-prefixed so no
 * two rows can share an encoding, bodies by the SHA-256 of their ciphertext. Built the same way
 * when writing and when verifying.
 */
final class AuditPayload {

  private AuditPayload() {}

  static byte[] of(String auditId, Instant at, String principal, String keyId, List<String> roles, String patientId,
                   String purpose, String action, String decision, String reason, boolean breakGlass,
                   List<Long> chunkIds, String model, byte[] promptHash, byte[] responseHash, byte[] queryEnc,
                   byte[] promptEnc, byte[] responseEnc, String details, Integer latency, byte[] justificationEnc,
                   String requestId, String clientAddress) {
    StringBuilder b = new StringBuilder(256);
    field(b, auditId);
    field(b, Long.toString(at.getEpochSecond() * 1_000_000L + at.getNano() / 1_000));
    field(b, principal);
    field(b, keyId);
    field(b, String.join(",", roles));
    field(b, patientId);
    field(b, purpose);
    field(b, action);
    field(b, decision);
    field(b, reason);
    field(b, Boolean.toString(breakGlass));
    field(b, chunkIds.stream().map(String::valueOf).reduce((x, y) -> x + "," + y).orElse(""));
    field(b, model);
    field(b, hex(promptHash));
    field(b, hex(responseHash));
    field(b, hex(sha256(queryEnc)));
    field(b, hex(sha256(promptEnc)));
    field(b, hex(sha256(responseEnc)));
    field(b, details);
    field(b, latency == null ? null : latency.toString());
    boolean origin = requestId != null || clientAddress != null;
    if (justificationEnc != null || origin) {
      // Only rows that carry one (tenant migration 22): every row before keeps its payload, and its hash.
      field(b, justificationEnc == null ? null : hex(sha256(justificationEnc)));
    }
    if (origin) {
      // The request's id and client address (tenant migration 75), only on rows that carry either: a row
      // without (every row before, and the platform's own) keeps the payload it had. Such a row has 23 fields,
      // the justification's slot written even when empty, where a row before had 20 or 21: every field is
      // length-prefixed, so no row of one form encodes as a row of another.
      field(b, requestId);
      field(b, clientAddress);
    }
    return b.toString().getBytes(StandardCharsets.UTF_8);
  }

  private static void field(StringBuilder b, String v) {
    if (v == null) {
      b.append("-1:;");
    } else {
      b.append(v.length()).append(':').append(v).append(';');
    }
  }

  static byte[] sha256(byte[] data) {
    return data == null ? null : newSha256().digest(data);
  }

  // Copied for each use: MessageDigest.getInstance looks the provider up again on every call (JFR
  // showed the lookup under every audit row's hashes).
  private static final MessageDigest SHA256 = sha256Prototype();

  private static MessageDigest sha256Prototype() {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.clone(); // fails here, at class load, if this provider's digest cannot be copied
      return d;
    } catch (NoSuchAlgorithmException | CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }

  private static MessageDigest newSha256() {
    try {
      return (MessageDigest) SHA256.clone();
    } catch (CloneNotSupportedException e) {
      throw new IllegalStateException(e);
    }
  }

  static String hex(byte[] b) {
    return b == null ? null : HexFormat.of().formatHex(b);
  }

  /** row_hash = SHA-256(prev_hash || seq as 8 big-endian bytes || payload), as the SQL computes it. */
  static byte[] rowHash(byte[] prev, long seq, byte[] payload) {
    MessageDigest d = newSha256();
    d.update(prev);
    d.update(java.nio.ByteBuffer.allocate(8).putLong(seq).array());
    d.update(payload);
    return d.digest();
  }
}
