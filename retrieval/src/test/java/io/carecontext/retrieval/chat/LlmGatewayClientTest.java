package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.langchain4j.model.chat.response.ChatResponse;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What a model endpoint can send back, against the client a chat calls it with (a fake on loopback). */
class LlmGatewayClientTest {

  private static final String ANSWER = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"m\","
      + "\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"%s\"},\"finish_reason\":\"stop\"}],"
      + "\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}";

  private HttpServer server;
  private HttpServer elsewhere;

  private interface Handler {
    void handle(HttpExchange ex) throws Exception;
  }

  private String serve(Handler h) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.setExecutor(Executors.newCachedThreadPool());
    server.createContext("/v1/chat/completions", ex -> {
      try (ex) {
        ex.getRequestBody().readAllBytes();
        h.handle(ex);
      } catch (Exception e) {
        // the client hung up: what the test is about
      }
    });
    server.start();
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.stop(0);
    }
    if (elsewhere != null) {
      elsewhere.stop(0);
    }
  }

  private static LlmEndpoint endpoint(String baseUrl, int timeoutSeconds) {
    return new LlmEndpoint("main", baseUrl, "m", true, null, timeoutSeconds, 0, 256);
  }

  private static final Prompt PROMPT = new Prompt("system", "q", java.util.Map.of(), 0);
  /** The waits between attempts, recorded, not slept. */
  private final java.util.List<Duration> waits = new java.util.concurrent.CopyOnWriteArrayList<>();

  private ChatResponse chat(LlmEndpoint e) {
    return LlmGateway.exchange(e, null, PROMPT, waits::add);
  }

  @Test
  void anAnswerComesBackWhole() throws Exception {
    String url = serve(ex -> {
      byte[] body = ANSWER.formatted("hello").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    });
    var r = chat(endpoint(url, 5));
    assertThat(r.aiMessage().text()).isEqualTo("hello");
    assertThat(r.tokenUsage().inputTokenCount()).isEqualTo(3);
  }

  /**
   * timeoutSeconds bounds the whole answer. It ended when the headers came: an endpoint that trickled
   * its body a byte at a time held the request, and its thread, for as long as it liked (here 6 s
   * against a 1 s timeout; the answer came back).
   */
  @Test
  void anEndpointThatTricklesItsAnswerTimesOut() throws Exception {
    String url = serve(ex -> {
      ex.sendResponseHeaders(200, 0);
      OutputStream out = ex.getResponseBody();
      for (int i = 0; i < 30; i++) {
        out.write(' ');
        out.flush();
        Thread.sleep(200);
      }
      out.write(ANSWER.formatted("late").getBytes(StandardCharsets.UTF_8));
    });
    long start = System.nanoTime();
    assertThatThrownBy(() -> chat(endpoint(url, 1)))
        .satisfies(e -> assertThat(LlmGateway.failure(e)).startsWith("timed out"));
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(4_000);
  }

  /**
   * An answer is read only up to a limit. It was read whole into memory: an endpoint that sent a few
   * gigabytes took the service's heap with it, and a few hundred kilobytes of the wrong text held a CPU
   * in the output identifier scan for hours. The failure says what happened, not the answer.
   */
  @Test
  void anAnswerLargerThanTheLimitIsDroppedUnread() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      String answer = ANSWER.formatted("x".repeat(LlmGateway.MAX_ANSWER_BYTES + 1));
      ex.sendResponseHeaders(200, 0);
      ex.getResponseBody().write(answer.getBytes(StandardCharsets.UTF_8));
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 10, 2, 256);
    assertThatThrownBy(() -> chat(e))
        .satisfies(ex -> assertThat(LlmGateway.failure(ex)).isEqualTo("its answer was larger than 128 KiB"))
        .satisfies(ex -> assertThat(LlmGateway.refusal(e, (LlmGateway.CallFailed) ex).getMessage()).doesNotContain("xxxx"))
        .satisfies(ex -> assertThat(((LlmGateway.CallFailed) ex).outcome).isEqualTo(LlmGateway.Outcome.TOO_LARGE));
    assertThat(calls).as("not asked again: each attempt spends the tokens again").hasValue(1);
  }

  /** A redirect is the endpoint's failure, never followed: the approved host is the only one contacted. */
  @Test
  void aRedirectIsNeverFollowed() throws Exception {
    AtomicInteger reached = new AtomicInteger();
    elsewhere = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    elsewhere.createContext("/", ex -> {
      reached.incrementAndGet();
      ex.sendResponseHeaders(200, -1);
      ex.close();
    });
    elsewhere.start();
    String target = "http://127.0.0.1:" + elsewhere.getAddress().getPort() + "/v1/chat/completions";
    String url = serve(ex -> {
      ex.getResponseHeaders().add("Location", target);
      ex.sendResponseHeaders(307, -1);
    });
    assertThatThrownBy(() -> chat(endpoint(url, 5)))
        .satisfies(e -> assertThat(LlmGateway.failure(e)).isEqualTo("the endpoint answered HTTP 307"));
    assertThat(reached).hasValue(0);
  }

  private static void answer(HttpExchange ex, int status, String body, String retryAfter) throws IOException {
    byte[] b = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    if (retryAfter != null) {
      ex.getResponseHeaders().add("Retry-After", retryAfter);
    }
    ex.sendResponseHeaders(status, b.length);
    ex.getResponseBody().write(b);
  }

  /**
   * Each request asks for an answer of at most the endpoint's maxOutputTokens. It asked for none, so one
   * request could have the model write (and the budget pay for) as much as the model would.
   */
  @Test
  void aRequestAsksForNoMoreThanTheEndpointsMaxOutputTokens() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> sent = new java.util.concurrent.atomic.AtomicReference<>();
    String url = serve(ex -> answer(ex, 200, ANSWER.formatted("ok"), null));
    server.removeContext("/v1/chat/completions");
    server.createContext("/v1/chat/completions", ex -> {
      try (ex) {
        sent.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        answer(ex, 200, ANSWER.formatted("ok"), null);
      }
    });
    chat(new LlmEndpoint("main", url, "m", true, null, 5, 0, 333));
    assertThat(sent.get()).containsPattern("\"max_tokens\"\\s*:\\s*333\\b");
  }

  /**
   * An endpoint whose tokenLimitField is max_completion_tokens (OpenAI's reasoning models, which refuse
   * max_tokens) is asked for its cap in that field, and max_tokens is not sent at all: the gateway always
   * sent max_tokens, which such a model refused on every request.
   */
  @Test
  void aReasoningModelIsAskedForItsCapAsMaxCompletionTokens() throws Exception {
    java.util.concurrent.atomic.AtomicReference<String> sent = new java.util.concurrent.atomic.AtomicReference<>();
    String url = serve(ex -> answer(ex, 200, ANSWER.formatted("ok"), null));
    server.removeContext("/v1/chat/completions");
    server.createContext("/v1/chat/completions", ex -> {
      try (ex) {
        sent.set(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        answer(ex, 200, ANSWER.formatted("ok"), null);
      }
    });
    chat(new LlmEndpoint("main", url, "m", true, null, 5, 0, 444, "max_completion_tokens"));
    assertThat(sent.get()).containsPattern("\"max_completion_tokens\"\\s*:\\s*444\\b").doesNotContain("\"max_tokens\"");
    chat(LlmEndpoint.fromSettings(Map.of("endpoints", List.of(Map.of("name", "main", "baseUrl", url, "model", "m",
        "baaCovered", true, "maxOutputTokens", 555, "maxRetries", 0, "tokenLimitField", "max_completion_tokens")))).get(0));
    assertThat(sent.get()).containsPattern("\"max_completion_tokens\"\\s*:\\s*555\\b").doesNotContain("\"max_tokens\"");
    // unset: max_tokens, as every OpenAI-compatible server reads it
    chat(LlmEndpoint.fromSettings(Map.of("endpoints", List.of(Map.of("name", "main", "baseUrl", url, "model", "m",
        "baaCovered", true, "maxOutputTokens", 666, "maxRetries", 0)))).get(0));
    assertThat(sent.get()).containsPattern("\"max_tokens\"\\s*:\\s*666\\b").doesNotContain("max_completion_tokens");
  }

  /**
   * A 429 with Retry-After is asked again after the wait it asked for, when that fits in the call's
   * deadline. LangChain4j's retries waited their own back-off whatever the endpoint said.
   */
  @Test
  void aRetryAfterThatFitsIsWaitedAndTheCallAskedAgain() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      if (calls.incrementAndGet() == 1) {
        answer(ex, 429, "{\"error\":{\"message\":\"slow down\"}}", "2");
      } else {
        answer(ex, 200, ANSWER.formatted("hello"), null);
      }
    });
    var r = chat(new LlmEndpoint("main", url, "m", true, null, 5, 1, 256));
    assertThat(r.aiMessage().text()).isEqualTo("hello");
    assertThat(calls).hasValue(2);
    assertThat(waits).containsExactly(Duration.ofSeconds(2));
  }

  /**
   * A Retry-After longer than the call may wait is not waited: the call ends at once, and the caller is
   * told when to come back (503 model_busy with the endpoint's Retry-After), not a 502 "retry later".
   * The endpoint's body (which quotes the prompt here) reaches no message.
   */
  @Test
  void aRetryAfterBeyondTheDeadlineFailsFastWithIt() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      answer(ex, 503, "{\"error\":{\"message\":\"overloaded for PATIENT Doe\"}}", "120");
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 3, 256);
    long start = System.nanoTime();
    assertThatThrownBy(() -> chat(e)).isInstanceOfSatisfying(LlmGateway.CallFailed.class, failed -> {
      assertThat(failed.retryAfter).isEqualTo(120);
      ChatRefused refused = LlmGateway.refusal(e, failed);
      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.code()).isEqualTo("model_busy");
      assertThat(refused.retryAfter()).isEqualTo(120);
      assertThat(refused.getMessage()).contains("HTTP 503", "120 s", "Retry-After").doesNotContain("Doe");
      assertThat(refused.failure()).doesNotContain("Doe");
    });
    assertThat(calls).hasValue(1);
    assertThat(waits).isEmpty();
    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(3_000);
    // however long the endpoint asks for, the caller is told an hour at most
    assertThat(LlmGateway.refusal(e, new LlmGateway.CallFailed(new IllegalStateException(), LlmGateway.Outcome.NO_ANSWER,
        999_999_999L)).retryAfter()).isEqualTo(3600);
  }

  /** The last retry's Retry-After goes to the caller too, even when it would have fitted. */
  @Test
  void aRetryAfterWithNoRetryLeftGoesToTheCaller() throws Exception {
    String url = serve(ex -> answer(ex, 429, "{}", "3"));
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 0, 256);
    assertThatThrownBy(() -> chat(e)).isInstanceOfSatisfying(LlmGateway.CallFailed.class, failed -> {
      assertThat(LlmGateway.refusal(e, failed).retryAfter()).isEqualTo(3);
      // a 3 s wait is no longer than a request may wait: it was not made because no retry was left, and the
      // message said "longer than this request could wait"
      assertThat(LlmGateway.refusal(e, failed).getMessage()).contains("no retry left", "3 s")
          .doesNotContain("longer than");
    });
  }

  /**
   * A failure without Retry-After is retried after a short back-off; one that asking again cannot mend
   * (credentials refused) is not; either way the caller gets 502 model_unavailable.
   */
  @Test
  void transientFailuresAreRetriedAndOthersAreNot() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    java.util.concurrent.atomic.AtomicInteger status = new java.util.concurrent.atomic.AtomicInteger(502);
    String url = serve(ex -> {
      calls.incrementAndGet();
      answer(ex, status.get(), "{}", null);
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 2, 256);
    assertThatThrownBy(() -> chat(e)).isInstanceOfSatisfying(LlmGateway.CallFailed.class, failed -> {
      assertThat(LlmGateway.refusal(e, failed).code()).isEqualTo("model_unavailable");
      // what the caller does next, and who fixes it when it lasts: it said "nothing was returned" alone
      assertThat(LlmGateway.refusal(e, failed).getMessage()).contains("HTTP 502", "Send the request again later",
          "'main' in settings.llm.endpoints");
    });
    assertThat(calls).hasValue(3);
    assertThat(waits).containsExactly(Duration.ofMillis(500), Duration.ofMillis(1000));
    calls.set(0);
    status.set(401);
    assertThatThrownBy(() -> chat(e)).satisfies(ex -> assertThat(LlmGateway.failure(ex)).contains("credentials"));
    assertThat(calls).hasValue(1);
  }

  /**
   * One deadline bounds the whole call, its retries and waits included: an endpoint that never answers,
   * with ten retries of 2 s, is given up after the deadline (here 3 s), not after 22 s.
   */
  @Test
  void oneDeadlineBoundsEveryAttemptAndWait() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      Thread.sleep(10_000);
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 2, 10, 256);
    long start = System.nanoTime();
    assertThatThrownBy(() -> LlmGateway.exchange(e, null, PROMPT, d -> Thread.sleep(d.toMillis()), Duration.ofSeconds(3)))
        .satisfies(ex -> assertThat(LlmGateway.failure(ex)).startsWith("timed out"));
    long took = (System.nanoTime() - start) / 1_000_000;
    assertThat(took).isBetween(1_900L, 3_500L);
    assertThat(calls.get()).isBetween(1, 2);
    // the deadline is the longer of 60 s and one attempt: the defaults' (30 s, one retry) fit as before
    assertThat(LlmGateway.deadline(e)).isEqualTo(Duration.ofSeconds(60));
    assertThat(LlmGateway.deadline(new LlmEndpoint("m", url, "m", true, null, 600, 10, 1))).isEqualTo(Duration.ofSeconds(600));
  }

  /**
   * A 200 whose body is no chat completion (broken JSON) is the endpoint's failure, named as such, and
   * never asked again: it spent the endpoint's tokens, and LangChain4j's retries asked for them again,
   * each attempt refunded. The broken body (which can hold the answer's PHI) reaches no message.
   */
  @Test
  void aBrokenAnswerIsNotAskedAgain() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      answer(ex, 200, "{\"id\":\"c1\",\"choices\":[{\"message\":{\"content\":\"Jane Doe MRN 12345", null);
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 3, 256);
    assertThatThrownBy(() -> chat(e)).isInstanceOfSatisfying(LlmGateway.CallFailed.class, failed -> {
      assertThat(failed.outcome).isEqualTo(LlmGateway.Outcome.BROKEN_ANSWER);
      assertThat(failed.getMessage()).isNull();
      ChatRefused refused = LlmGateway.refusal(e, failed);
      assertThat(refused.status()).isEqualTo(502);
      assertThat(refused.getMessage()).contains("not a chat completion").doesNotContain("Doe", "12345");
    });
    assertThat(calls).hasValue(1);
  }

  /** One charge written to the ledger: the reservation's day, the amounts and whether the thread was interrupted. */
  private record Charge(java.time.LocalDate day, long in, long out, int calls, boolean interrupted) {}

  private static final io.carecontext.migrations.TenantId TENANT = io.carecontext.migrations.TenantId.of("chatty");
  private static final LlmGateway.Reservation RESERVED =
      new LlmGateway.Reservation(java.time.LocalDate.of(2026, 1, 2), 40, 256);

  private final java.util.List<Charge> charges = new java.util.concurrent.CopyOnWriteArrayList<>();

  /** A gateway whose ledger records each charge, or fails when {@code broken} (the database gone). */
  private LlmGateway gateway(boolean broken) {
    return new LlmGateway(null, (tenant, day, keyId, e, in, out, calls) -> {
      charges.add(new Charge(day, in, out, calls, Thread.currentThread().isInterrupted()));
      if (broken) {
        throw new io.carecontext.migrations.DatabaseException("tenant transaction failed (08006)", null);
      }
    });
  }

  /**
   * A settle that fails (the database briefly gone) never takes the call's outcome with it: the answer is
   * returned and a failed call's refusal is thrown, so that ChatService audits the exchange whose prompt
   * left. The settle's exception was thrown in their place: the answer was lost and no row said the
   * prompt had gone to the endpoint. The reservation stays charged (written once, by reserve).
   */
  @Test
  void aSettleThatFailsKeepsTheCallsOutcome() throws Exception {
    AtomicInteger status = new AtomicInteger(200);
    String url = serve(ex -> answer(ex, status.get(), status.get() == 200 ? ANSWER.formatted("hello") : "{}", null));
    LlmEndpoint e = endpoint(url, 5);
    LlmGateway.Reply reply = gateway(true).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, waits::add);
    assertThat(reply.text()).isEqualTo("hello");
    assertThat(charges).hasSize(1);
    status.set(401);
    assertThatThrownBy(() -> gateway(true).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, waits::add))
        .isInstanceOfSatisfying(ChatRefused.class, r -> assertThat(r.code()).isEqualTo("model_unavailable"));
    assertThat(charges).hasSize(2);
  }

  /**
   * A call that ends in no way exchange names (an Error, here from the wait) is settled once, charged what
   * was reserved, and its failure rethrown. It was never settled: the prompt and the cap stayed in the day's
   * total for good, charged to no call.
   */
  @Test
  void aCallThatEndsUnexpectedlyIsSettledOnce() throws Exception {
    String url = serve(ex -> answer(ex, 503, "{}", null));
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 2, 256);
    assertThatThrownBy(() -> gateway(false).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, d -> {
      throw new StackOverflowError();
    })).isInstanceOf(StackOverflowError.class);
    assertThat(charges).containsExactly(new Charge(RESERVED.day(), -256, 256, 1, false));
    charges.clear();
    assertThatThrownBy(() -> gateway(false).call(TENANT, "k1", e, PROMPT, RESERVED, () -> {
      throw new IllegalStateException("no key");
    }, waits::add)).isInstanceOf(IllegalStateException.class);
    assertThat(charges).as("a key that cannot be read: settled too").hasSize(1);
  }

  /**
   * A call interrupted while it waits to retry ends at once and is settled with the thread's flag cleared
   * (a connection pool refuses an interrupted thread, and the reservation stayed), and the flag is set
   * again for the caller.
   */
  @Test
  void anInterruptedCallIsSettledAndStaysInterrupted() throws Exception {
    String url = serve(ex -> answer(ex, 503, "{}", null));
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 2, 256);
    try {
      assertThatThrownBy(() -> gateway(false).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, d -> {
        throw new InterruptedException();
      })).isInstanceOfSatisfying(ChatRefused.class, r -> assertThat(r.code()).isEqualTo("model_unavailable"));
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
    assertThat(charges).containsExactly(new Charge(RESERVED.day(), -296, 0, 0, false));
  }

  /**
   * The usage an endpoint reports is charged at most what the text it sent and got could hold: an endpoint
   * that reported 2,147,483,647 tokens each way for "hello" spent the key's and the tenant's budgets for
   * the day with one call. An honest report is charged as it came.
   */
  @Test
  void anAbsurdReportedUsageIsChargedNoMoreThanTheTextCouldHold() throws Exception {
    AtomicInteger reported = new AtomicInteger(Integer.MAX_VALUE);
    String url = serve(ex -> answer(ex, 200, ANSWER.formatted("hello").replace("\"prompt_tokens\":3",
        "\"prompt_tokens\":" + reported.get()).replace("\"completion_tokens\":1", "\"completion_tokens\":" + reported.get()),
        null));
    LlmEndpoint e = endpoint(url, 5);
    LlmGateway.Reply reply = gateway(false).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, waits::add);
    int promptCeiling = "system\nq".length() + LlmGateway.PROMPT_OVERHEAD_TOKENS;
    assertThat(reply.promptTokens()).isEqualTo(promptCeiling);
    assertThat(reply.outputTokens()).as("the cap asked for").isEqualTo(256);
    assertThat(charges).containsExactly(new Charge(RESERVED.day(), promptCeiling - 296, 256, 1, false));
    charges.clear();
    reported.set(7);
    reply = gateway(false).call(TENANT, "k1", e, PROMPT, RESERVED, () -> null, waits::add);
    assertThat(reply.promptTokens()).isEqualTo(7);
    assertThat(reply.outputTokens()).isEqualTo(7);
  }

  /**
   * A wait that overruns the deadline (the process paused) ends the call with the endpoint's own failure.
   * The next attempt was started with a negative timeout, which the HTTP client refused, and that refusal
   * became the call's failure ("no usable answer") in place of the endpoint's 502; it is not started.
   */
  @Test
  void aWaitThatOverrunsTheDeadlineEndsWithTheEndpointsFailure() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      answer(ex, 502, "{}", null);
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 2, 5, 256);
    assertThatThrownBy(() -> LlmGateway.exchange(e, null, PROMPT, d -> Thread.sleep(d.toMillis() + 2_500),
        Duration.ofSeconds(2)))
        .satisfies(ex -> assertThat(LlmGateway.failure(ex)).isEqualTo("the endpoint answered HTTP 502"));
    assertThat(calls).hasValue(1);
  }

  /**
   * A Retry-After of twenty digits is the longest wait, not none: the call ends at once with 503 model_busy
   * and an hour's Retry-After. It was read as no Retry-After, and the endpoint asked again after the back-off.
   */
  @Test
  void aRetryAfterTooLongForALongIsNotAskedAgain() throws Exception {
    AtomicInteger calls = new AtomicInteger();
    String url = serve(ex -> {
      calls.incrementAndGet();
      answer(ex, 429, "{}", "99999999999999999999");
    });
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 5, 3, 256);
    assertThatThrownBy(() -> chat(e)).isInstanceOfSatisfying(LlmGateway.CallFailed.class, failed -> {
      ChatRefused refused = LlmGateway.refusal(e, failed);
      assertThat(refused.code()).isEqualTo("model_busy");
      assertThat(refused.retryAfter()).isEqualTo(3600);
    });
    assertThat(calls).hasValue(1);
    assertThat(waits).isEmpty();
  }
}
