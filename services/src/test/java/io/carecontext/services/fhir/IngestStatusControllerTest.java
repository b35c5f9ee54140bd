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
}
