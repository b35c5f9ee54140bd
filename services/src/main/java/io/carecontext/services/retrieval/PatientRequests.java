package io.carecontext.services.retrieval;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.RefusalRows;
import io.carecontext.retrieval.audit.AuditEntry;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.research.ResearchSubjects;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.auth.OtherTenantAttempts;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.http.ApiErrorProcessor;
import io.carecontext.services.http.ApiException;
import io.carecontext.services.http.JsonBodies;
import io.carecontext.services.http.QueryInput;
import io.carecontext.services.ops.Metrics;
import io.carecontext.services.tenancy.TenantDirectory;
import io.carecontext.services.tenancy.TenantEmbeddings;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpStatus;
import io.micronaut.json.JsonMapper;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.UnaryOperator;

/**
 * The start every request on patient data shares (context, chat, research search): the body read
 * strictly, the path's tenant checked against the key's, and the question checked, with every
 * refusal on the way recorded in the caller's tenant's trail with its true reason. Before, a body
 * that could not be read, or that lacked its question, was answered 400 and left no row: an attempt
 * on a named patient that the auditor could not see.
 *
 * <p>Reasons recorded here: {@code body_malformed} (not JSON, not an object, content after the object,
 * a field of the wrong type, a field the body does not define), {@code query_missing}, {@code query_too_long},
 * {@code query_malformed} (a control character) and
 * {@code k_out_of_range}; and, once the rate limit and the policy let the request through,
 * {@code embedding_unavailable} (the tenant's model failed: 502). The answer is the same 400 as
 * before, naming the field, never its value; a key's refusals before the rate limit add at most
 * {@link io.carecontext.retrieval.RefusalRows#PER_MINUTE} rows a minute (the next row says
 * how many were left out, {@code unrecordedBefore});
 * each is counted in {@code carecontext_requests_total} as denied with that reason.
 */
@Singleton
public final class PatientRequests {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(PatientRequests.class);

  static final String NO_BODY = "send a JSON object with the documented fields (see /openapi.yml)";

  private final JsonMapper json;
  private final AuditLog audit;
  private final TenantDirectory tenants;
  private final Metrics metrics;
  private final TenantEmbeddings embeddings;
  /** For the patient a research subject code in the path stands for, which its refusals record beside it. */
  private final TenantTransactions tx;
  /** This path's attempts on another tenant's patients, bounded per key like its other refusals. */
  private final OtherTenantAttempts otherTenants;
  /** The audit-row budget of each key's refusals checked before the rate limit (bodies, questions, roles). */
  private final RefusalRows callerErrorRows = new RefusalRows();

  public PatientRequests(JsonMapper json, AuditLog audit, TenantDirectory tenants, Metrics metrics,
                         TenantEmbeddings embeddings, TenantTransactions tx) {
    this.json = json;
    this.tx = tx;
    this.audit = audit;
    this.tenants = tenants;
    this.metrics = metrics;
    this.embeddings = embeddings;
    this.otherTenants = new OtherTenantAttempts(audit, tenants);
  }

  /** A body read and its tenant checked: the body, and the caller's tenant, which is the path's. */
  public record Opened<T>(T body, TenantId tenant) {}

  /**
   * Reads the body as {@code type} and checks the path's tenant. A key of another tenant is
   * answered like an unknown tenant (404), the platform operator's key with 403, each recorded
   * ({@link OtherTenantAttempts}); a body that cannot be read is answered 400 and recorded as
   * {@code body_malformed} in the caller's tenant.
   */
  public <T> Opened<T> open(Caller caller, String pathTenant, @Nullable String patientId, String action,
                            @Nullable byte[] body, Class<T> type, Function<T, String> purpose) {
    return open(caller, pathTenant, patientId, action, body, type, purpose, false);
  }

  /**
   * As {@link #open(Caller, String, String, String, byte[], Class, Function)} for a request that
   * also carried query parameters ({@code hasParameters}): these paths take their fields in the body
   * only, and a parameter ({@code …/context?k=3}) was ignored while the request was served as if it
   * had not been sent. Refused like a body that cannot be read (400, audited {@code body_malformed}),
   * never naming the parameter, which is the caller's text.
   */
  public <T> Opened<T> open(Caller caller, String pathTenant, @Nullable String patientId, String action,
                            @Nullable byte[] body, Class<T> type, Function<T, String> purpose, boolean hasParameters) {
    T read = null;
    ApiException refusal = null;
    // the fields this body takes, named: "the documented fields" sent the caller to /openapi.yml to learn them
    String send = type.isRecord() ? "send a JSON object with the fields " + ApiErrorProcessor.fieldsOf(type)
        + " (see /openapi.yml)" : NO_BODY;
    try {
      read = JsonBodies.read(json, body, type).orElse(null);
      if (read == null) {
        refusal = ApiException.badRequest("the request has no body: " + send);
      }
    } catch (JsonBodies.BodyFault e) {
      refusal = ApiException.badRequest(e.fault() + ": " + send);
    } catch (IOException e) {
      refusal = ApiException.badRequest(ApiErrorProcessor.badField(e, type).map(ApiError::message)
          .orElse("the request body is not valid JSON or not an object: " + send));
    }
    if (refusal == null && hasParameters) {
      refusal = ApiException.badRequest("this endpoint takes no query parameters (nothing after '?'): " + send);
    }
    otherTenants.refuse(caller, pathTenant, read == null ? null : purpose.apply(read), action, patientId);
    TenantId tenant = caller.requirePatientDataTenant(pathTenant);
    if (refusal != null) {
      ApiException answer = roleFirst(caller, tenant, action, refusal);
      throw refused(caller, tenant, patientId, null, action,
          answer.status() == HttpStatus.FORBIDDEN ? ROLE_NOT_ALLOWED : "body_malformed", answer);
    }
    return new Opened<>(read, tenant);
  }

  /**
   * The question (1 to 4,000 characters) and k (1 to 100, when sent); a refusal is answered 400 and
   * recorded with its reason.
   */
  public void requireQuestion(Caller caller, TenantId tenant, @Nullable String patientId, String action,
                              @Nullable String purpose, String field, @Nullable String text, @Nullable Integer k) {
    QueryInput.check(field, text, k).ifPresent(r -> {
      ApiException answer = roleFirst(caller, tenant, action, ApiException.badRequest(r.message()));
      throw refused(caller, tenant, patientId, purpose, action, answer.status() == HttpStatus.FORBIDDEN ? ROLE_NOT_ALLOWED
          : r.reason(), answer);
    });
  }

  /**
   * The question embedded by the tenant's model. A model that fails (its endpoint down or refusing,
   * its secret not granted) is answered 502 {@code embedding_unavailable} and recorded with that
   * reason, naming the failure's kind only: it was a 500 that left no row. An endpoint that answered 429
   * or 503 with {@code Retry-After} is answered 503 {@code model_busy} with that Retry-After (at most an
   * hour), recorded with the same reason.
   *
   * <p>The controllers hand this to the services as a supplier, called once the key is within its
   * rate limit and its request passed every policy check, so a refused request costs no model call.
   */
  public float[] embedQuestion(Caller caller, TenantId tenant, @Nullable String patientId, String action,
                               @Nullable String purpose, Map<String, Object> settings, String text) {
    try {
      return embeddings.embedQuery(tenant, settings, text);
    } catch (RuntimeException e) {
      // the class only: a client library's message can quote what it sent
      LOG.warn("tenant {}: the embedding model failed on a {} question ({})", tenant, action, e.getClass().getName());
      long busy = e instanceof io.carecontext.ingest.embedding.EmbeddingException ee ? ee.retryAfterSeconds() : -1;
      if (busy >= 0) {
        // 429 or 503 with Retry-After: the endpoint said when to come back, and the caller is told so, as
        // the chat model's endpoint does (model_busy); it was a 502 "retry later" that left the caller to guess
        long wait = Math.max(1, Math.min(io.carecontext.ingest.embedding.EmbeddingException.MAX_RETRY_AFTER_SECONDS,
            busy));
        throw refused(caller, tenant, patientId, purpose, action, "embedding_unavailable",
            new ApiException(HttpStatus.SERVICE_UNAVAILABLE, "model_busy", "the tenant's embedding model endpoint is "
                + "busy (" + ((io.carecontext.ingest.embedding.EmbeddingException) e).kind() + ") and asked to be "
                + "called again in " + wait + " s; nothing was retrieved: send the request again after Retry-After "
                + "seconds", wait));
      }
      throw refused(caller, tenant, patientId, purpose, action, "embedding_unavailable",
          new ApiException(HttpStatus.BAD_GATEWAY, "embedding_unavailable", "the tenant's embedding model could not "
              + "embed the question (" + (e instanceof io.carecontext.ingest.embedding.EmbeddingException ee ? ee.kind()
              : e.getClass().getSimpleName()) + "); nothing was retrieved. Retry later; if it goes on, a tenant "
              + "admin should check settings.embedding and the endpoint it names"));
    }
  }

  /**
   * The answer's {@code pending} (an extension of API.md): how many of the patient's resources this key could read
   * once embedded are written but not embedded yet, so the answer may lack them. Absent when there are none.
   */
  @io.micronaut.serde.annotation.Serdeable
  public record Pending(int resources) {
    public static @Nullable Pending of(int resources) {
      return resources > 0 ? new Pending(resources) : null;
    }
  }

  /**
   * The answer's warning when the caller's {@code k} was over what its role's policy allows one request, and the
   * request was served with that limit instead: a caller that asked for 50 and got 20 could not tell a cut from a
   * record of 20 chunks. Null when nothing was cut (the answer then carries no {@code warnings}).
   */
  public static @Nullable List<String> kWarnings(@Nullable Integer asked, int limit) {
    if (asked == null || asked <= limit) {
      return null;
    }
    return List.of("k " + asked + " is over the " + limit + " chunks this key's role may have in one request (the "
        + "tenant's policy for the role): at most " + limit + " were returned");
  }

  /** The id of the model {@link #embedQuestion} embeds with: the search compares only chunks of it. */
  public @Nullable String questionModel(Map<String, Object> settings) {
    return embeddings.modelId(settings);
  }

  /**
   * One topic of a chat question embedded, for measuring the retrieved sources against it. Not a
   * refusal when it fails (the question itself was embedded, the retrieval done and audited): the
   * failure is logged and thrown, and chat falls back to the whole question's cut-off.
   */
  public float[] embedTopic(TenantId tenant, Map<String, Object> settings, String text) {
    try {
      return embeddings.embedQuery(tenant, settings, text);
    } catch (RuntimeException e) {
      LOG.warn("tenant {}: the embedding model failed on a chat question's topic ({})", tenant, e.getClass().getName());
      throw e;
    }
  }

  static final String ROLE_NOT_ALLOWED = "role_not_allowed";

  /**
   * {@code bodyRefusal}, unless the key's roles may read no patient data at all (tenant-admin, auditor,
   * ehr-integration): then the 403 the services give such a key. It was told to fix its body first,
   * only to be refused for its role after. Read only on this refusal path, so an accepted request
   * reads the tenant's settings once, as before.
   */
  private ApiException roleFirst(Caller caller, TenantId tenant, String action, ApiException bodyRefusal) {
    io.carecontext.retrieval.TenantPolicy policy = io.carecontext.retrieval.TenantPolicy.fromSettings(
        tenants.settings(caller, tenant));
    if (!policy.readsNothing(caller.requester().roles())) {
      return bodyRefusal;
    }
    return ApiException.forbidden("research".equals(action) ? io.carecontext.retrieval.research.ResearchService.ROLE_REFUSED
        : io.carecontext.retrieval.ContextService.ROLE_REFUSED);
  }

  private ApiException refused(Caller caller, TenantId tenant, @Nullable String patientId, @Nullable String purpose,
                               String action, String reason, ApiException answer) {
    AuditEntry row = AuditEntry.of(caller.principal(), caller.keyId(), caller.requester().roles(), patientId,
        purpose, action, AuditEntry.Decision.DENIED, reason);
    // A research subject code in the path is recorded with the patient it stands for beside it, as the rows
    // of its allowed requests are: these rows named the code alone, and the patient's accounting of
    // disclosures missed them (resolved only for a row that is written).
    UnaryOperator<AuditEntry> subject = patientId == null ? e -> e
        : e -> ResearchSubjects.recordedFor(tx, tenant, caller.requester(), patientId,
            e);
    if ("embedding_unavailable".equals(reason)) {
      audit.record(tenant, subject.apply(row)); // past the rate limit: bounded by it
    } else {
      // checked before the rate limit: a key sending bad bodies in a loop is bounded here, as its 429s are
      // (RefusalRows.PER_MINUTE); past the budget it is still refused and counted
      callerErrorRows.row(caller.keyId(), row).ifPresent(due -> audit.record(tenant, subject.apply(due)));
    }
    // a dry run's refusal is counted with chat's, as its decision is (carecontext_requests_total's actions are
    // context, chat and research); its row says chat-dry-run
    metrics.refusal(tenant.value(), "chat-dry-run".equals(action) ? "chat" : action, reason);
    return answer;
  }

}
