package io.carecontext.retrieval.audit;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.retrieval.Requester;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Auditor keys for tests that read a trail: since tenant migration 34 the database shows the trail
 * only to a live auditor key of its tenant. One key a tenant, issued on first use.
 */
public final class Auditors {

  private static final Map<TestPlatform, Map<TenantId, Requester>> KEYS = new ConcurrentHashMap<>();

  private Auditors() {}

  public static Requester of(TestPlatform platform, TenantId tenant) {
    return KEYS.computeIfAbsent(platform, p -> new ConcurrentHashMap<>()).computeIfAbsent(tenant, t -> {
      TestPlatform.TestKey key = platform.issueKey(t, "test-auditor", List.of("auditor"), null);
      return new Requester("test-auditor", key.keyId(), List.of("auditor"), null, key.secretHashHex());
    });
  }
}
