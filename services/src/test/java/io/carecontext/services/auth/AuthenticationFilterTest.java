package io.carecontext.services.auth;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.retrieval.audit.AuditOrigin;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class AuthenticationFilterTest {

  @ParameterizedTest(name = "{0} is logged as {1}")
  @CsvSource({
      // The API's routes, their ids replaced.
      "/v1/acme/patients/MRN-0042/context, /v1/acme/patients/{id}/context",
      "/fhir/acme/Patient/MRN-0042/_history/3, /fhir/acme/Patient/{id}/_history/{id}",
      "/fhir/acme/$import, /fhir/acme/$import",
      "/admin/tenants/acme/keys/k_12ab, /admin/tenants/acme/keys/{keyId}",
      "/v1/acme/audit/verify, /v1/acme/audit/verify",
      // an auditor's review of a break-glass row (it was logged as /v1/acme/audit/{id}/{id})
      "/v1/acme/audit/0190c2a4-7b1e-7f3a-9c1d-2e4f6a8b0c1d/review, /v1/acme/audit/{id}/review",
      "/health, /health",
      "/health/readiness, /health/readiness",
      // the scrape of serve and worker (it was logged as /{id})
      "/metrics, /metrics",
      // the operator's list of offboardings (a tenant key's refused read was recorded as /admin/{id})
      "/admin/offboardings, /admin/offboardings",
      // Mistyped paths (404s are logged too): only the API's own words, the tenant and R4 types stay.
      "/v1/acme/Patients/MRN-0042/context, /v1/acme/{id}/{id}/context",
      "/v1/acme/patient/Jane Doe, /v1/acme/{id}/{id}",
      "/v1/Jane-Doe/patients, /v1/{id}/patients",
      "/fhir/acme/patient/123-45-6789, /fhir/acme/{id}/{id}",
      "/fhir/acme/Smith/1, /fhir/acme/{id}/{id}",
      "/health/Jane-Doe, /health/{id}",
      // The API description's static files as sent; any other path under their prefixes (a 404) is not.
      "/swagger-ui/index.html, /swagger-ui/index.html",
      "/swagger-ui/res/swagger-ui.css, /swagger-ui/res/swagger-ui.css",
      "/swagger/views/swagger-ui/index.html, /swagger/views/swagger-ui/index.html",
      "/swagger-ui/Jane Doe/MRN-0042, /swagger-ui/{file}",
      "/swagger-ui/MRN-0042, /swagger-ui/{file}",
      "/swagger/123-45-6789, /swagger/{file}",
      "/swagger-ui/../res/MRN-0042, /swagger-ui/{file}"})
  void theAccessLogShowsTheRouteWithoutIdentifiers(String path, String logged) {
    assertThat(AuthenticationFilter.routeShape(path)).isEqualTo(logged);
  }

  /** The operator's key belongs to no tenant: its lines name the tenant its path does (they said tenant=-). */
  @ParameterizedTest(name = "{0} names tenant {1}")
  @CsvSource({"/admin/tenants/acme/keys/k1, acme", "/admin/tenants/acme, acme", "/v1/acme/patients/p1/context, acme",
      "/fhir/acme/Patient/p1, acme", "/admin/tenants, -", "/admin/tenants/Jane Doe, -", "/health, -", "/v1, -"})
  void theOperatorsLinesNameThePathsTenant(String path, String tenant) {
    assertThat(AuthenticationFilter.pathTenant(path)).isEqualTo(tenant);
  }

  /** Every path the router serves as /metrics is guarded as /metrics (a trailing slash opened it to tenant keys). */
  @Test
  void theMetricsPathIsKnownWithATrailingSlashToo() {
    for (String path : new String[] {"/metrics", "/metrics/", "/metrics//"}) {
      assertThat(AuthenticationFilter.isMetrics(path)).as(path).isTrue();
      assertThat(AuthenticationFilter.servedByWorker(path)).as(path).isTrue();
    }
    for (String path : new String[] {"/metric", "/metricsx", "/metrics/x", "/", "/v1/metrics", "/Metrics"}) {
      assertThat(AuthenticationFilter.isMetrics(path)).as(path).isFalse();
    }
  }

  @Test
  void aRequestIdThatCouldBeAnIdentifierIsNotKept() {
    // a feed's correlation id built from a name and birth date was logged with every line
    for (String kept : new String[] {"3f2b8c1e-9d4a-4e6b-8f1a-2c3d4e5f6a7b", "01ARZ3NDEKTSV4RRFFQ69G5FAV",
        "0123456789abcdef0123456789abcdef"}) {
      assertThat(AuditOrigin.ISSUED_REQUEST_ID.matcher(kept).matches()).as(kept).isTrue();
    }
    for (String replaced : new String[] {"Zebulon_Quixotefield_1947-03-19", "QXMu20-nokey-Zebulon", "MRN12345",
        "1234567", "ZebulonQuixotefieldAbcdefg"}) {
      assertThat(AuditOrigin.ISSUED_REQUEST_ID.matcher(replaced).matches()).as(replaced).isFalse();
    }
  }

}
