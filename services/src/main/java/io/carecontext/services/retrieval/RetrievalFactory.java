package io.carecontext.services.retrieval;

import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.RateLimiter;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.research.ResearchService;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;

/** The read path's beans. */
@Factory
public class RetrievalFactory {

  @Singleton
  AuditLog auditLog(TenantTransactions tx, TenantKeys keys) {
    return new AuditLog(tx, keys);
  }

  /**
   * One per-minute budget per key, whichever patient-data path it calls; its share of it when the
   * key's requests are spread over several API processes (CARECONTEXT_RATE_LIMIT_SHARES).
   */
  @Singleton
  RateLimiter rateLimiter(@io.micronaut.context.annotation.Value("${carecontext.rate-limit.shares:1}") int shares) {
    return new RateLimiter(shares);
  }

  @Singleton
  ResearchService researchService(TenantTransactions tx, TenantKeys keys, AuditLog audit, RateLimiter limiter) {
    return new ResearchService(tx, keys, audit, limiter);
  }

  @Singleton
  ContextService contextService(TenantTransactions tx, TenantKeys keys, AuditLog audit, RateLimiter limiter) {
    return new ContextService(tx, keys, audit, limiter);
  }
}
