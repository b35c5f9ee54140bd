package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteAudit;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.retrieval.audit.AuditLog;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
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

  static TestPlatform platform;
  static TenantId tenant;
  static FhirStore store;
  static FhirWriter feed;
  static ContextService service;
  static Requester clinician;
  static final EmbeddingProvider MODEL = new InProcessMiniLmProvider();

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("partial");
    feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    store = new FhirStore(platform.tx, platform.keys);
    TestPlatform.TestKey key = platform.issueKey(tenant, "dr-lee", List.of("clinician"), "pr-1");
    clinician = new Requester("dr-lee", key.keyId(), List.of("clinician"), "pr-1", key.secretHashHex());
    put("{\"resourceType\":\"Patient\",\"id\":\"pa\",\"gender\":\"female\"}");
    put("""
        {"resourceType":"Consent","id":"c-pa","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/pa"},"provision":{"type":"permit"}}""");
    put("""
        {"resourceType":"Encounter","id":"e-pa","status":"in-progress","class":{"code":"AMB"},
         "period":{"start":"%s"},"subject":{"reference":"Patient/pa"},
         "participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}""".formatted(LocalDate.now(ZoneOffset.UTC)));
    put("""
        {"resourceType":"Condition","id":"dm","subject":{"reference":"Patient/pa"},"code":{"text":"Type 2 diabetes"},
         "onsetDateTime":"2019"}""");
    put("""
        {"resourceType":"Immunization","id":"ppsv","status":"completed","patient":{"reference":"Patient/pa"},
         "vaccineCode":{"text":"Pneumococcal vaccine PPSV23"},"occurrenceDateTime":"2017-09"}""");
    put("""
        {"resourceType":"Immunization","id":"flu","status":"completed","patient":{"reference":"Patient/pa"},
         "vaccineCode":{"text":"Influenza vaccine"},"occurrenceDateTime":"2023-10-12T09:30:00-07:00"}""");
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    service = new ContextService(platform.tx, platform.keys, new AuditLog(platform.tx, platform.keys));
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static void put(String json) {
    store.put(tenant, feed, Fhir.parseResource(json));
  }

  @Test
  void aYearOrMonthComesBackAsWrittenAndADayAsADay() {
    Map<String, String> dates = service.context(tenant, TenantPolicy.fromSettings(Map.of("consentMode", "opt-in")),
            clinician, "pa", new ContextQuery("diabetes vaccines", MODEL.embedAll(List.of("diabetes vaccines")).get(0),
                20, "TREAT", null), "context")
        .chunks().stream().filter(c -> c.effectiveDate() != null)
        .collect(Collectors.toMap(ContextChunk::resource, c -> c.effectiveDate().asWritten(), (a, b) -> a));
    assertThat(dates).containsEntry("Condition/dm", "2019").containsEntry("Immunization/ppsv", "2017-09")
        .containsEntry("Immunization/flu", "2023-10-12");
  }
}
