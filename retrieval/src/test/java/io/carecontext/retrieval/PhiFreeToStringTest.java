package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.retrieval.audit.AuditFilter;
import io.carecontext.retrieval.chat.PromptBuilder;
import io.carecontext.retrieval.research.ResearchService;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the retrieval records print if anyone ever logs them: no text, no patient or resource id. */
class PhiFreeToStringTest {

  @Test
  void recordsThatCarryPatientDataPrintNoneOfIt() {
    var chunk = new ContextChunk(7, "Adaeze Okonkwo, HbA1c 7.4 %", "Observation/MRN-0042-obs", 0.83, "lab", List.of(),
        LocalDate.of(2024, 1, 1));
    var filter = new AuditFilter("MRN-0042", "dr-who", null, null, 10);
    var selection = new PromptBuilder.Selection(List.of("Adaeze Okonkwo, HbA1c 7.4 %"),
        Map.of("S1", "Observation/MRN-0042-obs"));
    var research = new ResearchService.ResearchChunk("subject-1", "Observation", "lab", "HbA1c 7.4 % in MRN-0042", 0.8,
        7);
    for (Object o : List.of(chunk, filter, selection, research)) {
      assertThat(o.toString()).as(o.getClass().getSimpleName()).doesNotContain("Okonkwo", "MRN-0042", "HbA1c");
    }
    assertThat(chunk.toString()).contains("Observation").contains("0.83");
    assertThat(filter.toString()).contains("patient given").contains("limit=10");
  }
}
