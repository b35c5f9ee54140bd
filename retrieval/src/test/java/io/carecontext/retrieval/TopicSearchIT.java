package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A chat question about several things searches with each topic's vector too: a topic whose sources
 * the whole question ranks below its top k is still found. Before, chat searched with the question's
 * one vector, and the topics only re-scored what that search had found.
 */
class TopicSearchIT {

  static ReadPathTenant chart;
  static Requester clinician;
  static final TenantPolicy POLICY = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in"));

  @BeforeAll
  static void setUp() {
    chart = new ReadPathTenant("topics");
    clinician = chart.requester("dr-lee", "clinician", "pr-1");
    chart.patientInCare("pt", "");
    for (int i = 1; i <= 6; i++) {
      chart.put("""
          {"resourceType":"Observation","id":"k%1$d","status":"final","subject":{"reference":"Patient/pt"},
           "code":{"text":"Potassium serum"},"effectiveDateTime":"2024-0%1$d-01",
           "valueQuantity":{"value":4.%1$d,"unit":"mmol/L"}}""".formatted(i));
    }
    chart.put("""
        {"resourceType":"Procedure","id":"colo","status":"completed","subject":{"reference":"Patient/pt"},
         "code":{"text":"Colonoscopy"},"performedDateTime":"2023-05-02"}""");
    chart.drain();
  }

  @AfterAll
  static void tearDown() {
    chart.close();
  }

  static List<String> resources(String action, List<String> topics) {
    return chart.service.context(chart.tenant, POLICY, clinician, "pt",
            new ContextQuery("potassium and colonoscopy", () -> ReadPathTenant.embed("potassium serum"), 3, "TREAT", null,
                false, () -> topics.stream().map(ReadPathTenant::embed).toList()), action)
        .chunks().stream().map(ContextChunk::resource).toList();
  }

  @Test
  void aTopicRankedBelowTheTopKIsFoundByItsOwnSearch() {
    // the question's vector alone ranks the six potassium results first: the colonoscopy is not among 3
    assertThat(resources("chat", List.of())).hasSize(3).allMatch(r -> r.startsWith("Observation/"));
    List<String> withTopics = resources("chat", List.of("potassium serum", "colonoscopy"));
    assertThat(withTopics).hasSize(3).contains("Procedure/colo");
    // the context path searches with one vector whatever it is given
    assertThat(resources("context", List.of("potassium serum", "colonoscopy"))).doesNotContain("Procedure/colo");
  }
}
