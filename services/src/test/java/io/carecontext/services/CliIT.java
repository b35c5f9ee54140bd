package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.services.cli.Cli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The command line against a live server: exit codes, output, and errors that say what to do. */
class CliIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  record Run(int code, String out, String err) {}

  static Run cli(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    List<String> all = new ArrayList<>(List.of(args));
    all.add("--url=http://127.0.0.1:" + app.server.port());
    int code = Cli.run(all.toArray(String[]::new), new PrintWriter(out, true), new PrintWriter(err, true));
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void tenantAndKeyLifecycle() {
    String admin = "--key=" + app.adminKey();
    Run created = cli("tenant", "create", "clinic", "--name", "Clinic One", admin);
    assertThat(created.code()).as(created.err()).isZero();
    assertThat(created.out()).contains("\"id\":\"clinic\"").contains("Clinic One");
    assertThat(cli("tenant", "list", admin).out()).contains("clinic");
    assertThat(cli("tenant", "get", "clinic", admin).out()).contains("consentMode");

    // the operator key makes the tenant's first tenant-admin key only; that key makes the others
    Run refused = cli("key", "create", "--tenant", "clinic", "--principal", "dr-lee", "--role", "clinician", admin);
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.err()).contains("tenant-admin");
    Run first = cli("key", "create", "--tenant", "clinic", "--principal", "clinic-admin", "--role", "tenant-admin", admin);
    assertThat(first.code()).as(first.err()).isZero();
    Matcher secret = Pattern.compile("\"secret\":\"([^\"]+)\"").matcher(first.out());
    assertThat(secret.find()).isTrue();
    Run key = cli("key", "create", "--tenant", "clinic", "--principal", "dr-lee", "--role", "clinician",
        "--practitioner", "pr-1", "--key=" + secret.group(1));
    assertThat(key.code()).as(key.err()).isZero();
    Matcher m = Pattern.compile("\"keyId\":\"([a-z0-9]+)\"").matcher(key.out());
    assertThat(m.find()).isTrue();
    assertThat(cli("key", "list", "--tenant", "clinic", admin).out()).contains(m.group(1)).doesNotContain("secret");
    assertThat(cli("key", "revoke", "--tenant", "clinic", m.group(1), admin).code()).isZero();
    // revoking a revoked key succeeds (a retried revoke); a key that never was is an error
    assertThat(cli("key", "revoke", "--tenant", "clinic", m.group(1), admin).code()).isZero();
    assertThat(cli("key", "revoke", "--tenant", "clinic", "nosuchkey00000000000", admin).code()).isEqualTo(1);
    // a deletion is for good: without the id again it deletes nothing and says what to type
    Run unconfirmed = cli("tenant", "delete", "clinic", admin);
    assertThat(unconfirmed.code()).isEqualTo(2);
    assertThat(unconfirmed.err()).contains("--confirm clinic");
    assertThat(cli("tenant", "delete", "clinic", "--confirm", "clinc", admin).code()).isEqualTo(2);
    assertThat(cli("tenant", "list", admin).out()).contains("clinic");
    assertThat(cli("tenant", "delete", "clinic", "--confirm", "clinic", admin).code()).isZero();
  }

  @Test
  void ingestLoadsAFolderOfBundlesAndNdjsonWithProgress() throws Exception {
    String ehr = app.tenantWithKey("loader", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest");
    int entries = 0;
    for (var p : io.carecontext.fhir.synthetic.SyntheticPatients.generate(11, 2)) {
      java.nio.file.Files.writeString(dir.resolve(java.util.UUID.randomUUID() + ".json"),
          io.carecontext.fhir.Fhir.toJson(p.bundle()));
      entries += p.bundle().getEntry().size();
    }
    java.nio.file.Files.writeString(dir.resolve("extra.ndjson"),
        "{\"resourceType\":\"Patient\",\"id\":\"nd-x\",\"gender\":\"other\"}\n");
    Run run = cli("ingest", dir.toString(), "--tenant", "loader", "--key=" + ehr, "--admin-key=" + app.adminKey());
    assertThat(run.code()).as(run.err()).isZero();
    assertThat(run.err()).contains("files 3/3").contains("resources/s").contains("embedding: 0 left");
    assertThat(run.out()).contains("ingested %,d resources from 3 file(s)".formatted(entries + 1))
        .contains("0 file(s) failed");
    Run missing = cli("ingest", dir.resolve("nope").toString(), "--tenant", "loader", "--key=" + ehr);
    assertThat(missing.code()).isEqualTo(1);
    assertThat(missing.err()).contains("neither a file nor a folder");
  }

  @Test
  void anIngestThatCouldNotFollowEmbeddingSendsNothingAndNamesTheOptionItNeeds() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("CARECONTEXT_ADMIN_KEY") == null
        && !java.nio.file.Files.exists(java.nio.file.Path.of(
            System.getenv().getOrDefault("CARECONTEXT_HOME", ".carecontext"), "admin.key")),
        "this machine has a platform key the command would find by itself");
    String ehr = app.tenantWithKey("unwatched", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest-unwatched");
    java.nio.file.Files.writeString(dir.resolve("feed.ndjson"),
        "{\"resourceType\":\"Patient\",\"id\":\"uw-1\",\"gender\":\"female\"}\n");
    Run run = cli("ingest", dir.toString(), "--tenant", "unwatched", "--key=" + ehr);
    assertThat(run.code()).isEqualTo(1);
    assertThat(run.err()).contains("pass --admin-key").contains("--no-wait").contains("nothing was sent");
    assertThat(app.call("GET", "/fhir/unwatched/Patient/uw-1", ehr, null).statusCode()).isEqualTo(404);
    Run unwatched = cli("ingest", dir.toString(), "--tenant", "unwatched", "--key=" + ehr, "--no-wait");
    assertThat(unwatched.code()).as(unwatched.err()).isZero();
    assertThat(app.call("GET", "/fhir/unwatched/Patient/uw-1", ehr, null).statusCode()).isEqualTo(200);
  }

  @Test
  void anIngestWhoseAdminKeyCannotFollowEmbeddingSendsNothing() throws Exception {
    // The key was first used after every file had been sent: the load was stored, then reported as a
    // failure (exit 1, HTTP 403), so a caller who fixed the key and ran it again sent it all twice.
    String ehr = app.tenantWithKey("misled", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest-misled");
    java.nio.file.Files.writeString(dir.resolve("feed.ndjson"),
        "{\"resourceType\":\"Patient\",\"id\":\"ml-1\",\"gender\":\"female\"}\n");
    for (String wrong : List.of(ehr, "cck_nosuchkey_nosuchsecret")) {
      Run run = cli("ingest", dir.toString(), "--tenant", "misled", "--key=" + ehr, "--admin-key=" + wrong);
      assertThat(run.code()).isEqualTo(1);
      assertThat(run.err()).contains("--admin-key").contains("--no-wait").contains("nothing was sent")
          .doesNotContain(wrong);
      assertThat(app.call("GET", "/fhir/misled/Patient/ml-1", ehr, null).statusCode()).isEqualTo(404);
    }
  }

  @Test
  void ingestNamesTheNdjsonLinesItCouldNotLoadAndExitsOne() throws Exception {
    String ehr = app.tenantWithKey("partial", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest-bad");
    java.nio.file.Files.writeString(dir.resolve("feed.ndjson"), String.join("\n",
        "{\"resourceType\":\"Patient\",\"id\":\"ok-1\",\"gender\":\"female\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"bad-2\",\"birthDate\":\"1970-13-45\"}",
        "{\"resourceType\":\"Patient\",\"id\":\"ok-3\"}") + "\n");
    Run run = cli("ingest", dir.toString(), "--tenant", "partial", "--key=" + ehr, "--no-wait");
    assertThat(run.code()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("feed.ndjson: 1 line(s) not loaded")
        .contains("line 2: element 'Patient.birthDate': in the form of a FHIR date or dateTime, but no such day").doesNotContain("1970-13-45");
    assertThat(run.out()).contains("ingested 2 resources").contains("1 NDJSON line(s) not loaded");
  }

  @Test
  void aFileThatIsNotUtf8IsReportedAndTheOthersAreStillLoaded() throws Exception {
    // The command decoded each file itself: one Latin-1 file ended it with a Java stack trace, the
    // files after it unsent and no summary.
    String ehr = app.tenantWithKey("latin", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest-latin");
    java.nio.file.Files.write(dir.resolve("a-latin1.ndjson"),
        "{\"resourceType\":\"Patient\",\"id\":\"lt-1\",\"gender\":\"m\u00e4le\"}\n"
            .getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
    java.nio.file.Files.writeString(dir.resolve("b-good.ndjson"), "{\"resourceType\":\"Patient\",\"id\":\"lt-2\"}\n");
    Run run = cli("ingest", dir.toString(), "--tenant", "latin", "--key=" + ehr, "--no-wait");
    assertThat(run.code()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("a-latin1.ndjson").contains("not valid UTF-8").doesNotContain("Exception")
        .doesNotContain("\tat ");
    assertThat(run.out()).contains("ingested 1 resources from 2 file(s)");
    assertThat(app.call("GET", "/fhir/latin/Patient/lt-2", ehr, null, "application/fhir+json").statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/fhir/latin/Patient/lt-1", ehr, null, "application/fhir+json").statusCode()).isEqualTo(404);
  }

  @Test
  void ingestNamesTheBatchEntriesTheServerRefusedAndExitsOne() throws Exception {
    String ehr = app.tenantWithKey("batchy", "feed", "[\"ehr-integration\"]", null);
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-ingest-batch");
    // a batch answers 200 with a 400 inside for the entry it refuses: that must not read as a success
    java.nio.file.Files.writeString(dir.resolve("feed.json"), """
        {"resourceType":"Bundle","type":"batch","entry":[
          {"resource":{"resourceType":"Patient","id":"bt-ok","gender":"female"},
           "request":{"method":"PUT","url":"Patient/bt-ok"}},
          {"resource":{"resourceType":"Patient","id":"bt-bad","gender":{"x":1}},
           "request":{"method":"PUT","url":"Patient/bt-bad"}}]}""");
    Run run = cli("ingest", dir.toString(), "--tenant", "batchy", "--key=" + ehr, "--no-wait");
    assertThat(run.code()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("feed.json: 1 Bundle entry refused, the others stored:")
        .contains("entry 1: 400 Bad Request: ").contains("Bundle.entry[1].resource.gender")
        .doesNotContain("entry 0:").doesNotContain("bundle entry 1:");
    assertThat(run.out()).contains("ingested 1 resources from 1 file(s)").contains("0 file(s) failed")
        .contains("1 Bundle entry refused");
    HttpResponse<String> good = app.call("GET", "/fhir/batchy/Patient/bt-ok", ehr, null);
    assertThat(good.statusCode()).as(good.body()).isEqualTo(200);
    assertThat(good.body()).contains("\"gender\":\"female\"");
    assertThat(app.call("GET", "/fhir/batchy/Patient/bt-bad", ehr, null).statusCode()).isEqualTo(404);
  }

  @Test
  void failuresExitNonZeroWithTheServersMessage() {
    Run bad = cli("tenant", "create", "Bad;Id", "--key=" + app.adminKey());
    assertThat(bad.code()).isEqualTo(1);
    assertThat(bad.err()).contains("HTTP 400").contains("tenant id must match");
    Run wrongKey = cli("tenant", "list", "--key=nope");
    assertThat(wrongKey.code()).isEqualTo(1);
    assertThat(wrongKey.err()).contains("HTTP 401").contains("the key sent was refused").doesNotContain("nope");
    Run usage = cli("key", "create", "--tenant", "x");
    assertThat(usage.code()).isEqualTo(2);
    assertThat(usage.err()).contains("Missing required option");
  }

  /**
   * {@code audit export --patient ID} and {@code --patient-identifier SYSTEM|VALUE}: one patient's accounting, the
   * rows of that patient alone, by its FHIR id or by the MRN the EHR sent (the service's two filters); both at once,
   * or an identifier without its system's {@code |}, are usage errors (2) that never print the identifier back. The
   * command had no patient option, so an accounting for one patient took the whole trail.
   */
  @Test
  void auditExportGivesOnePatientsAccountingByIdOrByIdentifier() throws Exception {
    String ehr = app.tenantWithKey("accounted", "feed", "[\"ehr-integration\"]", null);
    String auditor = app.tenantWithKey("accounted", "aud", "[\"auditor\"]", null);
    for (String id : new String[] {"acc-1", "acc-2"}) {
      HttpResponse<String> put = app.call("PUT", "/fhir/accounted/Patient/" + id, ehr, "{\"resourceType\":\"Patient\","
          + "\"id\":\"" + id + "\",\"identifier\":[{\"system\":\"urn:mrn\",\"value\":\"MRN-" + id + " 7\"}],"
          + "\"gender\":\"female\"}", "application/fhir+json");
      assertThat(put.statusCode()).as(put.body()).isLessThan(300);
    }
    java.nio.file.Path dir = io.carecontext.migrations.testing.TestDirectories.create("cc-accounting");
    java.util.Map<String, List<String>> exported = new java.util.LinkedHashMap<>();
    for (String[] filter : new String[][] {{}, {"--patient", "acc-1"}, {"--patient-identifier", "urn:mrn|MRN-acc-1 7"}}) {
      java.nio.file.Path file = dir.resolve(exported.size() + ".ndjson");
      List<String> args = new ArrayList<>(List.of("audit", "export", "--tenant", "accounted", "--out", file.toString(),
          "--key=" + auditor));
      args.addAll(List.of(filter));
      Run run = cli(args.toArray(String[]::new));
      assertThat(run.code()).as(run.err()).isZero();
      assertThat(run.out() + run.err()).doesNotContain("MRN-");
      exported.put(String.join(" ", filter), java.nio.file.Files.readAllLines(file));
    }
    List<String> all = exported.get("");
    assertThat(all).anyMatch(l -> l.contains("Patient/acc-1")).anyMatch(l -> l.contains("Patient/acc-2"));
    for (String filter : new String[] {"--patient acc-1", "--patient-identifier urn:mrn|MRN-acc-1 7"}) {
      List<String> one = exported.get(filter);
      assertThat(one).as(filter).isNotEmpty().allMatch(l -> l.contains("Patient/acc-1"))
          .noneMatch(l -> l.contains("Patient/acc-2") || l.contains("MRN-"));
      // the patient's fhir-write row is in its accounting, as in the whole trail
      assertThat(one).as(filter).anyMatch(l -> l.contains("Patient/acc-1") && l.contains("\"action\":\"C\""));
    }
    // an identifier that names no patient: an empty accounting, as an unknown id's
    java.nio.file.Path none = dir.resolve("none.ndjson");
    Run nobody = cli("audit", "export", "--tenant", "accounted", "--out", none.toString(), "--key=" + auditor,
        "--patient-identifier", "urn:MRN|MRN-acc-1 7");
    assertThat(nobody.code()).as(nobody.err()).isZero();
    assertThat(java.nio.file.Files.readAllLines(none)).noneMatch(l -> l.contains("Patient/acc-"));
    // usage errors: both filters, an identifier without its "|", an empty id; nothing is asked, nothing is written
    java.nio.file.Path refused = dir.resolve("refused.ndjson");
    for (String[] bad : new String[][] {{"--patient", "acc-1", "--patient-identifier", "urn:mrn|MRN-acc-1 7"},
        {"--patient-identifier", "MRN-acc-1"}, {"--patient-identifier", "urn:mrn|"}, {"--patient", " "}}) {
      List<String> args = new ArrayList<>(List.of("audit", "export", "--tenant", "accounted", "--out",
          refused.toString(), "--key=" + auditor));
      args.addAll(List.of(bad));
      Run run = cli(args.toArray(String[]::new));
      assertThat(run.code()).as(String.join(" ", bad) + ": " + run.err()).isEqualTo(2);
      assertThat(run.err()).contains("--patient").doesNotContain("MRN-").doesNotContain("acc-1");
      assertThat(refused).doesNotExist();
    }
  }

  @Test
  void anUnreachableServerIsExplained() {
    StringWriter err = new StringWriter();
    int code = Cli.run(new String[] {"tenant", "list", "--key=k", "--url=http://127.0.0.1:1"},
        new PrintWriter(new StringWriter(), true), new PrintWriter(err, true));
    assertThat(code).isEqualTo(1);
    assertThat(err.toString()).contains("cannot reach CareContext").contains("./carecontext serve");
  }
}
