package io.carecontext.services.bench;

import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.ReferencePaths;
import io.carecontext.fhir.synthetic.SyntheticPatients;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.services.CareContextServer;
import java.io.BufferedWriter;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Reference;

/**
 * {@code $import} of N generated patients as one NDJSON stream over HTTP, reporting the process's
 * peak resident memory: with a streamed body and batched commits it should not grow with N.
 */
public final class ImportBenchmark {

  private ImportBenchmark() {}

  public static void run(CareContextServer server, int patients, PrintStream out) throws Exception {
    TenantProvisioner provisioner = server.context().getBean(TenantProvisioner.class);
    TenantId tenant = TenantId.of("bench_import");
    provisioner.delete(tenant);
    provisioner.provision(tenant, "Import benchmark");
    String key;
    try (PlainHttp http = new PlainHttp("127.0.0.1", server.port())) {
      key = RetrievalBenchmark.tenantKey(http, server, tenant, "bench", "[\"ehr-integration\"]", null).replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1");
    }
    Path file = Files.createTempFile("cc-import", ".ndjson");
    long lines = write(file, patients);
    long rssBefore = peakRssKb();
    long start = System.nanoTime();
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + server.port() + "/fhir/" + tenant + "/$import"))
        .header("Authorization", "Bearer " + key).header("Content-Type", "application/fhir+ndjson")
        .POST(HttpRequest.BodyPublishers.ofFile(file)).build(), HttpResponse.BodyHandlers.ofString());
    double secs = (System.nanoTime() - start) / 1e9;
    out.println();
    out.println("| $import of " + patients + " patients | value |");
    out.println("|---|---|");
    out.printf("| NDJSON | %,d lines, %,d MB |%n", lines, Files.size(file) / (1024 * 1024));
    out.printf("| HTTP status | %d (%s) |%n", r.statusCode(), r.body().replaceAll("(?s).*\"diagnostics\":\"(lines[^\"]*)\".*", "$1"));
    out.printf("| time | %.1f s, %.0f resources/s |%n", secs, lines / secs);
    out.printf("| peak RSS of the process (VmHWM) | %,d MB before, %,d MB after |%n", rssBefore / 1024,
        peakRssKb() / 1024);
    Files.deleteIfExists(file);
    provisioner.delete(tenant);
  }

  /** One resource a line, with server-style ids and plain Type/id references. */
  static long write(Path file, int patients) throws Exception {
    long lines = 0;
    try (BufferedWriter w = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      var it = SyntheticPatients.stream(31, patients);
      while (it.hasNext()) {
        Bundle b = it.next().bundle();
        Map<String, String> refs = new HashMap<>();
        String practitioner = null;
        for (var e : b.getEntry()) {
          String id = e.getFullUrl().substring("urn:uuid:".length());
          e.getResource().setId(id);
          refs.put(e.getFullUrl(), e.getResource().fhirType() + "/" + id);
          if (e.getResource().fhirType().equals("Practitioner")) {
            practitioner = "Practitioner/" + id;
          }
        }
        for (var e : b.getEntry()) {
          for (Reference ref : ReferencePaths.all(e.getResource())) { // as the write path lists them
            String v = ref.getReference();
            if (v != null && v.startsWith("urn:uuid:")) {
              ref.setReference(refs.get(v));
            } else if (v != null && v.startsWith("Practitioner?")) {
              ref.setReference(practitioner);
            }
          }
          w.write(Fhir.context().newJsonParser().setPrettyPrint(false).encodeResourceToString(e.getResource()));
          w.newLine();
          lines++;
        }
      }
    }
    return lines;
  }

  static long peakRssKb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("\\D", ""));
        }
      }
    } catch (Exception e) {
      return -1;
    }
    return -1;
  }
}
