package io.carecontext.services;

import io.carecontext.services.auth.Role;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The main job: the service on the embedded PostgreSQL, a demo tenant with a key for each role —
 * all set up through the public HTTP API, as a user would — and curl calls that work as printed.
 */
final class Demo {

  static final String TENANT = "demo";

  private final CareContextServer server;
  private final HttpClient http = HttpClient.newHttpClient();

  Demo(CareContextServer server) {
    this.server = server;
  }

  /** Sets up the demo tenant and returns a key per role. Idempotent for the tenant. */
  Map<Role, String> setUp() throws IOException, InterruptedException {
    HttpResponse<String> tenant = post("/admin/tenants", server.adminKey(),
        "{\"id\":\"" + TENANT + "\",\"name\":\"CareContext Demo Clinic\"}");
    if (tenant.statusCode() != 201 && tenant.statusCode() != 200) {
      throw new IllegalStateException("could not create the demo tenant: HTTP " + tenant.statusCode() + " " + tenant.body());
    }
    Map<Role, String> keys = new LinkedHashMap<>();
    for (Role role : Role.values()) {
      String practitioner = role == Role.CLINICIAN ? ",\"practitionerId\":\"pr-1\"" : "";
      HttpResponse<String> key = post("/admin/tenants/" + TENANT + "/keys", server.adminKey(),
          "{\"principal\":\"demo-" + role.code() + "\",\"roles\":[\"" + role.code() + "\"]" + practitioner + "}");
      if (key.statusCode() != 201) {
        throw new IllegalStateException("could not create a demo key: HTTP " + key.statusCode());
      }
      keys.put(role, field(key.body(), "secret"));
    }
    return keys;
  }

  void printInstructions(Map<Role, String> keys, PrintStream out) {
    String base = "http://127.0.0.1:" + server.port();
    out.println();
    out.println("CareContext is running at " + base + " (embedded PostgreSQL + pgvector).");
    out.println("Demo tenant '" + TENANT + "' with one key per role. Try:");
    out.println();
    out.println("  curl -s " + base + "/health");
    out.println("  curl -s -H 'Authorization: Bearer " + keys.get(Role.TENANT_ADMIN) + "' " + base
        + "/admin/tenants/" + TENANT);
    out.println("  curl -s -H 'Authorization: Bearer " + keys.get(Role.TENANT_ADMIN) + "' " + base
        + "/admin/tenants/" + TENANT + "/keys");
    out.println();
    out.println("Keys (shown once; only their hashes are stored):");
    keys.forEach((role, key) -> out.printf("  %-17s %s%n", role.code(), key));
    out.println();
    out.println("Stop with Ctrl-C; the embedded PostgreSQL stops with it, its data stays under $CARECONTEXT_HOME.");
  }

  private HttpResponse<String> post(String path, String key, String body) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .header("Authorization", "Bearer " + key)
        .header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body))
        .build();
    return http.send(request, HttpResponse.BodyHandlers.ofString());
  }

  static String field(String json, String name) {
    Matcher m = Pattern.compile("\"" + name + "\"\\s*:\\s*\"([^\"]*)\"").matcher(json);
    if (!m.find()) {
      throw new IllegalStateException("response has no " + name);
    }
    return m.group(1);
  }
}
