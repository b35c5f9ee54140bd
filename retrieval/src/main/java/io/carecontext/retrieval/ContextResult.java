package io.carecontext.retrieval;

import java.util.List;
import java.util.UUID;

/** The allowed chunks, best first, and the id of the audit entry that recorded the access. */
public record ContextResult(List<ContextChunk> chunks, UUID auditId, String decidingRole, boolean breakGlass) {}
