package io.carecontext.services.admin;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.serde.annotation.Serdeable;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Request and response bodies of the admin API. Request bodies refuse fields they do not define
 * (answered as a 400 naming the field): a misspelt {@code "setting"} would otherwise be a PATCH that
 * changes nothing and still answers 200.
 */
final class AdminDtos {

  private AdminDtos() {}

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record CreateTenant(@Nullable String id, @Nullable String name, @Nullable Map<String, Object> settings) {}

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record PatchTenant(@Nullable String name, @Nullable Map<String, Object> settings) {}

  @Serdeable
  record TenantView(String id, String name, String status, Map<String, Object> settings, Instant createdAt,
                    Instant updatedAt, @Nullable Long provisionMillis) {}

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record CreateKey(@Nullable String principal, @Nullable List<String> roles, @Nullable Instant expiresAt,
                   @Nullable String practitionerId) {}

  @Serdeable
  record CreatedKey(String keyId, String secret, String principal, List<String> roles, @Nullable Instant expiresAt,
                    @Nullable String practitionerId) {}

  @Serdeable
  record KeyView(String keyId, String principal, List<String> roles, @Nullable Instant createdAt,
                 @Nullable Instant expiresAt, @Nullable Instant revokedAt, @Nullable String practitionerId) {}
}
