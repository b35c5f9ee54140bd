package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@code Prefer: handling=strict} over HTTP: a resource holding an element R4 does not define is refused
 * (a single write, a transaction whole, a batch's entry, an import's line) and nothing of it is stored;
 * without the header it is stored as before, and a Bundle's response entry, an import's summary and a single
 * write that asks {@code Prefer: return=OperationOutcome} warn of what was skipped.
 * The unknown key is "JohnSmith" (a name, as a feed keying a map by patient might send) and its value
 * "Quixote": no answer and no log line of the service may hold either.
 */
class UnknownElementHandlingIT {

  static final String FHIR = "application/fhir+json";
  static final String KEY = "JohnSmith";
  static final String VALUE = "Quixote";
  static final Map<String, String> STRICT = Map.of("Prefer", "handling=strict");
  static final ObjectMapper JSON = new ObjectMapper();

  static TestServer app;
  static String ehr;
  static final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  static final List<HttpResponse<String>> answers = new ArrayList<>();
  static Level ownLevel;

  @BeforeAll
  static void start() {
    logged.start();
    root().addAppender(logged);
    Logger own = (Logger) LoggerFactory.getLogger("io.carecontext");
    ownLevel = own.getLevel();
    own.setLevel(Level.DEBUG);
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("ue", "ehr-feed", "[\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    try {
      assertThat(logged.list).as("the capture saw the refused writes' own lines")
          .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("route=/fhir/ue/Patient status=400"));
      for (ILoggingEvent e : logged.list) {
        String line = everything(e);
        assertThat(line).as("a %s line of %s", e.getLevel(), e.getLoggerName()).doesNotContain(KEY).doesNotContain(VALUE);
      }
      assertThat(answers).as("answers checked").hasSizeGreaterThan(8);
      for (HttpResponse<String> r : answers) {
        assertThat(r.body()).as("the %d answer to %s", r.statusCode(), r.request().uri().getPath())
            .doesNotContain(KEY).doesNotContain(VALUE);
      }
    } finally {
      root().detachAppender(logged);
      ((Logger) LoggerFactory.getLogger("io.carecontext")).setLevel(ownLevel);
      app.close();
    }
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  private static String everything(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(e.getFormattedMessage());
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      b.append(' ').append(t.getClassName()).append(' ').append(t.getMessage());
    }
    return b.toString();
  }

  static HttpResponse<String> call(String method, String path, String body, String type, Map<String, String> headers) {
    HttpResponse<String> r = app.call(method, "/fhir/ue" + path, ehr, body, type, headers);
    answers.add(r);
    return r;
  }

  static int stored() throws SQLException {
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM tenant_ue.resources")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** A Patient whose first name holds the unknown element. */
  static String patient(String id) {
    return "{\"resourceType\":\"Patient\"" + (id == null ? "" : ",\"id\":\"" + id + "\"")
        + ",\"gender\":\"female\",\"name\":[{\"family\":\"Lee\",\"" + KEY + "\":\"" + VALUE + "\"}]}";
  }

  static String clean(String id) {
    return "{\"resourceType\":\"Patient\",\"id\":\"" + id + "\",\"gender\":\"male\"}";
  }

  static String bundle(String type, String first, String second) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":["
        + "{\"resource\":" + first + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id(first) + "\"}},"
        + "{\"resource\":" + second + ",\"request\":{\"method\":\"PUT\",\"url\":\"Patient/" + id(second) + "\"}}]}";
  }

  static String id(String resource) {
    return resource.replaceAll("^.*\"id\":\"([^\"]+)\".*$", "$1");
  }

  static JsonNode json(HttpResponse<String> r) throws Exception {
    return JSON.readTree(r.body());
  }

  static void assertStrictRefusal(HttpResponse<String> r, String expression) throws Exception {
    assertThat(r.statusCode()).as(r.body()).isEqualTo(400);
    JsonNode issue = json(r).path("issue").get(0);
    assertThat(issue.path("code").asText()).isEqualTo("structure");
    assertThat(issue.path("expression").get(0).asText()).isEqualTo(expression);
    assertThat(issue.path("diagnostics").asText()).contains("does not define").contains("extension");
  }

  @Test
  void strictCreateAndUpdateAre400sNamingTheParentAndStoreNothing() throws Exception {
    int before = stored();
    assertStrictRefusal(call("POST", "/Patient", patient(null), FHIR, STRICT), "Patient.name[0]");
    assertStrictRefusal(call("PUT", "/Patient/ue-s1", patient("ue-s1"), FHIR,
        Map.of("Prefer", "return=representation, handling=strict")), "Patient.name[0]");
    assertThat(stored()).isEqualTo(before);
    assertThat(call("GET", "/Patient/ue-s1", null, null, Map.of()).statusCode()).isEqualTo(404);
  }

  @Test
  void lenientWritesAreStoredAsBeforeWithoutTheUnknownElement() throws Exception {
    HttpResponse<String> created = call("POST", "/Patient", patient(null), FHIR, Map.of());
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(json(created).path("resourceType").asText()).isEqualTo("Patient");
    HttpResponse<String> put = call("PUT", "/Patient/ue-l1", patient("ue-l1"), FHIR, Map.of("Prefer", "handling=lenient"));
    assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    HttpResponse<String> read = call("GET", "/Patient/ue-l1", null, null, Map.of());
    assertThat(read.statusCode()).isEqualTo(200);
    assertThat(json(read).path("name").get(0).path("family").asText()).isEqualTo("Lee");
  }

  @Test
  void aStrictTransactionIsRefusedWholeAndAStrictBatchOnlyThatEntry() throws Exception {
    int before = stored();
    HttpResponse<String> tx = call("POST", "", bundle("transaction", clean("ue-t1"), patient("ue-t2")), FHIR, STRICT);
    assertStrictRefusal(tx, "Bundle.entry[1].resource.name[0]");
    assertThat(stored()).isEqualTo(before);
    assertThat(call("GET", "/Patient/ue-t1", null, null, Map.of()).statusCode()).isEqualTo(404);

    HttpResponse<String> batch = call("POST", "", bundle("batch", clean("ue-b1"), patient("ue-b2")), FHIR, STRICT);
    assertThat(batch.statusCode()).as(batch.body()).isEqualTo(200);
    JsonNode entries = json(batch).path("entry");
    assertThat(entries.get(0).path("response").path("status").asText()).startsWith("201");
    JsonNode refused = entries.get(1).path("response");
    assertThat(refused.path("status").asText()).startsWith("400");
    assertThat(refused.path("outcome").path("issue").get(0).path("expression").get(0).asText())
        .isEqualTo("Bundle.entry[1].resource.name[0]");
    assertThat(stored()).isEqualTo(before + 1);
    assertThat(call("GET", "/Patient/ue-b2", null, null, Map.of()).statusCode()).isEqualTo(404);
  }

  @Test
  void aLenientBundleWritesTheEntryAndItsResponseWarnsWhereSomethingWasSkipped() throws Exception {
    for (String type : List.of("transaction", "batch")) {
      HttpResponse<String> r = call("POST", "", bundle(type, clean("ue-w1-" + type), patient("ue-w2-" + type)), FHIR,
          Map.of());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      JsonNode entries = json(r).path("entry");
      assertThat(entries.get(0).path("response").has("outcome")).isFalse();
      JsonNode answer = entries.get(1).path("response");
      assertThat(answer.path("status").asText()).startsWith("201");
      JsonNode issue = answer.path("outcome").path("issue").get(0);
      assertThat(issue.path("severity").asText()).isEqualTo("warning");
      assertThat(issue.path("expression").get(0).asText()).isEqualTo("Bundle.entry[1].resource.name[0]");
      assertThat(issue.path("diagnostics").asText()).contains("skipped").contains("handling=strict");
      assertThat(call("GET", "/Patient/ue-w2-" + type, null, null, Map.of()).statusCode()).isEqualTo(200);
    }
  }

  @Test
  void aStrictImportRefusesTheLineAsOtherBadLines() throws Exception {
    String ndjson = clean("ue-i1") + "\n" + patient("ue-i2") + "\n";
    HttpResponse<String> strict = call("POST", "/$import", ndjson, "application/fhir+ndjson", STRICT);
    assertThat(strict.statusCode()).as(strict.body()).isEqualTo(200);
    assertThat(strict.body()).contains("written 1").contains("failed 1").contains("line[2]")
        .contains("Patient.name[0] holds an element");
    assertThat(call("GET", "/Patient/ue-i2", null, null, Map.of()).statusCode()).isEqualTo(404);

    HttpResponse<String> lenient = call("POST", "/$import", patient("ue-i3"), "application/fhir+ndjson", Map.of());
    assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(200);
    assertThat(lenient.body()).contains("written 1").contains("failed 0");
  }

  static List<JsonNode> issues(HttpResponse<String> r, String severity) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    json(r).path("issue").forEach(i -> {
      if (i.path("severity").asText().equals(severity)) {
        out.add(i);
      }
    });
    return out;
  }

  static List<String> expressions(JsonNode issue) {
    List<String> out = new ArrayList<>();
    issue.path("expression").forEach(e -> out.add(e.asText()));
    return out;
  }

  @Test
  void aLenientImportListsTheStoredLinesWhereSomethingWasSkipped() throws Exception {
    String refused = "{\"resourceType\":\"Patient\",\"id\":\"ue-i6\",\"gender\":\"neither\",\"name\":[{\"" + KEY
        + "\":\"" + VALUE + "\"}]}";
    String ndjson = clean("ue-i4") + "\n" + patient("ue-i5") + "\n" + refused + "\n";
    HttpResponse<String> r = call("POST", "/$import", ndjson, "application/fhir+ndjson", Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(issues(r, "information").get(0).path("diagnostics").asText())
        .contains("written 2").contains("failed 1").contains("in 1 stored lines").doesNotContain("are listed)");
    List<JsonNode> warnings = issues(r, "warning");
    assertThat(warnings).hasSize(1); // the refused line 3 is among the failed lines, not the skipped ones
    assertThat(expressions(warnings.get(0))).containsExactly("line[2]", "Patient.name[0]");
    assertThat(warnings.get(0).path("code").asText()).isEqualTo("structure");
    assertThat(warnings.get(0).path("diagnostics").asText()).contains("line 2").contains("Patient.name[0]")
        .contains("handling=strict");
    assertThat(expressions(issues(r, "error").get(0))).containsExactly("line[3]");
    assertThat(call("GET", "/Patient/ue-i5", null, null, Map.of()).statusCode()).isEqualTo(200);
  }

  @Test
  void anImportListsTheFirstHundredSkippedLinesAndCountsThemAll() throws Exception {
    int n = 205; // past one commit of 200 lines: the lines of both batches are counted
    StringBuilder ndjson = new StringBuilder();
    for (int i = 1; i <= n; i++) {
      ndjson.append(patient("ue-m" + i)).append('\n');
    }
    HttpResponse<String> r = call("POST", "/$import", ndjson.toString(), "application/fhir+ndjson", Map.of());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(issues(r, "information").get(0).path("diagnostics").asText())
        .contains("written " + n).contains("in " + n + " stored lines (the first 100 are listed)");
    List<JsonNode> warnings = issues(r, "warning");
    assertThat(warnings).hasSize(100);
    assertThat(expressions(warnings.get(0))).containsExactly("line[1]", "Patient.name[0]");
    assertThat(expressions(warnings.get(99))).containsExactly("line[100]", "Patient.name[0]");
  }

  @Test
  void aLenientWriteThatAsksForAnOperationOutcomeIsToldWhereSomethingWasSkipped() throws Exception {
    Map<String, String> outcome = Map.of("Prefer", "return=OperationOutcome");
    HttpResponse<String> created = call("POST", "/Patient", patient(null), FHIR, outcome);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(created.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l).contains("/_history/1"));
    assertThat(created.headers().firstValue("ETag")).hasValue("W/\"1\"");
    assertThat(json(created).path("resourceType").asText()).isEqualTo("OperationOutcome");
    assertThat(issues(created, "information").get(0).path("diagnostics").asText())
        .startsWith("Patient/").contains(" created; stored as version 1");
    List<JsonNode> warnings = issues(created, "warning");
    assertThat(warnings).hasSize(1);
    assertThat(expressions(warnings.get(0))).containsExactly("Patient.name[0]");
    assertThat(warnings.get(0).path("diagnostics").asText()).contains("skipped").contains("handling=strict");

    HttpResponse<String> first = call("PUT", "/Patient/ue-r1", clean("ue-r1"), FHIR,
        Map.of("Prefer", "handling=lenient, return=OperationOutcome"));
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    assertThat(json(first).path("issue")).hasSize(1); // nothing skipped, nothing to warn of
    HttpResponse<String> updated = call("PUT", "/Patient/ue-r1", patient("ue-r1"), FHIR, outcome);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(issues(updated, "information").get(0).path("diagnostics").asText())
        .isEqualTo("Patient/ue-r1 updated; stored as version 2 (Patient/ue-r1/_history/2)");
    assertThat(expressions(issues(updated, "warning").get(0))).containsExactly("Patient.name[0]");
    HttpResponse<String> read = call("GET", "/Patient/ue-r1", null, null, Map.of());
    assertThat(json(read).path("name").get(0).path("family").asText()).isEqualTo("Lee");
  }

  @Test
  void returnMinimalAnswersNoBodyAndRepresentationTheResource() throws Exception {
    HttpResponse<String> minimal = call("PUT", "/Patient/ue-r2", patient("ue-r2"), FHIR, Map.of("Prefer", "return=minimal"));
    assertThat(minimal.statusCode()).isEqualTo(201);
    assertThat(minimal.body()).isEmpty();
    assertThat(minimal.headers().firstValue("Location")).hasValueSatisfying(l -> assertThat(l)
        .endsWith("/fhir/ue/Patient/ue-r2/_history/1"));
    assertThat(minimal.headers().firstValue("ETag")).hasValue("W/\"1\"");
    HttpResponse<String> representation = call("PUT", "/Patient/ue-r2", clean("ue-r2"), FHIR,
        Map.of("Prefer", "return=representation"));
    assertThat(representation.statusCode()).as(representation.body()).isEqualTo(200);
    assertThat(json(representation).path("resourceType").asText()).isEqualTo("Patient");
    assertThat(json(representation).path("meta").path("versionId").asText()).isEqualTo("2");
  }

  static final List<String> PREFERENCES = List.of("", "return=minimal", "return=representation",
      "return=OperationOutcome");

  static Map<String, String> prefer(String preference) {
    return preference.isEmpty() ? Map.of() : Map.of("Prefer", preference);
  }

  static String entry(String resource, String method, String url, String ifNoneExist) {
    return "{" + (resource == null ? "" : "\"resource\":" + resource + ",") + "\"request\":{\"method\":\"" + method
        + "\",\"url\":\"" + url + "\"" + (ifNoneExist == null ? "" : ",\"ifNoneExist\":\"" + ifNoneExist + "\"") + "}}";
  }

  static String bundleOf(String type, String... entries) {
    return "{\"resourceType\":\"Bundle\",\"type\":\"" + type + "\",\"entry\":[" + String.join(",", entries) + "]}";
  }

  /** A Patient with an identifier a conditional create can match, holding the unknown element as well. */
  static String identified(String value) {
    return "{\"resourceType\":\"Patient\",\"identifier\":[{\"system\":\"urn:ue\",\"value\":\"" + value + "\"}],"
        + "\"gender\":\"other\",\"" + KEY + "\":\"" + VALUE + "\"}";
  }

  static void assertNoResources(JsonNode entries) {
    entries.forEach(e -> assertThat(e.has("resource")).as("entry %s", e).isFalse());
  }

  static JsonNode issue(JsonNode entry, int i) {
    return entry.path("response").path("outcome").path("issue").get(i);
  }

  @Test
  void aTransactionsEntriesAnswerAsPreferReturnAsks() throws Exception {
    for (String preference : PREFERENCES) {
      String p = "ue-tp" + PREFERENCES.indexOf(preference);
      call("POST", "/Patient", identified(p + "-m"), FHIR, Map.of()); // what the conditional entry matches
      call("PUT", "/Patient/" + p + "-d", clean(p + "-d"), FHIR, Map.of()); // what the delete entry deletes
      HttpResponse<String> r = call("POST", "", bundleOf("transaction",
          entry(clean(p + "-a"), "PUT", "Patient/" + p + "-a", null),
          entry(patient(p + "-b"), "PUT", "Patient/" + p + "-b", null),
          entry(identified(p + "-m"), "POST", "Patient", "identifier=urn:ue|" + p + "-m"),
          entry(null, "DELETE", "Patient/" + p + "-d", null)), FHIR, prefer(preference));
      assertThat(r.statusCode()).as(preference + ": " + r.body()).isEqualTo(200);
      JsonNode entries = json(r).path("entry");
      assertThat(entries).hasSize(4);
      assertThat(entries.get(0).path("response").path("status").asText()).startsWith("201");
      assertThat(entries.get(0).path("response").path("etag").asText()).isEqualTo("W/\"1\"");
      assertThat(entries.get(2).path("response").path("status").asText()).startsWith("200");
      assertThat(entries.get(2).path("response").path("location").asText()).startsWith("Patient/").contains("/_history/1");
      assertThat(entries.get(3).path("response").path("status").asText()).startsWith("204");
      assertEntryShapes(preference, entries, p);
    }
  }

  @Test
  void aBatchsWrittenEntriesAnswerAsPreferReturnAsksAndAFailedOneKeepsItsOutcome() throws Exception {
    for (String preference : PREFERENCES) {
      String p = "ue-bp" + PREFERENCES.indexOf(preference);
      String refused = "{\"resourceType\":\"Patient\",\"id\":\"" + p + "-x\",\"gender\":\"neither\"}";
      HttpResponse<String> r = call("POST", "", bundleOf("batch",
          entry(clean(p + "-a"), "PUT", "Patient/" + p + "-a", null),
          entry(patient(p + "-b"), "PUT", "Patient/" + p + "-b", null),
          entry(refused, "PUT", "Patient/" + p + "-x", null)), FHIR, prefer(preference));
      assertThat(r.statusCode()).as(preference + ": " + r.body()).isEqualTo(200);
      JsonNode entries = json(r).path("entry");
      assertThat(entries).hasSize(3);
      JsonNode failed = entries.get(2);
      assertThat(failed.path("response").path("status").asText()).startsWith("400");
      assertThat(failed.has("resource")).isFalse();
      assertThat(failed.path("response").path("outcome").path("issue")).hasSize(1);
      assertThat(issue(failed, 0).path("severity").asText()).isEqualTo("error");
      assertThat(issue(failed, 0).path("expression").get(0).asText()).isEqualTo("Bundle.entry[2].resource.gender");
      assertEntryShapes(preference, entries, p);
      assertThat(call("GET", "/Patient/" + p + "-x", null, null, Map.of()).statusCode()).isEqualTo(404);
    }
  }

  /** Entries 0 (a clean Patient created) and 1 (one whose name held the unknown element) as {@code preference} asks. */
  static void assertEntryShapes(String preference, JsonNode entries, String p) {
    JsonNode clean = entries.get(0);
    JsonNode skipped = entries.get(1);
    assertThat(skipped.path("response").path("status").asText()).startsWith("201");
    switch (preference) {
      case "", "return=minimal" -> {
        assertNoResources(entries); // as every Bundle was answered before
        assertThat(clean.path("response").has("outcome")).as(preference).isFalse();
        assertThat(skipped.path("response").path("outcome").path("issue")).hasSize(1);
        assertThat(issue(skipped, 0).path("severity").asText()).isEqualTo("warning");
      }
      case "return=representation" -> {
        assertThat(clean.path("resource").path("resourceType").asText()).isEqualTo("Patient");
        assertThat(clean.path("resource").path("id").asText()).isEqualTo(p + "-a");
        assertThat(clean.path("resource").path("meta").path("versionId").asText()).isEqualTo("1");
        assertThat(clean.path("resource").path("meta").has("lastUpdated")).isTrue();
        assertThat(clean.path("resource").path("gender").asText()).isEqualTo("male");
        assertThat(skipped.path("resource").path("name").get(0).path("family").asText()).isEqualTo("Lee");
        assertThat(issue(skipped, 0).path("severity").asText()).isEqualTo("warning");
        for (int i = 2; i < entries.size(); i++) {
          // a matched conditional create, a delete, a refused entry: nothing stored to hand back
          assertThat(entries.get(i).has("resource")).as("entry %d", i).isFalse();
        }
      }
      case "return=OperationOutcome" -> {
        assertNoResources(entries);
        assertThat(clean.path("response").path("outcome").path("issue")).hasSize(1);
        assertThat(issue(clean, 0).path("severity").asText()).isEqualTo("information");
        assertThat(issue(clean, 0).path("diagnostics").asText())
            .isEqualTo("Patient/" + p + "-a created; stored as version 1 (Patient/" + p + "-a/_history/1)");
        assertThat(skipped.path("response").path("outcome").path("issue")).hasSize(2);
        assertThat(issue(skipped, 0).path("severity").asText()).isEqualTo("information");
        assertThat(issue(skipped, 1).path("severity").asText()).isEqualTo("warning");
        assertThat(issue(skipped, 1).path("expression").get(0).asText()).isEqualTo("Bundle.entry[1].resource.name[0]");
        if (entries.get(2).path("response").path("status").asText().startsWith("200")) { // the transaction's
          JsonNode matched = issue(entries.get(2), 0);
          assertThat(matched.path("severity").asText()).isEqualTo("information");
          assertThat(matched.path("diagnostics").asText()).startsWith("Patient/").contains("nothing was stored")
              .doesNotContain(p + "-m"); // the identifier matched on is not repeated
          assertThat(issue(entries.get(3), 0).path("diagnostics").asText()).isEqualTo("Patient/" + p + "-d deleted");
        }
      }
      default -> throw new AssertionError(preference);
    }
  }

  @Test
  void aConditionalCreateThatMatchedAnswersAsPreferReturnAsksAndStoresNothing() throws Exception {
    HttpResponse<String> first = call("POST", "/Patient", identified("ue-cc1"), FHIR, Map.of());
    assertThat(first.statusCode()).as(first.body()).isEqualTo(201);
    String id = json(first).path("id").asText();
    Map<String, String> condition = Map.of("If-None-Exist", "identifier=urn:ue|ue-cc1");
    int before = stored();
    for (String preference : PREFERENCES) {
      Map<String, String> headers = new java.util.HashMap<>(condition);
      headers.putAll(prefer(preference));
      HttpResponse<String> r = call("POST", "/Patient", identified("ue-cc1"), FHIR, headers);
      assertThat(r.statusCode()).as(preference + ": " + r.body()).isEqualTo(200);
      assertThat(r.headers().firstValue("Location")).as(preference)
          .hasValueSatisfying(l -> assertThat(l).endsWith("/fhir/ue/Patient/" + id + "/_history/1"));
      assertThat(r.headers().firstValue("ETag")).as(preference).hasValue("W/\"1\"");
      assertThat(r.headers().firstValue("Last-Modified")).as(preference).isPresent();
      switch (preference) {
        case "", "return=representation" -> {
          assertThat(json(r).path("resourceType").asText()).isEqualTo("Patient");
          assertThat(json(r).path("id").asText()).isEqualTo(id);
        }
        case "return=minimal" -> assertThat(r.body()).isEmpty();
        default -> {
          assertThat(json(r).path("resourceType").asText()).isEqualTo("OperationOutcome");
          assertThat(json(r).path("issue")).hasSize(1);
          assertThat(issues(r, "information").get(0).path("diagnostics").asText())
              .isEqualTo("Patient/" + id + " matched the conditional create's identifier, so nothing was stored; "
                  + "the existing resource is version 1 (Patient/" + id + "/_history/1)");
          assertThat(r.body()).doesNotContain("ue-cc1").doesNotContain("urn:ue");
        }
      }
    }
    assertThat(stored()).isEqualTo(before);
    // every match handed out at least the resource's id and version: each is recorded as the read it is
    try (Connection c = TestPostgres.superuser(app.database); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM tenant_ue.audit_log WHERE action = 'fhir-read' "
            + "AND decision = 'allowed' AND details::text LIKE '%Patient/" + id + "/_history/1%'")) {
      rs.next();
      assertThat(rs.getInt(1)).isEqualTo(PREFERENCES.size());
    }
  }

  @Test
  void anUnknownElementInAPrimitivesUnderscoreObjectIsPlacedAtThatObject() throws Exception {
    String birthDate = "{\"resourceType\":\"Patient\",\"birthDate\":\"1970-01-01\",\"_birthDate\":{\"" + KEY + "\":\""
        + VALUE + "\"}}";
    assertStrictRefusal(call("POST", "/Patient", birthDate, FHIR, STRICT), "Patient._birthDate");
    HttpResponse<String> lenient = call("POST", "/Patient", birthDate, FHIR, Map.of("Prefer", "return=OperationOutcome"));
    assertThat(lenient.statusCode()).as(lenient.body()).isEqualTo(201);
    assertThat(expressions(issues(lenient, "warning").get(0))).containsExactly("Patient._birthDate");
  }
}
