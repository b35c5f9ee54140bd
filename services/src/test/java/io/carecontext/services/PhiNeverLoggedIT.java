package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.StackTraceElementProxy;
import ch.qos.logback.core.read.ListAppender;
import com.sun.net.httpserver.HttpServer;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.Identifiers;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

/**
 * HIPAA's rule for this service, proven from outside: no PHI in application logs, error messages or
 * exceptions. One patient whose identifiers are words found nowhere else (canaries) goes through every
 * path that handles PHI — ingest, refused FHIR bodies that carry the identifiers in the wrong places,
 * context, break-glass, chat (with a model endpoint whose error body echoes the prompt), research,
 * the audit trail — with the service's own log level lowered to DEBUG. Every log line (message,
 * arguments, exception messages and stack frames, MDC) and every error answer's body is then searched
 * for each canary.
 *
 * <p>Then what an attacker with the database's files, a backup or PostgreSQL's own log would read:
 * statements the database refuses while it holds the canaries (a unique key and a check constraint
 * planted on the rows a FHIR write makes, a row-level security refusal, a duplicate key, a row a
 * superuser types in by hand), and the server log searched for them (a session of the test's own
 * on PostgreSQL's default settings shows what they would have printed); every column of every
 * table, and the cluster's files (heap, indexes, WAL), searched for them too. Patient ids are stored in the clear by design (the README's isolation section says
 * which columns and why), so ids ({@code zintlemayer-…}) are taken out before that search.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PhiNeverLoggedIT {

  /** The patient's identifiers: a name, an MRN, a phone number, a street, an id that is a name. */
  static final List<String> CANARIES = List.of("Zintlemayer", "Quorabel", "QX77310452", "867-3309", "Wexmoor");

  static final String PATIENT = "zintlemayer-q";
  static final String TENANT = "canary";

  static TestServer app;
  static HttpServer model;
  static final ListAppender<ILoggingEvent> logged = new ListAppender<>();
  static final List<HttpResponse<String>> refused = new ArrayList<>();
  static Level ownLevel;
  static String feed;
  static String clinician;
  static String researcher;
  static String auditor;
  /** How much of the cluster's server log was there before this class. */
  static int serverLogStart;
  /** Exceptions the database's refusals raised on the service's own pool. */
  static final List<Throwable> thrown = new ArrayList<>();
  /** A value only the control session (default log settings) sends: the log's search works. */
  static final String CONTROL = "Vexquill-control-7731";
  /** Ids: deliberately in the clear in the database, taken out before searching what is stored. */
  static final Pattern IDS = Pattern.compile("zintlemayer-[a-z0-9]+");

  /**
   * When the test began: of the shared cluster's WAL only the segments written since are read (the
   * other test classes' WAL, up to max_wal_size, holds nothing of this one's patient).
   */
  static java.nio.file.attribute.FileTime began;

  @BeforeAll
  static void start() throws Exception {
    began = java.nio.file.attribute.FileTime.from(java.time.Instant.now().minusSeconds(5));
    serverLogStart = TestPostgres.serverLog().map(String::length).orElse(0);
    logged.start();
    root().addAppender(logged);
    Logger own = (Logger) LoggerFactory.getLogger("io.carecontext");
    ownLevel = own.getLevel();
    own.setLevel(Level.DEBUG);
    // A model endpoint that fails the way providers do: a 400 whose body quotes the request back.
    model = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    model.createContext("/v1/chat/completions", quotingRefusal());
    // and an embedding endpoint that refuses the same way, quoting the texts it was sent
    model.createContext("/v1/embeddings", quotingRefusal());
    model.start();
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    feed = app.tenantWithKey(TENANT, "feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey(TENANT, "dr-c", "[\"clinician\"]", "\"practitionerId\":\"pr-1\"");
    researcher = app.tenantWithKey(TENANT, "res", "[\"researcher\"]", null);
    auditor = app.tenantWithKey(TENANT, "aud", "[\"auditor\"]", null);
    HttpResponse<String> settings = app.call("PATCH", "/admin/tenants/" + TENANT, app.adminKey(),
        "{\"settings\":{\"researchIndex\":false,\"llm\":{\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:"
            + model.getAddress().getPort() + "/v1\",\"model\":\"test-model\",\"baaCovered\":true,\"maxRetries\":0}]}}}");
    assertThat(settings.statusCode()).as(settings.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    root().detachAppender(logged);
    ((Logger) LoggerFactory.getLogger("io.carecontext")).setLevel(ownLevel);
    if (app != null) {
      app.close();
    }
    if (model != null) {
      model.stop(0);
    }
  }

  /** A 400 whose error message quotes the request's body back, as providers' messages do. */
  private static com.sun.net.httpserver.HttpHandler quotingRefusal() {
    return ex -> {
      byte[] echoed = ("{\"error\":{\"message\":\"invalid request: "
          + new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8).replace("\"", "'")
          + "\"}}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(400, echoed.length);
      ex.getResponseBody().write(echoed);
      ex.close();
    };
  }

  private static Logger root() {
    return (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
  }

  @Test
  @Order(1)
  void noPathPutsThePatientsIdentifiersInALogLineOrAnErrorAnswer() throws SQLException {
    ingest();
    refusedFhirBodies();
    context();
    chatAndResearch();
    audit();
    embeddingFailures();
    databaseRefusals();

    assertThat(logged.list).as("the capture saw the requests' own lines, the failed chat's among them")
        .anySatisfy(e -> assertThat(e.getFormattedMessage()).contains("/chat status=502"));
    for (ILoggingEvent e : logged.list) {
      String line = everything(e).toLowerCase(Locale.ROOT);
      for (String canary : CANARIES) {
        assertThat(line).as("a %s line of %s", e.getLevel(), e.getLoggerName())
            .doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    }
    assertThat(refused).as("error answers checked").hasSizeGreaterThan(15);
    for (HttpResponse<String> r : refused) {
      for (String canary : CANARIES) {
        assertThat(r.body().toLowerCase(Locale.ROOT)).as("the %d answer to %s %s", r.statusCode(),
            r.request().method(), r.request().uri().getPath().replace(PATIENT, "{patient}"))
            .doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    }
  }

  @Test
  @Order(2)
  void thePostgresqlServerLogNamesNoneOfThemThoughTheDatabaseRefusedStatementsHoldingThem() throws SQLException {
    for (Throwable e : thrown) {
      StringWriter trace = new StringWriter();
      e.printStackTrace(new PrintWriter(trace, true));
      for (String canary : CANARIES) {
        assertThat(trace.toString().toLowerCase(Locale.ROOT)).as("the trace of a refused statement")
            .doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    }
    administratorsFailedStatements();
    controlSessionWithTheDefaultLogSettings();
    var log = TestPostgres.serverLog().map(l -> l.substring(Math.min(serverLogStart, l.length())));
    if (log.isEmpty()) {
      return; // a cluster given by CARECONTEXT_TEST_DB_URL: its log is not the test's to read
    }
    String since = log.get().toLowerCase(Locale.ROOT);
    assertThat(since).as("the refusals reached the server log")
        .contains("planted_one_consent").contains("planted_short_ids").contains("row-level security")
        .contains("resource_identifiers_pkey");
    assertThat(since).as("with PostgreSQL's default settings the row is logged: the search finds it")
        .contains("detail:  key (resource_type, value_hash, resource_id)=(patient, \\x01, "
            + CONTROL.toLowerCase(Locale.ROOT))
        .contains("statement:  insert into");
    for (String canary : CANARIES) {
      assertThat(since).as("PostgreSQL's server log").doesNotContain(canary.toLowerCase(Locale.ROOT));
    }
  }

  /**
   * A WAL segment's records without the header of each 8 KiB page they run across (40 bytes on a
   * segment's first page, 24 on the others): a record that crosses a page goes on after the next
   * page's header, so an id split there ("zintlemayer" | header | "-q") escaped the id pattern and
   * left its name part to be found, one run in many.
   */
  static String withoutWalPageHeaders(String segment) {
    int page = 8192;
    StringBuilder joined = new StringBuilder(segment.length());
    for (int at = 0; at < segment.length(); at += page) {
      int from = Math.min(segment.length(), at + (at == 0 ? 40 : 24));
      joined.append(segment, from, Math.min(segment.length(), at + page));
    }
    return joined.toString();
  }

  static boolean modifiedSince(Path file, java.nio.file.attribute.FileTime since) {
    try {
      return Files.getLastModifiedTime(file).compareTo(since) >= 0;
    } catch (IOException e) {
      return false; // a segment recycled while the test walked the directory
    }
  }

  @Test
  @Order(3)
  void noColumnAndNoFileOfTheDatabaseHoldsThemInTheClear() throws SQLException, IOException {
    Map<String, String> columns = storedInTheClear();
    assertThat(columns).as("every column of the platform and tenant tables").containsKey("tenant_canary.chunks.text")
        .containsKey("tenant_canary.audit_log.details").containsKey("tenant_canary.outbox.last_error");
    assertThat(columns.get("tenant_canary.audit_log.patient_id")).as("ids stay in the clear, by design")
        .contains(PATIENT);
    columns.forEach((column, values) -> {
      String text = IDS.matcher(values.toLowerCase(Locale.ROOT)).replaceAll("<id>");
      for (String canary : CANARIES) {
        assertThat(text).as("the values of %s", column).doesNotContain(canary.toLowerCase(Locale.ROOT));
      }
    });
    if (TestPostgres.dataDirectory().isEmpty()) {
      return; // the cluster's files are not on this machine
    }
    String database;
    try (Connection su = TestPostgres.superuser(app.database); Statement st = su.createStatement()) {
      st.execute("CHECKPOINT"); // what the service wrote is in the table files, not only in the WAL
      try (ResultSet rs = st.executeQuery("SELECT oid FROM pg_database WHERE datname = current_database()")) {
        rs.next();
        database = rs.getString(1);
      }
    }
    Path data = TestPostgres.dataDirectory().get();
    int files = 0;
    boolean idsSeen = false;
    for (Path dir : List.of(data.resolve("base").resolve(database), data.resolve("pg_wal"))) {
      try (Stream<Path> found = Files.walk(dir)) {
        for (Path file : found.filter(Files::isRegularFile).filter(f -> !f.startsWith(data.resolve("pg_wal"))
            || modifiedSince(f, began)).toList()) {
          String raw = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1).toLowerCase(Locale.ROOT);
          if (file.startsWith(data.resolve("pg_wal"))) {
            raw = withoutWalPageHeaders(raw);
          }
          idsSeen |= raw.contains(PATIENT);
          String bytes = IDS.matcher(raw).replaceAll("<id>");
          files++;
          for (String canary : CANARIES) {
            assertThat(bytes.contains(canary.toLowerCase(Locale.ROOT))).as("%s holds %s", data.relativize(file), canary)
                .isFalse();
          }
        }
      }
    }
    assertThat(files).as("the database's files and the WAL were read").isGreaterThan(20);
    assertThat(idsSeen).as("the search reads what the tables hold: the patient's id, in the clear by design").isTrue();
  }

  /**
   * Statements the database refuses while they hold the patient's values. Two constraints the
   * schema does not have are planted on the rows a FHIR write makes (one Consent a patient, a care
   * link's patient id under five characters); then a second Consent and a second Encounter of the
   * patient are written, and on the service's own pool a row that row-level security refuses and a
   * duplicate key. Each error's DETAIL would quote the row: {@code Key (patient_id)=(…) already
   * exists}, {@code Failing row contains (…)}.
   */
  private static void databaseRefusals() throws SQLException {
    String tenant = TENANT + "_pg";
    String feedKey = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    String schema = Identifiers.quote("tenant_" + tenant);
    try (Connection su = TestPostgres.superuser(app.database); Statement st = su.createStatement()) {
      st.execute("CREATE UNIQUE INDEX planted_one_consent ON " + schema + ".consents (patient_id)");
    }
    ingest(tenant, feedKey);
    try (Connection su = TestPostgres.superuser(app.database); Statement st = su.createStatement()) {
      st.execute("ALTER TABLE " + schema + ".care_links ADD CONSTRAINT planted_short_ids CHECK (length(patient_id) < 5) "
          + "NOT VALID");
    }
    String base = "/fhir/" + tenant;
    writeOrFail("PUT", base + "/Consent/cs-2", feedKey, """
        {"resourceType":"Consent","id":"cs-2","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%s"},
         "provision":{"type":"deny"}}""".formatted(PATIENT));
    writeOrFail("PUT", base + "/Encounter/en-2", feedKey, """
        {"resourceType":"Encounter","id":"en-2","status":"finished","class":{"code":"AMB"},
         "subject":{"reference":"Patient/%s"},"participant":[{"individual":{"reference":"Practitioner/pr-2"}}]}"""
        .formatted(PATIENT));
    for (int attempt = 0; attempt < 6; attempt++) {
      app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    }
    TenantTransactions tx = app.bean(TenantTransactions.class);
    Throwable rls = catchThrowable(() -> tx.run(TenantId.of(tenant), PolicySettings.ingest(), c -> {
      try (PreparedStatement read = c.prepareStatement("SELECT set_config('cc.access', 'read', true)")) {
        read.execute(); // the read path's setting, under which the write policy admits no row
      }
      try (PreparedStatement ps = c.prepareStatement("INSERT INTO resources (resource_type, resource_id, version_id, "
          + "patient_id, content_hash, body, last_updated) VALUES ('Patient', ?, 1, ?, ?, ?, now())")) {
        ps.setString(1, "Quorabel-Zintlemayer");
        ps.setString(2, "Quorabel-Zintlemayer");
        ps.setBytes(3, new byte[32]);
        ps.setBytes(4, "Quorabel Zintlemayer, 4417 Wexmoor Lane".getBytes(StandardCharsets.UTF_8));
        return ps.executeUpdate();
      }
    }));
    assertThat(rls).as("row-level security refused the row").isNotNull();
    thrown.add(rls);
    Throwable duplicate = catchThrowable(() -> tx.run(TenantId.of(tenant), PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "INSERT INTO resource_identifiers (resource_type, value_hash, resource_id) VALUES ('Patient', ?, ?)")) {
        for (int i = 0; i < 2; i++) {
          ps.setBytes(1, new byte[32]);
          ps.setString(2, "zintlemayer-dup"); // an id: in the clear in the table, never in a log
          ps.executeUpdate();
        }
      }
      return null;
    }));
    assertThat(duplicate).as("the second row's key was refused").isNotNull();
    thrown.add(duplicate);
  }

  /** A FHIR write the planted constraints may refuse; its answer, if an error, is searched too. */
  private static void writeOrFail(String method, String path, String key, String body) {
    HttpResponse<String> r = app.call(method, path, key, body, "application/fhir+json");
    if (r.statusCode() >= 400) {
      refused.add(r);
    }
  }

  /**
   * A superuser's statement on the cluster as it is configured: a row typed in by hand that a
   * constraint refuses. The service's own roles are bound by row-level security, under which
   * PostgreSQL leaves the row out of an error's DETAIL whatever the settings; a superuser is not, and
   * then only the log settings keep {@code Failing row contains (…)} and the statement's literals out
   * (without {@code log_error_verbosity=terse} or {@code log_min_error_statement=panic} this fails).
   */
  private static void administratorsFailedStatements() throws SQLException {
    String schema = Identifiers.quote("tenant_" + TENANT + "_pg");
    try (Connection su = TestPostgres.superuser(app.database); Statement st = su.createStatement()) {
      assertThat(catchThrowable(() -> st.execute("INSERT INTO " + schema + ".care_links (practitioner_id, patient_id, "
          + "source_type, source_id) VALUES ('pr-9', 'QX77310452 Quorabel', 'Encounter', 'en-9')")))
          .as("the planted check refuses the row").isNotNull();
    }
  }

  /**
   * What the server log would show without the cluster's settings: a session of the superuser (who
   * alone may change them) back on PostgreSQL's defaults sends a duplicate key as a literal. Its log
   * lines then carry the value twice, in the DETAIL and in the STATEMENT.
   */
  private static void controlSessionWithTheDefaultLogSettings() throws SQLException {
    try (Connection su = TestPostgres.superuser(app.database); Statement st = su.createStatement()) {
      // quoted: the value named default (DEFAULT unquoted would be the command line's terse)
      st.execute("SET log_error_verbosity = 'default'");
      st.execute("SET log_min_error_statement = error");
      String insert = "INSERT INTO " + Identifiers.quote("tenant_" + TENANT + "_pg")
          + ".resource_identifiers VALUES ('Patient', '\\x01', '" + CONTROL + "')";
      st.execute(insert);
      assertThat(catchThrowable(() -> st.execute(insert))).isNotNull();
    }
  }

  /**
   * Every column of every table of the test database but the extension's, as text ({@code bytea}
   * with its printable bytes as they are: ciphertext shows nothing, a plaintext stored as bytes would).
   */
  private static Map<String, String> storedInTheClear() throws SQLException {
    Map<String, String> out = new TreeMap<>();
    try (Connection su = TestPostgres.superuser(app.database)) {
      List<String[]> columns = new ArrayList<>();
      try (Statement st = su.createStatement(); ResultSet rs = st.executeQuery("""
          SELECT c.table_schema, c.table_name, c.column_name, c.data_type
          FROM information_schema.columns c
          JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
          WHERE t.table_type = 'BASE TABLE' AND c.table_schema NOT IN ('pg_catalog', 'information_schema', 'public')""")) {
        while (rs.next()) {
          columns.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)});
        }
      }
      for (String[] c : columns) {
        String column = sqlName(c[2]);
        String value = "bytea".equals(c[3]) ? "encode(" + column + ", 'escape')" : column + "::text";
        try (Statement st = su.createStatement(); ResultSet rs = st.executeQuery("SELECT coalesce(string_agg(" + value
            + ", ' '), '') FROM " + sqlName(c[0]) + "." + sqlName(c[1]))) {
          rs.next();
          out.put(c[0] + "." + c[1] + "." + c[2], rs.getString(1));
        }
      }
    }
    return out;
  }

  /** A name the catalog gave, quoted (not the service's allowlist: the scan reads every table). */
  private static String sqlName(String name) {
    return '"' + name.replace("\"", "\"\"") + '"';
  }

  private static void ingest() {
    ingest(TENANT, feed);
    app.bean(EmbeddingWorker.class).drain(TenantId.of(TENANT));
  }

  /**
   * The same patient in a tenant whose embedding endpoint refuses every text, quoting it: what the
   * worker logs and what the tenant's admin reads of the failures (lastError, the parked rows).
   */
  private static void embeddingFailures() {
    String tenant = TENANT + "_embed";
    String feedKey = app.tenantWithKey(tenant, "feed", "[\"ehr-integration\"]", null);
    HttpResponse<String> patched = app.call("PATCH", "/admin/tenants/" + tenant, app.adminKey(),
        "{\"settings\":{\"embedding\":{\"provider\":\"openai-compatible\",\"baseUrl\":\"http://127.0.0.1:"
            + model.getAddress().getPort() + "/v1\",\"model\":\"m\",\"dimensions\":8,\"baaCovered\":true,"
            + "\"maxRetries\":0,\"timeoutSeconds\":5}}}");
    assertThat(patched.statusCode()).as(patched.body()).isEqualTo(200);
    ingest(tenant, feedKey);
    for (int attempt = 0; attempt < 6; attempt++) {
      app.bean(EmbeddingWorker.class).drain(TenantId.of(tenant));
    }
    for (String path : List.of("/ingest", "/ingest/parked")) {
      HttpResponse<String> r = app.call("GET", "/admin/tenants/" + tenant + path, app.adminKey(), null);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      refused.add(r); // what it says of the failures: no text of the record's
    }
  }

  private static void ingest(String tenant, String key) {
    String bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
          {"resource":{"resourceType":"Patient","id":"%1$s","gender":"female","birthDate":"1961-04-17",
             "name":[{"family":"Zintlemayer","given":["Quorabel"]}],
             "identifier":[{"system":"urn:oid:1.2.36.146.595.217.0.1","value":"QX77310452"}],
             "telecom":[{"system":"phone","value":"555-867-3309"}],
             "address":[{"line":["4417 Wexmoor Lane"],"city":"Springfield","state":"IL"}]},
           "request":{"method":"PUT","url":"Patient/%1$s"}},
          {"resource":{"resourceType":"Consent","id":"cs-1","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-1"}},
          {"resource":{"resourceType":"Encounter","id":"en-1","status":"finished","class":{"code":"AMB"},
             "subject":{"reference":"Patient/%1$s"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]},
           "request":{"method":"PUT","url":"Encounter/en-1"}},
          {"resource":{"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/%1$s"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"29857009","display":"Chest pain"}]},
             "note":[{"text":"Quorabel Zintlemayer (MRN QX77310452, 555-867-3309, 4417 Wexmoor Lane) reports chest pain."}]},
           "request":{"method":"PUT","url":"Condition/cn-1"}}]}""".formatted(PATIENT);
    HttpResponse<String> r = app.call("POST", "/fhir/" + tenant, key, bundle, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  /** FHIR bodies refused with the identifiers where a value, a code, a date or a reference goes. */
  private static void refusedFhirBodies() {
    String base = "/fhir/" + TENANT;
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"gender\":\"Zintlemayer\"}");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"birthDate\":\"Quorabel-1961\"}");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"name\":[{\"family\":\"Zintlemayer\"");
    refuse("POST", base + "/Patient", feed, "{\"resourceType\":\"Patient\",\"active\":\"QX77310452\"}");
    refuse("PUT", base + "/Patient/zintlemayer-a", feed, "{\"resourceType\":\"Patient\",\"id\":\"zintlemayer-b\"}");
    refuse("POST", base + "/Condition", feed, "{\"resourceType\":\"Condition\",\"subject\":{\"reference\":"
        + "\"Patient/zintlemayer-missing\"},\"onsetDateTime\":\"Wexmoor\"}");
    refuse("POST", base, feed, "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":"
        + "{\"resourceType\":\"Observation\",\"status\":\"Quorabel\",\"code\":{\"text\":\"Zintlemayer\"},"
        + "\"subject\":{\"reference\":\"Patient/zintlemayer-missing\"}},\"request\":{\"method\":\"POST\","
        + "\"url\":\"Observation\"}}]}");
    HttpResponse<String> imported = app.call("POST", base + "/$import", feed,
        "{\"resourceType\":\"Patient\",\"gender\":\"Zintlemayer\"}\n{\"resourceType\":\"Patient\",\"name\":[{\"family\"\n",
        "application/fhir+ndjson");
    assertThat(imported.statusCode()).as(imported.body()).isGreaterThanOrEqualTo(200);
    refused.add(imported); // its summary lists the refused lines: no value of theirs
    refuse("GET", base + "/Patient/zintlemayer-nope", feed, null);
    refuse("GET", base + "/Patient/" + PATIENT, clinician, null);
    refuse("DELETE", base + "/Patient/zintlemayer-nope", clinician, null);
  }

  private static void context() {
    String path = "/v1/" + TENANT + "/patients/" + PATIENT + "/context";
    HttpResponse<String> allowed = app.call("POST", path, clinician,
        "{\"query\":\"Zintlemayer chest pain QX77310452\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(allowed.statusCode()).as(allowed.body()).isEqualTo(200);
    refuse("POST", "/v1/" + TENANT + "/patients/zintlemayer-nope/context", clinician,
        "{\"query\":\"Quorabel\",\"purposeOfUse\":\"TREAT\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"Zintlemayer\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"k\":\"Quorabel\"}");
    refuse("POST", path, clinician, "{\"query\":\"chest pain\",\"purposeOfUse\":\"TREAT\",\"Zintlemayer\":1}");
    refuse("POST", path, clinician, "{\"query\":\"Zintlemayer " + "x".repeat(20_000) + "\",\"purposeOfUse\":\"TREAT\"}");
    refuse("POST", path, clinician, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"ETREAT\"}");
    refuse("POST", path, researcher, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"HRESCH\"}");
    refuse("POST", path, feed, "{\"query\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\"}");
    HttpResponse<String> glass = app.call("POST", path, clinician,
        "{\"query\":\"Wexmoor\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"Quorabel Zintlemayer unresponsive\"}");
    assertThat(glass.statusCode()).as(glass.body()).isEqualTo(200);
  }

  private static void chatAndResearch() {
    String chat = "/v1/" + TENANT + "/patients/" + PATIENT + "/chat";
    HttpResponse<String> dry = app.call("POST", chat, clinician,
        "{\"question\":\"Does Quorabel Zintlemayer at Wexmoor Lane have chest pain?\",\"purposeOfUse\":\"TREAT\","
            + "\"dryRun\":true}");
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    HttpResponse<String> failed = refuse("POST", chat, clinician,
        "{\"question\":\"Does Quorabel Zintlemayer (QX77310452) have chest pain?\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(failed.statusCode()).as("the model endpoint refused the prompt").isEqualTo(502);
    refuse("POST", chat, clinician, "{\"question\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\",\"dryRun\":\"Quorabel\"}");
    refuse("POST", "/v1/" + TENANT + "/patients/zintlemayer-nope/chat", clinician,
        "{\"question\":\"Zintlemayer\",\"purposeOfUse\":\"TREAT\"}");
    app.researchOn(TENANT);
    HttpResponse<String> search = app.call("POST", "/v1/" + TENANT + "/research/search", researcher,
        "{\"query\":\"Zintlemayer chest pain\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
    assertThat(search.statusCode()).as(search.body()).isEqualTo(200);
    refuse("POST", "/v1/" + TENANT + "/research/search", researcher,
        "{\"query\":\"Zintlemayer\",\"k\":5,\"purposeOfUse\":\"Quorabel\"}");
    refuse("POST", "/v1/" + TENANT + "/research/search", clinician,
        "{\"query\":\"Zintlemayer\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}");
  }

  private static void audit() {
    String audit = "/v1/" + TENANT + "/audit";
    HttpResponse<String> bodies = app.call("GET", audit + "?includeBodies=true&patient=" + PATIENT, auditor, null);
    assertThat(bodies.statusCode()).as(bodies.body()).isEqualTo(200);
    assertThat(app.call("GET", audit + "/export", auditor, null).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", audit + "/verify", auditor, null).body()).contains("\"valid\":true");
    refuse("GET", audit + "?patient=" + PATIENT, clinician, null);
    refuse("GET", audit + "?from=Zintlemayer", auditor, null);
    refuse("GET", audit + "?includeBodies=Quorabel", auditor, null);
  }

  /** A request the service must refuse; its answer is kept for the search. */
  private static HttpResponse<String> refuse(String method, String path, String key, String body) {
    HttpResponse<String> r = path.startsWith("/fhir/")
        ? app.call(method, path, key, body, body == null ? null : "application/fhir+json")
        : app.call(method, path, key, body);
    assertThat(r.statusCode()).as("%s %s: %s", method, path.replace(PATIENT, "{patient}"), r.body())
        .isGreaterThanOrEqualTo(400);
    refused.add(r);
    return r;
  }

  /** A log event as a reader of the log could see it: message, arguments, exception chain, MDC. */
  private static String everything(ILoggingEvent e) {
    StringBuilder b = new StringBuilder(e.getFormattedMessage());
    if (e.getArgumentArray() != null) {
      for (Object a : e.getArgumentArray()) {
        b.append(' ').append(a);
      }
    }
    e.getMDCPropertyMap().forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
    for (IThrowableProxy t = e.getThrowableProxy(); t != null; t = t.getCause()) {
      b.append(' ').append(t.getClassName()).append(": ").append(t.getMessage());
      for (StackTraceElementProxy frame : t.getStackTraceElementProxyArray()) {
        b.append(' ').append(frame.getSTEAsString());
      }
      for (IThrowableProxy s : t.getSuppressed()) {
        b.append(' ').append(s.getClassName()).append(": ").append(s.getMessage());
      }
    }
    return b.toString();
  }
}
