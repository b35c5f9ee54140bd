package io.carecontext.services.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.carecontext.services.chat.ChatController.ChatRequest;
import io.carecontext.services.retrieval.ContextController.ContextRequest;
import java.io.IOException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Bodies bind without coercion, and the 400 names the field and its type, never the value. */
class StrictScalarsTest {

  @RegisterExtension
  static final RequestBodies bodies = new RequestBodies();

  @Test
  void wellTypedBodiesStillBind() throws IOException {
    ContextRequest r = bodies.read("{\"query\":\"hba1c\",\"k\":5,\"purposeOfUse\":\"TREAT\",\"reason\":null}",
        ContextRequest.class);
    assertEquals(new ContextRequest("hba1c", 5, "TREAT", null, null), r);
    ChatRequest c = bodies.read("{\"question\":\"q\",\"dryRun\":true}", ChatRequest.class);
    assertEquals(Boolean.TRUE, c.dryRun());
    assertEquals(null, bodies.read("{\"question\":\"q\"}", ChatRequest.class).dryRun());
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"5\"", "\"07\"", "2.5", "5.0", "true", "[3]", "{}", "9999999999"})
  void kTakesOnlyAJsonInteger(String k) {
    assertEquals("field 'k' must be a whole number (see /openapi.yml)",
        bodies.refusal("{\"query\":\"q\",\"k\":" + k + "}", ContextRequest.class));
  }

  @ParameterizedTest
  @ValueSource(strings = {"123", "true", "[\"a\"]", "{\"a\":1}", "1.5"})
  void queryTakesOnlyAJsonString(String query) {
    assertEquals("field 'query' must be a string (see /openapi.yml)",
        bodies.refusal("{\"query\":" + query + "}", ContextRequest.class));
    assertEquals("field 'purposeOfUse' must be a string (see /openapi.yml)",
        bodies.refusal("{\"query\":\"q\",\"purposeOfUse\":" + query + "}", ContextRequest.class));
  }

  @ParameterizedTest
  @ValueSource(strings = {"\"yes\"", "\"true\"", "0", "1", "[true]", "\"false\""})
  void dryRunTakesOnlyTrueOrFalse(String dryRun) {
    String message = bodies.refusal("{\"question\":\"q\",\"dryRun\":" + dryRun + "}", ChatRequest.class);
    assertEquals("field 'dryRun' must be true or false (see /openapi.yml)", message);
    assertFalse(message.contains("yes"));
  }

}
