package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;

/**
 * Whoever scrapes /metrics is not an auditor: the reasons behind the one identical 404 are counted as one, so a
 * counter that moved for one request cannot tell which it was. A researcher's unknown subject code was counted
 * apart from its code of a patient without consent, which the 404 itself does not tell apart.
 */
class MetricsTest {

  @Test
  void everyReasonBehindTheIdentical404IsCountedAsOne() {
    for (String reason : new String[] {"unknown_patient", "no_care_relationship", "no_consent", "consent_denied",
        "patient_label_not_readable", "research_subject_unknown"}) {
      assertThat(Metrics.reasonLabel(reason)).as(reason).isEqualTo("patient_not_found");
    }
  }

  @Test
  void reasonsTheCallerIsToldKeepTheirOwnLabel() {
    assertThat(Metrics.reasonLabel("purpose_not_allowed")).isEqualTo("purpose_not_allowed");
    assertThat(Metrics.reasonLabel("break_glass_expired")).isEqualTo("break_glass_expired");
  }

  @Test
  void theLastCompleteSealIsATimestampInSecondsAsPrometheusNamesOne() {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Metrics.sealLastComplete(registry, 1_796_668_969L, Long::doubleValue);
    String scrape = registry.scrape();
    assertThat(scrape).contains("# TYPE carecontext_audit_seal_last_complete_timestamp_seconds gauge")
        .contains("carecontext_audit_seal_last_complete_timestamp_seconds 1.796668969E9");
  }
}
