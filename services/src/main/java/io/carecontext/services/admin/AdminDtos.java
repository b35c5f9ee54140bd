package io.carecontext.services.admin;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.carecontext.services.http.ApiErrorProcessor;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.http.JsonBodies;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.json.JsonMapper;
import io.micronaut.serde.annotation.Serdeable;
import java.io.IOException;
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

  static final String MALFORMED =
      "the request is malformed: send a JSON body with the documented fields (see /openapi.yml)";

  /**
   * A request body read as exactly one JSON object of {@code type} ({@link JsonBodies}): bound by the
   * framework, content after the object was ignored, so a second object could carry the roles or
   * settings the caller meant and the request still answered 2xx with the first. Refusals are the
   * 400s the framework's binding gave: the field named where it can be, never a value.
   */
  static <T> T read(JsonMapper json, @Nullable byte[] raw, Class<T> type) {
    try {
      return JsonBodies.read(json, raw, type).orElseThrow(() -> ApiException.badRequest(MALFORMED));
    } catch (JsonBodies.BodyFault e) {
      // sound JSON refused for its shape: say which, as the fields' own refusals do
      throw ApiException.badRequest("the request is malformed: " + e.fault()
          + ": send one JSON object with the documented fields, each once (see /openapi.yml)");
    } catch (IOException e) {
      throw ApiException.badRequest(ApiErrorProcessor.badField(e, type).map(ApiError::message).orElse(MALFORMED));
    }
  }

  /**
   * {@code settings} is read as any JSON value and checked by {@link #settingsObject}: bound as a map,
   * {@code "settings": "opt-out"} or {@code []} met Serde's unnamed parse error and answered "the
   * request is malformed", naming neither the field nor what it takes.
   */
  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record CreateTenant(@Nullable String id, @Nullable String name,
                      @io.swagger.v3.oas.annotations.media.Schema(type = "object") @Nullable Object settings) {
    @Nullable Map<String, Object> settingsObject() {
      return AdminDtos.settingsObject(settings);
    }
  }

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record PatchTenant(@Nullable String name,
                     @io.swagger.v3.oas.annotations.media.Schema(type = "object") @Nullable Object settings) {
    @Nullable Map<String, Object> settingsObject() {
      return AdminDtos.settingsObject(settings);
    }
  }

  static final String SETTINGS_NOT_AN_OBJECT = "field 'settings' must be an object (see /openapi.yml)";

  /** The body's {@code settings}: absent, or a JSON object; anything else is a 400 naming the field. */
  @SuppressWarnings("unchecked")
  private static @Nullable Map<String, Object> settingsObject(@Nullable Object settings) {
    if (settings == null) {
      return null;
    }
    if (settings instanceof Map<?, ?> map && map.keySet().stream().allMatch(String.class::isInstance)) {
      return (Map<String, Object>) map;
    }
    throw ApiException.badRequest(SETTINGS_NOT_AN_OBJECT);
  }

  /**
   * A tenant as the admin API shows it; {@code effectiveRolePolicies}: each role's policy in force,
   * defaults and overrides merged ({@code settings.rolePolicies} holds only the overrides, so an
   * admin could not see what a role may do, or what a PATCH had reset).
   */
  @Serdeable
  record TenantView(String id, String name, String status, Map<String, Object> settings, Instant createdAt,
                    Instant updatedAt, @Nullable Long provisionMillis, Map<String, Object> effectiveRolePolicies) {}

  /**
   * {@code roles} is read as any JSON value and checked by the controller: bound as a list of strings,
   * {@code "roles": "clinician"} met Serde's unnamed parse error ("the request is malformed") and
   * {@code [1]} was coerced to the string "1" ("unknown role").
   */
  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record CreateKey(@Nullable String principal,
                   @io.swagger.v3.oas.annotations.media.ArraySchema(schema = @io.swagger.v3.oas.annotations.media.Schema(
                       type = "string", example = "clinician")) @Nullable Object roles, @Nullable Instant expiresAt,
                   @Nullable String practitionerId) {
    /**
     * With expiresAt to the microsecond, as PostgreSQL keeps it: the answer and the trail echoed the
     * nanoseconds sent, a moment the stored key (rounded by the database) did not expire at.
     */
    CreateKey toStoredPrecision() {
      return expiresAt == null ? this
          : new CreateKey(principal, roles, expiresAt.truncatedTo(java.time.temporal.ChronoUnit.MICROS), practitionerId);
    }
  }

  /** The body of a patient's erasure: why (free text, which may name the patient; stored encrypted). */
  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  record ErasePatient(@io.swagger.v3.oas.annotations.media.Schema(requiredMode =
      io.swagger.v3.oas.annotations.media.Schema.RequiredMode.REQUIRED, maxLength = 2000,
      example = "chart misfiled into this test patient; EHR ticket 4711") @Nullable String reason) {}

  @Serdeable
  record CreatedKey(String keyId, String secret, String principal, List<String> roles, @Nullable Instant expiresAt,
                    @Nullable String practitionerId, @Nullable List<String> warnings) {}

  @Serdeable
  record KeyView(String keyId, String principal, List<String> roles, @Nullable Instant createdAt,
                 @Nullable Instant expiresAt, @Nullable Instant revokedAt, @Nullable String practitionerId) {}
}
