package io.carecontext.retrieval.chat;

import io.carecontext.retrieval.ContextChunk;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * The topics of a question that asks about several things ("potassium and her colonoscopy?"), and
 * how well each retrieved chunk matches each of them. One embedding of the whole question sits
 * between its topics, so the strong topic's best match sets the relative cut-off and the weak
 * topic's sources, though retrieved, fell under it. Scored per topic, each topic's sources are
 * measured against that topic's own best match.
 */
final class QuestionTopics {

  /** More topics than this are not split further: each costs an embedding of the question part. */
  static final int MAX_TOPICS = 4;
  private static final Pattern SEPARATORS = Pattern.compile(
      "\\s*(?:[,;?&]|\\band\\b|\\balso\\b|\\bplus\\b|\\bas well as\\b|\\bor\\b)\\s*", Pattern.CASE_INSENSITIVE);
  private static final Pattern WORD = Pattern.compile("[A-Za-z0-9]{3,}");
  /** Words that carry no topic of their own ("what was her last"), so that a part of only these is none. */
  private static final Set<String> FILLER = Set.of("what", "was", "were", "the", "her", "his", "their", "she", "him",
      "does", "did", "has", "have", "had", "any", "last", "latest", "recent", "most", "current", "when", "which",
      "how", "about", "for", "with", "this", "that", "there", "patient", "tell", "show", "give", "list", "all", "are",
      "is", "its", "they", "them", "been", "being", "value", "values", "result", "results", "level", "levels");

  private QuestionTopics() {}

  /** The question's topics when it names two or more (at most {@link #MAX_TOPICS}); otherwise none. */
  static List<String> of(String question) {
    if (question == null) {
      return List.of();
    }
    List<String> topics = new ArrayList<>();
    for (String part : SEPARATORS.split(question)) {
      String p = part.strip();
      if (WORD.matcher(p).results().anyMatch(w -> !FILLER.contains(w.group().toLowerCase(Locale.ROOT)))) {
        topics.add(p);
      }
    }
    return topics.size() < 2 ? List.of() : topics.subList(0, Math.min(MAX_TOPICS, topics.size()));
  }

  /**
   * Per topic, each chunk's cosine similarity to it (in the chunks' order); none when the question
   * has one topic or a chunk came without its vector. {@code embed} turns a topic into a vector.
   */
  static List<double[]> scores(String question, List<ContextChunk> chunks, Function<String, float[]> embed) {
    List<String> topics = of(question);
    if (topics.isEmpty() || chunks.isEmpty() || chunks.stream().anyMatch(c -> c.embedding() == null)) {
      return List.of();
    }
    List<double[]> out = new ArrayList<>();
    for (String topic : topics) {
      float[] t = embed.apply(topic);
      double[] s = new double[chunks.size()];
      for (int i = 0; i < s.length; i++) {
        s[i] = cosine(t, chunks.get(i).embedding());
      }
      out.add(s);
    }
    return out;
  }

  static double cosine(float[] a, float[] b) {
    return io.carecontext.retrieval.Vectors.cosine(a, b);
  }
}
