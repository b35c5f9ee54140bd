package io.carecontext.services.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.carecontext.services.http.ApiErrorProcessor;
import io.micronaut.serde.ObjectMapper;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Admin bodies refuse fields they do not define, and take their fields strictly typed. */
class AdminBodiesTest {

  private static ObjectMapper json;

  @BeforeAll
  static void mapper() {
    json = ObjectMapper.create(Map.of(), "io.carecontext.services.http");
  }

  @AfterAll
  static void close() throws Exception {
    if (json instanceof AutoCloseable c) {
      c.close();
    }
  }

  @Test
  void documentedFieldsBind() throws IOException {
    assertEquals(new AdminDtos.PatchTenant("N", Map.of("consentMode", "opt-in")),
        json.readValue("{\"name\":\"N\",\"settings\":{\"consentMode\":\"opt-in\"}}", AdminDtos.PatchTenant.class));
    assertEquals(List.of("clinician"), json.readValue("{\"principal\":\"dr\",\"roles\":[\"clinician\"]}",
        AdminDtos.CreateKey.class).roles());
  }

  @Test
  void anUnknownTopLevelFieldIsNamed() {
    assertEquals("unknown field 'setting': this body takes only the documented fields (see /openapi.yml)",
        refusal("{\"setting\":{\"consentMode\":\"opt-in\"}}", AdminDtos.PatchTenant.class));
    assertEquals("unknown field 'bogus': this body takes only the documented fields (see /openapi.yml)",
        refusal("{\"id\":\"acme3\",\"name\":\"A3\",\"bogus\":true}", AdminDtos.CreateTenant.class));
    assertEquals("unknown field 'role': this body takes only the documented fields (see /openapi.yml)",
        refusal("{\"principal\":\"dr\",\"role\":[\"clinician\"]}", AdminDtos.CreateKey.class));
  }

  @Test
  void aFieldNameThatCouldBeAnythingIsNotEchoed() {
    assertEquals("unknown field (not a field name): this body takes only the documented fields (see /openapi.yml)",
        refusal("{\"John Smith 555-0100\":1}", AdminDtos.PatchTenant.class));
  }

  @Test
  void fieldsAreStrictlyTyped() {
    assertEquals("field 'name' must be a string (see /openapi.yml)",
        refusal("{\"name\":5}", AdminDtos.PatchTenant.class));
    // Elements of a list of strings are still read leniently by Serde (5 becomes "5"); for roles that is
    // harmless, since no number or boolean is a role code: KeyController refuses it as an unknown role.
    assertEquals("field 'principal' must be a string (see /openapi.yml)",
        refusal("{\"principal\":123,\"roles\":[\"clinician\"]}", AdminDtos.CreateKey.class));
  }

  private static String refusal(String body, Class<?> type) {
    IOException e = assertThrows(IOException.class, () -> json.readValue(body, type));
    return ApiErrorProcessor.badField(e).orElseThrow(() -> new AssertionError("not named: " + e)).message();
  }
}
