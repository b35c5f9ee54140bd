package io.carecontext.services.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The benchmark's client reads both body framings HTTP/1.1 servers send, and keeps its connection. */
class PlainHttpTest {

  private HttpServer server;
  private final Set<String> peers = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start() throws Exception {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/", exchange -> {
      peers.add(exchange.getRemoteAddress().toString());
      byte[] request = exchange.getRequestBody().readAllBytes();
      String auth = exchange.getRequestHeaders().getFirst("Authorization");
      byte[] answer = (exchange.getRequestMethod() + " " + exchange.getRequestURI() + " " + auth + " "
          + new String(request, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
      boolean chunked = exchange.getRequestURI().getPath().startsWith("/chunked");
      int status = exchange.getRequestURI().getPath().startsWith("/missing") ? 404 : 200;
      exchange.sendResponseHeaders(status, chunked ? 0 : answer.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(answer);
      }
    });
    server.start();
  }

  @AfterEach
  void stop() {
    server.stop(0);
  }

  @Test
  void readsFixedLengthAndChunkedBodiesOnOneKeptAliveConnection() {
    try (PlainHttp http = new PlainHttp("127.0.0.1", server.getAddress().getPort())) {
      PlainHttp.Response fixed = http.send("POST", "/v1/a", "k1", "{\"q\":\"é\"}");
      PlainHttp.Response chunked = http.send("PATCH", "/chunked/b", "k2", "{}");
      PlainHttp.Response missing = http.send("GET", "/missing", null, null);

      assertThat(fixed).isEqualTo(new PlainHttp.Response(200, "POST /v1/a Bearer k1 {\"q\":\"é\"}"));
      assertThat(chunked).isEqualTo(new PlainHttp.Response(200, "PATCH /chunked/b Bearer k2 {}"));
      assertThat(missing.status()).isEqualTo(404);
      assertThat(missing.body()).isEqualTo("GET /missing null ");
    }
    assertThat(peers).as("one client port: the connection was kept alive").hasSize(1);
  }
}
