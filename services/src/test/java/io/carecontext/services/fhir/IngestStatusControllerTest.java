package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestStatusControllerTest {

  @Test
  void theOperatorSeesWhatKindOfResourceIsParkedButNotWhichOne() {
    Map<String, Object> item = new LinkedHashMap<>();
    item.put("outboxId", 7L);
    item.put("resource", "Observation/MRN-0042-obs");
    item.put("attempts", 5);
    item.put("reason", "IllegalStateException");
    List<Map<String, Object>> shown = IngestStatusController.withoutResourceIds(List.of(item));
    assertThat(shown).hasSize(1);
    assertThat(shown.get(0)).containsEntry("resource", "Observation/{id}").containsEntry("attempts", 5)
        .containsEntry("reason", "IllegalStateException").containsEntry("outboxId", 7L);
    assertThat(item).containsEntry("resource", "Observation/MRN-0042-obs"); // the tenant admin's view is untouched
  }

  /** Each figure only when known: a client reads an absent field as "not known", never a 0 that means done. */
  @Test
  void theProgressFieldsAreGivenOnlyWhenKnown() {
    io.carecontext.services.ops.EmbedProgress window = new io.carecontext.services.ops.EmbedProgress();
    Map<String, Object> first = new LinkedHashMap<>();
    IngestStatusController.putProgress(first, window.add(0, 0, 1_000, 0));
    assertThat(first).isEmpty();
    Map<String, Object> later = new LinkedHashMap<>();
    IngestStatusController.putProgress(later, window.add(3_000_000_000L, 700, 300, 0));
    assertThat(later).containsEntry("embeddedPerSecond", 233.3).containsEntry("rateWindowSeconds", 3.0)
        .containsEntry("etaSeconds", 1L).containsKey("lastProgressAt");
    assertThat(java.time.Instant.parse((String) later.get("lastProgressAt"))).isBeforeOrEqualTo(java.time.Instant.now());
    Map<String, Object> retrying = new LinkedHashMap<>();
    IngestStatusController.putProgress(retrying, window.add(4_000_000_000L, 1_000, 5, 5));
    assertThat(retrying).containsKey("embeddedPerSecond").doesNotContainKey("etaSeconds");
  }

  /** While the endpoint is paused nothing moves: the window's progress from before the pause is not shown as a rate. */
  @Test
  void aPausedEndpointShowsNoRateAndNoTimeLeft() {
    io.carecontext.services.ops.EmbedProgress window = new io.carecontext.services.ops.EmbedProgress();
    window.add(0, 0, 1_000, 0);
    Map<String, Object> paused = new LinkedHashMap<>();
    IngestStatusController.putProgress(paused, window.add(3_000_000_000L, 700, 300, 64).paused());
    assertThat(paused).containsOnlyKeys("lastProgressAt");
    Map<String, Object> after = new LinkedHashMap<>();
    IngestStatusController.putProgress(after, window.add(4_000_000_000L, 800, 200, 0));
    assertThat(after).containsKeys("embeddedPerSecond", "etaSeconds");
  }
}
