package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Behind a proxy the operator trusts (CARECONTEXT_TRUSTED_PROXIES; here the test's own loopback peer), the audit
 * row's client address is the one the proxy forwarded, validated: a hop that is no address falls back to the
 * nearest one known, never its text. A caller's X-Request-Id that is not of the accepted forms is replaced, and the
 * row keeps the id the answer carries.
 */
class AuditOriginBehindProxyIT {

  static TestServer app;
  static String auditor;
  static final ObjectMapper JSON = new ObjectMapper();

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0", "CARECONTEXT_TRUSTED_PROXIES", "127.0.0.1/32,::1"));
    auditor = app.tenantWithKey("proxied", "aud", "[\"auditor\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The row of the listing that answered {@code r}, found by the id its answer carried. */
  static JsonNode rowOf(HttpResponse<String> r) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    String id = r.headers().firstValue("X-Request-Id").orElseThrow();
    HttpResponse<String> found = app.call("GET", "/v1/proxied/audit?requestId=" + id, auditor, null);
    assertThat(found.statusCode()).as(found.body()).isEqualTo(200);
    JsonNode list = JSON.readTree(found.body());
    assertThat(list.get("count").asInt()).isEqualTo(1);
    JsonNode row = list.get("entries").get(0);
    assertThat(row.get("requestId").asText()).isEqualTo(id);
    return row;
  }

  static HttpResponse<String> listWith(Map<String, String> headers) {
    return app.call("GET", "/v1/proxied/audit?limit=1", auditor, null, "application/json", headers);
  }

  @Test
  void aTrustedProxysForwardedAddressIsTheClients() throws Exception {
    assertThat(rowOf(listWith(Map.of("X-Forwarded-For", "198.51.100.23"))).get("clientAddress").asText())
        .isEqualTo("198.51.100.23");
    assertThat(rowOf(listWith(Map.of("Forwarded", "for=\"[2001:db8:0::23]:4711\";proto=https")))
        .get("clientAddress").asText()).isEqualTo("2001:db8::23");
    // the rightmost hop no trusted proxy: what the client wrote at the left does not count
    assertThat(rowOf(listWith(Map.of("X-Forwarded-For", "6.6.6.6, 198.51.100.24"))).get("clientAddress").asText())
        .isEqualTo("198.51.100.24");
  }

  @Test
  void aHopThatIsNoAddressIsNeverRecorded() throws Exception {
    JsonNode row = rowOf(listWith(Map.of("X-Forwarded-For", "Zebulon Quixote 1947-03-19")));
    assertThat(row.get("clientAddress").asText()).isEqualTo("127.0.0.1");
    assertThat(row.toString()).doesNotContain("Zebulon");
  }

  @Test
  void aRequestIdNotOfTheAcceptedFormsIsReplacedAndTheRowKeepsTheAnswers() throws Exception {
    HttpResponse<String> r = listWith(Map.of("X-Request-Id", "Zebulon_Quixote_1947-03-19"));
    String answered = r.headers().firstValue("X-Request-Id").orElseThrow();
    assertThat(answered).doesNotContain("Zebulon");
    assertThat(rowOf(r).get("requestId").asText()).isEqualTo(answered);
    // a malformed filter is a 400 that names the form, not the text
    // and so is one of letters alone (a name), which no answer's X-Request-Id can be: it was taken as an id and kept
    // in the listing's own row
    for (String typed : new String[] {"Zebulon%20Quixote", "ZebulonQuixote"}) {
      HttpResponse<String> bad = app.call("GET", "/v1/proxied/audit?requestId=" + typed, auditor, null);
      assertThat(bad.statusCode()).as(typed).isEqualTo(400);
      assertThat(bad.body()).contains("requestId must be").doesNotContain("Zebulon");
    }
    assertThat(app.call("GET", "/v1/proxied/audit?limit=1000", auditor, null).body()).doesNotContain("Zebulon");
  }
}
