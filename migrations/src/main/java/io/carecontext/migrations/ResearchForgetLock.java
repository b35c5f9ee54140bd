package io.carecontext.migrations;

/**
 * The tenant's lock between forgetting every research embedding and the writes of its chunks, a transaction
 * advisory lock: the forgetting ({@code ResearchEmbeddings.forgetAll}, once per turning-on of research) holds it
 * alone; every embedding worker batch that replaces chunks, and every FHIR write that deletes chunks
 * ({@code ResourceWriter}: a DELETE, a resource moved, relabelled or voided), holds it shared, each before its
 * first chunk lock. The forgetting updates every chunk that has a research embedding, in the table's order; a
 * worker batch deletes a resource's chunks, then locks and updates its patient's; a Bundle or an import batch
 * deletes its resources' chunks one resource after another. Without the lock these met the forgetting with their
 * chunk locks taken in opposite orders and PostgreSQL aborted one of them (40P01): the research build failed, the
 * batch was counted a failure and put off, or the write ran again. With it, the forgetting waits for the writes
 * under way (a batch's writes, never its model calls: taken after them), and writes that come after it wait for
 * the forgetting.
 *
 * <p>{@link #KEY} is the key's SQL, bound with the tenant's id: the key the forgetting took alone before (one
 * forgetting of the tenant at a time), so a process of the version before waits as this one does.
 */
public final class ResearchForgetLock {

  /** The lock's key: one parameter, the tenant's id ({@link TenantId#value()}). */
  public static final String KEY = "hashtext('carecontext-research-forget:' || ?)";

  private ResearchForgetLock() {}
}
