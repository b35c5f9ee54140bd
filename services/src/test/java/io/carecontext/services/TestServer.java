package io.carecontext.services;

import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.testing.TestDirectories;
import io.carecontext.migrations.testing.TestPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.UnaryOperator;

/** The real service on a fresh test database and a random port, driven over HTTP like a client. */
public final class TestServer implements AutoCloseable {

  /** Patient pt-1, its active permit for AI use (cs-1) and its encounter with practitioner pr-9 (en-1): Bundle entries. */
  private static final String PATIENT_1_CONSENTED_IN_CARE = """
          {"resource":{"resourceType":"Patient","id":"pt-1","gender":"male"},"request":{"method":"PUT","url":"Patient/pt-1"}},
          {"resource":{"resourceType":"Consent","id":"cs-1","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/pt-1"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-1"}},
          {"resource":{"resourceType":"Encounter","id":"en-1","status":"finished","class":{"code":"AMB"},
             "subject":{"reference":"Patient/pt-1"},"participant":[{"individual":{"reference":"Practitioner/pr-9"}}]},
           "request":{"method":"PUT","url":"Encounter/en-1"}},""";

  /** pt-1's diabetes (cn-1), with the onset date {@code onset} adds (a JSON member and its comma, or nothing). */
  private static String diabetes(String onset) {
    return """
          {"resource":{"resourceType":"Condition","id":"cn-1","subject":{"reference":"Patient/pt-1"},%s
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Type 2 diabetes mellitus"}]}},
           "request":{"method":"PUT","url":"Condition/cn-1"}}""".formatted(onset);
  }

  /**
   * A ward of two patients for the retrieval ITs, as a transaction: pt-1 with an active permit for AI use, pt-2
   * without one, each with an encounter of practitioner pr-9 (a clinician key with that practitioner has both in its
   * care), and pt-1's diabetes.
   */
  public static final String WARD_BUNDLE = """
        {"resourceType":"Bundle","type":"transaction","entry":[
        """ + PATIENT_1_CONSENTED_IN_CARE + """
          {"resource":{"resourceType":"Patient","id":"pt-2","gender":"female"},"request":{"method":"PUT","url":"Patient/pt-2"}},
          {"resource":{"resourceType":"Encounter","id":"en-2","status":"finished","class":{"code":"AMB"},
             "subject":{"reference":"Patient/pt-2"},"participant":[{"individual":{"reference":"Practitioner/pr-9"}}]},
           "request":{"method":"PUT","url":"Encounter/en-2"}},
        """ + diabetes("\"onsetDateTime\":\"2021-03-04\",") + "]}";

  /**
   * One patient, pt-1, with an active permit for AI use, an encounter of practitioner pr-9 and a diabetes, as a
   * transaction: the smallest record a clinician key of pr-9 gets context from.
   */
  public static final String CONSENTED_PATIENT_BUNDLE = """
        {"resourceType":"Bundle","type":"transaction","entry":[
        """ + PATIENT_1_CONSENTED_IN_CARE + "\n" + diabetes("") + "]}";

  public final CareContextServer server;
  public final DatabaseConfig database;
  /** The home the service runs with (its KEK is {@code kek.key} there). */
  public final Path home;
  private final HttpClient http = HttpClient.newHttpClient();

  public TestServer() {
    this(Map.of());
  }

  /** With extra environment, e.g. {@code CARECONTEXT_WORKER_THREADS=0} or a small body limit. */
  public TestServer(Map<String, String> env) {
    this(env, UnaryOperator.identity());
  }

  /**
   * With the service reaching its database another way than the test does, e.g. through a
   * {@link DatabaseGate}; {@link #database} stays the direct way.
   */
  public TestServer(Map<String, String> env, UnaryOperator<DatabaseConfig> reach) {
    this(env, reach, false);
  }

  /** As the {@code worker} command runs it when {@code workerOnly}: health and metrics only. */
  public TestServer(Map<String, String> env, UnaryOperator<DatabaseConfig> reach, boolean workerOnly) {
    this(TestPostgres.freshDatabase(), TestDirectories.create("cc-home"), env, reach, workerOnly);
  }

  /**
   * Another process of {@code installation} (its database and home), started with {@code env} on top,
   * e.g. one of a rolling restart with other keys; closing it leaves the other running.
   */
  public TestServer(TestServer installation, Map<String, String> env) {
    this(installation.database, installation.home, env, UnaryOperator.identity(), false);
  }

  private TestServer(DatabaseConfig database, Path home, Map<String, String> env, UnaryOperator<DatabaseConfig> reach,
                     boolean workerOnly) {
    this.database = database;
    this.home = home;
    Map<String, String> all = new java.util.HashMap<>(Map.of(
        "CARECONTEXT_PORT", "-1",
        "CARECONTEXT_ADMIN_KEY", "test-admin-key-0123456789",
        "CARECONTEXT_HOME", home.toString()));
    all.putAll(env);
    RuntimeSettings settings = RuntimeSettings.from(all);
    server = CareContextServer.start(settings, reach.apply(database), null, workerOnly);
  }

  public <T> T bean(Class<T> type) {
    return server.context().getBean(type);
  }

  /** Each tenant's tenant-admin key made by {@link #tenantWithKey}, which makes the tenant's other keys. */
  private final Map<String, String> tenantAdmins = new java.util.concurrent.ConcurrentHashMap<>();

  /** The tenant's tenant-admin key that {@link #tenantWithKey} made (the operator key makes only that one). */
  public String tenantAdmin(String tenant) {
    return tenantAdmins.computeIfAbsent(tenant, t -> secret(call("POST", "/admin/tenants/" + t + "/keys", adminKey(),
        "{\"principal\":\"test-tenant-admin\",\"roles\":[\"tenant-admin\"]}")));
  }

  /**
   * Creates a tenant (when it does not exist) and a key with the roles, made by the tenant's
   * tenant-admin key ({@link #tenantAdmin}); returns the key's secret.
   */
  public String tenantWithKey(String tenant, String principal, String rolesJson, String extraJson) {
    call("POST", "/admin/tenants", adminKey(), "{\"id\":\"" + tenant + "\"}");
    String body = "{\"principal\":\"" + principal + "\",\"roles\":" + rolesJson + (extraJson == null ? "" : "," + extraJson) + "}";
    HttpResponse<String> r = call("POST", "/admin/tenants/" + tenant + "/keys", tenantAdmin(tenant), body);
    if (r.statusCode() == 401) { // the tenant was deleted and made anew since: its first key again
      tenantAdmins.remove(tenant);
      r = call("POST", "/admin/tenants/" + tenant + "/keys", tenantAdmin(tenant), body);
    }
    return secret(r);
  }

  private static String secret(HttpResponse<String> r) {
    if (r.statusCode() != 201) {
      throw new IllegalStateException("key creation failed: " + r.statusCode() + " " + r.body());
    }
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("\"secret\"\\s*:\\s*\"([^\"]*)\"").matcher(r.body());
    m.find();
    return m.group(1);
  }

  public String adminKey() {
    return server.adminKey();
  }

  /**
   * Turns research on for the tenant (researchIndex), makes the research embeddings of every chunk
   * written so far (what the sweep does in a server with worker threads) and waits until the admin
   * status says ready: research ranks only on research embeddings (tenant migration 64) and refuses
   * while any chunk has none.
   */
  public void researchOn(String tenant) {
    HttpResponse<String> on = call("PATCH", "/admin/tenants/" + tenant, adminKey(),
        "{\"settings\":{\"researchIndex\":true}}");
    if (on.statusCode() != 200) {
      throw new IllegalStateException("research not turned on: " + on.body());
    }
    String ready = "\"researchIndex\":{\"state\":\"ready\"}";
    String status = "";
    for (int i = 0; i < 300 && !status.contains(ready); i++) {
      bean(io.carecontext.services.tenancy.ResearchIndexBuilds.class).sweep();
      status = call("GET", "/admin/tenants/" + tenant + "/ingest", adminKey(), null).body();
      if (!status.contains(ready)) {
        try {
          Thread.sleep(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
      }
    }
    if (!status.contains(ready)) {
      throw new IllegalStateException("research build not ready: " + status);
    }
  }

  public HttpResponse<String> call(String method, String path, String key, String body) {
    return call(method, path, key, body, "application/json");
  }

  public HttpResponse<String> call(String method, String path, String key, String body, String contentType) {
    return call(method, path, key, body, contentType, Map.of());
  }

  public HttpResponse<String> call(String method, String path, String key, String body, String contentType,
                                   Map<String, String> headers) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path));
    if (key != null) {
      b.header("Authorization", "Bearer " + key);
    }
    headers.forEach(b::header);
    if (body != null) {
      if (contentType != null) { // null: a body sent without the header
        b.header("Content-Type", contentType);
      }
      b.method(method, HttpRequest.BodyPublishers.ofString(body));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    server.close();
  }
}
