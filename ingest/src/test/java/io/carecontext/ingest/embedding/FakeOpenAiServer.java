package io.carecontext.ingest.embedding;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A minimal OpenAI-compatible embeddings server on 127.0.0.1: {@code POST /v1/embeddings} answers
 * with vectors derived only from each input text (so equal texts give equal vectors), and every
 * request is recorded for assertions.
 */
final class FakeOpenAiServer implements AutoCloseable {

  static final int DEFAULT_DIMENSIONS = 8;
  private static final ObjectMapper JSON = new ObjectMapper();

  record Recorded(String method, String path, String authorization, JsonNode body) {
  }

  record Failure(int status, String body, String retryAfter) {
  }

  private final HttpServer server;
  private final List<Recorded> requests = new CopyOnWriteArrayList<>();
  private final AtomicReference<Failure> failure = new AtomicReference<>();
  private final java.util.concurrent.atomic.AtomicInteger forcedDimensions = new java.util.concurrent.atomic.AtomicInteger();

  private FakeOpenAiServer(HttpServer server) {
    this.server = server;
  }

  static FakeOpenAiServer start() throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    FakeOpenAiServer fake = new FakeOpenAiServer(http);
    http.createContext("/", fake::handle);
    http.start();
    return fake;
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort() + "/v1";
  }

  List<Recorded> requests() {
    return requests;
  }

  /** Every following request fails with this status and body, until {@link #succeed()}. */
  void fail(int status, String body) {
    fail(status, body, null);
  }

  /** As {@link #fail(int, String)}, with this {@code Retry-After} header (none when null). */
  void fail(int status, String body, String retryAfter) {
    failure.set(new Failure(status, body, retryAfter));
  }

  /** Ignore the requested dimensions, like some compatible servers do. */
  void answerWithDimensions(int dimensions) {
    forcedDimensions.set(dimensions);
  }

  /** Back to normal behaviour. */
  void succeed() {
    failure.set(null);
    forcedDimensions.set(0);
  }

  static float[] vectorFor(String text, int dimensions) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      SplittableRandom random = new SplittableRandom(java.nio.ByteBuffer.wrap(digest).getLong());
      float[] vector = new float[dimensions];
      for (int i = 0; i < dimensions; i++) {
        vector[i] = (float) (random.nextDouble() * 2 - 1);
      }
      return vector;
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private void handle(HttpExchange exchange) throws IOException {
    try {
      JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
      requests.add(new Recorded(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
          exchange.getRequestHeaders().getFirst("Authorization"), body));
      Failure f = failure.get();
      if (f != null) {
        if (f.retryAfter() != null) {
          exchange.getResponseHeaders().set("Retry-After", f.retryAfter());
        }
        respond(exchange, f.status(), f.body());
      } else if (!exchange.getRequestMethod().equals("POST") || !exchange.getRequestURI().getPath().equals("/v1/embeddings")) {
        respond(exchange, 404, "{\"error\":{\"message\":\"not found\"}}");
      } else {
        respond(exchange, 200, JSON.writeValueAsString(embeddings(body, forcedDimensions.get())));
      }
    } finally {
      exchange.close();
    }
  }

  private static ObjectNode embeddings(JsonNode request, int forced) {
    int dimensions = forced > 0 ? forced : request.path("dimensions").asInt(DEFAULT_DIMENSIONS);
    ObjectNode response = JSON.createObjectNode().put("object", "list").put("model", request.path("model").asText());
    ArrayNode data = response.putArray("data");
    int index = 0;
    for (JsonNode input : request.path("input")) {
      ObjectNode item = data.addObject().put("object", "embedding").put("index", index++);
      ArrayNode values = item.putArray("embedding");
      for (float x : vectorFor(input.asText(), dimensions)) {
        values.add(x);
      }
    }
    response.putObject("usage").put("prompt_tokens", index).put("total_tokens", index);
    return response;
  }

  private static void respond(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/json");
    exchange.sendResponseHeaders(status, bytes.length);
    exchange.getResponseBody().write(bytes);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
