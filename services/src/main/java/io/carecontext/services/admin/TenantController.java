package io.carecontext.services.admin;

import io.carecontext.migrations.RoleNameTakenException;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.platform.TenantRecord;
import io.carecontext.services.platform.TenantRepository;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Consumes;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Status;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.json.JsonMapper;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/** Tenants: the platform operator creates and deletes them; tenant admins read and patch their own. */
@Controller("/admin/tenants")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TenantController {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(TenantController.class);

  private final TenantProvisioner provisioner;
  private final TenantRepository tenants;
  private final JsonMapper json;
  private final io.carecontext.ingest.EmbeddingWorker worker;
  private final io.carecontext.services.tenancy.ResearchIndexBuilds researchIndexes;
  private final AuditLog audit;
  private final TenantChange tenantChange;
  private final AdminAttempts attempts;
  private final io.carecontext.services.ops.EmbedWindows embedWindows;

  public TenantController(TenantProvisioner provisioner, TenantRepository tenants, JsonMapper json,
                          io.carecontext.ingest.EmbeddingWorker worker,
                          io.carecontext.services.tenancy.ResearchIndexBuilds researchIndexes,
                          AuditLog audit, TenantChange tenantChange, AdminAttempts attempts,
                          io.carecontext.services.ops.EmbedWindows embedWindows) {
    this.embedWindows = embedWindows;
    this.attempts = attempts;
    this.provisioner = provisioner;
    this.tenants = tenants;
    this.json = json;
    this.worker = worker;
    this.researchIndexes = researchIndexes;
    this.audit = audit;
    this.tenantChange = tenantChange;
  }

  @Post
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = AdminDtos.CreateTenant.class)))
  public HttpResponse<AdminDtos.TenantView> create(@RequestAttribute(Caller.ATTRIBUTE) Caller caller,
                                                   @Nullable @Body byte[] raw, HttpRequest<?> request) {
    // the key first, then its body: a tenant key was told to fix its JSON, for a call it may not make at all
    attempts.requirePlatformOperator(caller, "admin-request", request);
    AdminDtos.CreateTenant body = AdminDtos.read(json, raw, AdminDtos.CreateTenant.class);
    if (body.id() == null || !TenantId.isValid(body.id())) {
      // a body without an id was told its id must match a pattern, as if one had been sent
      throw new ApiException(HttpStatus.BAD_REQUEST, "invalid_tenant_id", (body.id() == null ? "id is required: it"
          : "tenant id") + " must match ^[a-z][a-z0-9_]{1,30}$ (a lowercase letter, then 1 to 30 lowercase letters, "
          + "digits or underscores)");
    }
    // a blank name is refused as PATCH refuses it (it was taken as "use the id", which PATCH then refused)
    String name = body.name() == null ? body.id() : body.name().strip();
    if (name.isEmpty() || name.length() > 200) {
      throw ApiException.badRequest("tenant name must be 1 to 200 characters (leave it out to use the id)");
    }
    requirePrintable(name);
    Map<String, Object> asked = body.settingsObject();
    Map<String, Object> settings = TenantSettings.merge(Map.of(), asked == null ? Map.of() : asked);
    TenantId id = TenantId.of(body.id());
    requireGrantedSecrets(id, settings);
    if (asked != null && asked.containsKey("embedding")) {
      usableEmbeddingProvider(settings.get("embedding")); // refused here, as on PATCH, rather than failing every query later
    }
    var existing = activeRecord(id);
    if (existing.isPresent() && !existing.get().name().equals(name)) {
      throw ApiException.conflict("tenant_exists", "tenant '" + id + "' already exists with another name; "
          + "rename it with PATCH /admin/tenants/" + id + " {\"name\": …}, or choose another id");
    }
    if (existing.isPresent() && asked != null
        && !settings.equals(effectiveSettings(existing.get()))) {
      // A retry is idempotent; a create that asks for other settings than the tenant has is not a
      // retry, and is not silently ignored either.
      throw ApiException.conflict("tenant_exists", "tenant '" + id + "' already exists with other settings; "
          + "change them with PATCH /admin/tenants/" + id);
    }
    TenantProvisioner.Result result;
    try {
      result = provisioner.provision(id, name);
    } catch (RoleNameTakenException e) {
      // Not a retryable failure: the role names this tenant id makes are another installation's.
      throw ApiException.conflict("role_name_taken", e.getMessage());
    }
    if (result.created()) {
      Map<String, Object> defaults = TenantSettings.merge(Map.of(), Map.of());
      if (!settings.equals(defaults)) {
        change(caller, id, name, defaults, name, settings, true);
      }
      if (Boolean.TRUE.equals(settings.get("researchIndex"))) {
        researchIndexes.request(id, true);
      }
    }
    TenantRecord row = tenants.findById(id.value()).orElseThrow(ApiException::tenantNotFound);
    AdminDtos.TenantView view = view(row, result.millis());
    return result.created() ? HttpResponse.created(view) : HttpResponse.ok(view);
  }

  @Get
  public List<AdminDtos.TenantView> list(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, HttpRequest<?> request) {
    attempts.requirePlatformOperator(caller, "admin-request", request);
    return tenants.findByStatusOrderByTenantId("active").stream().map(r -> view(r, null)).toList();
  }

  /**
   * The tenant's configuration: who may read what (role policies, consent mode, care relationship), for
   * how long the trail is kept, which model endpoints receive its data. A read is recorded before the
   * answer (tenant-read, allowed), and a tenant key refused it, in its own tenant's trail: these reads
   * left no row, allowed or not.
   */
  @Get("/{tenant}")
  public AdminDtos.TenantView get(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                  HttpRequest<?> request) {
    TenantId id = attempts.requireTenantAdmin(caller, tenant, AuditEntry.TENANT_READ, request);
    TenantRecord row = active(id);
    audit.record(id, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), null, null,
        AuditEntry.TENANT_READ, AuditEntry.Decision.ALLOWED, "settings_read"));
    return view(row, null);
  }

  @Patch("/{tenant}")
  // RFC 7386's own media type, which merge-patch clients send, besides plain JSON
  @Consumes({MediaType.APPLICATION_JSON, "application/merge-patch+json"})
  @RequestBody(required = true, content = {
      @Content(mediaType = "application/json", schema = @Schema(implementation = AdminDtos.PatchTenant.class)),
      @Content(mediaType = "application/merge-patch+json", schema = @Schema(implementation = AdminDtos.PatchTenant.class))})
  public AdminDtos.TenantView patch(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                    HttpRequest<?> request, @Nullable @Body byte[] raw) {
    // the key first, recorded when refused, then its body: a key that may not change settings was
    // told to fix its body, and left no row
    TenantId id = attempts.requireTenantAdmin(caller, tenant, "tenant-settings", request);
    AdminDtos.PatchTenant body;
    try {
      body = AdminDtos.read(json, raw, AdminDtos.PatchTenant.class);
    } catch (ApiException e) {
      throw refusedChange(caller, id, request, "body_malformed", raw, e);
    }
    try {
      return patchChecked(caller, id, body, raw);
    } catch (ApiException e) {
      throw refusedChange(caller, id, request, "settings_invalid", raw, e);
    }
  }

  /**
   * A refused change of a tenant's settings (400: a body that cannot be read, a value out of range,
   * break-glass for a de-identified role, an unknown setting) is a security event: an attempt to turn
   * consent to opt-out, shorten retention or widen a role's policy that failed on a typo is what a
   * privacy officer reviews beside the changes that succeeded. They left no row. Recorded denied in the
   * path's tenant (while it is active) with {@code body_malformed} or {@code settings_invalid}, and in
   * {@code details.asked} the settings the body named that the platform knows (never a value, nor a name
   * it does not know: one named like a patient would be PHI in the trail); any other refusal as it was.
   */
  private ApiException refusedChange(Caller caller, TenantId id, HttpRequest<?> request, String reason,
                                     @Nullable byte[] raw, ApiException refusal) {
    if (refusal.status() == HttpStatus.BAD_REQUEST
        && activeRecord(id).isPresent()) {
      attempts.recordRefusedChange(caller, id, "tenant-settings", request, reason, asked(raw));
    }
    return refusal;
  }

  /** The known fields a PATCH body names, "name" and "settings.&lt;key&gt;", sorted; empty for one that is not JSON. */
  private List<String> asked(@Nullable byte[] raw) {
    Map<String, Object> members;
    try {
      members = raw == null ? Map.of() : json.readValue(raw, Argument.mapOf(String.class, Object.class));
    } catch (IOException | RuntimeException e) {
      return List.of();
    }
    if (members == null) {
      return List.of();
    }
    TreeSet<String> out = new TreeSet<>();
    if (members.containsKey("name")) {
      out.add("name");
    }
    if (members.get("settings") instanceof Map<?, ?> settings) {
      TenantSettings.defaults().keySet().stream().filter(settings::containsKey).forEach(k -> out.add("settings." + k));
    }
    return List.copyOf(out);
  }

  private AdminDtos.TenantView patchChecked(Caller caller, TenantId id, AdminDtos.PatchTenant body, byte[] raw) {
    refuseRemovingWhatCannotGo(raw);
    TenantRecord row = active(id);
    String name = body.name() == null ? row.name() : body.name().strip();
    if (name.isEmpty() || name.length() > 200) {
      throw ApiException.badRequest("tenant name must be 1 to 200 characters");
    }
    requirePrintable(name);
    Map<String, Object> before = effectiveSettings(row);
    Map<String, Object> asked = body.settingsObject();
    Map<String, Object> merged = TenantSettings.merge(read(row.settings()), asked == null ? Map.of() : asked);
    if (asked != null && (asked.containsKey("embedding") || asked.containsKey("llm"))) {
      requireGrantedSecrets(id, merged);
    }
    boolean newModel = !java.util.Objects.equals(before.get("embedding"), merged.get("embedding"));
    var model = newModel ? usableEmbeddingProvider(merged.get("embedding")) : null;
    if (!name.equals(row.name()) || !merged.equals(before)) {
      // settings stored beyond the platform's limits by an earlier version, which the database would refuse
      TenantSettings.requireWithinPlatformLimits(merged);
      // A PATCH that changes nothing (a retry, say) leaves updatedAt alone: it still says when the tenant last changed.
      change(caller, id, row.name(), before, name, merged, false);
    }
    if (!java.util.Objects.equals(before.get("researchIndex"), merged.get("researchIndex"))) {
      // Built in the background; GET /admin/tenants/{t}/ingest shows its state and progress.
      researchIndexes.request(id, Boolean.TRUE.equals(merged.get("researchIndex")));
    }
    if (newModel) {
      // Resumable: re-running it queues only resources whose chunks still carry another model.
      int due = worker.retryWithNewModel(id); // what waited out the old model's failures goes now
      int queued = worker.enqueueReembed(id, model.modelId(), model.dimensions());
      LOG.info("tenant {} changed its embedding model to {} ({} dimensions): {} resource(s) queued for re-embedding, "
          + "{} waiting after failures made due", id, model.modelId(), model.dimensions(), queued, due);
    }
    return view(active(id), null);
  }

  /**
   * In a merge patch null removes a member, but a tenant always has a name, and {@code "settings": null}
   * would reset every setting at once (consent mode, role policies, retention): both answered 200 and
   * changed nothing, so a client that meant them was told they were done.
   */
  private void refuseRemovingWhatCannotGo(byte[] raw) {
    Map<String, Object> members;
    try {
      members = json.readValue(raw, Argument.mapOf(String.class, Object.class));
    } catch (java.io.IOException e) {
      return; // read above already
    }
    if (members.containsKey("name") && members.get("name") == null) {
      throw ApiException.badRequest("\"name\": null would remove the tenant's name, which it must have: leave name "
          + "out to keep it, or send the new one");
    }
    if (members.containsKey("settings") && members.get("settings") == null) {
      throw ApiException.badRequest("\"settings\": null would reset every setting at once, which is not offered: "
          + "reset one with null for its key, e.g. {\"settings\": {\"consentMode\": null}}");
    }
  }

  /**
   * Who changed which settings is in the tenant's trail (policy, consent mode, care relationship and
   * retention decide who reads what, and for how long), written first, so no change takes effect
   * without its row. Names only, the values are in the tenant's configuration; and the digest of the
   * new name and settings, without which the database refuses the change (platform migration 5).
   */
  private void change(Caller caller, TenantId id, String nameBefore, Map<String, Object> before, String name,
                      Map<String, Object> after, boolean atCreation) {
    String settings = write(after);
    java.util.UUID row = audit.record(id, AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(),
            null, null, "tenant-settings", AuditEntry.Decision.ALLOWED, "settings_changed")
        .withDetail("changed", AuditEntry.jsonStrings(changed(nameBefore, name, before, after)))
        .withDetail("settingsDigest", "\"" + tenants.changeDigest(name, settings) + "\""));
    // with the break-glass windows the new role policies shorten or close, each audited, and the
    // Encounter links' follow-up and open encounters' bound, in one transaction
    int windows = tenantChange.commit(caller, id, name, settings,
        !Objects.equals(before.get("encounterFollowUpDays"), after.get("encounterFollowUpDays"))
            || !Objects.equals(before.get("openEncounterMaxDays"), after.get("openEncounterMaxDays")), row, atCreation)
        .size();
    if (windows > 0) {
      LOG.info("tenant {}: its new settings shortened or closed {} open break-glass window(s)", id, windows);
    }
  }

  /**
   * The fields a PATCH changed: "name", and each setting whose value differs, in a stable order; for
   * {@code rolePolicies}, each role's field that differs ({@code settings.rolePolicies.billing.kMax}): the row said
   * only {@code settings.rolePolicies}, whichever role's reads changed. Role and field names only, which the
   * settings' check allows from fixed lists; never a value.
   */
  static List<String> changed(String nameBefore, String nameAfter, Map<String, Object> before, Map<String, Object> after) {
    List<String> out = new ArrayList<>();
    if (!nameBefore.equals(nameAfter)) {
      out.add("name");
    }
    for (String k : differing(before, after)) {
      if (!"rolePolicies".equals(k)) {
        out.add("settings." + k);
        continue;
      }
      Map<?, ?> rolesBefore = asMap(before.get(k));
      Map<?, ?> rolesAfter = asMap(after.get(k));
      for (String role : differing(rolesBefore, rolesAfter)) {
        TreeSet<String> fields = differing(asMap(rolesBefore.get(role)), asMap(rolesAfter.get(role)));
        if (fields.isEmpty()) {
          out.add("settings.rolePolicies." + role); // not an object of fields (no check lets one in): named whole
        }
        fields.forEach(field -> out.add("settings.rolePolicies." + role + "." + field));
      }
    }
    return out;
  }

  /** The members whose values differ between {@code before} and {@code after}, in order. */
  private static TreeSet<String> differing(Map<?, ?> before, Map<?, ?> after) {
    TreeSet<String> keys = new TreeSet<>();
    before.keySet().forEach(k -> keys.add(String.valueOf(k)));
    after.keySet().forEach(k -> keys.add(String.valueOf(k)));
    keys.removeIf(k -> Objects.equals(before.get(k), after.get(k)));
    return keys;
  }

  private static Map<?, ?> asMap(Object value) {
    return value instanceof Map<?, ?> m ? m : Map.of();
  }

  @Delete("/{tenant}")
  @Status(HttpStatus.NO_CONTENT) // for the OpenAPI document: the answer is built with its status
  // no body: whatever Content-Type a client sets on every request (application/fhir+json, say) must
  // not refuse it; the route's default, JSON only, answered 415 "send application/fhir+json" to one that did
  @Consumes(MediaType.ALL)
  public HttpResponse<Void> delete(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                   HttpRequest<?> request) {
    // a tenant key is refused, and its attempt recorded in its own tenant's trail (an allowed offboarding
    // drops the trail with the schema: the platform's offboarding row records it)
    attempts.requirePlatformOperator(caller, tenant, "admin-request", request);
    if (!TenantId.isValid(tenant) || !provisioner.delete(TenantId.of(tenant), caller.principal())) {
      throw ApiException.tenantNotFound();
    }
    audit.forget(TenantId.of(tenant));
    embedWindows.forget(TenantId.of(tenant)); // its ingest status's rate window, kept for as long as the process ran
    return HttpResponse.noContent();
  }

  /**
   * The endpoints' secret variables must be granted to this tenant by the operator
   * ({@link io.carecontext.migrations.SecretNames}): the admin who names a variable also names the
   * host it is sent to.
   */
  private static void requireGrantedSecrets(TenantId id, Map<String, Object> settings) {
    try {
      if (settings.get("embedding") instanceof Map<?, ?> e) {
        io.carecontext.migrations.SecretNames.requireGrantedTo(id.value(), "settings.embedding", e);
        if (e.containsKey("baseUrl")) {
          // every chunk text of the tenant, identified, goes to that host
          io.carecontext.migrations.ModelHosts.requireApprovedFor(id.value(), "settings.embedding", e.get("baseUrl"));
        }
      }
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
    try {
      io.carecontext.retrieval.chat.LlmEndpoint.checkGrants(id.value(), settings.get("llm"));
    } catch (IllegalArgumentException e) {
      // named from settings, as every other refusal of a setting is: it said "llm.endpoints[0]…" alone
      throw ApiException.badRequest("settings." + e.getMessage());
    }
  }

  /** Builds the provider the setting names, so a bad setting is refused before it is stored. */
  @SuppressWarnings("unchecked")
  static io.carecontext.ingest.embedding.EmbeddingProvider usableEmbeddingProvider(Object setting) {
    try {
      var provider = io.carecontext.ingest.embedding.EmbeddingProviders.forSettings(
          setting instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of(),
          n -> java.util.Optional.ofNullable(System.getenv(n)));
      return provider;
    } catch (RuntimeException e) {
      throw ApiException.badRequest("settings.embedding is not usable: " + (e instanceof IllegalArgumentException
          ? withoutCallersText(e.getMessage()) : "check provider, baseUrl, model, dimensions and apiKeySecret"));
    }
  }

  /**
   * The embedding check's message, less what it quotes of the caller's setting: it named an unknown
   * provider's value and the unknown field names as sent, which could be any text (an MRN, a name).
   * What it says of the fields and providers the platform takes is kept.
   */
  static String withoutCallersText(String message) {
    if (message.startsWith("unknown embedding provider ")) {
      return "settings.embedding.provider is not one the platform knows; expected '"
          + io.carecontext.ingest.embedding.EmbeddingProviders.IN_PROCESS + "' or '"
          + io.carecontext.ingest.embedding.EmbeddingProviders.OPENAI_COMPATIBLE + "'";
    }
    int allowed = message.indexOf("; allowed: ");
    if (message.startsWith("unknown embedding settings ") && allowed > 0) {
      return "settings.embedding has an unknown field for its provider" + message.substring(allowed);
    }
    return message;
  }

  private TenantRecord active(TenantId id) {
    return activeRecord(id).orElseThrow(ApiException::tenantNotFound);
  }

  /** The tenant's row while it is active (not offboarded). */
  private Optional<TenantRecord> activeRecord(TenantId id) {
    return tenants.findById(id.value()).filter(r -> "active".equals(r.status()));
  }

  private AdminDtos.TenantView view(TenantRecord r, @Nullable Long millis) {
    Map<String, Object> settings = effectiveSettings(r);
    Map<String, Object> policies = new java.util.TreeMap<>(); // by name: the same order on every read
    io.carecontext.retrieval.TenantPolicy.fromSettings(settings).roles().forEach((role, p) -> policies.put(role,
        p.asSetting()));
    return new AdminDtos.TenantView(r.tenantId(), r.name(), r.status(), settings, r.createdAt(), r.updatedAt(), millis,
        policies);
  }

  /** The tenant's stored settings with the defaults filled in: what it shows, and what a retry must match. */
  private Map<String, Object> effectiveSettings(TenantRecord r) {
    return TenantSettings.merge(read(r.settings()), Map.of());
  }

  private Map<String, Object> read(String settings) {
    try {
      return settings == null ? Map.of() : json.readValue(settings, Argument.mapOf(String.class, Object.class));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private String write(Map<String, Object> settings) {
    try {
      return json.writeValueAsString(settings);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** PostgreSQL refuses a NUL in text (a 500 before), and no other control character belongs in a name. */
  private static void requirePrintable(String name) {
    if (name.chars().anyMatch(Character::isISOControl)) {
      throw ApiException.badRequest("tenant name must not hold control characters");
    }
    // a lone surrogate (JSON "\ud800" without its pair) is no character: it was stored as "?" and
    // answered 200, the tenant renamed to what nobody sent
    if (!java.nio.charset.StandardCharsets.UTF_8.newEncoder().canEncode(name)) {
      throw ApiException.badRequest("tenant name must be valid Unicode text: a \\uD800 to \\uDFFF escape must be "
          + "one half of a surrogate pair");
    }
  }
}
