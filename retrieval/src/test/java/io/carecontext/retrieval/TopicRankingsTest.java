package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How the rankings of a question's vector and its topics' vectors become one list of k chunks. */
class TopicRankingsTest {

  static ContextChunk chunk(long id, float... vector) {
    return new ContextChunk(id, "t" + id, "Observation/o" + id, 0, "clinical", List.of(), null, vector);
  }

  @Test
  void rankingsAreTakenInTurnsWithoutRepeatsThenScoredAgainstTheQuestion() {
    List<ContextChunk> question = List.of(chunk(1, 1, 0), chunk(2, 0.9f, 0.1f), chunk(3, 0.8f, 0.2f), chunk(4, 0.7f, 0.3f));
    List<ContextChunk> topic = List.of(chunk(9, 0, 1), chunk(1, 1, 0), chunk(8, 0.1f, 0.9f));
    List<ContextChunk> chosen = ContextService.inTurns(List.of(question, topic), new float[] {1, 0}, 4);
    assertThat(chosen).extracting(ContextChunk::chunkId).containsExactly(1L, 2L, 3L, 9L);
    assertThat(chosen.get(0).score()).isEqualTo(1.0, org.assertj.core.data.Offset.offset(1e-9));
    assertThat(chosen.get(3).score()).isEqualTo(0.0, org.assertj.core.data.Offset.offset(1e-9));
    // fewer chunks than k: all of them, once
    assertThat(ContextService.inTurns(List.of(List.of(chunk(1, 1, 0)), List.of(chunk(1, 1, 0))), new float[] {1, 0}, 5))
        .hasSize(1);
  }
}
