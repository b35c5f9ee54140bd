package io.carecontext.services.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.carecontext.services.retrieval.ContextController.ContextRequest;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A body is one JSON value: what follows it is refused, not ignored. */
class JsonBodiesTest {

  @RegisterExtension
  static final RequestBodies bodies = new RequestBodies();

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void contentAfterTheValueIsRefused() {
    String ok = "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\"}";
    for (String tail : List.of(" {\"maxResults\":3}", "{}", " trailing", "]", ",", " null", "\"x\"")) {
      IOException e = assertThrows(IOException.class,
          () -> JsonBodies.read(bodies.mapper(), utf8(ok + tail), ContextRequest.class), tail);
      assertTrue(ApiErrorProcessor.badField(e).isEmpty(), "names no field: " + tail);
      assertTrue(!String.valueOf(e.getMessage()).contains("maxResults") && !String.valueOf(e.getMessage()).contains("trailing"),
          "does not quote the body: " + e.getMessage());
      // a fault the callers name in their 400 (they said "not valid JSON" of sound JSON)
      assertEquals(JsonBodies.CONTENT_AFTER, ((JsonBodies.BodyFault) e).fault(), tail);
    }
  }

  @Test
  void aMemberNamedTwiceInOneObjectIsRefusedAtAnyDepth() throws IOException {
    // within a map (a tenant's settings) the last one won: opt-in read, opt-out stored
    for (String twice : List.of("{\"settings\":{\"consentMode\":\"opt-in\",\"consentMode\":\"opt-out\"}}",
        "{\"settings\":{\"rolePolicies\":{\"billing\":{\"kMax\":3,\"kMax\":100}}}}",
        "{\"a\":[{\"x\":1,\"x\":2}]}")) {
      IOException e = assertThrows(IOException.class, () -> JsonBodies.read(bodies.mapper(), utf8(twice), Map.class),
          twice);
      assertTrue(!String.valueOf(e.getMessage()).contains("consentMode") && !e.getMessage().contains("kMax"),
          "does not quote the body: " + e.getMessage());
      assertEquals(JsonBodies.MEMBER_TWICE, ((JsonBodies.BodyFault) e).fault(), twice);
    }
    // at the top of a record's body too, where the mapper refused it first with a message of its own
    IOException top = assertThrows(IOException.class, () -> JsonBodies.read(bodies.mapper(),
        utf8("{\"query\":\"chest pain\",\"query\":\"Jane Doe\",\"purposeOfUse\":\"TREAT\"}"), ContextRequest.class));
    assertEquals(JsonBodies.MEMBER_TWICE, ((JsonBodies.BodyFault) top).fault());
    // malformed JSON stays the mapper's refusal, not a member named twice
    IOException broken = assertThrows(IOException.class, () -> JsonBodies.read(bodies.mapper(),
        utf8("{\"query\":\"x\",\"query\""), ContextRequest.class));
    assertTrue(!(broken instanceof JsonBodies.BodyFault), broken.toString());
    // one name in two objects is two members
    assertEquals(2, JsonBodies.read(bodies.mapper(), utf8("{\"a\":{\"x\":1},\"b\":{\"x\":2}}"), Map.class)
        .orElseThrow().size());
  }

  @Test
  void whitespaceAfterTheValueIsTakenAndAnEmptyBodyIsNone() throws IOException {
    assertEquals("chest pain", JsonBodies.read(bodies.mapper(),
        utf8("{\"query\":\"chest pain\"}\r\n\t "), ContextRequest.class).orElseThrow().query());
    assertTrue(JsonBodies.read(bodies.mapper(), new byte[0], ContextRequest.class).isEmpty());
    assertTrue(JsonBodies.read(bodies.mapper(), null, ContextRequest.class).isEmpty());
    assertTrue(JsonBodies.read(bodies.mapper(), utf8("null"), ContextRequest.class).isEmpty());
  }

  @Test
  void theFieldErrorsOfTheValueItselfAreStillNamed() {
    IOException e = assertThrows(IOException.class, () -> JsonBodies.read(bodies.mapper(),
        utf8("{\"query\":\"x\",\"maxResults\":3} trailing"), ContextRequest.class));
    assertEquals("an unknown field: this body takes only the documented fields (see /openapi.yml)",
        ApiErrorProcessor.badField(e).orElseThrow().message());
  }
}
