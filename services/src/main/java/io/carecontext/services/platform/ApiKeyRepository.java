package io.carecontext.services.platform;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;
import java.util.List;
import java.util.Optional;

@JdbcRepository(dialect = Dialect.POSTGRES)
public interface ApiKeyRepository extends GenericRepository<ApiKeyRecord, String> {

  List<ApiKeyRecord> findByTenantIdOrderByCreatedAt(String tenantId);

  @Query("INSERT INTO platform.api_keys (key_id, tenant_id, principal, roles, secret_hash, practitioner_id, expires_at) "
      + "VALUES (:keyId, :tenantId, :principal, CAST(:roles AS text[]), :secretHash, :practitionerId, :expiresAt)")
  void insert(String keyId, String tenantId, String principal, String roles, byte[] secretHash,
              @io.micronaut.core.annotation.Nullable String practitionerId,
              @io.micronaut.core.annotation.Nullable java.time.Instant expiresAt);

  /** Whether the tenant's key is not revoked; empty when the tenant has no key of that id. */
  @Query("SELECT revoked_at IS NULL FROM platform.api_keys WHERE key_id = :keyId AND tenant_id = :tenantId")
  Optional<Boolean> findActive(String keyId, String tenantId);

  /**
   * Whether an unrevoked key of the tenant holds the principal, compared without case: a principal names
   * one holder at a time (platform migration 11 refuses a second one).
   */
  @Query("SELECT EXISTS (SELECT 1 FROM platform.api_keys WHERE tenant_id = :tenantId AND lower(principal) = lower(:principal) "
      + "AND revoked_at IS NULL)")
  boolean principalHeld(String tenantId, String principal);

  /**
   * When a key expires, in microseconds since the epoch (as stored); -1 when it does not (a NULL would
   * be an EmptyResultException here); null when there is no such key. Keys get only future expiries.
   */
  @Query("SELECT coalesce((extract(epoch FROM expires_at) * 1000000)::bigint, -1) FROM platform.api_keys "
      + "WHERE key_id = :keyId")
  Long expiresAtMicros(String keyId);

  /** Whether the tenant has a live (unrevoked, unexpired) tenant-admin key. */
  @Query("SELECT EXISTS (SELECT 1 FROM platform.api_keys WHERE tenant_id = :tenantId AND 'tenant-admin' = ANY (roles) "
      + "AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now()))")
  boolean liveTenantAdmin(String tenantId);

  /** 0 when the key is revoked already; the database refuses it before its key-revoke row (platform migration 6). */
  @Query("UPDATE platform.api_keys SET revoked_at = now() WHERE key_id = :keyId AND tenant_id = :tenantId "
      + "AND revoked_at IS NULL")
  int revoke(String keyId, String tenantId);
}
