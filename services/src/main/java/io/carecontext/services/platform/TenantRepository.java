package io.carecontext.services.platform;

import io.micronaut.data.annotation.Query;
import io.micronaut.data.jdbc.annotation.JdbcRepository;
import io.micronaut.data.model.query.builder.sql.Dialect;
import io.micronaut.data.repository.GenericRepository;
import java.util.List;
import java.util.Optional;

@JdbcRepository(dialect = Dialect.POSTGRES)
public interface TenantRepository extends GenericRepository<TenantRecord, String> {

  Optional<TenantRecord> findById(String tenantId);

  List<TenantRecord> findByStatusOrderByTenantId(String status);

  /**
   * The digest the tenant-settings audit row of a change names (platform migration 5): the database
   * changes a tenant for the application role only after the row naming the new name and settings.
   */
  @Query("SELECT platform.tenant_change_digest(:name, CAST(:settings AS jsonb))")
  String changeDigest(String name, String settings);
}
