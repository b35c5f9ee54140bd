package io.carecontext.ingest.embedding;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * The raw model baseline: how many texts per second a provider embeds with nothing else around
 * it (no database, no encryption, no queue). The ingest benchmark calls {@link #measure} in the
 * same run so its numbers can be read against this ceiling.
 *
 * <p>Run: {@code java -cp <ingest classpath> io.carecontext.ingest.embedding.RawModelThroughput
 * [texts=2000] [batchSize=32] [threads=cores]}.
 */
public final class RawModelThroughput {

  private static final long SEED = 20240601L;

  private static final String[] PATIENTS = {"Patient", "The patient", "A 67-year-old woman",
      "A 45-year-old man", "An 8-year-old child", "The resident", "A 72-year-old veteran"};
  private static final String[] FINDINGS = {"reports intermittent chest pain on exertion",
      "denies shortness of breath at rest", "presents with a productive cough for five days",
      "has poorly controlled type 2 diabetes", "complains of lower back pain radiating to the left leg",
      "was seen for a follow-up of hypertension", "reports dizziness when standing up",
      "has a history of atrial fibrillation", "presents with a rash on both forearms",
      "reports worsening fatigue and weight loss", "has mild persistent asthma",
      "describes burning on urination since yesterday"};
  private static final String[] PLANS = {"Started metformin 500 mg twice daily.",
      "Continue lisinopril 10 mg daily.", "Ordered a chest X-ray and CBC.",
      "Referred to cardiology for a stress test.", "Advised rest, fluids and ibuprofen as needed.",
      "Follow up in two weeks.", "Prescribed amoxicillin 500 mg three times daily for 7 days.",
      "Discussed smoking cessation."};

  private RawModelThroughput() {
  }

  /** Texts per second embedding {@code texts} with {@link EmbeddingProvider#embedAll} in batches of 32. */
  public static double measure(EmbeddingProvider provider, List<String> texts) {
    return measure(provider, texts, BatchingConfig.DEFAULT_BATCH_SIZE);
  }

  /**
   * Texts per second for sequential batches of {@code batchSize}. One batch is embedded first and
   * not timed, so a lazily loaded model's start-up does not count against its throughput.
   */
  public static double measure(EmbeddingProvider provider, List<String> texts, int batchSize) {
    return timed(provider, texts, batchSize, batchSize);
  }

  /**
   * Texts per second for {@code texts} sent in calls of {@code batchSize}, after one untimed call
   * of {@code warmUp} texts.
   */
  private static double timed(EmbeddingProvider provider, List<String> texts, int warmUp, int batchSize) {
    Objects.requireNonNull(provider, "provider");
    if (texts.isEmpty() || batchSize < 1) {
      throw new IllegalArgumentException("need at least one text and a positive batch size");
    }
    provider.embedAll(texts.subList(0, Math.min(warmUp, texts.size())));
    long start = System.nanoTime();
    for (int from = 0; from < texts.size(); from += batchSize) {
      provider.embedAll(texts.subList(from, Math.min(texts.size(), from + batchSize)));
    }
    long elapsed = Math.max(1, System.nanoTime() - start);
    return texts.size() * 1e9 / elapsed;
  }

  /**
   * Texts per second with every core busy: the texts go to {@code provider} in one call, which a
   * {@link BatchingEmbedder} splits over its pool (one thread per core by default), the way the
   * embedding worker uses it. One batch is embedded first and not timed. This is the bare model's
   * ceiling on this machine; the single-caller {@link #measure} leaves cores idle.
   */
  public static double measureAllCores(EmbeddingProvider provider, List<String> texts) {
    return timed(provider, texts, BatchingConfig.DEFAULT_BATCH_SIZE, texts.size());
  }

  /** {@code count} short synthetic clinical sentences (no real patients), the same on every run. */
  public static List<String> clinicalSentences(int count) {
    SplittableRandom random = new SplittableRandom(SEED);
    List<String> sentences = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String detail = detail(random);
      sentences.add(pick(random, PATIENTS) + " " + pick(random, FINDINGS) + ". " + detail + " "
          + pick(random, PLANS));
    }
    return sentences;
  }

  private static String detail(SplittableRandom r) {
    switch (r.nextInt(6)) {
      case 0:
        return String.format(Locale.ROOT, "Blood pressure %d/%d mmHg.", 100 + r.nextInt(80), 60 + r.nextInt(40));
      case 1:
        return String.format(Locale.ROOT, "HbA1c %d.%d%%.", 5 + r.nextInt(6), r.nextInt(10));
      case 2:
        return String.format(Locale.ROOT, "Heart rate %d bpm, SpO2 %d%% on room air.", 55 + r.nextInt(60),
            88 + r.nextInt(12));
      case 3:
        return String.format(Locale.ROOT, "Temperature 3%d.%d C, respiratory rate %d.", 6 + r.nextInt(3),
            r.nextInt(10), 12 + r.nextInt(14));
      case 4:
        return String.format(Locale.ROOT, "eGFR %d mL/min, potassium %d.%d mmol/L.", 20 + r.nextInt(80),
            3 + r.nextInt(3), r.nextInt(10));
      default:
        return String.format(Locale.ROOT, "LDL %d mg/dL, triglycerides %d mg/dL.", 60 + r.nextInt(140),
            80 + r.nextInt(250));
    }
  }

  private static String pick(SplittableRandom random, String[] options) {
    return options[random.nextInt(options.length)];
  }

  public static void main(String[] args) {
    int count = args.length > 0 ? Integer.parseInt(args[0]) : 2000;
    int batchSize = args.length > 1 ? Integer.parseInt(args[1]) : BatchingConfig.DEFAULT_BATCH_SIZE;
    int threads = args.length > 2 ? Integer.parseInt(args[2]) : Runtime.getRuntime().availableProcessors();
    List<String> texts = clinicalSentences(count);
    EmbeddingProvider model = new InProcessMiniLmProvider();

    long loadStart = System.nanoTime();
    model.embedAll(texts.subList(0, 1));
    System.out.printf(Locale.ROOT, "model %s loaded in %.2f s%n", model.modelId(),
        (System.nanoTime() - loadStart) / 1e9);
    System.out.printf(Locale.ROOT, "raw %s, 1 thread, batch %d: %.1f texts/s over %d texts%n",
        model.modelId(), batchSize, measure(model, texts, batchSize), count);
    try (BatchingEmbedder parallel = new BatchingEmbedder(model,
        new BatchingConfig(batchSize, threads, 4 * threads))) {
      // One call for everything, so batches really run in parallel on the pool.
      System.out.printf(Locale.ROOT, "batched %s, %d threads, batch %d: %.1f texts/s over %d texts%n",
          model.modelId(), threads, batchSize, measure(parallel, texts, texts.size()), count);
    }
  }
}
