package io.carecontext.services;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.synthetic.SyntheticPatients;
import io.carecontext.migrations.Setting;
import io.carecontext.services.auth.Role;
import io.carecontext.services.cli.ApiJson;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The main job: the service on the embedded PostgreSQL, a demo tenant with a key for each role,
 * generated patients pushed through the FHIR endpoint and embedded — all through the public HTTP
 * API, as a user would — then curl calls that work exactly as printed.
 */
public final class Demo {

  static final String TENANT = "demo";

  private final CareContextServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  public Demo(CareContextServer server) {
    this.server = server;
  }

  /** What the demo set up: keys per role, one patient the clinician may see. */
  public record Setup(Map<Role, String> keys, String patientId, List<String> curls) {}

  public Setup setUp(int patients, PrintStream progress) throws IOException, InterruptedException {
    // The demo's own requests (one a patient, one a second while embedding) each wrote an access log
    // line into the progress bars, which share the terminal: quiet while it sets up, as it was after.
    org.slf4j.Logger logger = org.slf4j.LoggerFactory.getLogger("carecontext.access");
    if (!(logger instanceof ch.qos.logback.classic.Logger access)) {
      return load(patients, progress);
    }
    ch.qos.logback.classic.Level was = access.getLevel();
    access.setLevel(ch.qos.logback.classic.Level.WARN);
    try {
      return load(patients, progress);
    } finally {
      access.setLevel(was);
    }
  }

  private Setup load(int patients, PrintStream progress) throws IOException, InterruptedException {
    HttpResponse<String> tenant = send("POST", "/admin/tenants", server.adminKey(),
        "{\"id\":\"" + TENANT + "\",\"name\":\"CareContext Demo Clinic\"}", "application/json");
    if (tenant.statusCode() != 201 && tenant.statusCode() != 200) {
      throw new IllegalStateException("could not create the demo tenant: " + refused(tenant));
    }
    Map<Role, String> keys = new LinkedHashMap<>();
    keys.put(Role.EHR_INTEGRATION, key(Role.EHR_INTEGRATION, null));
    String firstPatient = null;
    String practitioner = null;
    long start = System.nanoTime();
    int resources = 0;
    var generated = SyntheticPatients.stream(2024, patients);
    for (int i = 0; generated.hasNext(); i++) {
      var p = generated.next();
      HttpResponse<String> r = send("POST", "/fhir/" + TENANT, keys.get(Role.EHR_INTEGRATION),
          Fhir.toJson(p.bundle()), "application/fhir+json");
      if (r.statusCode() != 200) {
        throw new IllegalStateException("the FHIR endpoint refused a generated bundle: " + refused(r));
      }
      resources += p.bundle().getEntry().size();
      if (firstPatient == null) {
        practitioner = ApiJson.location(r.body(), "Practitioner");
        firstPatient = ApiJson.location(r.body(), "Patient");
      }
      bar(progress, "ingest ", i + 1, patients, resources, start);
    }
    progress.println();
    waitForEmbeddings(progress, start);
    for (Role role : Role.values()) {
      if (role != Role.EHR_INTEGRATION) {
        keys.put(role, key(role, role == Role.CLINICIAN ? practitioner : null));
      }
    }
    return new Setup(keys, firstPatient, curls(keys, firstPatient));
  }

  /** The worker embeds while the patients are still being sent, so its rate counts from the first patient. */
  private void waitForEmbeddings(PrintStream progress, long start) throws IOException, InterruptedException {
    boolean told = false;
    while (true) {
      HttpResponse<String> s = send("GET", "/admin/tenants/" + TENANT + "/ingest", server.adminKey(), null, null);
      long depth = ApiJson.number(s.body(), "outboxDepth");
      long chunks = ApiJson.number(s.body(), "chunks");
      if (!told && ApiJson.number(s.body(), "retrying") > 0) {
        // the in-process model failing (its native library not loadable, say) showed only a depth that
        // did not move; the reason is a kind of failure, never content, and the log has each attempt
        told = true;
        progress.printf("%nthe embedding worker is failing (%s); it retries with backoff. Ctrl-C stops the demo; "
            + "the service's log has each attempt%n", ApiJson.optionalText(s.body(), "lastError"));
      }
      double secs = Math.max(0.001, (System.nanoTime() - start) / 1e9);
      progress.printf("\rembed   outbox %6d left   chunks %7d   %6.0f chunks/s   ", depth, chunks, chunks / secs);
      if (depth == 0) {
        progress.println();
        return;
      }
      Thread.sleep(500);
    }
  }

  List<String> curls(Map<Role, String> keys, String patient) {
    String base = "http://127.0.0.1:" + server.port();
    List<String> curls = new ArrayList<>();
    curls.add("curl -s " + base + "/health");
    curls.add("curl -s -X POST " + base + "/v1/" + TENANT + "/patients/" + patient + "/context"
        + " -H 'Authorization: Bearer " + keys.get(Role.CLINICIAN) + "' -H 'Content-Type: application/json'"
        + " -d '{\"query\": \"recent HbA1c trend\", \"k\": 5, \"purposeOfUse\": \"TREAT\"}'");
    curls.add("curl -s -X POST " + base + "/v1/" + TENANT + "/patients/" + patient + "/chat"
        + " -H 'Authorization: Bearer " + keys.get(Role.CLINICIAN) + "' -H 'Content-Type: application/json'"
        + " -d '{\"question\": \"How is glucose control trending?\", \"purposeOfUse\": \"TREAT\", \"dryRun\": true}'");
    curls.add("curl -s -X POST " + base + "/v1/" + TENANT + "/patients/" + patient + "/context"
        + " -H 'Authorization: Bearer " + keys.get(Role.BILLING) + "' -H 'Content-Type: application/json'"
        + " -d '{\"query\": \"insurance claims\", \"purposeOfUse\": \"HPAYMT\"}'");
    curls.add("curl -s " + base + "/v1/" + TENANT + "/audit/verify -H 'Authorization: Bearer "
        + keys.get(Role.AUDITOR) + "'");
    curls.add("curl -s '" + base + "/v1/" + TENANT + "/audit?patient=" + patient + "&limit=5' -H 'Authorization: Bearer "
        + keys.get(Role.AUDITOR) + "'");
    curls.add("curl -s " + base + "/fhir/" + TENANT + "/metadata -H 'Authorization: Bearer "
        + keys.get(Role.EHR_INTEGRATION) + "'");
    return curls;
  }

  /**
   * The calls and keys, and how to stop; {@code staysUp}: the service keeps serving after this
   * (false for {@code demo --exit}, whose service stops once this is printed).
   */
  public void printInstructions(Setup setup, PrintStream out, boolean staysUp) {
    printInstructions(setup, out, staysUp, System.getenv());
  }

  /** Settings that decide which installation and key-encryption key a serve gets, named as they were given. */
  private static final List<String> RESTART_SETTINGS = List.of("CARECONTEXT_HOME", "CARECONTEXT_KEK_FILE",
      "CARECONTEXT_KEK_PKCS11_LIBRARY", "CARECONTEXT_KEK_PKCS11_SLOT", "CARECONTEXT_KEK_PKCS11_PIN_FILE",
      "CARECONTEXT_KEK_PKCS11_KEY_LABEL");

  /**
   * The command that starts the service again on what the demo set up: the same home and port, and the same
   * key-encryption key (a serve with the home's default key file opens no data key after a `kek rotate --to`);
   * an external database is named, never given (its URL and password may carry secrets).
   */
  static String restartCommand(Map<String, String> env, int port) {
    StringBuilder command = new StringBuilder();
    for (String name : RESTART_SETTINGS) {
      // as the demo read it: a system property (through CARECONTEXT_JAVA_OPTS) wins over the variable
      Setting.of(name, env).ifPresent(value -> command.append(name).append('=')
          .append(value.matches("[\\w./:@%+=-]+") ? value : "'" + value.replace("'", "'\\''") + "'").append(' '));
    }
    command.append("CARECONTEXT_PORT=").append(port).append(" ./carecontext serve");
    if (Setting.of("CARECONTEXT_DB_URL", env).isPresent()) {
      command.append(", with the same CARECONTEXT_DB_* settings");
    }
    return command.toString();
  }

  /** {@code env}: the settings as the demo was given them, named in the command to start it again. */
  void printInstructions(Setup setup, PrintStream out, boolean staysUp, Map<String, String> env) {
    out.println();
    out.println(staysUp
        ? "CareContext is running at http://127.0.0.1:" + server.port() + " (embedded PostgreSQL + pgvector)."
        : "CareContext was set up at http://127.0.0.1:" + server.port() + " and has stopped (--exit); the tenant, "
            + "its data and the keys below are kept.");
    out.println("Tenant '" + TENANT + "': generated patients ingested through the FHIR endpoint and embedded.");
    // the same home as well as the same port: a serve without it starts an empty installation under
    // ./.carecontext, where none of the keys below exists
    out.println((staysUp ? "Try" : "With the service started again on the same port and home ("
        + restartCommand(env, server.port()) + "), try") + " (the clinician key is linked to patient " + setup.patientId()
        + " as its general practitioner):");
    out.println();
    setup.curls().forEach(c -> out.println("  " + c));
    out.println();
    out.println("Keys (shown once; only their hashes are stored):");
    setup.keys().forEach((role, key) -> out.printf("  %-17s %s%n", role.code(), key));
    out.println();
    out.println("API docs: http://127.0.0.1:" + server.port() + "/swagger-ui/index.html   metrics: /metrics (with the operator key)");
    String database = server.embedded().map(pg -> pg.startedHere()
            ? "the embedded PostgreSQL stops with it, its data stays under $CARECONTEXT_HOME."
            : "the embedded PostgreSQL was already running and keeps running (./carecontext db stop stops it).")
        .orElse("the database (CARECONTEXT_DB_URL) is not touched.");
    out.println(staysUp ? "Stop with Ctrl-C; " + database
        : Character.toUpperCase(database.charAt(0)) + database.substring(1));
  }

  /** The demo's tenant-admin key, which makes every other demo key (the operator key makes only that one). */
  private String tenantAdmin;

  private String key(Role role, String practitioner) throws IOException, InterruptedException {
    if (tenantAdmin == null) {
      revokeEarlierDemoKeys();
      tenantAdmin = create(server.adminKey(), Role.TENANT_ADMIN, null);
    }
    return role == Role.TENANT_ADMIN ? tenantAdmin : create(tenantAdmin, role, practitioner);
  }

  /**
   * The keys an earlier demo run made on this home, revoked: a principal names one unrevoked key of a
   * tenant, and the operator key makes a tenant-admin key only while the tenant has none; this run
   * prints new ones.
   */
  private void revokeEarlierDemoKeys() throws IOException, InterruptedException {
    HttpResponse<String> list = send("GET", "/admin/tenants/" + TENANT + "/keys", server.adminKey(), null, null);
    if (list.statusCode() != 200) {
      throw new IllegalStateException("could not list the demo tenant's keys: " + refused(list));
    }
    for (com.fasterxml.jackson.databind.JsonNode k : new com.fasterxml.jackson.databind.ObjectMapper().readTree(list.body())) {
      if (k.path("principal").asText().startsWith("demo-") && !k.hasNonNull("revokedAt")) {
        send("DELETE", "/admin/tenants/" + TENANT + "/keys/" + k.path("keyId").asText(), server.adminKey(), null, null);
      }
    }
  }

  private String create(String creator, Role role, String practitioner) throws IOException, InterruptedException {
    String extra = practitioner == null ? "" : ",\"practitionerId\":\"" + practitioner + "\"";
    HttpResponse<String> key = send("POST", "/admin/tenants/" + TENANT + "/keys", creator,
        "{\"principal\":\"demo-" + role.code() + "\",\"roles\":[\"" + role.code() + "\"]" + extra + "}",
        "application/json");
    if (key.statusCode() != 201) {
      throw new IllegalStateException("could not create a demo key: " + refused(key));
    }
    return ApiJson.text(key.body(), "secret");
  }

  /**
   * The status and the server's own message, which says what to do: "could not create a demo key: HTTP 503"
   * alone left a demo on a home whose key-encryption key had been rotated away with nothing to go on.
   */
  static String refused(HttpResponse<String> r) {
    return "HTTP " + r.statusCode() + ": " + io.carecontext.services.cli.ApiJson.refusal(r.body());
  }

  static void bar(PrintStream out, String label, int done, int total, int resources, long start) {
    double secs = Math.max(0.001, (System.nanoTime() - start) / 1e9);
    int width = 30;
    int filled = (int) ((long) width * done / Math.max(1, total));
    double eta = done == 0 ? 0 : secs / done * (total - done);
    out.printf("\r%s[%s%s] %d/%d patients  %6.0f resources/s  ETA %4.0fs ", label, "#".repeat(filled),
        " ".repeat(width - filled), done, total, resources / secs, eta);
  }

  private HttpResponse<String> send(String method, String path, String key, String body, String type)
      throws IOException, InterruptedException {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Authorization", "Bearer " + key);
    if (body != null) {
      b.header("Content-Type", type).method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
