package io.carecontext.retrieval.audit;

/** The result of recomputing the chains: valid with a head over all shards, or the first broken link. */
public record AuditVerification(boolean valid, long entries, String head, BrokenLink brokenAt) {

  public record BrokenLink(int shard, long seq, String auditId) {}

  static AuditVerification valid(long entries, String head) {
    return new AuditVerification(true, entries, head, null);
  }

  static AuditVerification broken(long entries, int shard, long seq, String auditId) {
    return new AuditVerification(false, entries, null, new BrokenLink(shard, seq, auditId));
  }
}
