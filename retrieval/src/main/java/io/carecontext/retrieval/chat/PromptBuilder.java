package io.carecontext.retrieval.chat;

import io.carecontext.retrieval.ContextChunk;
import io.carecontext.fhir.ClinicalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Minimum necessary: only allowed chunks above a relevance threshold (absolute, and relative to the
 * best match of the question or of one of its topics), deduplicated, within a token
 * budget, ordered by date, cited by short handles ([S1], [S2], …) instead of resource ids. A source
 * with a date starts with it, so a question about a trend can be answered; the date then goes
 * through de-identification with the rest of the text (shifted, cut to the year or tokenized, as
 * the tenant's {@code datePolicy} says).
 */
public final class PromptBuilder {

  static final double MIN_SCORE = 0.15;
  /**
   * A chunk scoring under this share of the best match stays out. The absolute floor alone let
   * nearly every chunk of a patient in (the in-process model scores unrelated clinical text 0.15 to
   * 0.3): "What was the last potassium?" carried the whole progress note, the allergies and the CBC.
   */
  static final double MIN_SHARE_OF_BEST = 0.5;
  /** Sources the relative cut-off never drops: a missed allergy is a patient-safety risk, and its chunk is short. */
  static final String ALWAYS_RELEVANT = "AllergyIntolerance/";
  static final String SYSTEM = "You answer questions about one patient's record using only the numbered sources. "
      + "Cite sources as [S1], [S2]. Bracketed tokens such as [PATIENT_1] or [DATE_2] stand for identifiers: "
      + "keep them exactly as written and never guess what they stand for. Sources are in date order, oldest "
      + "first, and a source that has a date starts with it. If the sources do not answer the question, say so.";

  private PromptBuilder() {}

  /** Texts of the chunks kept, in prompt order (before de-identification), and their handles. */
  public record Selection(List<String> texts, Map<String, String> handles) {
    /** Counts only: the texts are clinical text, the handles name resources. */
    @Override
    public String toString() {
      return "Selection[" + texts.size() + " texts]";
    }
  }

  public static Selection select(List<ContextChunk> chunks, int tokenBudget) {
    return select(chunks, List.of(), tokenBudget);
  }

  /**
   * As {@link #select(List, int)}, with each chunk's score for each topic of a question that asks
   * about several ({@code topicScores.get(t)[i]}: chunk i against topic t; empty for one topic). A
   * chunk is kept when it passes the cut-off of the whole question or of any one topic, each topic's
   * relative to that topic's own best match: "potassium and her colonoscopy?" embedded as one matched
   * the colonoscopy best (0.70), and the potassium result (0.30) fell under half of it, out of the prompt.
   */
  public static Selection select(List<ContextChunk> chunks, List<double[]> topicScores, int tokenBudget) {
    Set<String> seen = new LinkedHashSet<>();
    List<ContextChunk> kept = new ArrayList<>();
    int tokens = 0;
    double best = chunks.stream().mapToDouble(ContextChunk::score).max().orElse(0);
    double floor = Math.max(MIN_SCORE, MIN_SHARE_OF_BEST * best);
    double[] topicFloors = topicScores.stream()
        .mapToDouble(s -> Math.max(MIN_SCORE, MIN_SHARE_OF_BEST * java.util.Arrays.stream(s).max().orElse(0)))
        .toArray();
    for (int i = 0; i < chunks.size(); i++) { // best first
      ContextChunk c = chunks.get(i);
      // the same text on another date is another fact (a repeated lab value): only exact repeats go
      String text = dated(c);
      // An allergy is kept at the absolute floor: far below a medication question's best match
      // ("Penicillin G" against "start amoxicillin?"), it is still what an answer must not miss.
      boolean relevant = c.score() >= (c.resource().startsWith(ALWAYS_RELEVANT) ? MIN_SCORE : floor)
          || c.score() >= MIN_SCORE && matchesATopic(topicScores, topicFloors, i);
      if (!relevant || !seen.add(text)) {
        continue;
      }
      int cost = estimateTokens(text) + 4;
      if (tokens + cost > tokenBudget) {
        break;
      }
      tokens += cost;
      kept.add(c);
    }
    kept.sort(Comparator.comparing(ContextChunk::effectiveDate, Comparator.nullsFirst(Comparator.<ClinicalDate>naturalOrder())));
    Map<String, String> handles = new LinkedHashMap<>();
    List<String> texts = new ArrayList<>();
    for (ContextChunk c : kept) {
      String handle = "S" + (handles.size() + 1);
      handles.put(handle, c.resource());
      texts.add(dated(c));
    }
    return new Selection(texts, handles);
  }

  /**
   * The chunk led by its date as written: a condition whose onset is "2019" led by "2019-01-01" told
   * the model a day nobody recorded, and under the shift policy that day moved like a real one.
   */
  private static boolean matchesATopic(List<double[]> topicScores, double[] topicFloors, int chunk) {
    for (int t = 0; t < topicFloors.length; t++) {
      if (chunk < topicScores.get(t).length && topicScores.get(t)[chunk] >= topicFloors[t]) {
        return true;
      }
    }
    return false;
  }

  private static String dated(ContextChunk c) {
    return c.effectiveDate() == null ? c.text() : c.effectiveDate().asWritten() + ": " + c.text();
  }

  public static Prompt build(List<String> deidentifiedTexts, Map<String, String> handles, String deidentifiedQuestion) {
    StringBuilder user = new StringBuilder("Sources:\n");
    int i = 0;
    for (String handle : handles.keySet()) {
      user.append('[').append(handle).append("] ").append(deidentifiedTexts.get(i++)).append('\n');
    }
    user.append("\nQuestion: ").append(deidentifiedQuestion);
    return new Prompt(SYSTEM, user.toString(), handles, handles.size());
  }

  /** About four characters a token for English clinical text; close enough for a budget. */
  static int estimateTokens(String text) {
    return (text.length() + 3) / 4;
  }
}
