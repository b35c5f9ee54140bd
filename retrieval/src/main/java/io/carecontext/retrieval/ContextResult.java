package io.carecontext.retrieval;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * The allowed chunks, best first, and the id of the audit entry that recorded the access.
 * {@code breakGlassUntil}: when the break-glass window this request was served in closes (null for
 * any other request), so that the caller knows before its next request is refused. {@code patientId}:
 * the patient served, which for a role served de-identified only is the one its research subject
 * code stands for, not the path's. {@code kLimit}: the most chunks the deciding role's policy lets one request
 * have, so that a caller whose k was cut to it can be told. {@code pending}: how many of the patient's resources,
 * of those this request could read, are written but not yet embedded (0 under break-glass, where it is not asked).
 */
public record ContextResult(List<ContextChunk> chunks, UUID auditId, String decidingRole, boolean breakGlass,
                            Instant breakGlassUntil, String patientId, int kLimit, int pending) {

  /** Names no patient. */
  @Override
  public String toString() {
    return "ContextResult[" + chunks.size() + " chunks, role " + decidingRole + "]";
  }
}
