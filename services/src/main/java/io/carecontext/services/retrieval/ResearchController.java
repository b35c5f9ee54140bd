package io.carecontext.services.retrieval;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.research.ResearchService;
import io.carecontext.services.auth.Caller;
import io.carecontext.services.ops.Metrics;
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
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * {@code POST /v1/{tenant}/research/search}: de-identified chunks across every patient whose
 * consent permits research, for roles that receive de-identified data only (researcher).
 */
@Controller("/v1/{tenant}/research")
@ExecuteOn(TaskExecutors.BLOCKING)
public class ResearchController {

  private final ResearchService service;
  private final TenantDirectory tenants;
  private final Metrics metrics;
  private final PatientRequests requests;

  public ResearchController(ResearchService service, TenantDirectory tenants,
                            Metrics metrics, PatientRequests requests) {
    this.service = service;
    this.tenants = tenants;
    this.metrics = metrics;
    this.requests = requests;
  }

  @Serdeable
  @JsonIgnoreProperties(ignoreUnknown = false)
  public record SearchRequest(
      @Schema(description = "what to look for, 1 to 4,000 characters; de-identified on its own before it is embedded")
      @Nullable String query,
      @Schema(description = "how many chunks, 1 to 100 (default 10); more than the role's kMax (10 for researcher) is "
          + "served with kMax at most, and the answer's warnings says so", minimum = "1", maximum = "100")
      @Nullable Integer k,
      @Schema(description = "HRESCH, the only purpose research search takes", example = "HRESCH")
      @Nullable String purposeOfUse) {}

  /**
   * One chunk; {@code subject} is the patient's research subject code (the same in every search),
   * which a researcher's chat names the patient by.
   */
  @Serdeable
  public record Chunk(String subject, String resourceType, String category, String text, double score) {}

  /**
   * {@code complete} is false when some of the tenant's newest chunks (written since the research sweep
   * last ran, or of a patient whose identifiers changed) have no research embedding yet and were not
   * searched: one boolean about the whole tenant. {@code warnings}: that the request's k was cut to the role's limit.
   */
  @Serdeable
  public record SearchResponse(List<Chunk> chunks, boolean complete, String auditId, @Nullable List<String> warnings) {}

  @Post("/search")
  @RequestBody(required = true, content = @Content(mediaType = "application/json",
      schema = @Schema(implementation = SearchRequest.class)))
  public HttpResponse<?> search(@RequestAttribute(Caller.ATTRIBUTE) Caller caller, @PathVariable String tenant,
                                @Nullable @Body byte[] raw, io.micronaut.http.HttpRequest<?> request) {
    var opened = requests.open(caller, tenant, null, "research", raw, SearchRequest.class,
        SearchRequest::purposeOfUse, !request.getParameters().isEmpty());
    SearchRequest body = opened.body();
    TenantId t = opened.tenant();
    requests.requireQuestion(caller, t, null, "research", body.purposeOfUse(), "query", body.query(), body.k());
    long start = System.nanoTime();
    Map<String, Object> settings = tenants.settings(caller, t);
    // embedded only once the key is within its rate limit and every policy check passed, and then the query
    // as the service de-identified it (text), never as typed
    Function<String, float[]> vector = text -> requests.embedQuestion(caller, t, null, "research", body.purposeOfUse(),
        settings, text);
    try {
      ResearchService.ResearchResult r = service.search(t, TenantPolicy.fromSettings(settings),
          caller.requester(), body.query(), vector, requests.questionModel(settings), body.k() == null ? 10 : body.k(),
          body.purposeOfUse());
      metrics.decision(t.value(), "research", "allowed", "allowed", Duration.ofNanos(System.nanoTime() - start));
      return HttpResponse.ok(new SearchResponse(r.chunks().stream()
          .map(c -> new Chunk(c.subject(), c.resourceType(), c.category(), c.text(), c.score())).toList(),
          r.complete(), r.auditId().toString(), PatientRequests.kWarnings(body.k(), r.kLimit())));
    } catch (AccessDenied d) {
      metrics.decision(t.value(), "research", "denied", d.reason(), Duration.ofNanos(System.nanoTime() - start));
      return DecisionResponses.denied(d);
    } catch (DatabaseException e) {
      metrics.auditWriteFailure(t.value());
      return DecisionResponses.notAudited(e);
    }
  }
}
