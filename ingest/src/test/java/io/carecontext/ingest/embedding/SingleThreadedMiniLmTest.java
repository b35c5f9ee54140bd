package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Our session options change how the model is scheduled, never what it computes. */
class SingleThreadedMiniLmTest {

  @Test
  void vectorsAreBitForBitThoseOfLangChain4jsDefaultSession() {
    EmbeddingModel ours = new SingleThreadedMiniLm();
    EmbeddingModel theirs = new AllMiniLmL6V2QuantizedEmbeddingModel(Runnable::run);
    List<TextSegment> texts = List.of(
        TextSegment.from("recent HbA1c trend"),
        TextSegment.from("Hypertension was diagnosed last year; continue lisinopril 10 mg daily."),
        // Longer than the encoder's 510-token window, so it is split and the parts averaged.
        TextSegment.from("The patient reports intermittent chest pain on exertion. ".repeat(80)));

    var a = ours.embedAll(texts).content();
    var b = theirs.embedAll(texts).content();

    for (int i = 0; i < texts.size(); i++) {
      assertThat(a.get(i).vector()).as("text %d", i).containsExactly(b.get(i).vector());
    }
  }
}
