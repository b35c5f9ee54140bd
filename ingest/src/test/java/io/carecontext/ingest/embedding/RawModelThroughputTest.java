package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

class RawModelThroughputTest {

  @Test
  void sentencesAreDeterministicShortAndVaried() {
    List<String> sentences = RawModelThroughput.clinicalSentences(500);
    assertThat(sentences).hasSize(500).isEqualTo(RawModelThroughput.clinicalSentences(500));
    assertThat(new HashSet<>(sentences)).hasSizeGreaterThan(450);
    assertThat(sentences).allSatisfy(s -> assertThat(s.length()).isBetween(40, 250));
  }

  @Test
  void measuresTextsPerSecondInBatches() {
    DeterministicProvider fake = new DeterministicProvider();
    double rate = RawModelThroughput.measure(fake, RawModelThroughput.clinicalSentences(100), 32);
    assertThat(rate).isPositive();
    // One untimed warm-up batch, then 32+32+32+4.
    assertThat(fake.batchSizes).containsExactly(32, 32, 32, 32, 4);
  }

  @Test
  void measuresAllCoresWithOneCallThatThePoolSplits() {
    DeterministicProvider fake = new DeterministicProvider();
    double rate = RawModelThroughput.measureAllCores(fake, RawModelThroughput.clinicalSentences(100));
    assertThat(rate).isPositive();
    // One untimed warm-up batch of 32, then everything at once for a BatchingEmbedder to split.
    assertThat(fake.batchSizes).containsExactly(32, 100);
  }
}
