package io.carecontext.ingest.embedding;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * What an embedding endpoint that misbehaves (trickling, answering without end, redirecting, sending
 * numbers no vector may hold) can do to the worker: each call ends within its timeout, with an
 * {@link EmbeddingException}, having sent the texts to no one else. Servers on loopback, written by
 * hand so that they can misbehave at the byte level.
 */
class EmbeddingEndpointLimitsTest {

  private static final int DIMENSIONS = 4;

  /** Answers every connection with {@code answer}, after reading the request; counts the requests. */
  private static final class RawServer implements AutoCloseable {
    interface Answer {
      void write(OutputStream out) throws IOException, InterruptedException;
    }

    final ServerSocket socket;
    final AtomicInteger requests = new AtomicInteger();
    final Thread thread;

    RawServer(Answer answer) throws IOException {
      socket = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
      thread = new Thread(() -> {
        while (!socket.isClosed()) {
          try (Socket s = socket.accept()) {
            readRequest(s.getInputStream());
            requests.incrementAndGet();
            answer.write(s.getOutputStream());
          } catch (IOException | InterruptedException e) {
            // the client went away, or the server is closing
          }
        }
      });
      thread.setDaemon(true);
      thread.start();
    }

    String baseUrl() {
      return "http://127.0.0.1:" + socket.getLocalPort() + "/v1";
    }

    private static void readRequest(InputStream in) throws IOException {
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return;
        }
        head.append((char) b);
      }
      int length = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase().startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      in.readNBytes(length);
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static OpenAiCompatibleEmbeddingProvider provider(String baseUrl) {
    return new OpenAiCompatibleEmbeddingProvider(new OpenAiEmbeddingConfig(baseUrl, "test-key", "m", DIMENSIONS,
        Duration.ofSeconds(1), 0));
  }

  private static String answer(String vector) {
    return "{\"object\":\"list\",\"model\":\"m\",\"data\":[{\"object\":\"embedding\",\"index\":0,\"embedding\":"
        + vector + "}],\"usage\":{\"prompt_tokens\":1,\"total_tokens\":1}}";
  }

  private static void ok(OutputStream out, String body, long contentLength) throws IOException {
    out.write(("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + contentLength
        + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
    out.flush();
  }

  /**
   * The headers at once, then a byte every 100 ms: the JDK client's timeout ended with the headers,
   * and the call went on for as long as the body did (here minutes).
   */
  @Test
  void anEndpointTricklingItsAnswerIsCutOffAtTheTimeout() throws Exception {
    String body = answer("[0.1,0.2,0.3,0.4]") + " ".repeat(3000);
    try (RawServer server = new RawServer(out -> {
      ok(out, "", body.length());
      for (byte b : body.getBytes(StandardCharsets.UTF_8)) {
        out.write(b);
        out.flush();
        Thread.sleep(100);
      }
    })) {
      EmbeddingProvider p = provider(server.baseUrl());
      long started = System.nanoTime();
      EmbeddingException e = assertTimeoutPreemptively(Duration.ofSeconds(20),
          () -> org.junit.jupiter.api.Assertions.assertThrows(EmbeddingException.class, () -> p.embedAll(List.of("a note"))));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(5));
      assertThat(e.kind()).contains("timed out");
      assertThat(e.endpointWide()).isTrue();
    }
  }

  /** A valid answer followed by 40 MB of blanks: read into memory whole, and used. */
  @Test
  void anAnswerLongerThanAnyVectorsNeedIsRefusedUnread() throws Exception {
    String json = answer("[0.1,0.2,0.3,0.4]");
    long padding = 40L << 20;
    AtomicInteger written = new AtomicInteger();
    try (RawServer server = new RawServer(out -> {
      ok(out, json, json.length() + padding);
      byte[] blanks = " ".repeat(1 << 16).getBytes(StandardCharsets.UTF_8);
      for (long sent = 0; sent < padding; sent += blanks.length) {
        out.write(blanks);
        written.addAndGet(blanks.length);
      }
      out.flush();
    })) {
      assertThat(OpenAiCompatibleEmbeddingProvider.maxAnswerBytes(DIMENSIONS)).isLessThan(padding / 4);
      assertThatThrownBy(() -> provider(server.baseUrl()).embedAll(List.of("a note")))
          .isInstanceOf(EmbeddingException.class)
          .satisfies(e -> assertThat(((EmbeddingException) e).kind()).isEqualTo(EmbeddingException.BAD_ANSWER))
          .satisfies(e -> assertThat(((EmbeddingException) e).endpointWide()).isFalse());
    }
  }

  /** A redirect, even to another port of this machine, is not followed: the texts go to the approved host only. */
  @Test
  void aRedirectIsNotFollowed() throws Exception {
    try (RawServer elsewhere = new RawServer(out -> ok(out, answer("[0.1,0.2,0.3,0.4]"), 0));
         RawServer redirecting = new RawServer(out -> {
           out.write(("HTTP/1.1 307 Temporary Redirect\r\nLocation: " + elsewhere.baseUrl()
               + "/embeddings\r\nContent-Length: 0\r\n\r\n").getBytes(StandardCharsets.UTF_8));
           out.flush();
         })) {
      assertThatThrownBy(() -> provider(redirecting.baseUrl()).embedAll(List.of("a note")))
          .isInstanceOf(EmbeddingException.class);
      assertThat(redirecting.requests.get()).isEqualTo(1);
      assertThat(elsewhere.requests.get()).as("the redirect's target got nothing").isZero();
    }
  }

  /**
   * A number too large for a float (read as Infinity) or a NaN in a vector: stored, it failed the
   * batch's insert with the database's error (the rows were parked as "BatchUpdateException", saying
   * nothing of the model), and in a question's vector it would rank every chunk alike.
   */
  @Test
  void aVectorWithANumberNoVectorMayHoldIsRefused() throws Exception {
    try (RawServer server = new RawServer(out -> {
      String body = answer("[0.1,1e39,0.3,0.4]");
      ok(out, body, body.length());
    })) {
      assertThatThrownBy(() -> provider(server.baseUrl()).embedAll(List.of("a note")))
          .isInstanceOf(EmbeddingException.class)
          .hasMessageContaining("not a finite number")
          .satisfies(e -> assertThat(((EmbeddingException) e).kind()).isEqualTo(EmbeddingException.BAD_ANSWER));
    }
  }

  @Test
  void vectorsOfTheRightSizeWithFiniteNumbersPass() {
    assertThat(Texts.vectors(List.of(dev.langchain4j.data.embedding.Embedding.from(new float[] {1, 2, 3, 4})), 1,
        DIMENSIONS, "m")).hasSize(1);
    assertThatThrownBy(() -> Texts.vectors(List.of(dev.langchain4j.data.embedding.Embedding.from(
        new float[] {1, Float.NaN, 3, 4})), 1, DIMENSIONS, "m")).isInstanceOf(EmbeddingException.class);
  }
}
