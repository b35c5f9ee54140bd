package io.carecontext.retrieval.audit;

/**
 * The result of recomputing the chains: valid with a head over all shards, or the first broken link.
 * {@code sealedEntries} of the entries lie at or before their shard's latest keyed seal (tenant
 * migration 37); the rest (normally the last minute's) have the chain's protection only.
 */
public record AuditVerification(boolean valid, long entries, String head, BrokenLink brokenAt, long sealedEntries) {

  /**
   * Where the trail breaks, and how: {@code row} (a row's stored hashes or sequence do not follow
   * from the rows before it: altered, inserted or removed), {@code seal} (the recomputed chain does
   * not pass through a sealed head: a row at or before that seal was altered and the chain
   * recomputed), {@code forged-seal} (a seal the tenant's key did not make), {@code behind-seal} (a
   * seal lies beyond the shard's head: rows were cut from its end), {@code head} (the shard's head
   * does not match its last row), {@code shard} (a row on a shard no chain knows), {@code forged-anchor}
   * (an anchor the caller gave that the tenant's key did not make, {@link AuditAnchor}; a valid anchor
   * the chain does not reach is {@code behind-seal}, one it reaches with another head {@code seal}).
   */
  public record BrokenLink(int shard, long seq, String auditId, String problem) {}

  static AuditVerification valid(long entries, String head, long sealedEntries) {
    return new AuditVerification(true, entries, head, null, sealedEntries);
  }

  static AuditVerification broken(long entries, int shard, long seq, String auditId, String problem) {
    return new AuditVerification(false, entries, null, new BrokenLink(shard, seq, auditId, problem), 0);
  }
}
