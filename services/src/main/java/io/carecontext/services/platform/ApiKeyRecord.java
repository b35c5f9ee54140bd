package io.carecontext.services.platform;

import io.micronaut.core.annotation.Nullable;
import io.micronaut.data.annotation.Id;
import io.micronaut.data.annotation.MappedEntity;
import io.micronaut.data.annotation.sql.ColumnTransformer;
import java.util.List;
import java.time.Instant;

/**
 * A row of platform.api_keys, without the SHA-256 of its secret: the application role may not read
 * it (platform migration 3); {@link ActiveKeys} asks the database whether a presented secret matches.
 */
@MappedEntity(value = "api_keys", schema = "platform")
public record ApiKeyRecord(
    @Id String keyId,
    String tenantId,
    String principal,
    // Read as one comma-joined string: role codes never contain commas.
    @ColumnTransformer(read = "array_to_string(@.roles, ',')") String roles,
    @Nullable String practitionerId,
    @Nullable Instant createdAt,
    @Nullable Instant expiresAt,
    @Nullable Instant revokedAt) {

  public List<String> roleCodes() {
    return roles == null || roles.isEmpty() ? List.of() : List.of(roles.split(","));
  }

  public boolean usableAt(Instant now) {
    return revokedAt == null && (expiresAt == null || expiresAt.isAfter(now));
  }

  @Override
  public String toString() {
    return "ApiKeyRecord[keyId=" + keyId + ", tenant=" + tenantId + "]";
  }
}
