package io.carecontext.services.platform;

import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import io.micronaut.data.annotation.sql.ColumnTransformer;
import java.time.Instant;

/** A row of platform.tenants. Rows are inserted by provisioning (owner role), never here. */
@MappedEntity(value = "tenants", schema = "platform")
public record TenantRecord(
    @Id String tenantId,
    String name,
    String status,
    @ColumnTransformer(read = "@.settings::text", write = "?::jsonb") String settings,
    Instant createdAt,
    Instant updatedAt) {}
