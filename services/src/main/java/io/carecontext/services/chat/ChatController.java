package io.carecontext.services.chat;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.retrieval.chat.ChatOutcome;
import io.carecontext.retrieval.chat.ChatRefused;
import io.carecontext.retrieval.chat.ChatService;
import io.carecontext.retrieval.chat.LlmGateway;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.retrieval.DecisionResponses;
import io.carecontext.services.retrieval.PatientRequests;
import io.carecontext.services.http.ApiError;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.context.annotation.Factory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.RequestAttribute;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import io.micronaut.serde.annotation.Serdeable;
import io.swagger.v3.oas.annotations.media.Content;
import io.swagger.v3.oas.annotations.media.Schema;
import io.swagger.v3.oas.annotations.parameters.RequestBody;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * {@code POST /v1/{tenant}/patients/{patientId}/chat}: a de-identified prompt out, a filtered answer back.
 * A role served de-identified only (researcher) sends a research subject code as {@code patientId}.
 */
@Controller("/v1/{tenant}/patients/{patientId}")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ChatController {

  private final ChatService chat;
  private final TenantDirectory tenants;
  private final io.carecontext.services.ops.Metrics metrics;
  private final PatientRequests requests;

  public ChatController(ChatService chat, TenantDirectory tenants,
                        io.carecontext.services.ops.Metrics metrics, PatientRequests requests) {
    this.chat = chat;
    this.tenants = tenants;
    this.metrics = metrics;
    this.requests = requests;
  }

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  public record ChatRequest(@Nullable String question, @Nullable String purposeOfUse, @Nullable String reason,
                            @Nullable Boolean dryRun, @Nullable Boolean reopen) {}

  /**
   * API.md's answer, citations, model and audit id; {@code prompt} for a dry run; {@code breakGlassUntil} under
   * ETREAT; {@code sources} (an extension): each citation's resource and clinical date, in the citations' order,
   * for a role that is re-identified (a de-identified role's citations are handles, and it gets none).
   */
  @Serdeable
  public record ChatResponse(@Nullable String answer, List<String> citations, @Nullable String model, String auditId,
                             @Nullable String prompt, @Nullable String breakGlassUntil,
                             @Nullable List<Source> sources, PatientRequests.@Nullable Pending pending) {}

  /** A cited resource and its clinical date as the record writes it (absent when it has none). */
  @Serdeable
  public record Source(String resource, @Nullable String date) {}

  @Post("/chat")
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = ChatRequest.class)))
  public HttpResponse<?> chat(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                              @PathVariable String patientId, @Nullable @Body byte[] raw,
                              io.micronaut.http.HttpRequest<?> request) {
    // Every row of a dry run says so, a refusal's before its body is read in full too: a refused dry run was
    // recorded chat, so an accounting by action counted it as a chat and missed it among the dry runs.
    String action = ChatService.action(asksForDryRun(raw));
    var opened = requests.open(caller, tenant, patientId, action, raw, ChatRequest.class, ChatRequest::purposeOfUse,
        !request.getParameters().isEmpty());
    ChatRequest body = opened.body();
    TenantId t = opened.tenant();
    requests.requireQuestion(caller, t, patientId, action, body.purposeOfUse(), "question", body.question(), null);
    long start = System.nanoTime();
    Map<String, Object> settings = tenants.settings(caller, t);
    // embedded only once the key is within its rate limit and every policy check passed
    Supplier<float[]> vector = () -> requests.embedQuestion(caller, t, patientId, action, body.purposeOfUse(),
        settings, body.question());
    Requester who = caller.requester();
    try {
      ChatOutcome o = chat.chat(t, settings, who, patientId, body.question(), vector, requests.questionModel(settings),
          topic -> requests.embedTopic(t, settings, topic), body.purposeOfUse(), body.reason(),
          Boolean.TRUE.equals(body.reopen()), Boolean.TRUE.equals(body.dryRun()));
      metrics.decision(t.value(), "chat", "allowed", "allowed", Duration.ofNanos(System.nanoTime() - start));
      metrics.llmTokens(t.value(), "prompt", o.promptTokens());
      metrics.llmTokens(t.value(), "output", o.outputTokens());
      return HttpResponse.ok(new ChatResponse(o.answer(), o.citations(), o.model(), o.auditId().toString(),
          o.dryRunPrompt(), o.breakGlassUntil() == null ? null : o.breakGlassUntil().toString(),
          o.sources() == null ? null : o.sources().stream().map(s -> new Source(s.resource(), s.date())).toList(),
          PatientRequests.Pending.of(o.pending())));
    } catch (AccessDenied d) {
      metrics.decision(t.value(), "chat", "denied", d.reason(), Duration.ofNanos(System.nanoTime() - start));
      return DecisionResponses.denied(d);
    } catch (ChatRefused c) {
      // the retrieval was allowed (and audited); the model exchange was not made or failed
      metrics.decision(t.value(), "chat", "refused", c.code(), Duration.ofNanos(System.nanoTime() - start));
      var r = HttpResponse.<ApiError>status(HttpStatus.valueOf(c.status())).body(new ApiError(c.code(), c.getMessage()));
      // 429 token_budget_exhausted (to midnight UTC) and 503 model_busy (the endpoint's own word)
      return c.retryAfter() > 0 ? r.header("Retry-After", Long.toString(c.retryAfter())) : r;
    } catch (DatabaseException e) {
      metrics.auditWriteFailure(t.value());
      return DecisionResponses.notAudited(e);
    }
  }

  /**
   * Whether the body says {@code "dryRun": true} at its top, read before the body is checked, so that a body
   * refused for another field is recorded under the action it asked for. A body that cannot be read that far
   * (not JSON, not an object) asked for no dry run anyone can tell: {@code chat}. A {@code dryRun} that is not
   * {@code true} is no dry run (and the body is refused for it).
   */
  static boolean asksForDryRun(@Nullable byte[] raw) {
    if (raw == null || raw.length == 0) {
      return false;
    }
    boolean dryRun = false;
    try (com.fasterxml.jackson.core.JsonParser p = DRY_RUN_PEEK.createParser(raw)) {
      if (p.nextToken() != com.fasterxml.jackson.core.JsonToken.START_OBJECT) {
        return false;
      }
      while (p.nextToken() == com.fasterxml.jackson.core.JsonToken.FIELD_NAME) {
        String name = p.currentName();
        com.fasterxml.jackson.core.JsonToken value = p.nextToken();
        if ("dryRun".equals(name)) {
          dryRun = value == com.fasterxml.jackson.core.JsonToken.VALUE_TRUE;
        }
        p.skipChildren();
      }
    } catch (java.io.IOException e) {
      // broken after its dryRun: the request still asked for one, and is refused as a dry run
    }
    return dryRun;
  }

  private static final com.fasterxml.jackson.core.JsonFactory DRY_RUN_PEEK = new com.fasterxml.jackson.core.JsonFactory();

  @Factory
  static class Beans {
    @Singleton
    ChatService chatService(ContextService context, AuditLog audit, TenantTransactions tx, TenantKeys keys) {
      return new ChatService(context, new LlmGateway(tx), audit, tx, keys);
    }
  }
}
