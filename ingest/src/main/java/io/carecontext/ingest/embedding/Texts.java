package io.carecontext.ingest.embedding;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** Input checks and output conversion shared by the providers; errors carry indexes, never text. */
final class Texts {

  private Texts() {
  }

  static void requireValid(List<String> texts) {
    Objects.requireNonNull(texts, "texts");
    for (int i = 0; i < texts.size(); i++) {
      String text = texts.get(i);
      if (text == null || text.isBlank()) {
        throw new IllegalArgumentException("text at index " + i + " is null or blank");
      }
    }
  }

  static List<TextSegment> segments(List<String> texts) {
    List<TextSegment> segments = new ArrayList<>(texts.size());
    for (String text : texts) {
      segments.add(TextSegment.from(text));
    }
    return segments;
  }

  /** Verifies count, dimension and finite elements so a misbehaving model cannot misalign vectors and chunks. */
  static List<float[]> vectors(List<Embedding> embeddings, int expectedCount, int dimensions,
      String modelId) {
    if (embeddings == null || embeddings.size() != expectedCount) {
      throw new EmbeddingException("model '" + modelId + "' returned "
          + (embeddings == null ? "no" : embeddings.size()) + " vectors for " + expectedCount + " texts");
    }
    List<float[]> vectors = new ArrayList<>(expectedCount);
    for (Embedding embedding : embeddings) {
      float[] vector = embedding.vector();
      if (vector.length != dimensions) {
        throw EmbeddingException.wrongSize("model '" + modelId + "' returned a " + vector.length
            + "-dimensional vector; " + dimensions + " dimensions are configured", vector.length, dimensions);
      }
      for (int i = 0; i < vector.length; i++) {
        if (!Float.isFinite(vector[i])) {
          // NaN, or a number too large for a float: the database refuses such a vector, and a
          // question's would rank every chunk alike
          throw new EmbeddingException("model '" + modelId + "' returned a vector whose element " + i
              + " is not a finite number");
        }
      }
      vectors.add(vector);
    }
    return vectors;
  }
}
