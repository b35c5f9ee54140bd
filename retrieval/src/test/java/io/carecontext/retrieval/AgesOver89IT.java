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
import io.carecontext.retrieval.research.ResearchService;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Research results are de-identified (Safe Harbor): ages over 89, and the year of birth that shows
 * one, stand only as "90 or older". The Patient chunk says "born 1931" and notes say "a 94-year-old";
 * the de-identifier cut dates to the year and left both as they were.
 */
class AgesOver89IT {

  static TestPlatform platform;
  static TenantId tenant;
  static ResearchService research;
  static Requester researcher;
  static final EmbeddingProvider MODEL = new InProcessMiniLmProvider();
  static final Map<String, Object> SETTINGS = Map.of("consentMode", "opt-in",
      "rolePolicies", Map.of("researcher", Map.of("kMax", 100,
          "categories", List.of("demographic", "clinical", "lab", "medication", "note"))));
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(SETTINGS);
  static final int BORN = LocalDate.now(ZoneOffset.UTC).getYear() - 95;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("elders");
    platform.storeSettings(tenant, SETTINGS); // the database bounds research by the stored role policies
    FhirWriter feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    TestPlatform.TestKey key = platform.issueKey(tenant, "res", List.of("researcher"), null);
    researcher = new Requester("res", key.keyId(), List.of("researcher"), null, key.secretHashHex());
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    for (String json : List.of(
        "{\"resourceType\":\"Patient\",\"id\":\"p-old\",\"gender\":\"female\",\"birthDate\":\"" + BORN + "-03-04\"}",
        """
        {"resourceType":"Consent","id":"c-old","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/p-old"},
         "provision":{"type":"permit"}}""",
        """
        {"resourceType":"DocumentReference","id":"d-old","status":"current","subject":{"reference":"Patient/p-old"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%s"}}]}""".formatted(java.util.Base64.getEncoder()
            .encodeToString("A 95-year-old woman reports dizziness; at age 95 she lives alone.".getBytes())))) {
      store.put(tenant, feed, Fhir.parseResource(json));
    }
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
    // research ranks on research embeddings (tenant migration 64), made for a tenant with research on by
    // its build, which research waits for (tenant migration 66)
    var embeddings = new io.carecontext.retrieval.research.ResearchEmbeddings(platform.tx, platform.keys);
    embeddings.turnOn(tenant);
    embeddings.build(tenant, MODEL.modelId(), MODEL.dimensions(), MODEL::embedAll);
    research = new ResearchService(platform.tx, platform.keys, new AuditLog(platform.tx, platform.keys));
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static List<String> texts(String query) {
    return research.search(tenant, POLICY, researcher, query, MODEL.embedAll(List.of(query)).get(0), 100, "HRESCH")
        .chunks().stream().map(c -> c.text()).toList();
  }

  @Test
  void anAgeOver89AndTheBirthYearThatShowsItAreOneCategory() {
    List<String> texts = texts("elderly woman born, dizziness, lives alone");
    assertThat(texts).hasSizeGreaterThanOrEqualTo(2);
    assertThat(texts).allSatisfy(t -> assertThat(t).doesNotContain(Integer.toString(BORN))
        .doesNotContain("95-year-old").doesNotContain("age 95"));
    assertThat(texts).anySatisfy(t -> assertThat(t).startsWith("Patient:").contains("90 or older"));
    assertThat(texts).anySatisfy(t -> assertThat(t).contains("dizziness").contains("90 or older"));
  }
}
