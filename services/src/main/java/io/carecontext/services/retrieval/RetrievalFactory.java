package io.carecontext.services.retrieval;

import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.ContextService;
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

  @Singleton
  ResearchService researchService(TenantTransactions tx, TenantKeys keys, AuditLog audit) {
    return new ResearchService(tx, keys, audit);
  }

  @Singleton
  ContextService contextService(TenantTransactions tx, TenantKeys keys, AuditLog audit) {
    return new ContextService(tx, keys, audit);
  }
}
