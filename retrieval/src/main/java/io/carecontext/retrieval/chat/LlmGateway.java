package io.carecontext.retrieval.chat;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.openai.OpenAiChatModel;
import io.carecontext.migrations.ModelFailure;
import io.carecontext.migrations.ModelHttpClient;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.List;
import java.util.Map;

/**
 * The only way out to a language model: the tenant's allowlisted OpenAI-compatible endpoints, a
 * BAA check, daily token budgets per key and per tenant, timeouts and bounded retries, usage
 * recorded.
 */
public final class LlmGateway {

  /**
   * The largest answer read: about 32,000 tokens, above what chat models write in one answer, and bounded well
   * below a heap because the whole answer then goes through the output identifier scan.
   */
  static final int MAX_ANSWER_BYTES = 128 * 1024;

  /** A model's reply and what it cost. */
  public record Reply(String text, String endpoint, String model, int promptTokens, int outputTokens) {
    @Override
    public String toString() {
      return "Reply[" + endpoint + "/" + model + "]";
    }
  }

  private final TenantTransactions tx;

  public LlmGateway(TenantTransactions tx) {
    this.tx = tx;
  }

  /** The endpoint the tenant's policy allows for a de-identified prompt, or the reason it cannot be had. */
  public LlmEndpoint choose(Map<String, Object> llm, boolean promptHasPhi) {
    List<LlmEndpoint> endpoints = LlmEndpoint.fromSettings(llm);
    if (endpoints.isEmpty()) {
      throw new ChatRefused(503, "no_model_configured",
          "no model is configured for this tenant: add one to the tenant's llm.endpoints setting", 0);
    }
    String wanted = llm.get("default") == null ? null : String.valueOf(llm.get("default"));
    LlmEndpoint e = endpoints.stream().filter(x -> wanted == null || x.name().equals(wanted)).findFirst()
        .orElseThrow(() -> new ChatRefused(503, "no_model_configured", "llm.default names no configured endpoint", 0));
    boolean nonBaaAllowed = Boolean.TRUE.equals(llm.get("allowDeidentifiedToNonBaa"));
    if (!e.baaCovered() && (promptHasPhi || !nonBaaAllowed)) {
      throw new ChatRefused(403, "model_not_allowed", "endpoint '" + e.name() + "' is not covered by a BAA and this "
          + "tenant does not allow de-identified prompts to leave to such endpoints (llm.allowDeidentifiedToNonBaa)", 0);
    }
    return e;
  }

  /** The tokens charged ahead for a call on {@code day}, settled by {@link #call}. */
  public record Reservation(LocalDate day, long tokens) {}

  /**
   * Refuses with 429 when the key's or the tenant's daily token budget is spent; otherwise charges the
   * prompt's estimated tokens to the day at once, one request of the tenant at a time (an advisory lock),
   * and {@link #call} settles the charge with what the call cost. The budget was only read here and
   * charged after the answer: requests made together all read the same total, all passed, and spent
   * the budget as many times over as there were requests in flight. Now the second sees the first's charge.
   */
  public Reservation reserve(TenantId tenant, String keyId, Map<String, Object> llm, LlmEndpoint e, Prompt prompt) {
    long perKey = number(llm.get("dailyTokenBudgetPerKey"), Long.MAX_VALUE);
    long perTenant = number(llm.get("dailyTokenBudgetPerTenant"), Long.MAX_VALUE);
    LocalDate day = LocalDate.now(ZoneOffset.UTC);
    long estimate = tokens(null, prompt.system() + "\n" + prompt.user());
    long[] used = tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement lock = c.prepareStatement(
          "SELECT pg_advisory_xact_lock(hashtext('carecontext.llm_usage'), hashtext(?))")) {
        lock.setString(1, tenant.value());
        lock.execute();
      }
      long[] sums;
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT coalesce(sum(prompt_tokens + output_tokens) FILTER (WHERE key_id = ?), 0),
                 coalesce(sum(prompt_tokens + output_tokens), 0) FROM llm_usage WHERE day = ?""")) {
        ps.setString(1, keyId);
        ps.setObject(2, day);
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          sums = new long[] {rs.getLong(1), rs.getLong(2)};
        }
      }
      if (sums[0] < perKey && sums[1] < perTenant) {
        add(c, day, keyId, e, estimate, 0, 0); // committed as the lock is released: the next request sees it
      }
      return sums;
    });
    if (used[0] >= perKey || used[1] >= perTenant) {
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      long untilMidnight = Duration.between(now, now.toLocalDate().plusDays(1).atTime(LocalTime.MIDNIGHT)
          .atZone(ZoneOffset.UTC)).toSeconds();
      throw new ChatRefused(429, "token_budget_exhausted", "the daily token budget of this "
          + (used[0] >= perKey ? "key" : "tenant") + " is spent; it resets at midnight UTC", Math.max(1, untilMidnight));
    }
    return new Reservation(day, estimate);
  }

  /**
   * Calls the endpoint and settles {@code reserved}: the call's cost replaces the estimate, answer or
   * not; a call that failed is charged nothing, as before the charge was taken ahead, except one whose
   * answer was too large, charged the prompt and the largest answer taken.
   */
  public Reply call(TenantId tenant, String keyId, LlmEndpoint e, Prompt prompt, Reservation reserved) {
    OpenAiChatModel model = model(e, LlmEndpoint.secretFor(tenant.value(), e.apiKeySecret(), System::getenv));
    ChatResponse r;
    try {
      r = model.chat(SystemMessage.from(prompt.system()), UserMessage.from(prompt.user()));
    } catch (RuntimeException ex) {
      if (tooLarge(ex)) {
        // the endpoint wrote at least that much: refunded, a question asking for an endless answer spent
        // the endpoint's tokens free of any budget, as often as it was asked
        settle(tenant, keyId, e, reserved, reserved.tokens(), MAX_ANSWER_BYTES / 4, 1);
      } else {
        settle(tenant, keyId, e, reserved, 0, 0, 0);
      }
      // The client's message can quote the request: only the kind of failure is named.
      String kind = failure(ex);
      throw new ChatRefused(502, "model_unavailable", "the model endpoint '" + e.name() + "' failed (" + kind
          + "); nothing was returned", 0, kind);
    }
    String text = textOf(r);
    int in = tokens(r == null || r.tokenUsage() == null ? null : r.tokenUsage().inputTokenCount(),
        prompt.system() + "\n" + prompt.user());
    int out = tokens(r == null || r.tokenUsage() == null ? null : r.tokenUsage().outputTokenCount(), text);
    settle(tenant, keyId, e, reserved, in, out, 1); // what the call cost, answer or not
    return new Reply(answerText(r, e.name()), e.name(), e.model(), in, out);
  }

  /**
   * The client of one endpoint: {@code timeoutSeconds} bounds each attempt whole, answer included, and an
   * answer is read only up to {@link #MAX_ANSWER_BYTES} (see {@link ModelHttpClient}).
   */
  static OpenAiChatModel model(LlmEndpoint e, String apiKey) {
    return OpenAiChatModel.builder().baseUrl(e.baseUrl()).modelName(e.model()).apiKey(apiKey)
        .httpClientBuilder(ModelHttpClient.builder(MAX_ANSWER_BYTES))
        .timeout(Duration.ofSeconds(Math.max(1, e.timeoutSeconds()))).maxRetries(Math.max(0, e.maxRetries()))
        .logRequests(false).logResponses(false) // the prompt and the answer are PHI until filtered
        .build();
  }

  /**
   * The tokens a call counts against the daily budgets: what the endpoint reported, or, when it reported
   * none (many OpenAI-compatible servers leave usage out) or a negative count, an estimate from the text,
   * as the prompt's own budget is estimated. Counted as 0, such an endpoint was never held to a budget,
   * and a negative count took tokens off the day's total.
   */
  static int tokens(Integer reported, String text) {
    if (reported != null && reported >= 0) {
      return reported;
    }
    return text == null ? 0 : PromptBuilder.estimateTokens(text);
  }

  /**
   * The answer's text; an answer without one (a null content, no message) is the endpoint's failure, a 502:
   * it reached the output filter and was a 500 saying the answer could not be checked for identifiers.
   */
  static String answerText(ChatResponse r, String endpoint) {
    String text = textOf(r);
    if (text == null) {
      String kind = "no usable answer: it sent no text";
      throw new ChatRefused(502, "model_unavailable", "the model endpoint '" + endpoint + "' failed (" + kind
          + "); nothing was returned", 0, kind);
    }
    return text;
  }

  /** The answer's text, or null when the endpoint sent none. */
  private static String textOf(ChatResponse r) {
    return r == null || r.aiMessage() == null ? null : r.aiMessage().text();
  }

  /** Where a failed call points: an endpoint's settings are its own entry in llm.endpoints, with a timeout. */
  private static final ModelFailure.Advice ADVICE = new ModelFailure.Advice("",
      "timed out: raise timeoutSeconds or check the endpoint");

  /**
   * What went wrong with a model call, in words a tenant admin can act on, from the exception's type
   * and its causes' (never their messages, which can quote the prompt): it named a Java class
   * ("RuntimeException"), which said nothing about whether the host, the key or the model was wrong.
   */
  static String failure(Throwable ex) {
    if (tooLarge(ex)) {
      return "its answer was larger than " + MAX_ANSWER_BYTES / 1024 + " KiB";
    }
    return ModelFailure.describe(ex, ADVICE).orElse("no usable answer");
  }

  /** Whether the call failed because its answer was over {@link ModelHttpClient#MAX_RESPONSE_BYTES}. */
  private static boolean tooLarge(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof ModelHttpClient.TooLarge) {
        return true;
      }
    }
    return false;
  }

  /** Replaces the reserved estimate with the call's cost, on the reservation's day. */
  private void settle(TenantId tenant, String keyId, LlmEndpoint e, Reservation reserved, long in, long out, int calls) {
    tx.run(tenant, PolicySettings.ingest(), c -> add(c, reserved.day(), keyId, e, in - reserved.tokens(), out, calls));
  }

  private static int add(Connection c, LocalDate day, String keyId, LlmEndpoint e, long in, long out, int calls)
      throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO llm_usage (day, key_id, endpoint, model, prompt_tokens, output_tokens, calls)
        VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (day, key_id, endpoint, model) DO UPDATE SET
          prompt_tokens = llm_usage.prompt_tokens + excluded.prompt_tokens,
          output_tokens = llm_usage.output_tokens + excluded.output_tokens, calls = llm_usage.calls + excluded.calls""")) {
      ps.setObject(1, day);
      ps.setString(2, keyId);
      ps.setString(3, e.name());
      ps.setString(4, e.model());
      ps.setLong(5, in);
      ps.setLong(6, out);
      ps.setInt(7, calls);
      return ps.executeUpdate();
    }
  }

  private static long number(Object v, long fallback) {
    return v instanceof Number n ? n.longValue() : fallback;
  }
}
