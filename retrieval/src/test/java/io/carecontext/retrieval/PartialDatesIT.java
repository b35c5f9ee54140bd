package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A date written as a year or a month (FHIR allows both) comes back from the store as written. It
 * was stored as a day and returned as the context's date, and led the chat source, as its first day:
 * a diabetes with onset "2019" read 2019-01-01, an immunization given "2017-09" read 2017-09-01.
 */
class PartialDatesIT {

  static ReadPathTenant chart;
  static Requester clinician;

  @BeforeAll
  static void setUp() {
    chart = new ReadPathTenant("partial");
    clinician = chart.requester("dr-lee", "clinician", "pr-1");
    chart.patientInCare("pa", "");
    chart.put("""
        {"resourceType":"Condition","id":"dm","subject":{"reference":"Patient/pa"},"code":{"text":"Type 2 diabetes"},
         "onsetDateTime":"2019"}""");
    chart.put("""
        {"resourceType":"Immunization","id":"ppsv","status":"completed","patient":{"reference":"Patient/pa"},
         "vaccineCode":{"text":"Pneumococcal vaccine PPSV23"},"occurrenceDateTime":"2017-09"}""");
    chart.put("""
        {"resourceType":"Immunization","id":"flu","status":"completed","patient":{"reference":"Patient/pa"},
         "vaccineCode":{"text":"Influenza vaccine"},"occurrenceDateTime":"2023-10-12T09:30:00-07:00"}""");
    chart.drain();
  }

  @AfterAll
  static void tearDown() {
    chart.close();
  }

  @Test
  void aYearOrMonthComesBackAsWrittenAndADayAsADay() {
    Map<String, String> dates = chart.service.context(chart.tenant, TenantPolicy.fromSettings(Map.of("consentMode", "opt-in")),
            clinician, "pa", new ContextQuery("diabetes vaccines", ReadPathTenant.embed("diabetes vaccines"),
                20, "TREAT", null), "context")
        .chunks().stream().filter(c -> c.effectiveDate() != null)
        .collect(Collectors.toMap(ContextChunk::resource, c -> c.effectiveDate().asWritten(), (a, b) -> a));
    assertThat(dates).containsEntry("Condition/dm", "2019").containsEntry("Immunization/ppsv", "2017-09")
        .containsEntry("Immunization/flu", "2023-10-12");
  }
}
