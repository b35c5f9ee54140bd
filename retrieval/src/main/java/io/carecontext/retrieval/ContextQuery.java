package io.carecontext.retrieval;

import java.util.List;
import java.util.function.Supplier;

/**
 * A context request: the query text (PHI, audited encrypted), its embedding, k, purpose,
 * break-glass reason, and whether a closed break-glass window is to be opened again.
 *
 * <p>The embedding is asked for only once the request has passed the key's rate limit and every
 * policy check ({@link ContextService#context}): a refused request costs no call to the tenant's
 * model, so a key past its budget, or without the role, cannot spend it.
 *
 * <p>{@code topicEmbeddings}: for chat, the embeddings of the question's topics when it asks about
 * several ({@code QuestionTopics}), asked for as late as the question's own; each is searched too, so
 * that a topic whose sources rank below the whole question's top k is still found. Empty otherwise.
 *
 * <p>{@code model}: the id of the model that embeds the question (and its topics). The search
 * compares it only with chunks of that model, and refuses a patient whose chunks are not all
 * re-embedded with it yet (tenant migration 52): a vector of another model of the same size is
 * measurable, and meaningless. Null only where no tenant model applies (tests, benchmarks that
 * write their own vectors): then chunks of any model are compared.
 */
public record ContextQuery(String text, Supplier<float[]> embedding, int k, String purposeOfUse, String reason,
                           boolean reopenBreakGlass, Supplier<List<float[]>> topicEmbeddings, String model) {

  public ContextQuery(String text, Supplier<float[]> embedding, int k, String purposeOfUse, String reason,
                      boolean reopenBreakGlass, Supplier<List<float[]>> topicEmbeddings) {
    this(text, embedding, k, purposeOfUse, reason, reopenBreakGlass, topicEmbeddings, null);
  }

  public ContextQuery(String text, Supplier<float[]> embedding, int k, String purposeOfUse, String reason,
                      boolean reopenBreakGlass) {
    this(text, embedding, k, purposeOfUse, reason, reopenBreakGlass, List::of);
  }

  /** A request that does not ask to reopen a break-glass window. */
  public ContextQuery(String text, Supplier<float[]> embedding, int k, String purposeOfUse, String reason) {
    this(text, embedding, k, purposeOfUse, reason, false);
  }

  /** A query whose embedding is already at hand (tests, benchmarks). */
  public ContextQuery(String text, float[] vector, int k, String purposeOfUse, String reason) {
    this(text, () -> vector, k, purposeOfUse, reason, false);
  }

  /** The same query, its question embedded by {@code model}. */
  public ContextQuery withModel(String model) {
    return new ContextQuery(text, embedding, k, purposeOfUse, reason, reopenBreakGlass, topicEmbeddings, model);
  }

  @Override
  public String toString() {
    return "ContextQuery[k=" + k + ", purpose=" + purposeOfUse + "]";
  }
}
