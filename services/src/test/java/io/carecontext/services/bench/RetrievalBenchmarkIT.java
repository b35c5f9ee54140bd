package io.carecontext.services.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.services.TestServer;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code bench retrieval}, the documented command, runs to its table at a tiny scale: every run,
 * the ratio and recall. Not a measurement (the figures of a one-second run mean nothing); it
 * catches a benchmark that no longer runs to its end, a run missing from the table, or recall
 * below 1. (At this scale it would not have caught the store as created timing out for a
 * connection: its queries are fast here. That needed the pool sized to the clients.)
 */
class RetrievalBenchmarkIT {

  @Test
  void aTinyRunPrintsEveryRowWithFullRecall() throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    Load.warmUpMaxSeconds = Load.WARM_UP_SECONDS; // no waiting for the JIT compiler: nothing is measured here
    try (TestServer app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
      RetrievalBenchmark.run(app.server, new RetrievalBenchmark.Setup(1, 20, 5, 0, 0, 8, 1, false, false, false), out);
    } finally {
      Load.warmUpMaxSeconds = Load.WARM_UP_MAX_SECONDS;
    }
    String printed = bytes.toString(StandardCharsets.UTF_8);
    for (String row : new String[] {"HTTP end to end, repeated questions", "HTTP end to end, every question new",
        "retrieval core", "LangChain4j store + btree on patient id", "LangChain4j PgVectorEmbeddingStore (as created)"}) {
      assertThat(printed).as(printed).containsPattern("\\| " + java.util.regex.Pattern.quote(row) + "[^\\n]*\\|  1\\.000 \\|");
    }
    assertThat(printed).contains("core ÷ tuned baseline:").contains("audit group commit in the core run:")
        .doesNotContain("failed batch:").doesNotContain("Exception");
  }
}
