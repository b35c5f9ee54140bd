package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class BatchingEmbedderTest {

  private static List<String> texts(int n) {
    List<String> texts = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      texts.add("note " + i);
    }
    return texts;
  }

  @Test
  void preservesOrderAcrossBatchesAndThreads() {
    DeterministicProvider fake = new DeterministicProvider(2, t -> false);
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, new BatchingConfig(7, 4, 4))) {
      List<String> input = texts(200);
      List<float[]> vectors = embedder.embedAll(input);

      assertThat(vectors).hasSize(200);
      for (int i = 0; i < input.size(); i++) {
        EmbeddingProviderContract.assertClose(vectors.get(i),
            FakeOpenAiServer.vectorFor(input.get(i), DeterministicProvider.DIMENSIONS));
      }
      assertThat(fake.batchSizes).allSatisfy(size -> assertThat(size).isBetween(1, 7));
      assertThat(fake.batchSizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(200);
    }
  }

  @Test
  void usesDefaultBatchesOf32() {
    assertThat(BatchingConfig.defaults().batchSize()).isEqualTo(32);
    DeterministicProvider fake = new DeterministicProvider();
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, BatchingConfig.defaults())) {
      embedder.embedAll(texts(70));
    }
    assertThat(fake.batchSizes).containsExactlyInAnyOrder(32, 32, 6);
  }

  @Test
  void aSmallCallIsSplitOverEveryThread() {
    DeterministicProvider fake = new DeterministicProvider();
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, new BatchingConfig(32, 2, 8))) {
      assertThat(embedder.embedAll(texts(21))).hasSize(21);
      assertThat(fake.batchSizes).containsExactlyInAnyOrder(11, 10);
      fake.batchSizes.clear();
      embedder.embedAll(texts(1));
      assertThat(fake.batchSizes).containsExactly(1);
    }
  }

  @Test
  void neverRunsMoreThanItsThreadsPlusTheCallers() throws Exception {
    DeterministicProvider fake = new DeterministicProvider(5, t -> false);
    int callers = 4;
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, new BatchingConfig(2, 3, 2))) {
      ExecutorService clients = Executors.newFixedThreadPool(callers);
      try {
        List<Future<List<float[]>>> results = new ArrayList<>();
        for (int c = 0; c < callers; c++) {
          results.add(clients.submit(() -> embedder.embedAll(texts(60))));
        }
        for (Future<List<float[]>> result : results) {
          assertThat(result.get()).hasSize(60);
        }
      } finally {
        clients.shutdownNow();
      }
    }
    long poolThreads = fake.threads.stream().filter(name -> name.startsWith("embedding-")).count();
    assertThat(poolThreads).isLessThanOrEqualTo(3);
    assertThat(fake.peak.get()).isLessThanOrEqualTo(3 + callers);
  }

  @Test
  void aFailingBatchFailsTheCallWithoutTheTexts() {
    DeterministicProvider fake = new DeterministicProvider(0, t -> t.contains("Jane"));
    List<String> input = texts(50);
    input.set(37, EmbeddingProviderContract.PHI_TEXT);
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, new BatchingConfig(10, 2, 2))) {
      assertThatThrownBy(() -> embedder.embedAll(input))
          .isInstanceOf(EmbeddingException.class)
          .hasMessageContaining("batch 4 of 5")
          .hasMessageContaining("IllegalStateException")
          .satisfies(e -> {
            String all = OpenAiCompatibleEmbeddingProviderTest.fullText(e);
            assertThat(all).doesNotContain("Jane").doesNotContain("biktarvy");
            assertThat(e.getCause().getStackTrace()).as("stack trace kept for debugging").isNotEmpty();
          });
    }
  }

  @Test
  void emptyInputMakesNoCalls() {
    DeterministicProvider fake = new DeterministicProvider();
    try (BatchingEmbedder embedder = new BatchingEmbedder(fake, BatchingConfig.defaults())) {
      assertThat(embedder.embedAll(List.of())).isEmpty();
    }
    assertThat(fake.batchSizes).isEmpty();
  }

  @Test
  void closedEmbedderRefusesWork() {
    BatchingEmbedder embedder = new BatchingEmbedder(new DeterministicProvider(), BatchingConfig.defaults());
    embedder.close();
    assertThatThrownBy(() -> embedder.embedAll(texts(3)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  @Test
  void constructionStartsNoThreads() {
    DeterministicProvider fake = new DeterministicProvider();
    // Compared as sets: a closed embedder of an earlier test may still have a thread on its way out.
    Set<Thread> before = embeddingThreads();
    BatchingEmbedder embedder = new BatchingEmbedder(fake, new BatchingConfig(1, 4, 4));
    Set<Thread> started = embeddingThreads();
    started.removeAll(before);
    embedder.close();
    assertThat(started).isEmpty();
  }

  private static Set<Thread> embeddingThreads() {
    return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().startsWith("embedding-"))
        .collect(Collectors.toCollection(HashSet::new));
  }

  @Test
  void rejectsInvalidConfig() {
    assertThatThrownBy(() -> new BatchingConfig(0, 1, 1)).hasMessageContaining("batchSize");
    assertThatThrownBy(() -> new BatchingConfig(1, 0, 1)).hasMessageContaining("threads");
    assertThatThrownBy(() -> new BatchingConfig(1, 1, 0)).hasMessageContaining("queueCapacity");
  }
}
