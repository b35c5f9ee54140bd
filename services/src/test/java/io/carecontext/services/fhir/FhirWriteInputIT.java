package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * FHIR write input over HTTP that the store took wrongly: identifier systems with a '|', conditional
 * criteria with FHIR's escapes, and Bundles of more entries than CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES.
 */
class FhirWriteInputIT {

  static TestServer app;
  static String ehr;
  static final String FHIR = "application/fhir+json";

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", "3", "CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("wi", "ehr-feed", "[\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  static HttpResponse<String> post(String path, String body, Map<String, String> headers) {
    return app.call("POST", "/fhir/wi" + path, ehr, body, FHIR, headers);
  }

  static int count(String sql) throws SQLException {
    return (int) TestPostgres.superuserLong(app.database, sql);
  }

  static void assertOutcome(HttpResponse<String> r, int status, String text) {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
    assertThat(r.body()).contains("OperationOutcome").contains(text);
    assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith(FHIR);
  }

  static String patient(String system, String value) {
    return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"" + system + "\",\"value\":\"" + value + "\"}]}";
  }

  /**
   * A Patient stored with system "urn:wi|b" and value "c" was matched by the conditional create of
   * system "urn:wi" and value "b|c" (the index's hash of system|value is the same): the create answered
   * 200 with the other patient's record. The system is refused now, and the escaped criteria match only
   * the identifier they name.
   */
  @Test
  void aSystemWithABarIsRefusedAndCannotMakeAConditionalCreateMatchAnotherPatient() throws SQLException {
    int before = count("SELECT count(*) FROM tenant_wi.resources");
    HttpResponse<String> refused = post("/Patient", patient("urn:wi|b", "c"), Map.of());
    assertOutcome(refused, 400, "Patient.identifier[0].system");
    assertThat(refused.body()).contains("cannot contain '|'").doesNotContain("urn:wi");
    assertThat(count("SELECT count(*) FROM tenant_wi.resources")).isEqualTo(before);
    // and in a transaction, naming the entry
    HttpResponse<String> tx = post("", """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":%s,"request":{"method":"POST","url":"Patient"}}]}""".formatted(patient("urn:wi|b", "c")), Map.of());
    assertOutcome(tx, 400, "Patient.identifier[0].system");
    // the criteria: the second bar unescaped is refused; escaped, it is the value's
    assertOutcome(post("/Patient", patient("urn:wi", "b|c"), Map.of("If-None-Exist", "identifier=urn:wi|b|c")), 400,
        "\\\\|");
    HttpResponse<String> first = post("/Patient", patient("urn:wi", "b|c"), Map.of("If-None-Exist", "identifier=urn:wi|b\\|c"));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    HttpResponse<String> again = post("/Patient", patient("urn:wi", "b|c"),
        Map.of("If-None-Exist", "identifier=urn:wi%7Cb%5C%7Cc"));
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(again.headers().firstValue("Location")).isEqualTo(first.headers().firstValue("Location"));
    // an OR list is refused, saying how to send a comma of a value
    HttpResponse<String> or = post("/Patient", patient("urn:wi", "b|c"),
        Map.of("If-None-Exist", "identifier=urn:wi|b\\|c,urn:wi|d"));
    assertOutcome(or, 400, "\\\\,");
    assertThat(or.body()).doesNotContain("urn:wi");
    assertThat(count("SELECT count(*) FROM tenant_wi.resources")).isEqualTo(before + 1);
  }

  /** The configured cap: a Bundle of more entries is a 400 before anything is stored, naming the cap. */
  @Test
  void aBundleOverTheConfiguredEntryCapIsA400AndStoresNothing() throws SQLException {
    String entry = "{\"resource\":{\"resourceType\":\"Patient\",\"gender\":\"male\"},"
        + "\"request\":{\"method\":\"POST\",\"url\":\"Patient\"}}";
    int before = count("SELECT count(*) FROM tenant_wi.resources");
    for (String type : new String[] {"transaction", "batch"}) {
      HttpResponse<String> r = post("", "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
          + String.join(",", Collections.nCopies(4, entry)) + "]}", Map.of());
      assertOutcome(r, 400, "more than 3 entries, the limit of a Bundle");
      assertThat(r.body()).contains("CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES", "$import", "too-costly");
    }
    // refused before the parser reads the entries (empty ones each make a parse issue of their own), as a
    // 50 MB body of millions of them ran the parser out of memory
    HttpResponse<String> empties = post("", "{\"resourceType\":\"Bundle\",\"type\":\"batch\",\"entry\":["
        + String.join(",", Collections.nCopies(100_000, "{}")) + "]}", Map.of());
    assertOutcome(empties, 400, "more than 3 entries, the limit of a Bundle");
    assertThat(count("SELECT count(*) FROM tenant_wi.resources")).isEqualTo(before);
    HttpResponse<String> three = post("", "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":["
        + String.join(",", Collections.nCopies(3, entry)) + "]}", Map.of());
    assertThat(three.statusCode()).as(three.body()).isEqualTo(200);
    assertThat(count("SELECT count(*) FROM tenant_wi.resources")).isEqualTo(before + 3);
  }
}
