package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseException;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;

class ApiErrorProcessorTest {

  private final ApiErrorProcessor processor = new ApiErrorProcessor(52_428_800);

  private MutableHttpResponse<Object> failed(String path, Throwable cause) {
    return processor.processResponse(ErrorContext.builder(HttpRequest.GET(path)).cause(cause).build(),
        HttpResponse.serverError());
  }

  @Test
  void theServersOwn413OnImportSaysToSplitTheFileAsTheAnnouncedOneDoes() {
    // a chunked body has no Content-Length for RefusedRequests to refuse up front: the server's own 413
    // comes here, and told an $import client to "split a Bundle" it never sent
    MutableHttpResponse<Object> r = processor.processResponse(ErrorContext.builder(
        HttpRequest.POST("/fhir/acme/$import", "")).build(), HttpResponse.status(HttpStatus.REQUEST_ENTITY_TOO_LARGE));
    assertThat(r.code()).isEqualTo(413);
    assertThat(r.getBody().orElseThrow().toString()).contains("OperationOutcome").contains("split the NDJSON file")
        .contains("52428800");
    MutableHttpResponse<Object> bundle = processor.processResponse(ErrorContext.builder(
        HttpRequest.POST("/fhir/acme", "")).build(), HttpResponse.status(HttpStatus.REQUEST_ENTITY_TOO_LARGE));
    assertThat(bundle.getBody().orElseThrow().toString()).contains("split a Bundle");
  }

  @Test
  void anExportAskedForAsJsonIsToldToAskForNdjson() {
    // "ask for application/json" to a client that had asked for it, on the one path that answers NDJSON
    MutableHttpResponse<Object> r = processor.processResponse(ErrorContext.builder(
        HttpRequest.GET("/v1/acme/audit/export").accept(io.micronaut.http.MediaType.APPLICATION_JSON_TYPE)).build(),
        HttpResponse.status(HttpStatus.NOT_ACCEPTABLE));
    assertThat(r.code()).isEqualTo(406);
    assertThat(r.getBody().orElseThrow()).isEqualTo(new ApiError("not_acceptable",
        "the audit export is FHIR AuditEvent NDJSON: ask for application/fhir+ndjson (or send no Accept header)"));
    MutableHttpResponse<Object> verify = processor.processResponse(ErrorContext.builder(
        HttpRequest.GET("/v1/acme/audit/verify")).build(), HttpResponse.status(HttpStatus.NOT_ACCEPTABLE));
    assertThat(verify.getBody().orElseThrow()).isEqualTo(new ApiError("not_acceptable",
        "the Accept header names no type this path answers: send Accept: application/json (or none)"));
  }

  @Test
  void anUnreachableDatabaseIsA503WithRetryAfterNotA500() {
    // HikariCP's "connection is not available" after its timeout, with the driver's refusal as SQLSTATE
    MutableHttpResponse<Object> r = failed("/v1/acme/audit", new DatabaseException("reading the API key failed (08001)",
        new SQLTransientConnectionException("app - Connection is not available, request timed out", "08001")));
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.header("Retry-After")).isEqualTo("5");
    assertThat(r.getBody().orElseThrow()).isEqualTo(new ApiError("unavailable",
        "the service cannot reach its database or is not ready: retry later; nothing was stored or returned"));
    MutableHttpResponse<Object> fhir = failed("/fhir/acme/Patient/p1", new SQLException("shutting down", "57P01"));
    assertThat(fhir.code()).isEqualTo(503);
    assertThat(fhir.getBody().orElseThrow().toString()).contains("OperationOutcome").contains("\"transient\"");
  }

  @Test
  void aKeyStoreThatDoesNotAnswerIsA503ToRetryNotA500() {
    RuntimeException e = new IllegalStateException("wrapped", new io.carecontext.migrations.crypto.KeyProviderException(
        "could not unwrap a data key in PKCS#11 slot 7 of /usr/lib/hsm.so (ProviderException: CKR_DEVICE_ERROR)"));
    MutableHttpResponse<Object> r = failed("/v1/acme/patients/p1/context", e);
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.header("Retry-After")).isEqualTo("5");
    assertThat(r.getBody().orElseThrow()).isEqualTo(ApiErrorProcessor.KEY_UNAVAILABLE);
    assertThat(r.getBody().orElseThrow().toString()).doesNotContain("slot").doesNotContain("hsm.so");
  }

  @Test
  void aDataKeyUnderAKekThisProcessLacksIsA503ThatSaysSoWithoutTheKeysIds() {
    RuntimeException e = new IllegalStateException("wrapped", new io.carecontext.migrations.TenantKeys.KekNotHeldException(
        io.carecontext.migrations.TenantId.of("acme"), "local:00aa", "local:11bb"));
    MutableHttpResponse<Object> r = failed("/v1/acme/patients/p1/context", e);
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.header("Retry-After")).isEqualTo("5");
    assertThat(r.getBody().orElseThrow()).isEqualTo(ApiErrorProcessor.KEY_UNAVAILABLE);
    assertThat(r.getBody().orElseThrow().toString()).doesNotContain("local:"); // the operator's log names them
    MutableHttpResponse<Object> fhir = failed("/fhir/acme/Patient/p1", e);
    assertThat(fhir.code()).isEqualTo(503);
    assertThat(fhir.getBody().orElseThrow().toString()).contains("\"transient\"").contains("retry later");
  }

  @Test
  void theAuthenticationFiltersOwn503IsTheSameAnswer() {
    DatabaseException e = new DatabaseException("reading the API key failed (08001)",
        new SQLTransientConnectionException("app - Connection is not available, request timed out", "08001"));
    MutableHttpResponse<Object> thrown = failed("/v1/acme/audit", e);
    MutableHttpResponse<Object> answered = ApiErrorProcessor.unavailable("/v1/acme/audit");
    assertThat(answered.code()).isEqualTo(thrown.code());
    assertThat(answered.header("Retry-After")).isEqualTo(thrown.header("Retry-After"));
    assertThat(answered.getBody()).isEqualTo(thrown.getBody());
    MutableHttpResponse<Object> fhir = ApiErrorProcessor.unavailable("/fhir/acme/Patient/p1");
    assertThat(fhir.getBody()).isEqualTo(failed("/fhir/acme/Patient/p1", e).getBody());
    assertThat(fhir.header("Content-Type")).isEqualTo("application/fhir+json");
  }

  @Test
  void aFhirPathWithoutThatMethodOrRouteSaysWhatTheEndpointDoes() {
    // A search (GET /fhir/acme/Patient) met "this path does not accept that method", which left a
    // FHIR client guessing whether it had the path, the method or the server wrong.
    MutableHttpResponse<Object> search = processor.processResponse(
        ErrorContext.builder(HttpRequest.GET("/fhir/acme/Patient")).build(), HttpResponse.status(HttpStatus.METHOD_NOT_ALLOWED));
    assertThat(search.getBody().orElseThrow().toString()).contains("OperationOutcome").contains("\"not-supported\"")
        .contains("search, history, PATCH and other operations are not supported").contains("/metadata");
    MutableHttpResponse<Object> history = processor.processResponse(
        ErrorContext.builder(HttpRequest.GET("/fhir/acme/Patient/p1/_history")).build(), HttpResponse.notFound());
    // a history read says that history is what is not supported, and where a version is read
    assertThat(history.getBody().orElseThrow().toString()).contains("\"not-found\"")
        .contains("the history interaction (…/_history) is not supported").contains("/_history/{vid}")
        .doesNotContain("p1");
    assertThat(processor.processResponse(ErrorContext.builder(HttpRequest.GET("/fhir/acme/Patient/p1/x")).build(),
        HttpResponse.notFound()).getBody().orElseThrow().toString()).contains("no such FHIR path");
    // elsewhere the answer is the plain one, which says where the allowed methods are (it said only
    // "this path does not accept that method")
    assertThat(processor.processResponse(ErrorContext.builder(HttpRequest.GET("/v1/acme/audit/x")).build(),
        HttpResponse.status(HttpStatus.METHOD_NOT_ALLOWED)).getBody().orElseThrow())
        .isEqualTo(new ApiError("method_not_allowed", "this path does not accept that method: the Allow header "
            + "names those it does (/openapi.yml describes each path)"));
  }

  @Test
  void anyOtherDatabaseFailureStaysA500() {
    MutableHttpResponse<Object> r = failed("/v1/acme/audit",
        new DatabaseException("listing failed", new SQLException("syntax error", "42601")));
    assertThat(r.code()).isEqualTo(500);
    assertThat(r.header("Retry-After")).isNull();
    assertThat(failed("/v1/acme/audit", new IllegalStateException("bug")).code()).isEqualTo(500);
  }
}
