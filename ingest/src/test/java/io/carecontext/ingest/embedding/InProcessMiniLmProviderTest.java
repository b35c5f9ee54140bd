package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs the real quantized model (loads in well under a second, no network). */
class InProcessMiniLmProviderTest extends EmbeddingProviderContract {

  private static final InProcessMiniLmProvider PROVIDER = new InProcessMiniLmProvider();

  @Override
  protected EmbeddingProvider provider() {
    return PROVIDER;
  }

  @Test
  void isMiniLmWith384Dimensions() {
    assertThat(PROVIDER.modelId()).isEqualTo("all-minilm-l6-v2-q");
    assertThat(PROVIDER.embedAll(List.of("hypertension")).get(0)).hasSize(384);
  }

  @Test
  void relatedClinicalTextsAreCloserThanUnrelatedOnes() {
    List<float[]> v = PROVIDER.embedAll(List.of(
        "The patient has high blood pressure.",
        "Hypertension was diagnosed last year.",
        "The invoice was sent to the billing address."));
    assertThat(cosine(v.get(0), v.get(1))).isGreaterThan(cosine(v.get(0), v.get(2)) + 0.2);
  }

  private static double cosine(float[] a, float[] b) {
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += a[i] * b[i];
      na += a[i] * a[i];
      nb += b[i] * b[i];
    }
    return dot / Math.sqrt(na * nb);
  }
}
