package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Concurrent requests, each with an X-Request-Id of its own, on every path an audit row takes to the writer: a
 * handler's allowed read (the group commit's writer thread appends it), a handler's refusal (role), a malformed
 * filter (400), and a 405 the refused-request filter records on a blocking thread of its own. Every row written
 * names the request that caused it, and only that one: the request id and the principal agree, and each id has
 * exactly its one row (the origin bound to a pool thread never outlives the request it served).
 */
class AuditOriginConcurrencyIT {

  static TestServer app;
  static final ObjectMapper JSON = new ObjectMapper();
  static final Map<String, String> KEYS = new HashMap<>();

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    KEYS.put("aud-a", app.tenantWithKey("concur", "aud-a", "[\"auditor\"]", null));
    KEYS.put("aud-b", app.tenantWithKey("concur", "aud-b", "[\"auditor\"]", null));
    KEYS.put("clin", app.tenantWithKey("concur", "clin", "[\"clinician\"]", null));
    KEYS.put("aud-c", app.tenantWithKey("concur", "aud-c", "[\"auditor\"]", null));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** What one request did, and what its row must say. */
  record Sent(String id, String principal, String decision, int status) {
  }

  static Sent send(int i) {
    String id = UUID.randomUUID().toString();
    Map<String, String> h = Map.of("X-Request-Id", id);
    int kind = i % 5;
    // at most 20 refusals of each kind and key: under the refusal rows' per-key budget (RefusalRows, 30 a
    // minute), so that each is a row of its own
    if (kind >= 2 && i >= 100) {
      kind = i % 2;
    }
    return switch (kind) {
      case 0 -> sent(id, "aud-a", "allowed", app.call("GET", "/v1/concur/audit?limit=1", KEYS.get("aud-a"), null,
          "application/json", h));
      case 1 -> sent(id, "aud-b", "allowed", app.call("GET", "/v1/concur/audit?limit=1", KEYS.get("aud-b"), null,
          "application/json", h));
      case 2 -> sent(id, "clin", "denied", app.call("GET", "/v1/concur/audit?limit=1", KEYS.get("clin"), null,
          "application/json", h));
      case 3 -> sent(id, "aud-b", "denied", app.call("GET", "/v1/concur/audit?limit=many", KEYS.get("aud-b"), null,
          "application/json", h));
      default -> sent(id, "aud-c", "denied", app.call("DELETE", "/v1/concur/audit", KEYS.get("aud-c"), null,
          "application/json", h));
    };
  }

  static Sent sent(String id, String principal, String decision, HttpResponse<String> r) {
    assertThat(r.headers().firstValue("X-Request-Id")).as(r.body()).contains(id);
    return new Sent(id, principal, decision, r.statusCode());
  }

  @Test
  void everyRowNamesItsOwnRequest() throws Exception {
    int requests = 200;
    ExecutorService pool = Executors.newFixedThreadPool(12);
    List<Future<Sent>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < requests; i++) {
        int n = i;
        futures.add(pool.submit(() -> send(n)));
      }
      Map<String, Sent> byId = new HashMap<>();
      for (Future<Sent> f : futures) {
        Sent s = f.get();
        byId.put(s.id(), s);
      }
      assertThat(byId).hasSize(requests);
      assertThat(byId.values().stream().map(Sent::status).distinct()).containsExactlyInAnyOrder(200, 403, 400, 405);

      HttpResponse<String> all = app.call("GET", "/v1/concur/audit?limit=10000", KEYS.get("aud-a"), null);
      assertThat(all.statusCode()).as(all.body()).isEqualTo(200);
      Map<String, Integer> rowsOf = new HashMap<>();
      for (JsonNode row : JSON.readTree(all.body()).get("entries")) {
        String id = row.path("requestId").isTextual() ? row.get("requestId").asText() : null;
        Sent s = id == null ? null : byId.get(id);
        if (s == null) {
          continue; // the set-up's rows: their own requests
        }
        rowsOf.merge(id, 1, Integer::sum);
        assertThat(row.get("principal").asText()).as("row of request %s", id).isEqualTo(s.principal());
        assertThat(row.get("decision").asText()).as("row of request %s", id).isEqualTo(s.decision());
        assertThat(row.get("clientAddress").asText()).isEqualTo("127.0.0.1");
      }
      assertThat(rowsOf.keySet()).containsExactlyInAnyOrderElementsOf(byId.keySet());
      assertThat(rowsOf.values()).containsOnly(1);
    } finally {
      pool.shutdownNow();
    }
  }
}
