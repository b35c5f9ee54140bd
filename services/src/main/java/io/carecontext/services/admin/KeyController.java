package io.carecontext.services.admin;

import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.ApiKeySecrets;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.auth.Role;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.platform.ApiKeyRecord;
import io.carecontext.services.platform.ApiKeyRepository;
import io.carecontext.services.platform.TenantRepository;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Status;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.json.JsonMapper;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.Set;

/**
 * API keys of one tenant: the secret is shown once, at creation; only its hash is stored. Creating
 * and revoking a key is recorded in the tenant's audit trail with who did it (the platform operator
 * or a tenant admin), the key and its roles: the trail then says who gave a principal its access.
 */
@Controller("/admin/tenants/{tenant}/keys")
@ExecuteOn(TaskExecutors.BLOCKING)
public class KeyController {

  /** The first instant a key may not expire at: ISO-8601 writes later years with a sign. */
  static final Instant YEAR_10000 = Instant.parse("+10000-01-01T00:00:00Z");

  private final ApiKeyRepository keys;
  private final TenantRepository tenants;
  private final AuditLog audit;
  private final JsonMapper json;
  private final TenantDirectory directory;
  private final KeyCreations creations;
  private final AdminAttempts attempts;
  private final String publicUrl;

  public KeyController(ApiKeyRepository keys, TenantRepository tenants, AuditLog audit, JsonMapper json,
                       TenantDirectory directory, KeyCreations creations, AdminAttempts attempts,
                       @Nullable @io.micronaut.context.annotation.Value("${"
                           + io.carecontext.services.fhir.FhirController.PUBLIC_URL + ":}") String publicUrl) {
    this.publicUrl = publicUrl == null ? "" : publicUrl;
    this.attempts = attempts;
    this.creations = creations;
    this.json = json;
    this.directory = directory;
    this.keys = keys;
    this.tenants = tenants;
    this.audit = audit;
  }

  @Post
  @Status(HttpStatus.CREATED) // for the OpenAPI document: the answer is built with its status
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = AdminDtos.CreateKey.class)))
  public HttpResponse<AdminDtos.CreatedKey> create(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                                   @PathVariable String tenant, HttpRequest<?> request,
                                                   @Nullable @Body byte[] raw) {
    // the key first, recorded when refused (with whom it tried to give which access), then its body
    TenantId admitted = attempts.requireTenantAdmin(caller, tenant, "key-create", request, row -> askedFor(row, raw));
    TenantId id = requireActive(admitted);
    // A creation refused for its body is recorded too, denied, as a refused change of settings is: who tried to
    // give whom which access (an unknown role, a key that would have expired already) is what a reviewer of
    // key-create rows looks for beside the keys that were made. It left no row.
    AdminDtos.CreateKey body;
    try {
      body = AdminDtos.read(json, raw, AdminDtos.CreateKey.class).toStoredPrecision();
    } catch (ApiException e) {
      throw refusedBody(caller, id, request, "body_malformed", raw, e);
    }
    Set<String> roles;
    try {
      roles = checked(body);
    } catch (ApiException e) {
      throw refusedBody(caller, id, request, "key_request_invalid", raw, e);
    }
    // the checks, the row and the key in one turn of the tenant's key creations: a concurrent creation
    // of the same principal (or a second first tenant-admin key) is refused by the checks, as a denied
    // row, instead of leaving an allowed row for a key the database then refuses
    CreatedKeyAndRow made = creations.inTurn(id, () -> checkRecordInsert(caller, id, body, roles));
    List<String> warnings = body.practitionerId() != null ? List.of()
        : careWithoutPractitioner(directory.settings(caller, id), roles);
    // Location names the new key's resource, the URI its revocation is sent to (DELETE …/keys/{keyId}): a 201
    // without one left REST clients to build it from the body. As a FHIR write's: absolute under
    // CARECONTEXT_PUBLIC_URL when that is set, else the path alone.
    return HttpResponse.created(new AdminDtos.CreatedKey(made.issued().keyId(), made.issued().token(), body.principal(),
            List.copyOf(roles), body.expiresAt(), body.practitionerId(), warnings.isEmpty() ? null : warnings),
        location(id, made.issued().keyId()));
  }

  /** The key's resource: its tenant's id and its key id are of fixed alphabets, nothing to encode. */
  java.net.URI location(TenantId id, String keyId) {
    return java.net.URI.create(publicUrl + "/admin/tenants/" + id.value() + "/keys/" + keyId);
  }

  /**
   * A refused body (400) recorded denied in the tenant's trail with {@code reason}, the route and method, and
   * the principal and roles it asked for when it names them as a key's body may (never a value it does not
   * take: a principal or role sent as a patient's name would be PHI in the trail); at most 30 rows a minute a
   * key, as refused settings are.
   */
  private ApiException refusedBody(Caller caller, TenantId id, HttpRequest<?> request, String reason,
                                   @Nullable byte[] raw, ApiException refusal) {
    if (refusal.status() == HttpStatus.BAD_REQUEST) {
      attempts.recordRefusedChange(caller, id, "key-create", request, reason, List.of(), row -> askedFor(row, raw));
    }
    return refusal;
  }

  /** The roles of a key's body, once each of its fields is one a key may have; a 400 naming the first that is not. */
  private static Set<String> checked(AdminDtos.CreateKey body) {
    if (body.principal() == null || !body.principal().matches(PRINCIPAL)) {
      // "required" said of a principal that was sent sent the caller looking for a missing field
      throw ApiException.badRequest((body.principal() == null ? "principal is required" : "principal is not valid")
          + ": 1 to 100 letters, digits, '.', '_', '@' or '-'");
    }
    if (Caller.platformOperator().principal().equalsIgnoreCase(body.principal())) {
      // the trail names the operator's key so: a tenant key of that name would pass for it
      throw ApiException.badRequest("principal '" + Caller.platformOperator().principal() + "' is the platform "
          + "operator's in the audit trail: choose another");
    }
    if (body.roles() == null || body.roles() instanceof List<?> l && l.isEmpty()) {
      throw ApiException.badRequest("roles is required: one or more of " + allRoles());
    }
    if (!(body.roles() instanceof List<?> sent) || !sent.stream().allMatch(String.class::isInstance)) {
      throw ApiException.badRequest("field 'roles' must be an array of role names, e.g. [\"clinician\"]; roles are "
          + allRoles());
    }
    Set<String> roles = new LinkedHashSet<>();
    for (Object sentRole : sent) {
      String r = (String) sentRole;
      if (Role.fromCode(r).isEmpty()) {
        throw ApiException.badRequest("unknown role; roles are " + allRoles());
      }
      roles.add(r);
    }
    if (body.expiresAt() != null && !body.expiresAt().isAfter(Instant.now())) {
      throw ApiException.badRequest("expiresAt must be in the future");
    }
    if (body.expiresAt() != null && !body.expiresAt().isBefore(YEAR_10000)) {
      // further out, the driver turned it into a timestamp PostgreSQL refused: a 500 after the key's
      // audit row was written, for a key never made
      throw ApiException.badRequest("expiresAt must be before the year 10000 (leave it out for a key that does not expire)");
    }
    if (body.practitionerId() != null && !io.carecontext.fhir.CareLinks.isPractitionerId(body.practitionerId())) {
      throw ApiException.badRequest("practitionerId must be a Practitioner's FHIR id (" + FhirId.RULE + "), or "
          + "PractitionerRole/<id> for a clinician whose care the feed records through a PractitionerRole");
    }
    return roles;
  }

  /**
   * A refused creation's row with the principal and roles it asked for, when the body names them as a
   * key's body may (a principal of the allowed characters, known role codes); as it is otherwise.
   */
  private AuditEntry askedFor(AuditEntry row, @Nullable byte[] raw) {
    AdminDtos.CreateKey body;
    try {
      body = AdminDtos.read(json, raw, AdminDtos.CreateKey.class);
    } catch (RuntimeException unreadable) {
      return row;
    }
    if (body.principal() != null && body.principal().matches(PRINCIPAL)) {
      row = row.withDetail("keyPrincipal", "\"" + body.principal() + "\"");
    }
    if (body.roles() instanceof List<?> l && !l.isEmpty()
        && l.stream().allMatch(r -> r instanceof String code && Role.fromCode(code).isPresent())) {
      row = row.withDetail("roles", AuditEntry.jsonStrings(l.stream().map(String.class::cast).toList()));
    }
    return row;
  }

  /** What a principal may be: it is written into the trail's JSON as it is. */
  private static final String PRINCIPAL = "^[A-Za-z0-9._@-]{1,100}$";

  private record CreatedKeyAndRow(ApiKeySecrets.Issued issued) {
  }

  private CreatedKeyAndRow checkRecordInsert(Caller caller, TenantId id, AdminDtos.CreateKey body, Set<String> roles) {
    try {
      requireWithinCreatorsPower(caller, id, roles, body.expiresAt());
      if (keys.principalHeld(id.value(), body.principal())) {
        // a second key under a principal another key holds: the trail would name one person for two
        // holders (a tenant admin's key passing for a clinician's), so a principal names one key at a time
        throw ApiException.conflict("principal_taken", "an unrevoked key of this tenant already holds "
            + "this principal (compared without case; an expired key holds it until revoked): to replace a key, revoke "
            + "it first (DELETE /admin/tenants/{tenant}/keys/{keyId}, or ./carecontext key revoke --tenant T KEY_ID; "
            + "GET /admin/tenants/{tenant}/keys or key list shows the key ids), or choose another principal");
      }
    } catch (ApiException refused) {
      // who tried to give whom which access, and why it was refused: the row names no key id (none was
      // made), so no database check takes it for a key's key-create row
      audit.record(id, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
              "key-create", AuditEntry.Decision.DENIED, REFUSALS.getOrDefault(refused.code(), refused.code()))
          .withDetail("keyPrincipal", "\"" + body.principal() + "\"")
          .withDetail("roles", AuditEntry.jsonStrings(List.copyOf(roles))));
      throw refused;
    }
    ApiKeySecrets.Issued issued = ApiKeySecrets.issue();
    // Recorded before the key exists, so no key is ever usable without its row (fail closed).
    // Who the key is for and what it may reach, not only who made it: the trail says who was given
    // which access (the principal and practitioner id are checked above to hold no JSON syntax).
    AuditEntry created = keyEvent(caller, "key-create", "key_created")
        .withDetail("keyId", "\"" + issued.keyId() + "\"") // [a-z0-9] only
        .withDetail("keyPrincipal", "\"" + body.principal() + "\"")
        .withDetail("roles", AuditEntry.jsonStrings(List.copyOf(roles)));
    if (body.practitionerId() != null) {
      created = created.withDetail("practitionerId", "\"" + body.practitionerId() + "\"");
    }
    if (body.expiresAt() != null) {
      created = created.withDetail("expiresAt", "\"" + body.expiresAt() + "\"");
    }
    audit.record(id, created);
    try {
      insert(issued, id, body, roles);
    } catch (ApiException refused) {
      // refused after its allowed row (the creating key revoked meanwhile, say): the trail says so, naming
      // the key id of that row, so no reader takes the row for a key that exists
      audit.record(id, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
              "key-create", AuditEntry.Decision.DENIED, "database_refused_" + refused.code())
          .withDetail("keyId", "\"" + issued.keyId() + "\"")
          .withDetail("keyPrincipal", "\"" + body.principal() + "\"")
          .withDetail("roles", AuditEntry.jsonStrings(List.copyOf(roles))));
      throw refused;
    }
    return new CreatedKeyAndRow(issued);
  }

  /** The audit reason of each refusal of a key by who asked for it. */
  private static final Map<String, String> REFUSALS = Map.of("forbidden", "operator_makes_tenant_admin_keys_only");

  /**
   * Adds the key; a second key of the principal made at the same moment by another request, or a tenant
   * admin key made meanwhile, is refused by the database (platform migration 11) and answered as the
   * checks above answer it.
   */
  private void insert(ApiKeySecrets.Issued issued, TenantId id, AdminDtos.CreateKey body, Set<String> roles) {
    try {
      keys.insert(issued.keyId(), id.value(), body.principal(), "{" + String.join(",", roles) + "}",
          issued.secretHash(), body.practitionerId(), body.expiresAt());
    } catch (RuntimeException e) {
      if (sqlState(e).filter("23505"::equals).isPresent()) {
        throw ApiException.conflict("principal_taken", "an unrevoked key of this tenant already holds "
            + "this principal: revoke it first, or choose another principal");
      }
      if (sqlState(e).filter("42501"::equals).isPresent()) {
        throw ApiException.forbidden("the database refused this key: the creating key was revoked or expired "
            + "meanwhile, or (for the platform operator key) the tenant has a tenant-admin key by now");
      }
      throw e;
    }
  }

  private static Optional<String> sqlState(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null) {
        return Optional.of(sql.getSQLState());
      }
    }
    return Optional.empty();
  }

  /**
   * The platform operator manages tenants, not their people: it makes a tenant's first tenant-admin key
   * (or one to recover a tenant whose tenant-admin keys are all revoked or expired), and that key makes
   * every other. It could mint ehr-integration (writes patient data) and every reading role, for a key
   * that is never to touch patient data. Platform migration 11 holds the database to the same rule.
   */
  private void requireWithinCreatorsPower(Caller caller, TenantId tenant, Set<String> roles, Instant expiresAt) {
    if (!caller.platformAdmin()) {
      // no access outlives the key that gave it (platform migration 14)
      Long micros = keys.expiresAtMicros(caller.keyId());
      Instant until = micros == null || micros < 0 ? null
          : Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1_000L);
      if (until != null && (expiresAt == null || expiresAt.isAfter(until))) {
        throw new ApiException(HttpStatus.FORBIDDEN, "beyond_creators_expiry", "this key expires at "
            + until + ", and a key it creates expires no later: send expiresAt at or before "
            + "that, or create the key with a tenant-admin key that does not expire");
      }
      return;
    }
    if (!roles.equals(Set.of(Role.TENANT_ADMIN.code()))) {
      throw ApiException.forbidden("the platform operator key creates only a tenant's tenant-admin key (roles "
          + "[\"tenant-admin\"]); create every other key with that tenant-admin key");
    }
    if (keys.liveTenantAdmin(tenant.value())) {
      throw ApiException.conflict("tenant_admin_exists", "this tenant has a live tenant-admin key: "
          + "it creates the tenant's keys, tenant-admin keys included. The platform operator key creates one only "
          + "while the tenant has none (revoke a lost one first)");
    }
  }

  /**
   * A key without a practitioner, for a role that needs a care relationship in this tenant, sees no
   * patient but by break-glass (each such request is audited as no_care_relationship): made as asked,
   * and said so, since the key's secret is shown only once and a key cannot be changed.
   */
  private static List<String> careWithoutPractitioner(Map<String, Object> settings, Set<String> roles) {
    TenantPolicy policy = TenantPolicy.fromSettings(settings);
    return roles.stream().filter(r -> policy.careRequiredFor(policy.roles().get(r)))
        .map(r -> "role '" + r + "' needs a care relationship in this tenant and this key has no practitionerId: "
            + "it will see no patient except by break-glass (ETREAT). To fix, revoke it and create a key with the "
            + "id of the Practitioner resource its user is linked to through CareTeam, Encounter or "
            + "Patient.generalPractitioner")
        .toList();
  }

  /**
   * The tenant's keys without secrets: who holds access, with which roles and practitioner, until when.
   * Recorded before the answer (key-list, with how many keys it listed), and a tenant key refused it in
   * its own tenant's trail: these reads left no row, allowed or not.
   */
  @Get
  public List<AdminDtos.KeyView> list(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                      HttpRequest<?> request) {
    TenantId id = requireActive(attempts.requireTenantAdmin(caller, tenant, AuditEntry.KEY_LIST, request));
    List<AdminDtos.KeyView> listed = keys.findByTenantIdOrderByCreatedAt(id.value()).stream().map(KeyController::view)
        .toList();
    audit.record(id, keyEvent(caller, AuditEntry.KEY_LIST, "keys_listed")
        .withDetail("listed", Integer.toString(listed.size())));
    return listed;
  }

  @Delete("/{keyId}")
  @Status(HttpStatus.NO_CONTENT)
  // no body: whatever Content-Type a client sets on every request (application/fhir+json, say) must
  // not refuse it; the route's default, JSON only, answered 415 "send application/fhir+json" to one that did
  @Consumes(MediaType.ALL)
  public HttpResponse<Void> revoke(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                   @PathVariable String keyId, HttpRequest<?> request) {
    TenantId id = requireActive(attempts.requireTenantAdmin(caller, tenant, "key-revoke", request));
    boolean wellFormed = keyId.matches("^[a-z0-9]{16,32}$");
    if (!wellFormed || keys.findActive(keyId, id.value()).isEmpty()) {
      // recorded as a refused key creation is: a tenant admin revoking ids that are not its tenant's (another
      // tenant's, guessed) left no row. The id is named only in the form key ids take, never as typed.
      attempts.recordRefusedChange(caller, id, "key-revoke", request, "key_not_found", List.of(),
          row -> wellFormed ? row.withDetail("keyId", AuditEntry.jsonString(keyId)) : row);
      // a tenant admin retiring an app pastes the whole key it holds (cck_<keyId>_<secret>): told only "no key
      // with that id", it could take the key for revoked already and leave the app's key working
      throw ApiException.notFound("key_not_found", keyId.startsWith("cck_")
          ? "that is a whole API key, not a key id, and nothing was revoked: send only its key id, the part "
          + "between cck_ and the next _ (GET /admin/tenants/{tenant}/keys lists its keys); a key whose secret "
          + "was sent in a path may be in a proxy's logs, so revoke it"
          : "no key with that id in this tenant: GET /admin/tenants/{tenant}/keys lists its keys");
    }
    // In the tenant's turn for changes to its keys (as creations take it): two revokes of one key sent at
    // once (a retry after a timeout, two admins) both found it active and both wrote an allowed key-revoke
    // row, so the trail credited a second admin with a revoke that changed nothing. Now the second one
    // finds it revoked under the turn, and writes nothing.
    creations.inTurn(id, () -> revokeIfActive(caller, id, keyId));
    return HttpResponse.noContent();
  }

  /** Revokes the key if it is still active; the caller holds the tenant's turn. */
  private Void revokeIfActive(Caller caller, TenantId id, String keyId) {
    if (!keys.findActive(keyId, id.value()).orElse(false)) {
      // Revoked already: the state asked for holds, so a revoke retried after a timeout succeeds
      // (it was a 404, and the client could not tell that its first try had worked). No second row:
      // nothing changed.
      return null;
    }
    // The row first, committed: the database revokes a key only after the key-revoke row that names
    // it (platform migration 6).
    audit.record(id, keyEvent(caller, "key-revoke", "key_revoked").withDetail("keyId", "\"" + keyId + "\""));
    keys.revoke(keyId, id.value());
    return null;
  }

  /** {@code id}, the tenant the caller was admitted to ({@link AdminAttempts}), if it is active. */
  private TenantId requireActive(TenantId id) {
    tenants.findById(id.value()).filter(t -> "active".equals(t.status())).orElseThrow(ApiException::tenantNotFound);
    return id;
  }

  /** The audit row of a change to the tenant's keys, made by the caller; no patient, no purpose. */
  private static AuditEntry keyEvent(Caller caller, String action, String reason) {
    return AuditEntry.of(caller.principal(), caller.keyId(),
        caller.requester().roles(), null, null, action,
        AuditEntry.Decision.ALLOWED, reason);
  }

  private static AdminDtos.KeyView view(ApiKeyRecord k) {
    return new AdminDtos.KeyView(k.keyId(), k.principal(), k.roleCodes(), k.createdAt(), k.expiresAt(),
        k.revokedAt(), k.practitionerId());
  }

  private static String allRoles() {
    return String.join(", ", Arrays.stream(Role.values()).map(Role::code).toList());
  }
}
