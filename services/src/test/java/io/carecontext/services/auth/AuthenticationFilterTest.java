package io.carecontext.services.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AuthenticationFilterTest {

  @Test
  void theAccessLogShowsRoutesWithTheirIdsReplaced() {
    assertThat(AuthenticationFilter.routeShape("/v1/acme/patients/MRN-0042/context"))
        .isEqualTo("/v1/acme/patients/{id}/context");
    assertThat(AuthenticationFilter.routeShape("/fhir/acme/Patient/MRN-0042/_history/3"))
        .isEqualTo("/fhir/acme/Patient/{id}/_history/{id}");
    assertThat(AuthenticationFilter.routeShape("/fhir/acme/$import")).isEqualTo("/fhir/acme/$import");
    assertThat(AuthenticationFilter.routeShape("/admin/tenants/acme/keys/k_12ab")).isEqualTo("/admin/tenants/acme/keys/{keyId}");
    assertThat(AuthenticationFilter.routeShape("/v1/acme/audit/verify")).isEqualTo("/v1/acme/audit/verify");
    assertThat(AuthenticationFilter.routeShape("/health")).isEqualTo("/health");
  }

  @Test
  void aMistypedPathDoesNotCarryAnIdentifierIntoTheLog() {
    // Unknown routes (404) are logged too; only the API's own words and the tenant are kept.
    assertThat(AuthenticationFilter.routeShape("/v1/acme/Patients/MRN-0042/context"))
        .isEqualTo("/v1/acme/{id}/{id}/context");
    assertThat(AuthenticationFilter.routeShape("/v1/acme/patient/Jane Doe")).isEqualTo("/v1/acme/{id}/{id}");
    assertThat(AuthenticationFilter.routeShape("/v1/Jane-Doe/patients")).isEqualTo("/v1/{id}/patients");
    assertThat(AuthenticationFilter.routeShape("/fhir/acme/patient/123-45-6789")).isEqualTo("/fhir/acme/{id}/{id}");
    // A capitalised word in the type's place is kept only when it is an R4 resource type.
    assertThat(AuthenticationFilter.routeShape("/fhir/acme/Smith/1")).isEqualTo("/fhir/acme/{id}/{id}");
    assertThat(AuthenticationFilter.routeShape("/health/Jane-Doe")).isEqualTo("/health/{id}");
    assertThat(AuthenticationFilter.routeShape("/health/readiness")).isEqualTo("/health/readiness");
  }
}
