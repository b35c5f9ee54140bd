package io.carecontext.services.retrieval;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.ContextQuery;
import io.carecontext.retrieval.ContextResult;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.tenancy.TenantDirectory;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
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
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/** {@code POST /v1/{tenant}/patients/{patientId}/context}: what this key may see of one patient. */
@Controller("/v1/{tenant}/patients/{patientId}")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ContextController {

  private final ContextService service;
  private final TenantDirectory tenants;
  private final PatientRequests requests;
  private final io.carecontext.services.ops.Metrics metrics;

  public ContextController(ContextService service, TenantDirectory tenants,
                           PatientRequests requests, io.carecontext.services.ops.Metrics metrics) {
    this.service = service;
    this.tenants = tenants;
    this.requests = requests;
    this.metrics = metrics;
  }

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  public record ContextRequest(@Nullable String query, @Nullable Integer k, @Nullable String purposeOfUse,
                               @Nullable String reason, @Nullable Boolean reopen) {}

  /**
   * One chunk: API.md's text, resource and score, and (an extension) the category the role's policy
   * admitted it under and its clinical date, ISO, when the resource has one: without the date a
   * caller could not read a trend ("recent HbA1c trend") from chunks that come in score order.
   */
  @Serdeable
  public record Chunk(String text, String resource, double score, String category, @Nullable String date) {}

  /**
   * API.md's chunks and audit id; under break-glass (an extension) {@code breakGlassUntil}, when the
   * window this request was served in closes: after it an ETREAT request is refused unless it asks to
   * reopen, and the caller learnt that only from the refusal. {@code warnings} (an extension): that the
   * request's k was cut to the role's limit. {@code pending} (an extension): resources of the patient the key could
   * read once embedded that the worker has not embedded yet.
   */
  @Serdeable
  public record ContextResponse(List<Chunk> chunks, String auditId, @Nullable String breakGlassUntil,
                                @Nullable List<String> warnings, PatientRequests.@Nullable Pending pending) {}

  @Post("/context")
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = ContextRequest.class)))
  public HttpResponse<?> context(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                 @PathVariable String patientId, @Nullable @Body byte[] raw,
                                 io.micronaut.http.HttpRequest<?> request) {
    var opened = requests.open(caller, tenant, patientId, "context", raw, ContextRequest.class,
        ContextRequest::purposeOfUse, !request.getParameters().isEmpty());
    ContextRequest body = opened.body();
    TenantId t = opened.tenant();
    requests.requireQuestion(caller, t, patientId, "context", body.purposeOfUse(), "query", body.query(), body.k());
    long start = System.nanoTime();
    Map<String, Object> settings = tenants.settings(caller, t);
    TenantPolicy policy = TenantPolicy.fromSettings(settings);
    // embedded only once the key is within its rate limit and every policy check passed
    Supplier<float[]> vector = () -> requests.embedQuestion(caller, t, patientId, "context", body.purposeOfUse(),
        settings, body.query());
    try {
      ContextResult r = service.context(t, policy, caller.requester(), patientId,
          new ContextQuery(body.query(), vector, body.k() == null ? 8 : body.k(), body.purposeOfUse(), body.reason(),
              Boolean.TRUE.equals(body.reopen())).withModel(requests.questionModel(settings)),
          "context");
      metrics.decision(t.value(), "context", "allowed", "allowed", java.time.Duration.ofNanos(System.nanoTime() - start));
      return HttpResponse.ok(new ContextResponse(r.chunks().stream()
          .map(ch -> new Chunk(ch.text(), ch.resource(), Math.round(ch.score() * 1000) / 1000.0, ch.category(),
              ch.effectiveDate() == null ? null : ch.effectiveDate().asWritten())).toList(),
          r.auditId().toString(), r.breakGlassUntil() == null ? null : r.breakGlassUntil().toString(),
          PatientRequests.kWarnings(body.k(), r.kLimit()), PatientRequests.Pending.of(r.pending())));
    } catch (AccessDenied d) {
      metrics.decision(t.value(), "context", "denied", d.reason(), java.time.Duration.ofNanos(System.nanoTime() - start));
      return DecisionResponses.denied(d);
    } catch (DatabaseException e) {
      metrics.auditWriteFailure(t.value());
      return DecisionResponses.notAudited(e);
    }
  }
}
