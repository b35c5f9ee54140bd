package io.carecontext.services.admin;

import io.carecontext.fhir.FhirId;
import io.carecontext.ingest.PatientErasure;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.FreeText;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.auth.AuthenticationFilter;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.http.ApiErrorProcessor;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.http.UnexpectedErrorHandler;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.json.JsonMapper;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.UnaryOperator;

/**
 * {@code POST /admin/tenants/{tenant}/patients/{patientId}/erase} {@code {"reason": "…"}}: erases one patient from
 * the tenant ({@link PatientErasure}), for a tenant-admin key of that tenant only. The platform operator manages
 * tenants and reads no patient data; removing a patient's record is the tenant's own decision (its privacy
 * officer's), so the operator key is refused as well (least privilege).
 *
 * <p>Answers 200 with what was removed, counted by kind, and the id of its {@code patient-erase} audit row, which
 * names the patient, the key and the counts, and keeps the reason encrypted (it is free text and may name the
 * patient), as a break-glass justification is kept. A patient the tenant holds nothing of answers 200 with zero
 * counts (a retry of an erasure whose answer was lost is not an error), and is recorded alike. Refusals are
 * recorded denied with their reason: {@code role_not_allowed}, {@code other_tenant} and {@code tenant_miscased}
 * as on the other admin paths ({@link AdminAttempts}), {@code platform_operator},
 * {@code patient_id_invalid}, {@code body_malformed}, {@code reason_missing}, {@code reason_too_long},
 * {@code reason_malformed} and
 * {@code key_not_admitted} (a key the database no longer admits when the erasure runs); nothing is erased.
 */
@Controller("/admin/tenants/{tenant}/patients/{patientId}/erase")
@ExecuteOn(TaskExecutors.BLOCKING)
public class PatientErasureController {

  static final String ACTION = AuditEntry.PATIENT_ERASE;
  /** The longest reason kept: a sentence or two and a ticket number, not a document. */
  static final int MAX_REASON = 2000;

  private final PatientErasure erasure;
  private final AuditLog audit;
  private final AdminAttempts attempts;
  private final TenantDirectory tenants;
  private final JsonMapper json;

  public PatientErasureController(PatientErasure erasure, AuditLog audit, AdminAttempts attempts,
                                  TenantDirectory tenants, JsonMapper json) {
    this.erasure = erasure;
    this.audit = audit;
    this.attempts = attempts;
    this.tenants = tenants;
    this.json = json;
  }

  @Post
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = AdminDtos.ErasePatient.class)))
  public Map<String, Object> erase(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                   @PathVariable String patientId, HttpRequest<?> request,
                                   @Nullable @Body byte[] raw) {
    UnaryOperator<AuditEntry> naming = row -> row.withPatient(patientId);
    if (caller.platformAdmin()) {
      if (TenantId.isValid(tenant) && tenants.active(TenantId.of(tenant)).isPresent()) {
        attempts.recordRefusedChange(caller, TenantId.of(tenant), ACTION, request, "platform_operator", List.of(),
            naming);
      }
      throw ApiException.forbidden("a patient's erasure is the tenant's own decision: only a tenant-admin key of the "
          + "tenant may erase a patient; the platform operator key manages tenants");
    }
    TenantId id = attempts.requireTenantAdmin(caller, tenant, ACTION, request, naming);
    if (!FhirId.isValid(patientId)) {
      attempts.recordRefusedChange(caller, id, ACTION, request, "patient_id_invalid", List.of(), naming);
      throw new ApiException(HttpStatus.BAD_REQUEST, "invalid_patient_id",
          "the patient id in the path must be a FHIR id: " + FhirId.RULE);
    }
    String reason;
    try {
      AdminDtos.ErasePatient body = AdminDtos.read(json, raw, AdminDtos.ErasePatient.class);
      reason = body.reason() == null ? null : body.reason().strip();
    } catch (ApiException e) {
      attempts.recordRefusedChange(caller, id, ACTION, request, "body_malformed", List.of(), naming);
      throw e;
    }
    // no words (a zero-width space passed strip()) is no reason the privacy officer can read (FreeText)
    if (reason == null || !FreeText.hasWords(reason) || reason.length() > MAX_REASON) {
      attempts.recordRefusedChange(caller, id, ACTION, request,
          reason == null || !FreeText.hasWords(reason) ? "reason_missing" : "reason_too_long", List.of(), naming);
      throw ApiException.badRequest("an erasure needs {\"reason\": \"…\"}: why this patient's data is removed "
          + "(1 to " + MAX_REASON + " characters with a letter or digit; kept encrypted in the audit trail)");
    }
    if (FreeText.hasControlCharacter(reason)) {
      attempts.recordRefusedChange(caller, id, ACTION, request, "reason_malformed", List.of(), naming);
      throw ApiException.badRequest("the erasure's \"reason\" holds " + FreeText.CONTROL_CHARACTERS
          + ": send it as text");
    }
    AuditEntry row = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), patientId, null,
        ACTION, AuditEntry.Decision.ALLOWED, "erased").withJustification(reason);
    PatientErasure.Result<UUID> done;
    try {
      done = erasure.erase(id, PolicySettings.none().withCaller(caller.keyId(), caller.keySecretHash()), patientId,
          (c, t, counts) -> {
            AuditEntry counted = row;
            for (Map.Entry<String, Long> e : counts.entrySet()) {
              counted = counted.withDetail(e.getKey(), Long.toString(e.getValue()));
            }
            try {
              return audit.appendWithin(c, t, List.of(counted)).get(0);
            } catch (SQLException e) {
              throw new AuditLog.AuditUnavailableException(e);
            }
          });
    } catch (AuditLog.AuditUnavailableException e) {
      // the row could not be written, so the erasure rolled back with it (fail closed): nothing was erased, and the
      // caller retries, as a context query or a FHIR write that could not be audited answers (it was a bare 500)
      UnexpectedErrorHandler.logNotAudited(request.getAttribute(AuthenticationFilter.REQUEST_ID).orElse("-"), e);
      throw new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "unavailable", "the erasure could not be recorded in "
          + "the audit trail, so nothing was erased: retry later", Long.parseLong(ApiErrorProcessor.RETRY_AFTER_SECONDS));
    } catch (PatientErasure.NotAdmittedException e) {
      // the key was revoked or expired between its check and the transaction: nothing was erased, and the refusal is
      // recorded with its reason, as a FHIR write's is (it was answered and recorded nowhere)
      attempts.recordRefusedChange(caller, id, ACTION, request, "key_not_admitted", List.of(), naming);
      throw ApiException.forbidden("the database did not admit this key for the erasure (revoked or expired since "
          + "the request began?); nothing was erased: use a live tenant-admin key of the tenant");
    }
    Map<String, Object> answer = new LinkedHashMap<>();
    answer.put("tenant", id.value());
    answer.put("patient", patientId);
    answer.put("erased", done.counts());
    answer.put("auditId", done.auditId().toString());
    // what the privacy officer tells the patient stays: the answer gave the counts removed alone, and said nothing of
    // the trail, nor that the accounting can no longer be asked by MRN (the identifier keys went with the record)
    answer.put("retained", RETAINED);
    return answer;
  }

  /** What an erasure keeps, in every answer: names no patient (the answer's {@code patient} is the id to ask by). */
  static final String RETAINED = "the audit trail: every row that named this patient stays, this erasure's with them (the "
      + "accounting of disclosures, kept until the tenant's retention purge), and lists with GET /v1/{tenant}/audit?patient= "
      + "and this answer's patient id; not by patientIdentifier (an MRN): the patient's identifier keys were erased";
}
