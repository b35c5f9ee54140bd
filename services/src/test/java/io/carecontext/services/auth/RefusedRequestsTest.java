package io.carecontext.services.auth;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RefusedRequestsTest {

  @Test
  void aRefusedRequestIsRecordedUnderTheActionItWouldHaveBeenServedAs() {
    assertThat(RefusedRequests.action("POST", "/v1/acme/patients/p1/context")).isEqualTo("context");
    assertThat(RefusedRequests.action("GET", "/v1/acme/audit")).isEqualTo("audit-read");
    assertThat(RefusedRequests.action("GET", "/v1/acme/audit/verify")).isEqualTo("audit-verify");
    assertThat(RefusedRequests.action("GET", "/v1/acme/audit/export")).isEqualTo("audit-export");
    // a review refused before its controller (an expired key) was recorded as a read of the trail
    assertThat(RefusedRequests.action("POST", "/v1/acme/audit/0190c2a4-7b1e-7f3a-9c1d-2e4f6a8b0c1d/review"))
        .isEqualTo("break-glass-review");
    assertThat(RefusedRequests.action("GET", "/v1/acme/audit/0190c2a4-7b1e-7f3a-9c1d-2e4f6a8b0c1d"))
        .isEqualTo("audit-read");
  }
}
