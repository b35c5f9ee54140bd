package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.langchain4j.data.message.UserMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
    return new LlmEndpoint("main", baseUrl, "m", true, null, timeoutSeconds, 0);
  }

  @Test
  void anAnswerComesBackWhole() throws Exception {
    String url = serve(ex -> {
      byte[] body = ANSWER.formatted("hello").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, body.length);
      ex.getResponseBody().write(body);
    });
    var r = LlmGateway.model(endpoint(url, 5), null).chat(UserMessage.from("q"));
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
    assertThatThrownBy(() -> LlmGateway.model(endpoint(url, 1), null).chat(UserMessage.from("q")))
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
    LlmEndpoint e = new LlmEndpoint("main", url, "m", true, null, 10, 2);
    assertThatThrownBy(() -> LlmGateway.model(e, null).chat(UserMessage.from("q")))
        .satisfies(ex -> assertThat(LlmGateway.failure(ex)).isEqualTo("its answer was larger than 128 KiB"))
        .satisfies(ex -> assertThat(ex.getMessage()).doesNotContain("xxxx"));
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
    assertThatThrownBy(() -> LlmGateway.model(endpoint(url, 5), null).chat(UserMessage.from("q")))
        .satisfies(e -> assertThat(LlmGateway.failure(e)).isEqualTo("the endpoint answered HTTP 307"));
    assertThat(reached).hasValue(0);
  }
}
