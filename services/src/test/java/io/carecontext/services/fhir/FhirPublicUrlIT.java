package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Behind an ingress that serves the API under a path prefix (CARECONTEXT_PUBLIC_URL with a path), a write's
 * Location was the path alone ({@code /fhir/hosp/…}), which a client resolves outside the prefix, while the
 * CapabilityStatement named the prefix. It is now the public URL's, as the statement's base is.
 */
class FhirPublicUrlIT {

  private static final String FHIR = "application/fhir+json";
  private static final String PUBLIC = "https://carecontext.example.org/ehr";
  private static TestServer app;
  private static String ehr;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_PUBLIC_URL", PUBLIC + "/"));
    ehr = app.tenantWithKey("hosp", "feed", "[\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void aWritesLocationIsUnderThePublicUrlLikeTheCapabilityStatement() {
    assertThat(app.call("GET", "/fhir/hosp/metadata", null, null, FHIR).body())
        .contains("\"url\":\"" + PUBLIC + "/fhir/hosp\"");
    HttpResponse<String> put = app.call("PUT", "/fhir/hosp/Patient/pu-1", ehr,
        "{\"resourceType\":\"Patient\",\"id\":\"pu-1\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"pu-77\"}]}", FHIR);
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    assertThat(put.headers().firstValue("Location")).contains(PUBLIC + "/fhir/hosp/Patient/pu-1/_history/1");
    // a conditional create that finds the resource answers with its Location too
    HttpResponse<String> again = app.call("POST", "/fhir/hosp/Patient", ehr, "{\"resourceType\":\"Patient\"}", FHIR,
        Map.of("If-None-Exist", "identifier=urn:mrn|pu-77"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("Location")).contains(PUBLIC + "/fhir/hosp/Patient/pu-1/_history/1");
    // and the Location, read under the prefix the ingress strips, is the version
    String path = put.headers().firstValue("Location").orElseThrow().substring(PUBLIC.length());
    HttpResponse<String> read = app.call("GET", path, ehr, null, FHIR);
    assertThat(read.statusCode()).as(read.body()).isEqualTo(200);
    assertThat(read.headers().firstValue("ETag")).contains("W/\"1\"");
  }
}
