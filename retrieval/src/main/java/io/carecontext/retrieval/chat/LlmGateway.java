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

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LlmGateway.class);

  /** Where a call's charge is written, the tenant's llm_usage; a test's may fail or record instead. */
  interface Ledger {
    void add(TenantId tenant, LocalDate day, String keyId, LlmEndpoint e, long in, long out, int calls);
  }

  private final TenantTransactions tx;
  private final Ledger ledger;

  public LlmGateway(TenantTransactions tx) {
    this(tx, (tenant, day, keyId, e, in, out, calls) ->
        tx.run(tenant, PolicySettings.ingest(), c -> add(c, day, keyId, e, in, out, calls)));
  }

  /** With the charges written to {@code ledger} (a test's). */
  LlmGateway(TenantTransactions tx, Ledger ledger) {
    this.tx = tx;
    this.ledger = ledger;
  }

  /** The endpoint the tenant's policy allows for a de-identified prompt, or the reason it cannot be had. */
  public LlmEndpoint choose(Map<String, Object> llm, boolean promptHasPhi) {
    List<LlmEndpoint> endpoints = LlmEndpoint.fromSettings(llm);
    if (endpoints.isEmpty()) {
      throw new ChatRefused(503, "no_model_configured",
          "no model is configured for this tenant: a tenant admin adds one to its settings.llm.endpoints; "
              + "until then a dry run (\"dryRun\": true) shows the prompt that would be sent", 0);
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

  /**
   * The tokens charged ahead for a call on {@code day}, settled by {@link #call}: the prompt's estimate and the
   * most the call asks the endpoint to write (its {@code maxOutputTokens}).
   */
  public record Reservation(LocalDate day, long promptTokens, long outputCap) {
    long tokens() {
      return promptTokens + outputCap;
    }
  }

  /**
   * Refuses with 429 when the key's or the tenant's daily token budget cannot hold this request; otherwise
   * charges the prompt's estimated tokens and the answer's cap to the day at once, one request of the tenant
   * at a time (an advisory lock), and {@link #call} settles the charge with what the call cost. The budget
   * was only read here and charged after the answer: requests made together all read the same total, all
   * passed, and spent the budget as many times over as there were requests in flight. Then only the prompt
   * was charged ahead and no answer was capped, so the last request of a day could ask for an answer of any
   * length: one request could spend a tenant's whole day. Now a request is taken only when its prompt and the
   * longest answer it asks for fit in what is left.
   */
  public Reservation reserve(TenantId tenant, String keyId, Map<String, Object> llm, LlmEndpoint e, Prompt prompt) {
    long perKey = number(llm.get("dailyTokenBudgetPerKey"), Long.MAX_VALUE);
    long perTenant = number(llm.get("dailyTokenBudgetPerTenant"), Long.MAX_VALUE);
    LocalDate day = LocalDate.now(ZoneOffset.UTC);
    Reservation wanted = new Reservation(day, tokens(null, prompt.system() + "\n" + prompt.user()), e.maxOutputTokens());
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
      if (fits(sums[0], wanted.tokens(), perKey) && fits(sums[1], wanted.tokens(), perTenant)) {
        // committed as the lock is released: the next request sees it; the cap waits in the prompt column
        // until the call settles
        add(c, day, keyId, e, wanted.tokens(), 0, 0);
      }
      return sums;
    });
    boolean keyShort = !fits(used[0], wanted.tokens(), perKey);
    if (keyShort || !fits(used[1], wanted.tokens(), perTenant)) {
      String whose = keyShort ? "key" : "tenant";
      long budget = keyShort ? perKey : perTenant;
      ZonedDateTime now = ZonedDateTime.now(ZoneOffset.UTC);
      long untilMidnight = Duration.between(now, now.toLocalDate().plusDays(1).atTime(LocalTime.MIDNIGHT)
          .atZone(ZoneOffset.UTC)).toSeconds();
      String message = wanted.tokens() > budget
          ? "this request may cost up to " + wanted.tokens() + " tokens (its prompt and the endpoint's maxOutputTokens), "
              + "more than the daily token budget of this " + whose + " (" + budget + "): ask a shorter question, or "
              + "a tenant admin should lower llm.endpoints[].maxOutputTokens or raise the budget"
          : "the daily token budget of this " + whose + " has not " + wanted.tokens() + " tokens left for this "
              + "request (its prompt and the endpoint's maxOutputTokens); it resets at midnight UTC";
      throw new ChatRefused(429, "token_budget_exhausted", message, Math.max(1, untilMidnight));
    }
    return wanted;
  }

  private static boolean fits(long used, long wanted, long budget) {
    return used < budget && wanted <= budget - used;
  }

  /**
   * The floor of a call's overall deadline. Each attempt was bounded by {@code timeoutSeconds} and up to
   * {@code maxRetries} more followed, each after a back-off: a request could hold its caller and a server
   * thread for (maxRetries + 1) x timeoutSeconds and more, 110 minutes at the settings' limits. Now every
   * attempt and every wait between them fit in {@link #deadline}.
   */
  static final Duration DEADLINE_FLOOR = Duration.ofSeconds(60);
  /** The shortest attempt worth starting: with less time left, the call ends with the failure it had. */
  static final Duration SHORTEST_ATTEMPT = Duration.ofSeconds(1);
  /** The most a caller is told to wait (Retry-After) on an endpoint's word, whatever it asked. */
  static final long MAX_RETRY_AFTER_SECONDS = ModelHttpClient.MAX_HONOURED_WAIT_SECONDS;

  /** The whole call's deadline, its retries and their waits included: the longer of 60 s and one attempt. */
  static Duration deadline(LlmEndpoint e) {
    Duration attempt = Duration.ofSeconds(Math.max(1, e.timeoutSeconds()));
    return attempt.compareTo(DEADLINE_FLOOR) > 0 ? attempt : DEADLINE_FLOOR;
  }

  /** How a call that got no usable answer ended, for its charge. */
  enum Outcome {
    /** No answer came (refused, unreachable, timed out): nothing was written for the prompt, nothing is charged. */
    NO_ANSWER,
    /** An answer larger than the most read: the endpoint wrote at least that much. */
    TOO_LARGE,
    /** A 2xx whose body was not a chat completion (broken JSON, no choices): the endpoint did the work. */
    BROKEN_ANSWER
  }

  /** A call that ended without a usable answer: the last attempt's failure, how it ended and any Retry-After. */
  static final class CallFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final transient RuntimeException last;
    final Outcome outcome;
    /** Seconds the endpoint asked to wait (429/503 with Retry-After) that the call could not, or -1. */
    final long retryAfter;

    CallFailed(RuntimeException last, Outcome outcome, long retryAfter) {
      super(null, null, false, false); // the client's message can quote the prompt: none is kept
      this.last = last;
      this.outcome = outcome;
      this.retryAfter = retryAfter;
    }
  }

  /** How the gateway waits between attempts; a test's may record instead of sleeping. */
  interface Sleeper {
    void sleep(Duration d) throws InterruptedException;
  }

  /**
   * Calls the endpoint and settles {@code reserved}: the call's cost replaces the estimate, answer or
   * not; a call that got no answer is charged nothing, one whose answer was too large the prompt and the
   * largest answer read, and one that answered a 2xx that was no chat completion the prompt and its cap.
   */
  public Reply call(TenantId tenant, String keyId, LlmEndpoint e, Prompt prompt, Reservation reserved) {
    return call(tenant, keyId, e, prompt, reserved,
        () -> LlmEndpoint.secretFor(tenant.value(), e.apiKeySecret(), System::getenv), d -> Thread.sleep(d.toMillis()));
  }

  /** As {@link #call(TenantId, String, LlmEndpoint, Prompt, Reservation)} with the key and the waits given. */
  Reply call(TenantId tenant, String keyId, LlmEndpoint e, Prompt prompt, Reservation reserved,
             java.util.function.Supplier<String> apiKey, Sleeper sleeper) {
    ChatResponse r;
    try {
      r = exchange(e, apiKey.get(), prompt, sleeper);
    } catch (CallFailed failed) {
      switch (failed.outcome) {
        // the endpoint wrote at least that much: refunded, a question asking for an endless answer spent
        // the endpoint's tokens free of any budget, as often as it was asked
        case TOO_LARGE -> settle(tenant, keyId, e, reserved, reserved.promptTokens(), MAX_ANSWER_BYTES / 4, 1);
        // an answer that could not be read reports no usage: it was refunded, and retried, each attempt
        // spending the endpoint's tokens again free of any budget
        case BROKEN_ANSWER -> settle(tenant, keyId, e, reserved, reserved.promptTokens(), reserved.outputCap(), 1);
        case NO_ANSWER -> settle(tenant, keyId, e, reserved, 0, 0, 0);
      }
      throw refusal(e, failed);
    } catch (RuntimeException | Error unexpected) {
      // Not one of the ends exchange names (an Error, a bug): whether the endpoint wrote is unknown, so the call
      // is charged what was reserved for it, and settled. The reservation stayed in the day's total for good.
      settle(tenant, keyId, e, reserved, reserved.promptTokens(), reserved.outputCap(), 1);
      throw unexpected;
    }
    String text = textOf(r);
    String sent = prompt.system() + "\n" + prompt.user();
    int in = atMost(tokens(r == null || r.tokenUsage() == null ? null : r.tokenUsage().inputTokenCount(), sent),
        Math.max(reserved.promptTokens(), utf8Bytes(sent) + PROMPT_OVERHEAD_TOKENS));
    int out = atMost(tokens(r == null || r.tokenUsage() == null ? null : r.tokenUsage().outputTokenCount(), text),
        Math.max(reserved.outputCap(), utf8Bytes(text)));
    settle(tenant, keyId, e, reserved, in, out, 1); // what the call cost, answer or not
    return new Reply(answerText(r, e.name()), e.name(), e.model(), in, out);
  }

  /**
   * What a prompt may cost beyond one token per byte of its text: the chat template's tokens around each
   * message, and whatever the server adds of its own.
   */
  static final int PROMPT_OVERHEAD_TOKENS = 1024;

  /**
   * {@code reported}, but never more than {@code ceiling}. The usage an endpoint reports was charged as it
   * came: a misbehaving one that reported 2,147,483,647 tokens for a short answer spent the key's and the
   * tenant's budgets for the rest of the day with one call. No tokenizer makes more tokens of a text than it
   * has bytes (plus a template's few), and none writes more than the max_tokens it was asked for.
   */
  static int atMost(int reported, long ceiling) {
    return (int) Math.max(0, Math.min(reported, Math.min(Integer.MAX_VALUE, ceiling)));
  }

  private static int utf8Bytes(String text) {
    return text == null ? 0 : text.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
  }

  /**
   * What the caller is told of a failed call: 503 {@code model_busy} with the endpoint's Retry-After when it
   * asked for a wait this request could not make (no retry left, or beyond the deadline), so the caller
   * knows when to come back; otherwise 502 {@code model_unavailable}. The client's message can quote the
   * request: only the kind of failure is named.
   */
  static ChatRefused refusal(LlmEndpoint e, CallFailed failed) {
    String kind = failure(failed);
    if (failed.retryAfter >= 0) {
      long wait = Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, failed.retryAfter));
      String status = ModelHttpClient.Refused.in(failed.last).map(x -> "HTTP " + x.statusCode()).orElse("busy");
      // the wait was not made either because it was beyond the request's deadline or because no retry was left
      // (maxRetries): the message said "longer than this request could wait" of a 7 s wait it had just made once
      return new ChatRefused(503, "model_busy", "the model endpoint '" + e.name() + "' is busy (" + status
          + ") and asked to be called again in " + wait + " s, which this request did not wait for (no retry left, "
          + "or past the time one request may take); nothing was returned: send the request again after "
          + "Retry-After seconds", wait,
          kind + "; it asked to be called again in " + failed.retryAfter + " s");
    }
    return unavailable(e.name(), kind);
  }

  /**
   * 502 {@code model_unavailable}: the endpoint, the kind of failure, and what the caller does next. It said
   * "nothing was returned" and no more, so a chat app could not tell whether to retry or whom to ask; the
   * embedding path's 502 said both.
   */
  static ChatRefused unavailable(String endpoint, String kind) {
    return new ChatRefused(502, "model_unavailable", "the model endpoint '" + endpoint + "' failed (" + kind
        + "); nothing was returned. " + nextStep(endpoint), 0, kind);
  }

  /** What a caller does after a 502 {@code model_unavailable} of {@code endpoint}. */
  static String nextStep(String endpoint) {
    return "Send the request again later; if it goes on, a tenant admin should check the endpoint '" + endpoint
        + "' in settings.llm.endpoints and that it is up";
  }

  /**
   * One chat exchange with retries, all within {@link #deadline}: each attempt gets {@code timeoutSeconds}
   * or what is left, whichever is less; a failure that the endpoint may not repeat (no connection, a
   * timeout, HTTP 408, 429 or 5xx) is tried again after the endpoint's {@code Retry-After} (429 and 503)
   * or a short back-off, when that and one more attempt fit in the time left and {@code maxRetries} allows.
   * Anything else (credentials or model refused, a 4xx, an answer too large, or a 2xx that is no chat
   * completion, which spent the endpoint's tokens) is not asked again.
   *
   * @throws CallFailed with the last failure
   */
  static ChatResponse exchange(LlmEndpoint e, String apiKey, Prompt prompt, Sleeper sleeper) {
    return exchange(e, apiKey, prompt, sleeper, deadline(e));
  }

  /** As {@link #exchange(LlmEndpoint, String, Prompt, Sleeper)} within {@code within} (a test's shorter one). */
  static ChatResponse exchange(LlmEndpoint e, String apiKey, Prompt prompt, Sleeper sleeper, Duration within) {
    long deadline = System.nanoTime() + within.toNanos();
    Duration perAttempt = Duration.ofSeconds(Math.max(1, e.timeoutSeconds()));
    CallFailed ended = null;
    for (int attempt = 0; ; attempt++) {
      Duration left = Duration.ofNanos(deadline - System.nanoTime());
      if (ended != null && (left.isNegative() || left.isZero())) {
        // the wait overran what was left (a pause of the whole process): the call ends with the failure it had;
        // the next attempt was given a negative timeout, refused as an IllegalArgumentException, and that became
        // the call's failure ("no usable answer") in place of the endpoint's
        throw ended;
      }
      java.util.concurrent.atomic.AtomicBoolean answered = new java.util.concurrent.atomic.AtomicBoolean();
      try {
        return model(e, apiKey, left.compareTo(perAttempt) < 0 ? left : perAttempt, answered)
            .chat(SystemMessage.from(prompt.system()), UserMessage.from(prompt.user()));
      } catch (RuntimeException ex) {
        if (tooLarge(ex)) {
          throw new CallFailed(ex, Outcome.TOO_LARGE, -1);
        }
        if (answered.get()) {
          throw new CallFailed(ex, Outcome.BROKEN_ANSWER, -1);
        }
        long retryAfter = retryAfter(ex);
        if (!mayPassOnRetry(ex)) {
          throw new CallFailed(ex, Outcome.NO_ANSWER, -1);
        }
        // at most ModelHttpClient's longest wait, so that the sums below cannot overflow whatever it asked for
        Duration wait = retryAfter >= 0 ? Duration.ofSeconds(Math.min(retryAfter, ModelHttpClient.MAX_RETRY_AFTER_SECONDS))
            : backoff(attempt);
        Duration remaining = Duration.ofNanos(deadline - System.nanoTime());
        if (attempt >= Math.max(0, e.maxRetries()) || wait.plus(SHORTEST_ATTEMPT).compareTo(remaining) > 0) {
          throw new CallFailed(ex, Outcome.NO_ANSWER, retryAfter);
        }
        try {
          sleeper.sleep(wait);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw new CallFailed(ex, Outcome.NO_ANSWER, -1);
        }
        ended = new CallFailed(ex, Outcome.NO_ANSWER, retryAfter);
      }
    }
  }

  /** 0.5 s, 1 s, 2 s… at most 8 s, between attempts the endpoint gave no Retry-After for. */
  static Duration backoff(int attempt) {
    return Duration.ofMillis(500L << Math.min(attempt, 4));
  }

  /** The seconds a 429 or 503 asked to wait, or -1 (none given, or another status). */
  static long retryAfter(Throwable ex) {
    return ModelHttpClient.Refused.in(ex)
        .filter(r -> r.statusCode() == 429 || r.statusCode() == 503)
        .map(ModelHttpClient.Refused::retryAfterSeconds).orElse(-1L);
  }

  /**
   * A failure that asking again may not meet: no connection, a timeout, a broken connection, HTTP 408, 429
   * or 5xx. Refused credentials, an unknown model or host, and any other status are the same next time.
   */
  private static boolean mayPassOnRetry(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof dev.langchain4j.exception.HttpException h) {
        int status = h.statusCode();
        return status >= 500 || status == 408 || status == 429;
      }
      if (t instanceof dev.langchain4j.exception.AuthenticationException
          || t instanceof dev.langchain4j.exception.ModelNotFoundException
          || t instanceof java.net.UnknownHostException
          || t instanceof dev.langchain4j.exception.UnresolvedModelServerException) {
        return false;
      }
      if (t instanceof dev.langchain4j.exception.TimeoutException || t instanceof java.io.IOException) {
        return true; // a timeout, a refused or reset connection (HttpTimeoutException, ConnectException…)
      }
    }
    return false;
  }

  /**
   * The client of one attempt: {@code timeout} bounds it whole, answer included, an answer is read only up to
   * {@link #MAX_ANSWER_BYTES} (see {@link ModelHttpClient}), the answer asked for is at most the endpoint's
   * {@code maxOutputTokens} (sent as its {@code tokenLimitField}: {@code max_tokens}, or
   * {@code max_completion_tokens} for a reasoning model, never both), and {@code answered} is set once a 2xx
   * came back whole.
   * LangChain4j retries nothing: {@link #exchange} does, within the call's deadline.
   */
  static OpenAiChatModel model(LlmEndpoint e, String apiKey, Duration timeout,
                               java.util.concurrent.atomic.AtomicBoolean answered) {
    var builder = OpenAiChatModel.builder().baseUrl(e.baseUrl()).modelName(e.model()).apiKey(apiKey)
        .httpClientBuilder(noting(ModelHttpClient.builder(MAX_ANSWER_BYTES), answered))
        .timeout(timeout).maxRetries(0)
        .logRequests(false).logResponses(false); // the prompt and the answer are PHI until filtered
    return (e.capAsCompletionTokens() ? builder.maxCompletionTokens(e.maxOutputTokens())
        : builder.maxTokens(e.maxOutputTokens())).build();
  }

  /** {@code builder}'s client, which sets {@code answered} when a request returns a 2xx. */
  private static dev.langchain4j.http.client.HttpClientBuilder noting(
      dev.langchain4j.http.client.HttpClientBuilder builder, java.util.concurrent.atomic.AtomicBoolean answered) {
    return new dev.langchain4j.http.client.HttpClientBuilder() {
      @Override
      public Duration connectTimeout() {
        return builder.connectTimeout();
      }

      @Override
      public dev.langchain4j.http.client.HttpClientBuilder connectTimeout(Duration d) {
        builder.connectTimeout(d);
        return this;
      }

      @Override
      public Duration readTimeout() {
        return builder.readTimeout();
      }

      @Override
      public dev.langchain4j.http.client.HttpClientBuilder readTimeout(Duration d) {
        builder.readTimeout(d);
        return this;
      }

      @Override
      public dev.langchain4j.http.client.HttpClient build() {
        dev.langchain4j.http.client.HttpClient client = builder.build();
        return new dev.langchain4j.http.client.HttpClient() {
          @Override
          public dev.langchain4j.http.client.SuccessfulHttpResponse execute(
              dev.langchain4j.http.client.HttpRequest request) {
            var response = client.execute(request);
            answered.set(true);
            return response;
          }

          @Override
          public void execute(dev.langchain4j.http.client.HttpRequest request,
                              dev.langchain4j.http.client.sse.ServerSentEventParser parser,
                              dev.langchain4j.http.client.sse.ServerSentEventListener listener) {
            client.execute(request, parser, listener);
          }
        };
      }
    };
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
      throw unavailable(endpoint, kind);
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
    if (ex instanceof CallFailed f) {
      return f.outcome == Outcome.BROKEN_ANSWER ? "its answer was not a chat completion" : failure(f.last);
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

  /** Replaces the reserved estimate and cap with the call's cost, on the reservation's day. */
  /**
   * Replaces the reserved estimate and cap with the call's cost, on the reservation's day, once, never
   * failing the request. A settle that failed (the database briefly gone, a pool that refuses an interrupted
   * thread) threw in place of the call's outcome: the answer the endpoint wrote, or the refusal it earned,
   * was lost, and the exchange (whose prompt had left) never reached the audit trail. Now the reservation
   * stays charged in full, which over-charges the day and never under-charges it, and the failure is logged
   * with no word of the prompt or the answer. An interrupted thread (the flag kept for the caller) is let
   * settle as any other.
   */
  void settle(TenantId tenant, String keyId, LlmEndpoint e, Reservation reserved, long in, long out, int calls) {
    boolean interrupted = Thread.interrupted();
    try {
      ledger.add(tenant, reserved.day(), keyId, e, in - reserved.tokens(), out, calls);
    } catch (RuntimeException failure) {
      LOG.warn("could not settle a model call of tenant {} on endpoint {} ({} tokens reserved on {} stay charged): {}",
          tenant.value(), e.name(), reserved.tokens(), reserved.day(), failure.getClass().getName());
    } finally {
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
    }
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
