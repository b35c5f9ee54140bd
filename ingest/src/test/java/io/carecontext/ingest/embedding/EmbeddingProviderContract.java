package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The behaviour every {@link EmbeddingProvider} must have; implementations extend this class. */
public abstract class EmbeddingProviderContract {

  static final String PHI_TEXT = "Jane Doe, MRN 0042, has HIV and takes biktarvy";

  private static final List<String> TEXTS = List.of(
      "Patient reports chest pain radiating to the left arm.",
      "Blood pressure 150/95 mmHg, heart rate 88 bpm.",
      "Started metformin 500 mg twice daily.",
      "No known drug allergies.",
      "Follow up in two weeks with repeat HbA1c.");

  private static final float TOLERANCE = 1e-5f;

  protected abstract EmbeddingProvider provider();

  @Test
  void modelIdAndDimensionsAreStable() {
    EmbeddingProvider provider = provider();
    assertThat(provider.modelId()).isNotBlank().isEqualTo(provider().modelId());
    assertThat(provider.dimensions()).isPositive();
  }

  @Test
  void everyVectorHasTheDeclaredDimensions() {
    EmbeddingProvider provider = provider();
    List<float[]> vectors = provider.embedAll(TEXTS);
    assertThat(vectors).hasSize(TEXTS.size());
    assertThat(vectors).allSatisfy(v -> assertThat(v).hasSize(provider.dimensions()));
  }

  @Test
  void vectorsComeBackInInputOrder() {
    List<float[]> forward = provider().embedAll(TEXTS);
    List<String> reversedTexts = new ArrayList<>(TEXTS);
    java.util.Collections.reverse(reversedTexts);

    List<float[]> backward = provider().embedAll(reversedTexts);

    for (int i = 0; i < TEXTS.size(); i++) {
      assertClose(backward.get(TEXTS.size() - 1 - i), forward.get(i));
    }
    assertThat(Arrays.equals(forward.get(0), forward.get(1))).as("distinct texts, distinct vectors").isFalse();
  }

  @Test
  void sameTextGivesTheSameVector() {
    List<float[]> vectors = provider().embedAll(List.of(TEXTS.get(0), TEXTS.get(1), TEXTS.get(0)));
    assertClose(vectors.get(2), vectors.get(0));
    assertClose(provider().embedAll(List.of(TEXTS.get(0))).get(0), vectors.get(0));
  }

  @Test
  void emptyInputGivesEmptyOutput() {
    assertThat(provider().embedAll(List.of())).isEmpty();
  }

  @Test
  void batchEqualsOneByOne() {
    List<float[]> batch = provider().embedAll(TEXTS);
    for (int i = 0; i < TEXTS.size(); i++) {
      assertClose(provider().embedAll(List.of(TEXTS.get(i))).get(0), batch.get(i));
    }
  }

  @Test
  void blankTextIsRejectedWithoutEchoingTheOthers() {
    assertThatThrownBy(() -> provider().embedAll(List.of(PHI_TEXT, " ")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("index 1")
        .message().doesNotContain("Jane");
  }

  static void assertClose(float[] actual, float[] expected) {
    assertThat(actual).hasSameSizeAs(expected);
    for (int i = 0; i < expected.length; i++) {
      assertThat(actual[i]).as("component %d", i).isCloseTo(expected[i], org.assertj.core.data.Offset.offset(TOLERANCE));
    }
  }
}
