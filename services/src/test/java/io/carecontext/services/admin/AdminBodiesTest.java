package io.carecontext.services.admin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.carecontext.services.http.ApiException;
import io.carecontext.services.http.RequestBodies;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Admin bodies refuse fields they do not define, and take their fields strictly typed. */
class AdminBodiesTest {

  @RegisterExtension
  static final RequestBodies bodies = new RequestBodies();

  @Test
  void documentedFieldsBind() throws IOException {
    assertEquals(new AdminDtos.PatchTenant("N", Map.of("consentMode", "opt-in")),
        bodies.read("{\"name\":\"N\",\"settings\":{\"consentMode\":\"opt-in\"}}", AdminDtos.PatchTenant.class));
    assertEquals(List.of("clinician"), bodies.read("{\"principal\":\"dr\",\"roles\":[\"clinician\"]}",
        AdminDtos.CreateKey.class).roles());
  }

  @Test
  void anUnknownTopLevelFieldIsRefusedWithTheFieldsTheBodyTakes() {
    assertEquals("an unknown field: this body takes only the fields name, settings (see /openapi.yml)",
        bodies.refusal("{\"setting\":{\"consentMode\":\"opt-in\"}}", AdminDtos.PatchTenant.class));
    assertEquals("an unknown field: this body takes only the fields id, name, settings (see /openapi.yml)",
        bodies.refusal("{\"id\":\"acme3\",\"name\":\"A3\",\"bogus\":true}", AdminDtos.CreateTenant.class));
    assertEquals("an unknown field: this body takes only the fields principal, roles, expiresAt, practitionerId "
        + "(see /openapi.yml)", bodies.refusal("{\"principal\":\"dr\",\"role\":[\"clinician\"]}", AdminDtos.CreateKey.class));
  }

  @Test
  void contentAfterTheObjectIsRefusedNotIgnored() {
    // The framework bound the first object and dropped the rest: this created an auditor key, 201.
    for (String body : List.of("{\"principal\":\"p\",\"roles\":[\"auditor\"]} {\"roles\":[\"tenant-admin\"]}",
        "{\"principal\":\"p\",\"roles\":[\"auditor\"]} trailing", "{\"principal\":\"p\",\"roles\":[\"auditor\"]}]")) {
      ApiException e = assertThrows(ApiException.class,
          () -> AdminDtos.read(bodies.mapper(), body.getBytes(StandardCharsets.UTF_8), AdminDtos.CreateKey.class), body);
      assertEquals(400, e.status().getCode());
      // it said "the request is malformed" alone of a body that is sound JSON: the caller is told what to change
      assertEquals("the request is malformed: the body has content after its JSON value: send one JSON object "
          + "with the documented fields, each once (see /openapi.yml)", e.getMessage());
    }
    assertEquals(List.of("auditor"), AdminDtos.read(bodies.mapper(),
        "{\"principal\":\"p\",\"roles\":[\"auditor\"]}\n \t".getBytes(StandardCharsets.UTF_8),
        AdminDtos.CreateKey.class).roles());
    for (String empty : List.of("", "null")) {
      assertEquals(AdminDtos.MALFORMED, assertThrows(ApiException.class, () -> AdminDtos.read(bodies.mapper(),
          empty.getBytes(StandardCharsets.UTF_8), AdminDtos.PatchTenant.class)).getMessage());
    }
  }

  @Test
  void aMemberNamedTwiceIsRefusedSayingSoWithoutQuotingIt() {
    // within settings (a map) and at the top (a record): both said "the request is malformed", naming nothing
    for (String body : List.of("{\"settings\":{\"consentMode\":\"opt-in\",\"consentMode\":\"opt-out\"}}",
        "{\"name\":\"A\",\"name\":\"B\"}")) {
      ApiException e = assertThrows(ApiException.class,
          () -> AdminDtos.read(bodies.mapper(), body.getBytes(StandardCharsets.UTF_8), AdminDtos.PatchTenant.class), body);
      assertEquals(400, e.status().getCode());
      assertEquals("the request is malformed: an object in the body names a member twice: send one JSON object "
          + "with the documented fields, each once (see /openapi.yml)", e.getMessage(), body);
    }
  }

  @Test
  void aFieldNameThatCouldBeAnythingIsNotEchoed() {
    // named like a field, an MRN or a patient's name was quoted back; now no field name is
    for (String name : java.util.List.of("John Smith 555-0100", "MRN4471902", "janeDoe1962", "ssn")) {
      String message = bodies.refusal("{\"" + name + "\":1}", AdminDtos.PatchTenant.class);
      assertEquals("an unknown field: this body takes only the fields name, settings (see /openapi.yml)", message, name);
    }
  }

  @Test
  void fieldsAreStrictlyTyped() {
    assertEquals("field 'name' must be a string (see /openapi.yml)",
        bodies.refusal("{\"name\":5}", AdminDtos.PatchTenant.class));
    // roles is read as any JSON value and checked by KeyController (a string or [5] is named there)
    assertEquals("field 'principal' must be a string (see /openapi.yml)",
        bodies.refusal("{\"principal\":123,\"roles\":[\"clinician\"]}", AdminDtos.CreateKey.class));
  }

  @Test
  void settingsThatAreNotAnObjectAreNamedWithTheTypeTheyNeed() {
    // answered "the request is malformed: send a JSON body with the documented fields", which named
    // neither the field nor what it takes, while every other mistyped admin field is named
    String needed = "field 'settings' must be an object (see /openapi.yml)";
    for (String value : List.of("\"opt-out\"", "[]", "[{\"consentMode\":\"opt-out\"}]", "5", "true")) {
      ApiException patch = assertThrows(ApiException.class, () -> AdminDtos.read(bodies.mapper(),
          ("{\"settings\":" + value + "}").getBytes(StandardCharsets.UTF_8), AdminDtos.PatchTenant.class)
          .settingsObject(), value);
      assertEquals(400, patch.status().getCode());
      assertEquals(needed, patch.getMessage(), value);
      ApiException create = assertThrows(ApiException.class, () -> AdminDtos.read(bodies.mapper(),
          ("{\"id\":\"acme\",\"settings\":" + value + "}").getBytes(StandardCharsets.UTF_8),
          AdminDtos.CreateTenant.class).settingsObject(), value);
      assertEquals(needed, create.getMessage(), value);
    }
    // an object, null and no settings at all are taken as before
    assertEquals(Map.of("consentMode", "opt-out", "rolePolicies", Map.of("billing", Map.of("kMax", 3))),
        AdminDtos.read(bodies.mapper(), "{\"settings\":{\"consentMode\":\"opt-out\",\"rolePolicies\":{\"billing\":{\"kMax\":3}}}}"
            .getBytes(StandardCharsets.UTF_8), AdminDtos.PatchTenant.class).settingsObject());
    assertEquals(null, AdminDtos.read(bodies.mapper(), "{\"settings\":null}".getBytes(StandardCharsets.UTF_8),
        AdminDtos.PatchTenant.class).settingsObject());
    assertEquals(null, AdminDtos.read(bodies.mapper(), "{\"name\":\"N\"}".getBytes(StandardCharsets.UTF_8),
        AdminDtos.PatchTenant.class).settingsObject());
  }

  @Test
  void anExpiryThatIsNotAnInstantIsNamedWithTheFormItTakes() throws IOException {
    // Answered "the request is malformed: send a JSON body with the documented fields", which left the
    // caller to guess that the date was at fault and in which form it was wanted.
    String needed = "field 'expiresAt' must be an ISO-8601 instant, e.g. 2030-01-01T00:00:00Z (see /openapi.yml)";
    for (String value : List.of("\"yesterday\"", "\"2030-01-01\"", "true", "1893456000", "[\"2030-01-01T00:00:00Z\"]")) {
      assertEquals(needed, bodies.refusal("{\"principal\":\"dr\",\"roles\":[\"clinician\"],\"expiresAt\":" + value + "}",
          AdminDtos.CreateKey.class), value);
    }
    assertEquals(java.time.Instant.parse("2029-12-31T22:00:00Z"), bodies.read(
        "{\"principal\":\"dr\",\"roles\":[\"clinician\"],\"expiresAt\":\"2030-01-01T00:00:00+02:00\"}",
        AdminDtos.CreateKey.class).expiresAt());
  }
}
