package io.carecontext.services.chat;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.synthetic.SyntheticPatients;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.services.TestServer;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Chat against a local OpenAI-compatible server that records every request it receives. */
class ChatApiIT {

  static TestServer app;
  static HttpServer model;
  static final List<String> prompts = new CopyOnWriteArrayList<>();
  /** A key the model revokes (through the admin API) before it answers: a revocation while the model works. */
  static final java.util.concurrent.atomic.AtomicReference<String> revokeOnCall =
      new java.util.concurrent.atomic.AtomicReference<>();
  static final AtomicReference<String> reply = new AtomicReference<>("echo");
  /** Requests answered so far in the "busy-once" mode: only the first is refused. */
  static final java.util.concurrent.atomic.AtomicInteger busyOnce = new java.util.concurrent.atomic.AtomicInteger();
  /** What a "slow" model waits for before it answers. */
  static volatile java.util.concurrent.CountDownLatch slowUntil = new java.util.concurrent.CountDownLatch(0);
  /** The Authorization header of the model's last request ("absent" when none came). */
  static final AtomicReference<String> authorization = new AtomicReference<>();
  static String clinician;
  static String ehr;
  static List<SyntheticPatients.GeneratedPatient> patients;
  static String patientId;
  static String practitioner;

  @BeforeAll
  static void start() throws Exception {
    model = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    model.createContext("/v1/chat/completions", ex -> {
      String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      prompts.add(body);
      String revoke = revokeOnCall.getAndSet(null);
      if (revoke != null) {
        HttpResponse<String> revoked = app.call("DELETE", "/admin/tenants/chatty/keys/" + revoke, app.adminKey(), null);
        assertThat(revoked.statusCode()).as(revoked.body()).isLessThan(300);
      }
      String auth = ex.getRequestHeaders().getFirst("Authorization");
      authorization.set(auth == null ? "absent" : auth);
      Matcher m = Pattern.compile("\\[PATIENT_\\d+]").matcher(body);
      if (reply.get().equals("slow")) {
        try {
          // a model that takes its time: it answers once the test lets it, so requests made together overlap
          // however slowly the machine runs them (with a fixed 1.5 s the second can arrive after the first ended)
          slowUntil.await(60, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
      if (reply.get().equals("fail")) {
        // a failing endpoint whose error quotes what it was sent, as some gateways' do
        byte[] error = ("{\"error\":{\"message\":\"upstream failed for " + body.replace("\"", "'") + "\"}}")
            .getBytes(StandardCharsets.UTF_8);
        ex.sendResponseHeaders(503, error.length);
        ex.getResponseBody().write(error);
        ex.close();
        return;
      }
      if (reply.get().equals("busy") || reply.get().equals("busy-once") && busyOnce.getAndIncrement() == 0) {
        // a rate-limited endpoint that says when to come back, its error quoting the prompt as some do
        byte[] error = ("{\"error\":{\"message\":\"rate limited: " + body.replace("\"", "'") + "\"}}")
            .getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Retry-After", reply.get().equals("busy") ? "120" : "1");
        ex.sendResponseHeaders(429, error.length);
        ex.getResponseBody().write(error);
        ex.close();
        return;
      }
      if (reply.get().equals("broken")) {
        // an HTTP 200 whose body is no chat completion: cut off in the middle of an answer
        byte[] broken = ("{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
            + "\"content\":\"Summary of glucose control for").getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, broken.length);
        ex.getResponseBody().write(broken);
        ex.close();
        return;
      }
      if (reply.get().equals("endless")) {
        // a model asked to write without end: far more than any answer is read
        ex.sendResponseHeaders(200, 0);
        byte[] start = "{\"id\":\"c1\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\""
            .getBytes(StandardCharsets.UTF_8);
        try {
          ex.getResponseBody().write(start);
          byte[] more = "again ".repeat(10_000).getBytes(StandardCharsets.UTF_8);
          for (int i = 0; i < 100; i++) {
            ex.getResponseBody().write(more);
          }
        } catch (java.io.IOException hungUp) {
          // the client stopped reading: what it should do
        }
        ex.close();
        return;
      }
      String content = switch (reply.get()) {
        case "ssn" -> "The record shows SSN 123-45-6789 and A1c values [S1].";
        case "store" -> "Refills are picked up at Walgreens #4521 [S1].";
        // the date (or date token) that leads the first dated source, as a model quoting it would
        case "first-date" -> {
          Matcher first = Pattern.compile("\\[S\\d+] (\\d{4}-\\d{2}-\\d{2}|\\[DATE_\\d+]):").matcher(body);
          yield "The first source is dated " + (first.find() ? first.group(1) : "nothing") + " [S1].";
        }
        // the prompt's last source cited first, then its first, then one it never had, as a model writes
        case "cite-late" -> {
          Matcher handle = Pattern.compile("\\[S(\\d+)] ").matcher(body);
          int last = 0;
          while (handle.find()) {
            last = Math.max(last, Integer.parseInt(handle.group(1)));
          }
          yield "Latest [S" + last + "], earliest [S1], again [S" + last + "], invented [S999].";
        }
        default -> "Summary for " + (m.find() ? m.group() : "the patient") + ": glucose control discussed [S1]. "
            + "Ignore [PATIENT_99].";
      };
      byte[] out = ("{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"test-model\",\"choices\":[{"
          + "\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"" + content + "\"},\"finish_reason\":\"stop\"}],"
          + "\"usage\":{\"prompt_tokens\":50,\"completion_tokens\":10,\"total_tokens\":60}}").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().add("Content-Type", "application/json");
      ex.sendResponseHeaders(200, out.length);
      ex.getResponseBody().write(out);
      ex.close();
    });
    model.start();
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("chatty", "feed", "[\"ehr-integration\"]", null);
    patients = SyntheticPatients.generate(99, 1);
    HttpResponse<String> r = app.call("POST", "/fhir/chatty", ehr, Fhir.toJson(patients.get(0).bundle()),
        "application/fhir+json");
    assertThat(r.statusCode()).isEqualTo(200);
    practitioner = r.body().replaceAll("(?s).*?\"location\":\"Practitioner/([^/\"]+).*", "$1");
    patientId = r.body().replaceAll("(?s).*?\"location\":\"Patient/([^/\"]+).*", "$1");
    app.bean(EmbeddingWorker.class).drain(TenantId.of("chatty"));
    clinician = app.tenantWithKey("chatty", "dr-c", "[\"clinician\"]", "\"practitionerId\":\"" + practitioner + "\"");
    configure(true, 1_000_000);
  }

  static void configure(boolean baa, long budget) {
    configure(baa, budget, null);
  }

  /** As {@link #configure(boolean, long)}, the endpoint asking for answers of at most {@code maxOutputTokens}. */
  static void configure(boolean baa, long budget, Integer maxOutputTokens) {
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"llm\":{"
        + "\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:" + model.getAddress().getPort()
        + "/v1\",\"model\":\"test-model\",\"baaCovered\":" + baa
        + (maxOutputTokens == null ? "" : ",\"maxOutputTokens\":" + maxOutputTokens)
        + "}],\"dailyTokenBudgetPerKey\":" + budget + "}}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  @AfterAll
  static void stop() {
    app.close();
    model.stop(0);
  }

  /** A chat request about the patient with {@code key} and the body as given. */
  static HttpResponse<String> chat(String key, String body) {
    return app.call("POST", "/v1/chatty/patients/" + patientId + "/chat", key, body);
  }

  /**
   * A chat request of a role served de-identified only: it names the patient by the research subject
   * code research search issued (tenant migration 48), never by the patient id.
   */
  static HttpResponse<String> researchChat(String key, String body) {
    return app.call("POST", "/v1/chatty/patients/" + subject() + "/chat", key, body);
  }

  static String subjectCode;

  /** The patient's research subject code, issued by a research search that returned the patient. */
  static synchronized String subject() {
    if (subjectCode == null) {
      String researcher = app.tenantWithKey("chatty", "res-subject", "[\"researcher\"]", null);
      app.researchOn("chatty");
      HttpResponse<String> r = app.call("POST", "/v1/chatty/research/search", researcher,
          "{\"query\":\"glucose\",\"k\":10,\"purposeOfUse\":\"HRESCH\"}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
          java.sql.PreparedStatement ps = c.prepareStatement(
              "SELECT code FROM tenant_chatty.research_subjects WHERE patient_id = ?")) {
        ps.setString(1, patientId);
        try (java.sql.ResultSet rs = ps.executeQuery()) {
          assertThat(rs.next()).as("the search returned the patient, and issued its code").isTrue();
          subjectCode = rs.getString(1);
        }
      } catch (java.sql.SQLException e) {
        throw new IllegalStateException(e);
      }
      assertThat(r.body()).contains("\"subject\":\"" + subjectCode + "\"").doesNotContain(patientId);
    }
    return subjectCode;
  }

  static HttpResponse<String> ask(String question, boolean dryRun) {
    return chat(clinician, "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\""
        + (dryRun ? ",\"dryRun\":true" : "") + "}");
  }

  /**
   * An endpoint stored before the operator approved hosts (CARECONTEXT_MODEL_HOSTS), on a host it has
   * not approved, is never sent a prompt: refused as model_not_allowed and audited.
   */
  @Test
  void aStoredEndpointOnAHostTheOperatorHasNotApprovedIsSentNothing() throws Exception {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      st.executeUpdate("UPDATE platform.tenants SET settings = jsonb_set(settings, '{llm,endpoints,0,baseUrl}', "
          + "'\"https://collector.example/v1\"') WHERE tenant_id = 'chatty'");
    }
    try {
      prompts.clear();
      HttpResponse<String> r = ask("Summarize glucose control", false);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(403);
      assertThat(r.body()).contains("\"error\":\"model_not_allowed\"").contains("CARECONTEXT_MODEL_HOSTS");
      assertThat(prompts).isEmpty();
      // its row says which endpoint and why, as a failed exchange's does: the code alone told an auditor neither
      assertThat(lastExchangeDetails("model_not_allowed")).contains("\"endpoint\":\"local\"")
          .contains("CARECONTEXT_MODEL_HOSTS");
    } finally {
      configure(true, 1_000_000);
    }
  }

  @Test
  void aDryRunThatIsNotTrueOrFalseIsRefusedAndNothingReachesTheModel() {
    // "dryRun":"yes" and 0 were read as false, so the prompt went to the model
    prompts.clear();
    for (String dryRun : new String[] {"\"yes\"", "0", "\"true\"", "1", "[true]", "\"false\""}) {
      HttpResponse<String> r = chat(clinician,
          "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"TREAT\",\"dryRun\":" + dryRun + "}");
      assertThat(r.statusCode()).as(dryRun).isEqualTo(400);
      assertThat(r.body()).as(dryRun).contains("\"error\":\"bad_request\"")
          .contains("field 'dryRun' must be true or false").doesNotContain("glucose");
    }
    HttpResponse<String> question = chat(clinician, "{\"question\":42,\"purposeOfUse\":\"TREAT\",\"dryRun\":true}");
    assertThat(question.statusCode()).isEqualTo(400);
    assertThat(question.body()).contains("field 'question' must be a string");
    assertThat(prompts).isEmpty();
    // a real true still answers with the prompt and sends nothing
    HttpResponse<String> dry = ask("Summarize glucose control", true);
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    assertThat(dry.body()).contains("\"prompt\":");
    assertThat(prompts).isEmpty();
  }

  @Test
  void noIdentifierLeavesAndTheAnswerIsReidentified() {
    prompts.clear();
    HttpResponse<String> r = ask("Summarize the latest progress note and glucose control", false);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(prompts).hasSize(1);
    // an endpoint with no apiKeySecret gets no credentials at all (it got "Bearer none", which a gateway
    // refuses as a wrong key, and the 502 pointed at the credentials)
    assertThat(authorization.get()).isEqualTo("absent");
    String sent = prompts.get(0);
    var truth = patients.get(0);
    for (var planted : truth.planted()) {
      assertThat(sent).as("planted " + planted.identifierClass()).doesNotContain(planted.value());
    }
    assertThat(sent).contains("[S1]");
    // The note that names the patient, MRN, phone and address was among the sources: the check above is not vacuous.
    assertThat(sent).contains("Progress note").contains("[PATIENT_1]").contains("[MRN_1]").contains("[PHONE_1]");
    String family = truth.identifiers().names().get(0).family();
    assertThat(r.body()).contains(family);
    assertThat(r.body()).doesNotContain("PATIENT_99").contains("Ignore [unresolved].").contains("\"citations\":[\"");
    assertThat(app.call("GET", "/metrics", app.adminKey(), null).body())
        .contains("carecontext_llm_tokens_total{direction=\"prompt\",tenant=\"chatty\"}");
  }

  @Test
  void aResearchQuestionGetsTokensBackEvenFromAKeyThatAlsoTreats() {
    // The role that served the request decides re-identification, not the roles the key holds:
    // HRESCH is served under the researcher policy, which is de-identified only.
    String both = app.tenantWithKey("chatty", "dr-both", "[\"clinician\",\"researcher\"]",
        "\"practitionerId\":\"" + practitioner + "\"");
    String family = patients.get(0).identifiers().names().get(0).family();
    // The question names the patient. For research it is de-identified without the patient's
    // identifiers (any capitalized name becomes [NAME], so its treatment confirms nothing); for
    // treatment with them, and the answer is re-identified.
    String question = "Summarize glucose control for " + family;
    prompts.clear();
    HttpResponse<String> research = researchChat(both, "{\"question\":\"" + question + "\",\"purposeOfUse\":\"HRESCH\"}");
    assertThat(research.statusCode()).as(research.body()).isEqualTo(200);
    assertThat(research.body()).doesNotContain(family);
    assertThat(prompts).singleElement().satisfies(p -> assertThat(p).contains("Summarize glucose control for [NAME]")
        .doesNotContain(family));
    HttpResponse<String> treatment = chat(both, "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(treatment.statusCode()).as(treatment.body()).isEqualTo(200);
    assertThat(treatment.body()).contains(family).doesNotContain("[PATIENT_1]");
  }

  /**
   * A researcher named the patient by a patient id it chose (an MRN, say), and got that person's
   * de-identified record, and 200 against 404 told who consented to research. It names a patient by
   * the code research search issued; a patient id and a code never issued get the same 404, audited as
   * research_subject_unknown; the rows of an allowed chat record the patient and the code.
   */
  @Test
  void aResearcherNamesAPatientByItsSubjectCodeNeverByItsId() throws Exception {
    String researcher = app.tenantWithKey("chatty", "res-codes", "[\"researcher\"]", null);
    String body = "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}";
    HttpResponse<String> byCode = researchChat(researcher, body);
    assertThat(byCode.statusCode()).as(byCode.body()).isEqualTo(200);
    HttpResponse<String> byId = chat(researcher, body);
    HttpResponse<String> unissued = app.call("POST", "/v1/chatty/patients/R0123456789ABCDE/chat", researcher, body);
    assertThat(byId.statusCode()).isEqualTo(404);
    assertThat(unissued.statusCode()).isEqualTo(404);
    assertThat(byId.body()).isEqualTo(unissued.body()).contains("no such research subject", "subject code research search returned").doesNotContain(patientId);
    // a clinician's chat names patients by id: a code is no patient of its
    assertThat(app.call("POST", "/v1/chatty/patients/" + subject() + "/chat", clinician,
        "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}").statusCode())
        .isEqualTo(404);
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT reason, coalesce(patient_id, '-'), details FROM "
            + "tenant_chatty.audit_log WHERE principal = 'res-codes' AND action = 'chat-dry-run' AND prompt_hash IS NULL "
            + "ORDER BY at, seq")) {
      List<String> rows = new java.util.ArrayList<>();
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
      }
      assertThat(rows).hasSize(3);
      assertThat(rows.get(0)).startsWith("allowed " + patientId + " ")
          .contains("\"researchSubject\":\"" + subject() + "\"");
      assertThat(rows.get(1)).startsWith("research_subject_unknown " + patientId + " ");
      assertThat(rows.get(2)).startsWith("research_subject_unknown R0123456789ABCDE ");
      // the exchange's own row (here the dry run's) names the code too, as the README says of such a chat's rows
      try (java.sql.ResultSet dry = st.executeQuery("SELECT details FROM tenant_chatty.audit_log "
          + "WHERE principal = 'res-codes' AND action = 'chat-dry-run' AND prompt_hash IS NOT NULL")) {
        assertThat(dry.next()).isTrue();
        assertThat(dry.getString(1)).contains("\"researchSubject\":\"" + subject() + "\"");
      }
    }
  }

  /**
   * A researcher's question was de-identified with the patient's identifiers: the patient's name
   * became [PATIENT_1] and any other name stayed as typed, so a dry run confirmed a candidate name for
   * a patient id. The patient's name and another are now treated alike.
   */
  @Test
  void aResearcherCannotTellFromTheDryRunWhetherANameIsThePatients() {
    String researcher = app.tenantWithKey("chatty", "res-names", "[\"researcher\"]", null);
    assertThat(dryRunQuestionsNamingThePatientAndAnother(name -> researchChat(researcher,
        "{\"question\":\"Summarize glucose control for " + name + "\",\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}")))
        .containsOnly("Summarize glucose control for [NAME]");
  }

  /** The question of a dry run asked once with the patient's family name and once with another name, as prompted. */
  private List<String> dryRunQuestionsNamingThePatientAndAnother(
      java.util.function.Function<String, HttpResponse<String>> askNaming) {
    String family = patients.get(0).identifiers().names().get(0).family();
    List<String> questions = new java.util.ArrayList<>();
    for (String name : new String[] {family, "Zebulon"}) {
      HttpResponse<String> dry = askNaming.apply(name);
      assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
      Matcher q = Pattern.compile("Question: ([^\"]*)\"").matcher(dry.body());
      assertThat(q.find()).as(dry.body()).isTrue();
      questions.add(q.group(1));
    }
    return questions;
  }

  /**
   * A researcher's answer cited its sources by resource id ("Observation/…"), identifiers of the
   * patient's records that research search never shows: a role served de-identified gets the
   * handles (S1, S2…) instead, in the answer and in a dry run.
   */
  @Test
  void aResearcherIsCitedHandlesNotResourceIds() {
    String researcher = app.tenantWithKey("chatty", "res-cites", "[\"researcher\"]", null);
    for (String dryRun : new String[] {"true", "false"}) {
      HttpResponse<String> r = researchChat(researcher, "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":"
          + "\"HRESCH\",\"dryRun\":" + dryRun + "}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Matcher citations = Pattern.compile("\"citations\":\\[([^\\]]*)\\]").matcher(r.body());
      assertThat(citations.find()).as(r.body()).isTrue();
      assertThat(citations.group(1)).as(dryRun).isNotEmpty().matches("\"S\\d+\"(,\"S\\d+\")*");
      assertThat(r.body()).as(dryRun).doesNotContain(patientId);
    }
    // a clinician still gets the resources
    HttpResponse<String> treat = ask("Summarize glucose control", false);
    assertThat(treat.body()).containsPattern("\"citations\":\\[\"[A-Za-z]+/");
  }

  /** Billing reads no demographics: its question's guesses were tokenized with the patient's own, confirming them. */
  @Test
  void aRoleWithoutDemographicsCannotTellFromTheDryRunWhetherANameIsThePatients() {
    String billing = app.tenantWithKey("chatty", "bill-names", "[\"billing\"]", null);
    assertThat(dryRunQuestionsNamingThePatientAndAnother(name -> chat(billing,
        "{\"question\":\"Coverage status for " + name + "\",\"purposeOfUse\":\"HPAYMT\",\"dryRun\":true}")))
        .containsOnly("Coverage status for [NAME]");
  }

  @Test
  void dryRunShowsThePromptAndCallsNoModel() {
    prompts.clear();
    HttpResponse<String> r = ask("What is the A1c trend?", true);
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).contains("\"prompt\":\"").contains("Sources:");
    assertThat(prompts).isEmpty();
    // the resources behind [S1], [S2]… in order: the prompt's handles could not be read before
    Matcher handles = Pattern.compile("\\[S(\\d+)\\] ").matcher(r.body());
    int last = 0;
    while (handles.find()) {
      last = Math.max(last, Integer.parseInt(handles.group(1)));
    }
    assertThat(last).isPositive();
    Matcher citations = Pattern.compile("\"citations\":\\[([^\\]]*)\\]").matcher(r.body());
    assertThat(citations.find()).as(r.body()).isTrue();
    assertThat(citations.group(1).split(",")).hasSize(last);
  }

  /** Each resource PUT with the feed's key (its type and id from its first two members). */
  static void put(String... resources) {
    for (String resource : resources) {
      String type = resource.replaceAll("^\\{\"resourceType\":\"(\\w+)\",\"id\":\"([^\"]+)\".*", "$1/$2");
      HttpResponse<String> put = app.call("PUT", "/fhir/chatty/" + type, ehr, resource, "application/fhir+json");
      assertThat(put.statusCode()).as(put.body()).isLessThan(300);
    }
  }

  /** A Consent by which {@code patient} permits AI use. */
  static String permit(String patient) {
    return "{\"resourceType\":\"Consent\",\"id\":\"" + patient + "-c\",\"status\":\"active\",\"scope\":{\"coding\":[{"
        + "\"system\":\"http://terminology.hl7.org/CodeSystem/consentscope\",\"code\":\"patient-privacy\"}]},"
        + "\"category\":[{\"coding\":[{\"system\":\"http://loinc.org\",\"code\":\"59284-0\"}]}],"
        + "\"patient\":{\"reference\":\"Patient/" + patient + "\"},\"provision\":{\"type\":\"permit\"}}";
  }

  /**
   * Records written and not yet embedded are named by the answer's {@code pending}: counted by the database for
   * what the key could read once embedded (a clinician: the registration and the note, not the claim, whose
   * category it does not read; billing: the claim alone, never the note), and gone once the worker has run.
   */
  @Test
  void recordsNotYetEmbeddedAreCountedForWhatTheKeyCouldRead() {
    String billing = app.tenantWithKey("chatty", "bill-pending", "[\"billing\"]", null);
    put("{\"resourceType\":\"Patient\",\"id\":\"pend-1\",\"gender\":\"male\",\"generalPractitioner\":[{"
            + "\"reference\":\"Practitioner/" + practitioner + "\"}]}", permit("pend-1"),
        "{\"resourceType\":\"Claim\",\"id\":\"pend-1-claim\",\"status\":\"active\",\"use\":\"claim\","
            + "\"patient\":{\"reference\":\"Patient/pend-1\"},\"created\":\"2024-03-01\"}",
        "{\"resourceType\":\"DocumentReference\",\"id\":\"pend-1-note\",\"status\":\"current\","
            + "\"subject\":{\"reference\":\"Patient/pend-1\"},\"content\":[{\"attachment\":{"
            + "\"contentType\":\"text/plain\",\"data\":\"" + java.util.Base64.getEncoder().encodeToString(
                "Progress note: feeling better.".getBytes(StandardCharsets.UTF_8)) + "\"}}]}");
    String clinicianBody = "{\"query\":\"recent notes\",\"purposeOfUse\":\"TREAT\"}";
    String billingBody = "{\"query\":\"claims\",\"purposeOfUse\":\"HPAYMT\"}";
    HttpResponse<String> r = app.call("POST", "/v1/chatty/patients/pend-1/context", clinician, clinicianBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"pending\":{\"resources\":2}");
    r = app.call("POST", "/v1/chatty/patients/pend-1/context", billing, billingBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"pending\":{\"resources\":1}");
    prompts.clear();
    r = app.call("POST", "/v1/chatty/patients/pend-1/chat", clinician,
        "{\"question\":\"How is he feeling?\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("No records were found", "\"pending\":{\"resources\":2}");
    assertThat(prompts).isEmpty();
    app.bean(EmbeddingWorker.class).drain(TenantId.of("chatty"));
    r = app.call("POST", "/v1/chatty/patients/pend-1/context", clinician, clinicianBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("pend-1-note").doesNotContain("pending");
    r = app.call("POST", "/v1/chatty/patients/pend-1/context", billing, billingBody);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("pend-1-claim").doesNotContain("pending", "pend-1-note");
  }

  /**
   * A question nothing the caller may read answers (here: a patient whose only record is not embedded yet)
   * is answered without a model: the endpoint receives nothing, the answer says no records were found and
   * cites none, and the row says the model was not called and why. A dry run answers the same, with no prompt.
   */
  @Test
  void aQuestionWithoutAdmittedRecordsIsAnsweredWithoutCallingTheModel() {
    String coordinator = app.tenantWithKey("chatty", "coord-none", "[\"care-coordinator\"]", null);
    put("{\"resourceType\":\"Patient\",\"id\":\"chat-none-1\",\"gender\":\"female\"}", permit("chat-none-1"));
    prompts.clear();
    for (boolean dryRun : new boolean[] {false, true}) {
      HttpResponse<String> r = app.call("POST", "/v1/chatty/patients/chat-none-1/chat", coordinator,
          "{\"question\":\"What is the A1c trend?\",\"purposeOfUse\":\"TREAT\"" + (dryRun ? ",\"dryRun\":true" : "")
              + "}");
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("\"answer\":\"No records were found for this question", "\"citations\":[]")
          .doesNotContain("\"prompt\":\"", "chat-none-1");
    }
    assertThat(prompts).isEmpty();
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT action, decision, reason, details::text, prompt_hash IS NULL "
            + "FROM tenant_chatty.audit_log WHERE principal = 'coord-none' AND action IN ('chat', 'chat-dry-run') "
            + "AND details LIKE '%modelCalled%' ORDER BY at, seq")) {
      List<String> rows = new java.util.ArrayList<>();
      while (rs.next()) {
        assertThat(rs.getString(4)).contains("\"modelCalled\":false", "\"modelNotCalledBecause\":\"no_admitted_chunks\"");
        assertThat(rs.getBoolean(5)).as("no prompt was made").isTrue();
        rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3));
      }
      assertThat(rows).containsExactly("chat allowed allowed", "chat-dry-run allowed allowed");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Every row of a dry run says {@code chat-dry-run}, a refused one's too, whatever refused it (the patient, its
   * care link, the purpose, the role, the body, the question), and every row of a real chat {@code chat}: a
   * refused dry run was recorded {@code chat}, so an accounting by action counted it as a chat and missed it
   * among the dry runs. An allowed dry run's retrieval row is {@code chat-dry-run} as its exchange's is.
   */
  @Test
  void everyRowOfADryRunSaysSoAllowedOrRefused() {
    String doctor = app.tenantWithKey("chatty", "dry-doc", "[\"clinician\"]",
        "\"practitionerId\":\"" + practitioner + "\"");
    String admin = app.tenantWithKey("chatty", "dry-admin", "[\"tenant-admin\"]", null);
    put("{\"resourceType\":\"Patient\",\"id\":\"dry-unlinked\",\"gender\":\"male\"}", permit("dry-unlinked"));
    String ok = "\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"TREAT\"";
    String[][] requests = {
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", ok}, // allowed
        {doctor, "/v1/chatty/patients/dry-unknown/chat", ok},
        {doctor, "/v1/chatty/patients/dry-unlinked/chat", ok},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", "\"question\":\"Summarize glucose control\""},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", "\"question\":\"Summarize\",\"purposeOfUse\":\"HPAYMT\""},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", "\"question\":\"Summarize\",\"purposeOfUse\":\"ETREAT\""},
        {admin, "/v1/chatty/patients/" + patientId + "/chat", ok},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", "\"purposeOfUse\":\"TREAT\""},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat", ok + ",\"extra\":1"},
        {doctor, "/v1/chatty/patients/" + patientId + "/chat?k=3", ok},
    };
    for (String[] q : requests) {
      for (boolean dryRun : new boolean[] {true, false}) {
        HttpResponse<String> r = app.call("POST", q[1], q[0], "{" + q[2] + (dryRun ? ",\"dryRun\":true" : "") + "}");
        if (q == requests[0]) {
          assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        } else {
          assertThat(r.statusCode()).as(q[2] + " " + r.body()).isBetween(400, 404);
        }
      }
    }
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT action, decision, reason, prompt_hash IS NOT NULL "
            + "FROM tenant_chatty.audit_log WHERE principal IN ('dry-doc', 'dry-admin') ORDER BY at, seq")) {
      List<String> rows = new java.util.ArrayList<>();
      while (rs.next()) {
        rows.add(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3) + (rs.getBoolean(4) ? " +prompt" : ""));
      }
      assertThat(rows).containsExactly(
          "chat-dry-run allowed allowed", "chat-dry-run allowed allowed +prompt",
          "chat allowed allowed", "chat allowed allowed +prompt",
          "chat-dry-run denied unknown_patient", "chat denied unknown_patient",
          "chat-dry-run denied no_care_relationship", "chat denied no_care_relationship",
          "chat-dry-run denied purpose_missing", "chat denied purpose_missing",
          "chat-dry-run denied purpose_not_allowed", "chat denied purpose_not_allowed",
          "chat-dry-run denied break_glass_no_reason", "chat denied break_glass_no_reason",
          "chat-dry-run denied role_not_allowed", "chat denied role_not_allowed",
          "chat-dry-run denied query_missing", "chat denied query_missing",
          "chat-dry-run denied body_malformed", "chat denied body_malformed",
          "chat-dry-run denied body_malformed", "chat denied body_malformed");
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * The answer's [Sn] is citations[n-1]. The answer kept the prompt's numbers while citations listed the
   * sources in the order the answer first cited them: "[S12] … [S1]" beside two citations, which a chat
   * app could not pair with its links (the prompt and its numbering are seen only in a dry run).
   */
  @Test
  void theAnswersHandlesAreNumberedAsItsCitations() {
    List<String> sources = citationsOf(ask("What is the A1c trend?", true).body());
    assertThat(sources).hasSizeGreaterThan(1);
    reply.set("cite-late");
    try {
      HttpResponse<String> r = ask("What is the A1c trend?", false);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).contains("\"answer\":\"Latest [S1], earliest [S2], again [S1], invented [unresolved].\"");
      // the prompt's last source, cited first, is the first citation; its first source the second
      assertThat(citationsOf(r.body())).containsExactly(sources.get(sources.size() - 1), sources.get(0));
    } finally {
      reply.set("echo");
    }
  }

  /**
   * A chat app shows the clinician where each fact came from and when: the citations named the resource
   * alone, its date was in the prompt only (shifted), and a clinician key reads no FHIR resource to look it
   * up. Each citation now comes with its resource and the record's own date, in the citations' order, in the
   * answer and in a dry run; a role served de-identified gets none (its citations are handles).
   */
  @Test
  void eachCitationComesWithTheRecordsDateNotTheShiftedOne() throws Exception {
    HttpResponse<String> context = app.call("POST", "/v1/chatty/patients/" + patientId + "/context", clinician,
        "{\"query\":\"What is the A1c trend?\",\"k\":20,\"purposeOfUse\":\"TREAT\"}");
    assertThat(context.statusCode()).as(context.body()).isEqualTo(200);
    var json = new com.fasterxml.jackson.databind.ObjectMapper();
    Map<String, String> recorded = new java.util.HashMap<>();
    json.readTree(context.body()).get("chunks").forEach(c -> {
      if (c.hasNonNull("date")) {
        recorded.put(c.get("resource").asText(), c.get("date").asText());
      }
    });
    String dryRun = ask("What is the A1c trend?", true).body();
    reply.set("cite-late");
    try {
      for (String body : new String[] {dryRun, ask("What is the A1c trend?", false).body()}) {
        var answer = json.readTree(body);
        var citations = answer.get("citations");
        var sources = answer.get("sources");
        assertThat(sources).as(body).isNotNull();
        assertThat(sources.size()).as(body).isEqualTo(citations.size()).isGreaterThan(1);
        for (int i = 0; i < citations.size(); i++) {
          String resource = citations.get(i).asText();
          assertThat(sources.get(i).get("resource").asText()).isEqualTo(resource);
          if (recorded.containsKey(resource)) {
            // the record's date, which the context path shows, never the prompt's shifted one
            assertThat(sources.get(i).get("date").asText()).as(resource).isEqualTo(recorded.get(resource));
          }
        }
        assertThat(sources.findValues("date")).as(body).isNotEmpty();
      }
    } finally {
      reply.set("echo");
    }
    String researcher = app.tenantWithKey("chatty", "res-sources", "[\"researcher\"]", null);
    HttpResponse<String> research = researchChat(researcher, "{\"question\":\"Summarize glucose control\","
        + "\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}");
    assertThat(research.statusCode()).as(research.body()).isEqualTo(200);
    assertThat(research.body()).doesNotContain("\"sources\"");
  }

  /** The details of dr-c's latest chat row denied with {@code reason}. */
  private static String lastExchangeDetails(String reason) {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.PreparedStatement ps = c.prepareStatement("SELECT details::text FROM tenant_chatty.audit_log "
            + "WHERE principal = 'dr-c' AND action = 'chat' AND decision = 'denied' AND reason = ? "
            + "ORDER BY at DESC, seq DESC LIMIT 1")) {
      ps.setString(1, reason);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("a denied chat row for " + reason).isTrue();
        return rs.getString(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The prompt of a dry run's answer. */
  private static String promptOf(String body) {
    try {
      var prompt = new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("prompt");
      assertThat(prompt).as(body).isNotNull();
      return prompt.asText();
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static List<String> citationsOf(String body) {
    Matcher citations = Pattern.compile("\"citations\":\\[([^\\]]*)\\]").matcher(body);
    assertThat(citations.find()).as(body).isTrue();
    return List.of(citations.group(1).replace("\"", "").split(","));
  }

  /**
   * Chat writes two rows, the retrieval and the model exchange. Under break-glass only the first was
   * flagged for review, so a reviewer filtering on the flag saw half of the exchange.
   */
  @Test
  void bothRowsOfABreakGlassChatAreFlaggedForReview() {
    String auditor = app.tenantWithKey("chatty", "aud-btg", "[\"auditor\"]", null);
    HttpResponse<String> r = chat(clinician,
        "{\"question\":\"Summary?\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    // when the window closes, so the caller knows before its next ETREAT is refused
    assertThat(r.body()).containsPattern("\"breakGlassUntil\":\"\\d{4}-\\d{2}-\\d{2}T[0-9:.]+Z\"");
    String trail = app.call("GET", "/v1/chatty/audit?action=chat&limit=2", auditor, null).body();
    assertThat(trail.split("\"breakGlass\":true", -1)).as(trail).hasSize(5); // the column and the details, twice
    assertThat(trail.split("\"reviewRequired\":true", -1)).as(trail).hasSize(3);
    assertThat(trail).contains("\"promptTokens\":");
    assertThat(ask("Summary?", true).body()).doesNotContain("breakGlassUntil");
  }

  /**
   * A shifted date hides the true one only while the shift stays unknown. A new random shift on
   * every request let anyone who can repeat one (a dry run shows the prompt; a model endpoint sees
   * every prompt) take the true dates from the spread: the shift is uniform over 1 to 360 days
   * either way, so the midpoint of the earliest and latest value seen for a date closes in on it
   * within some dozens of requests. One patient's dates keep one shift.
   */
  @Test
  void aPatientsDatesKeepOneShiftFromRequestToRequest() {
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < 6; i++) {
      String prompt = ask("What is the A1c trend?", true).body();
      Matcher dates = Pattern.compile("\\[S\\d+\\] (\\d{4}-\\d{2}-\\d{2}):").matcher(prompt);
      List<String> found = new java.util.ArrayList<>();
      while (dates.find()) {
        found.add(dates.group(1));
      }
      assertThat(found).isNotEmpty();
      seen.add(String.join(",", found));
    }
    assertThat(seen).hasSize(1);
  }

  @Test
  void sourcesCarryTheirDatesThroughTheTenantsDatePolicy() {
    // a trend question needs each value's date; the date is de-identified like the rest of the text
    String shifted = ask("What is the A1c trend?", true).body();
    assertThat(shifted).containsPattern("\\[S\\d+\\] \\d{4}-\\d{2}-\\d{2}: Observation")
        .contains("Sources are in date order, oldest first");
    HttpResponse<String> token = app.call("PATCH", "/admin/tenants/chatty", app.adminKey(),
        "{\"settings\":{\"datePolicy\":\"token\"}}");
    assertThat(token.statusCode()).isEqualTo(200);
    try {
      // the prompt: the answer's sources carry the record's own dates for the clinician, beside it
      String tokenized = promptOf(ask("What is the A1c trend?", true).body());
      assertThat(tokenized).containsPattern("\\[S\\d+\\] \\[DATE_\\d+\\]: Observation")
          .doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}");
    } finally {
      app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"datePolicy\":\"shift\"}}");
    }
  }

  /**
   * Under the default shift the model sees every date moved by the patient's offset. The answer's
   * dates used to reach the clinician as the model wrote them, so a clinician was told the first
   * HbA1c was months away from when it was measured. The re-identified answer carries the record's
   * dates: the same as under the token policy, where the token stands for the true date.
   */
  @Test
  void aClinicianReadsTheRecordsDatesNotTheShiftedOnes() {
    String shiftedPrompt = ask("What is the A1c trend?", true).body();
    Matcher shiftedFirst = Pattern.compile("\\[S\\d+\\] (\\d{4}-\\d{2}-\\d{2}):").matcher(shiftedPrompt);
    assertThat(shiftedFirst.find()).as(shiftedPrompt).isTrue();
    reply.set("first-date");
    try {
      String underShift = firstDate(ask("What is the A1c trend?", false));
      app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"datePolicy\":\"token\"}}");
      String underToken;
      try {
        underToken = firstDate(ask("What is the A1c trend?", false));
      } finally {
        app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"datePolicy\":\"shift\"}}");
      }
      assertThat(underShift).isEqualTo(underToken).isNotEqualTo(shiftedFirst.group(1));
    } finally {
      reply.set("echo");
    }
  }

  private static String firstDate(HttpResponse<String> answer) {
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
    Matcher m = Pattern.compile("dated (\\d{4}-\\d{2}-\\d{2}) ").matcher(answer.body());
    assertThat(m.find()).as(answer.body()).isTrue();
    return m.group(1);
  }

  /**
   * The shift is one per patient, and the caller's question is shifted with the sources. A
   * researcher who sent a known date ("after 2000-01-01") and read it back from the dry run had the
   * offset, and with it every true date of the patient. A caller who must never see identities gets
   * years under the shift policy, as research search shows them, in the sources and in the question.
   */
  @Test
  void aResearcherGetsYearsNotShiftedDatesItCouldShiftBack() {
    String researcher = app.tenantWithKey("chatty", "res-dates", "[\"researcher\"]", null);
    HttpResponse<String> dry = researchChat(researcher,
        "{\"question\":\"Any HbA1c after 2000-01-01?\",\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}");
    assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
    assertThat(dry.body()).contains("Question: Any HbA1c after 2000?").containsPattern("\\[S\\d+\\] \\d{4}: ")
        .doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}");
    // the clinician's prompt still carries whole (shifted) dates
    assertThat(ask("Any HbA1c after 2000-01-01?", true).body()).containsPattern("\\[S\\d+\\] \\d{4}-\\d{2}-\\d{2}: ");
    // under token, a date of the question that is one of the record's got that date's token: one
    // request could test hundreds of candidate dates. A researcher gets years there too.
    app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"datePolicy\":\"token\"}}");
    try {
      String tokened = researchChat(researcher,
          "{\"question\":\"Any HbA1c after 2000-01-01?\",\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}").body();
      // (the system text names [DATE_2] as an example of a token; no source or question carries one)
      assertThat(tokened).contains("Question: Any HbA1c after 2000?").containsPattern("\\[S\\d+\\] \\d{4}: ")
          .doesNotContainPattern("\\[S\\d+\\] \\[DATE_\\d+\\]");
    } finally {
      app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"datePolicy\":\"shift\"}}");
    }
  }

  @Test
  void anSsnInjectedByTheModelIsRedactedAndAudited() {
    // made first: its creation is an audit row too (KeyController), and the chat's must be the latest
    String auditor = app.tenantWithKey("chatty", "aud", "[\"auditor\"]", null);
    reply.set("ssn");
    try {
      HttpResponse<String> r = ask("Any identifiers on file?", false);
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).contains("[REDACTED]").doesNotContain("123-45-6789");
      String trail = app.call("GET", "/v1/chatty/audit?limit=1", auditor, null).body();
      assertThat(trail).contains("allowed_output_redacted").contains("\"redacted\":{\"SSN\":1}").doesNotContain("123-45-6789");
    } finally {
      reply.set("echo");
    }
  }

  private static String answerOf(String body) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(body).get("answer").asText();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * A place the model names itself is advice in a clinician's answer, which is re-identified anyway,
   * but in a researcher's, which never is, it may be one recalled from a note the detectors missed: a
   * store number reached the researcher.
   */
  @Test
  void aStoreTheModelNamesIsRedactedForAResearcherOnly() {
    String researcher = app.tenantWithKey("chatty", "res-store", "[\"researcher\"]", null);
    reply.set("store");
    try {
      HttpResponse<String> research = researchChat(researcher,
          "{\"question\":\"Where are refills picked up?\",\"purposeOfUse\":\"HRESCH\"}");
      assertThat(research.statusCode()).as(research.body()).isEqualTo(200);
      // the answer alone: the whole body holds a random auditId, which once read ...c2a47e45214e
      assertThat(answerOf(research.body())).contains("[REDACTED]").doesNotContain("4521");
      HttpResponse<String> clinical = ask("Where are refills picked up?", false);
      assertThat(clinical.statusCode()).as(clinical.body()).isEqualTo(200);
      assertThat(clinical.body()).contains("Walgreens #4521");
    } finally {
      reply.set("echo");
    }
  }

  @Test
  void nonBaaEndpointsAndSpentBudgetsAreRefused() {
    configure(false, 1_000_000);
    try {
      HttpResponse<String> r = ask("Summary?", false);
      assertThat(r.statusCode()).isEqualTo(403);
      assertThat(r.body()).contains("model_not_allowed");
      // not the host this time: the BAA, which the row names (it named neither)
      assertThat(lastExchangeDetails("model_not_allowed")).contains("not covered by a BAA")
          .doesNotContain("CARECONTEXT_MODEL_HOSTS");
    } finally {
      configure(true, 1_000_000);
    }
    configure(true, 1);
    try {
      // a budget that no request's prompt and answer cap fit in: refused before anything leaves
      prompts.clear();
      HttpResponse<String> spent = ask("First question", false);
      assertThat(spent.statusCode()).isEqualTo(429);
      assertThat(spent.body()).contains("token_budget_exhausted", "maxOutputTokens");
      assertThat(spent.headers().firstValue("Retry-After")).isPresent();
      assertThat(prompts).isEmpty();
    } finally {
      configure(true, 1_000_000);
    }
    String metrics = app.call("GET", "/metrics", app.adminKey(), null).body();
    assertThat(metrics).contains("carecontext_requests_total{action=\"chat\",decision=\"refused\","
        + "reason=\"model_not_allowed\",tenant=\"chatty\"}")
        .contains("carecontext_requests_total{action=\"chat\",decision=\"refused\","
        + "reason=\"token_budget_exhausted\",tenant=\"chatty\"}")
        .contains("carecontext_requests_total{action=\"chat\",decision=\"allowed\",reason=\"allowed\","
        + "tenant=\"chatty\"}");
  }

  /**
   * A tenant may let de-identified prompts go to an endpoint without a BAA
   * ({@code llm.allowDeidentifiedToNonBaa}). Under the default date policy (shift) the prompt carried
   * whole dates, moved by the patient's offset: not de-identified as Safe Harbor has it (every date
   * element but the year removed), and a vendor that knew one true date of the patient had them all. Such
   * a prompt now carries years, in the dry run and in what leaves; a BAA-covered endpoint still gets the
   * tenant's policy.
   */
  @Test
  void aPromptForAnEndpointWithoutABaaCarriesYearsNotShiftedDates() {
    HttpResponse<String> r = app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"llm\":{"
        + "\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:" + model.getAddress().getPort()
        + "/v1\",\"model\":\"test-model\",\"baaCovered\":false}],\"allowDeidentifiedToNonBaa\":true,"
        + "\"dailyTokenBudgetPerKey\":1000000}}}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    try {
      String dry = promptOf(ask("What is the A1c trend?", true).body());
      assertThat(dry).containsPattern("\\[S\\d+\\] \\d{4}: Observation")
          .doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}");
      prompts.clear();
      HttpResponse<String> answered = ask("What is the A1c trend?", false);
      assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
      assertThat(prompts).hasSize(1);
      assertThat(prompts.get(0)).containsPattern("\\[S\\d+\\] \\d{4}: Observation")
          .doesNotContainPattern("\\d{4}-\\d{2}-\\d{2}");
    } finally {
      HttpResponse<String> back = app.call("PATCH", "/admin/tenants/chatty", app.adminKey(),
          "{\"settings\":{\"llm\":{\"allowDeidentifiedToNonBaa\":false}}}");
      assertThat(back.statusCode()).as(back.body()).isEqualTo(200);
      configure(true, 1_000_000);
    }
    // under a BAA the tenant's policy holds: whole dates, shifted
    assertThat(ask("What is the A1c trend?", true).body()).containsPattern("\\[S\\d+\\] \\d{4}-\\d{2}-\\d{2}: ");
  }

  /**
   * A key revoked while the model works on its question gets nothing of the answer: the answer was
   * re-identified and returned to a key the database no longer admitted (API.md revokes a key at once; a
   * model may take a minute). It is the read path's 404 for a key the database does not admit, and the
   * exchange's row says key_not_admitted, with the prompt that left and the answer that came back.
   */
  @Test
  void aKeyRevokedWhileTheModelAnswersGetsNothingOfTheAnswer() {
    String key = app.tenantWithKey("chatty", "dr-revoked", "[\"clinician\"]", "\"practitionerId\":\"" + practitioner
        + "\"");
    revokeOnCall.set(key.substring(4, 24)); // cck_<key id>_<secret>
    prompts.clear();
    HttpResponse<String> r = chat(key, "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(prompts).as("the model was asked").hasSize(1);
    assertThat(revokeOnCall.get()).as("and revoked the key before it answered").isNull();
    assertThat(r.statusCode()).as(r.body()).isEqualTo(404);
    assertThat(r.body()).contains("\"error\":\"patient_not_found\"").doesNotContain("Summary")
        .doesNotContain("glucose control discussed");
    String aud = app.tenantWithKey("chatty", "aud-revoked", "[\"auditor\"]", null);
    HttpResponse<String> rows = app.call("GET", "/v1/chatty/audit?principal=dr-revoked&action=chat", aud, null);
    assertThat(rows.statusCode()).as(rows.body()).isEqualTo(200);
    assertThat(rows.body()).contains("\"reason\":\"key_not_admitted\"", "\"decision\":\"denied\"");
  }

  /**
   * Requests made together cannot spend a budget more than once. The budget was read before the call
   * and charged after the answer, so two requests in flight both read an unspent budget and both were
   * answered; now the first charges its prompt's estimate and its answer cap before it calls, the second is
   * refused, and the charge settles to what the endpoint reported (50 + 10 tokens, one call).
   */
  @Test
  void requestsMadeTogetherCannotBothSpendTheLastOfABudget() throws Exception {
    String racer = app.tenantWithKey("chatty", "dr-race", "[\"clinician\"]",
        "\"practitionerId\":\"" + practitioner + "\"");
    long[] before = usage();
    // room for one request's prompt and its 20,000-token answer cap, not two
    configure(true, 30_000, 20_000);
    slowUntil = new java.util.concurrent.CountDownLatch(1);
    reply.set("slow");
    var pool = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      String body = "{\"question\":\"Summary?\",\"purposeOfUse\":\"TREAT\"}";
      var first = pool.submit(() -> chat(racer, body));
      var second = pool.submit(() -> chat(racer, body));
      // the model holds the one that reached it until the other has been answered (refused, as it should be)
      for (int i = 0; i < 600 && !first.isDone() && !second.isDone(); i++) {
        Thread.sleep(100);
      }
      slowUntil.countDown();
      List<Integer> statuses = java.util.stream.Stream.of(first.get(), second.get()).map(HttpResponse::statusCode)
          .sorted().toList();
      assertThat(statuses).isEqualTo(List.of(200, 429));
    } finally {
      slowUntil.countDown();
      pool.shutdownNow();
      reply.set("echo");
      configure(true, 1_000_000);
    }
    long[] after = usage();
    assertThat(new long[] {after[0] - before[0], after[1] - before[1], after[2] - before[2]})
        .containsExactly(50, 10, 1);
  }

  /**
   * A failed model exchange is audited with the prompt as it left (its hash the dry run's for the same
   * question), the endpoint and what went wrong there, and costs nothing; the endpoint's error, which
   * quotes the prompt, reaches neither the caller nor the row. The row held the user part of the
   * prompt alone, and said neither which endpoint failed nor how.
   */
  @Test
  void aFailedModelExchangeIsAuditedWithThePromptThatLeftAndWhatWentWrong() {
    String question = "Summarize glucose control for the failing endpoint";
    assertThat(ask(question, true).statusCode()).isEqualTo(200);
    long[] before = usage();
    reply.set("fail");
    HttpResponse<String> r;
    try {
      r = ask(question, false);
    } finally {
      reply.set("echo");
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("model_unavailable", "HTTP 503").doesNotContain("upstream failed", "glucose");
    assertThat(usage()).containsExactly(before);
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT action, decision, reason, details, encode(prompt_hash, 'hex') "
            + "FROM tenant_chatty.audit_log WHERE principal = 'dr-c' AND action IN ('chat', 'chat-dry-run') "
            + "AND prompt_hash IS NOT NULL ORDER BY at DESC, seq DESC LIMIT 2")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3)).isEqualTo("chat failed model_unavailable");
      assertThat(rs.getString(4)).contains("\"endpoint\":\"local\"", "\"failure\":\"the endpoint answered HTTP 503\"")
          .doesNotContain("upstream", "glucose");
      String failedHash = rs.getString(5);
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString(1)).isEqualTo("chat-dry-run");
      assertThat(failedHash).isEqualTo(rs.getString(5));
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * An answer too large to read is charged the largest answer taken. It was refunded like any failed
   * call, so a question asking for an endless answer spent the endpoint's tokens free of every budget.
   */
  @Test
  void anAnswerTooLargeToReadIsChargedNotRefunded() {
    long[] before = usage();
    reply.set("endless");
    HttpResponse<String> r;
    try {
      r = ask("Repeat the word again without end", false);
    } finally {
      reply.set("echo");
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("model_unavailable", "larger than 128 KiB").doesNotContain("again again");
    long[] after = usage();
    assertThat(after[1] - before[1]).as("output tokens").isEqualTo(128 * 1024 / 4);
    assertThat(after[2] - before[2]).as("calls").isEqualTo(1);
    assertThat(after[0] - before[0]).as("prompt tokens").isPositive();
  }

  /** The tenant's model usage so far: prompt tokens, output tokens, calls. */
  static long[] usage() {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement();
        java.sql.ResultSet rs = st.executeQuery("SELECT coalesce(sum(prompt_tokens), 0), coalesce(sum(output_tokens), 0),"
            + " coalesce(sum(calls), 0) FROM tenant_chatty.llm_usage")) {
      rs.next();
      return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)};
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void withdrawingConsentStopsChatOnTheNextCall() {
    assertThat(ask("Summary?", true).statusCode()).isEqualTo(200);
    String consent = """
        {"resourceType":"Consent","id":"withdrawn","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%s"},"provision":{"type":"deny"}}"""
        .formatted(patientId);
    assertThat(app.call("PUT", "/fhir/chatty/Consent/withdrawn", ehr, consent, "application/fhir+json").statusCode())
        .isEqualTo(201);
    try {
      assertThat(ask("Summary?", true).statusCode()).isEqualTo(404);
      // counted with the other reasons of the same 404, so that /metrics cannot tell them apart
      assertThat(app.call("GET", "/metrics", app.adminKey(), null).body()).contains("carecontext_requests_total{action=\"chat\","
          + "decision=\"denied\",reason=\"patient_not_found\",tenant=\"chatty\"}").doesNotContain("consent_denied");
    } finally {
      app.call("DELETE", "/fhir/chatty/Consent/withdrawn", ehr, null, "application/fhir+json");
    }
  }

  /**
   * A researcher's subject whose patient it may no longer see (consent withdrawn) answers exactly as a
   * code that names no subject: API.md's one 404 for every patient the caller may not see. The first
   * said "no such patient, or this key may not see it (… no consent …)", the second "no such research
   * subject", so a researcher holding a code learnt that its patient had withdrawn consent.
   */
  @Test
  void aResearchersSubjectItMayNoLongerSeeAnswersLikeAnUnknownSubject() {
    String researcher = app.tenantWithKey("chatty", "res-withdrawn", "[\"researcher\"]", null);
    String body = "{\"question\":\"Summarize glucose control\",\"purposeOfUse\":\"HRESCH\",\"dryRun\":true}";
    assertThat(researchChat(researcher, body).statusCode()).isEqualTo(200);
    String consent = """
        {"resourceType":"Consent","id":"withdrawn-research","status":"active",
         "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
         "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%s"},"provision":{"type":"deny"}}"""
        .formatted(patientId);
    assertThat(app.call("PUT", "/fhir/chatty/Consent/withdrawn-research", ehr, consent, "application/fhir+json")
        .statusCode()).isEqualTo(201);
    try {
      HttpResponse<String> withdrawn = researchChat(researcher, body);
      HttpResponse<String> unissued = app.call("POST", "/v1/chatty/patients/R0123456789ABCDE/chat", researcher, body);
      assertThat(withdrawn.statusCode()).isEqualTo(404);
      assertThat(unissued.statusCode()).isEqualTo(404);
      assertThat(withdrawn.body()).isEqualTo(unissued.body());
    } finally {
      app.call("DELETE", "/fhir/chatty/Consent/withdrawn-research", ehr, null, "application/fhir+json");
    }
    // the trail keeps the true reason
    assertThat(app.call("GET", "/v1/chatty/audit?principal=res-withdrawn&action=chat-dry-run",
        app.tenantWithKey("chatty", "aud-withdrawn", "[\"auditor\"]", null), null).body())
        .contains("\"reason\":\"consent_denied\"").contains("\"reason\":\"research_subject_unknown\"");
  }

  @Test
  void noModelConfiguredAnswers503() {
    String other = app.tenantWithKey("nomodel", "dr-n", "[\"clinician\"]", "\"practitionerId\":\"x\"");
    app.call("PATCH", "/admin/tenants/nomodel", app.adminKey(), "{\"settings\":{\"consentMode\":\"opt-out\",\"careRelationship\":false}}");
    app.call("PUT", "/fhir/nomodel/Patient/pp", app.tenantWithKey("nomodel", "f", "[\"ehr-integration\"]", null),
        "{\"resourceType\":\"Patient\",\"id\":\"pp\",\"gender\":\"male\"}", "application/fhir+json");
    // embedded: a question about a patient without a searchable record is answered without any model
    app.bean(EmbeddingWorker.class).drain(TenantId.of("nomodel"));
    HttpResponse<String> r = app.call("POST", "/v1/nomodel/patients/pp/chat", other,
        "{\"question\":\"hi\",\"purposeOfUse\":\"TREAT\"}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.body()).contains("no_model_configured");
    // whom to ask and what works meanwhile: a clinician's app was told to edit a setting only an admin can
    assertThat(r.body()).contains("a tenant admin adds one to its settings.llm.endpoints").contains("dryRun");
  }

  // Before: "influenza vaccine and blood pressure" was embedded as one; the vaccine matched it best
  // (0.57) and the blood pressure panel (0.21) fell under half of that, out of the prompt, so the model
  // would answer that no blood pressure was recorded. Each topic of the question now has its own cut-off.
  @Test
  void aTwoTopicQuestionKeepsTheSourcesOfBothTopics() {
    String bundle = """
        {"resourceType":"Bundle","type":"transaction","entry":[
         {"resource":{"resourceType":"Patient","id":"pt-topics","gender":"female","birthDate":"1958-07-22"},
          "request":{"method":"PUT","url":"Patient/pt-topics"}},
         {"resource":{"resourceType":"Consent","id":"c-topics","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"system":"http://loinc.org","code":"59284-0"}]}],
           "patient":{"reference":"Patient/pt-topics"},"provision":{"type":"permit"}},
          "request":{"method":"PUT","url":"Consent/c-topics"}},
         {"resource":{"resourceType":"Encounter","id":"e-topics","status":"in-progress","class":{"code":"AMB"},
           "subject":{"reference":"Patient/pt-topics"},"period":{"start":"%s"},
           "participant":[{"individual":{"reference":"Practitioner/%s"}}]},
          "request":{"method":"PUT","url":"Encounter/e-topics"}},
         {"resource":{"resourceType":"Immunization","id":"flu-topics","status":"completed",
           "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"158",
             "display":"influenza, injectable, quadrivalent"}]},
           "patient":{"reference":"Patient/pt-topics"},"occurrenceDateTime":"2023-10-12"},
          "request":{"method":"PUT","url":"Immunization/flu-topics"}},
         {"resource":{"resourceType":"Observation","id":"bp-topics","status":"final",
           "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}]},
           "subject":{"reference":"Patient/pt-topics"},"effectiveDateTime":"2024-03-05T22:40:00-07:00",
           "component":[
            {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
             "valueQuantity":{"value":168,"unit":"mm[Hg]"},"interpretation":[{"coding":[{"code":"H"}]}]},
            {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},
             "valueQuantity":{"value":94,"unit":"mm[Hg]"}}]},
          "request":{"method":"PUT","url":"Observation/bp-topics"}}]}""".formatted(
        java.time.LocalDate.now(java.time.ZoneOffset.UTC), practitioner);
    assertThat(app.call("POST", "/fhir/chatty", ehr, bundle, "application/fhir+json").statusCode()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("chatty"));
    HttpResponse<String> r = app.call("POST", "/v1/chatty/patients/pt-topics/chat", clinician,
        "{\"question\":\"influenza vaccine and blood pressure\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("\"Immunization/flu-topics\"").contains("\"Observation/bp-topics\"")
        .contains("Systolic blood pressure");
  }

  /** The newest audit row of {@code principal} with a prompt: action, decision, reason, details, prompt and response hashes. */
  static String[] lastExchange(String principal) {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.PreparedStatement ps = c.prepareStatement("SELECT action, decision, reason, details::text, "
            + "encode(prompt_hash, 'hex'), encode(response_hash, 'hex'), prompt_enc IS NOT NULL FROM tenant_chatty.audit_log "
            + "WHERE principal = ? AND prompt_hash IS NOT NULL ORDER BY at DESC, seq DESC LIMIT 1")) {
      ps.setString(1, principal);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).as("an audit row of the exchange").isTrue();
        return new String[] {rs.getString(1) + " " + rs.getString(2) + " " + rs.getString(3), rs.getString(4),
            rs.getString(5), rs.getString(6), String.valueOf(rs.getBoolean(7))};
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The newest audit row of {@code principal}: action, decision and reason. */
  static String lastDecision(String principal) {
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.PreparedStatement ps = c.prepareStatement("SELECT action || ' ' || decision || ' ' || reason "
            + "FROM tenant_chatty.audit_log WHERE principal = ? ORDER BY at DESC, seq DESC LIMIT 1")) {
      ps.setString(1, principal);
      try (java.sql.ResultSet rs = ps.executeQuery()) {
        assertThat(rs.next()).isTrue();
        return rs.getString(1);
      }
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  static String freshClinician(String principal) {
    return app.tenantWithKey("chatty", principal, "[\"clinician\"]", "\"practitionerId\":\"" + practitioner + "\"");
  }

  static HttpResponse<String> askAs(String key, String question) {
    return chat(key, "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\"}");
  }

  /**
   * The request asks for at most the endpoint's maxOutputTokens, and the key's budget is charged that cap
   * with the prompt's estimate before the call: a budget with room for one such request after a first
   * answered one is refused the second, with a message that says why, Retry-After and an audited denial.
   * No answer was capped before, and only the prompt was charged ahead, so the last request of a day could
   * have the model write as much as it would.
   */
  @Test
  void theAnswerCapIsAskedForAndReservedWithThePrompt() {
    String key = freshClinician("dr-cap");
    String question = "Summarize glucose control for the budget";
    HttpResponse<String> answered = askAs(key, question);
    assertThat(answered.statusCode()).as(answered.body()).isEqualTo(200);
    Matcher shown = Pattern.compile("\"prompt\":\"((?:[^\"\\\\]++|\\\\.)*+)\"").matcher(
        chat(key, "{\"question\":\"" + question + "\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}").body());
    assertThat(shown.find()).isTrue();
    String dryPrompt = shown.group(1);
    // the estimate of the prompt as it leaves (system + "\n" + user; the dry run shows them joined by a blank line)
    long estimate = (unescape(dryPrompt).length() - 1 + 3) / 4;
    int cap = 700;
    // used so far today: one answered call (50 + 10); room for one more request, not two (30 tokens either
    // way for how the test reads the estimate)
    configure(true, 60 + estimate + cap + 30, cap);
    try {
      prompts.clear();
      HttpResponse<String> first = askAs(key, question);
      assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
      assertThat(prompts).hasSize(1);
      assertThat(prompts.get(0)).containsPattern("\"max_tokens\"\\s*:\\s*700\\b");
      long[] before = usage();
      HttpResponse<String> second = askAs(key, question);
      assertThat(second.statusCode()).as(second.body()).isEqualTo(429);
      assertThat(second.body()).contains("\"error\":\"token_budget_exhausted\"", "maxOutputTokens", "midnight UTC")
          .doesNotContain("glucose");
      assertThat(second.headers().firstValue("Retry-After")).isPresent();
      assertThat(prompts).hasSize(1);
      assertThat(usage()).containsExactly(before);
      assertThat(lastDecision("dr-cap")).isEqualTo("chat denied token_budget_exhausted");
    } finally {
      configure(true, 1_000_000);
    }
  }

  /** A JSON string's contents as the text it stands for. */
  private static String unescape(String json) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < json.length(); i++) {
      char c = json.charAt(i);
      if (c != '\\') {
        out.append(c);
        continue;
      }
      char e = json.charAt(++i);
      switch (e) {
        case 'n' -> out.append('\n');
        case 't' -> out.append('\t');
        case 'r' -> out.append('\r');
        case 'b' -> out.append('\b');
        case 'f' -> out.append('\f');
        case 'u' -> {
          out.append((char) Integer.parseInt(json.substring(i + 1, i + 5), 16));
          i += 4;
        }
        default -> out.append(e);
      }
    }
    return out.toString();
  }

  /** maxOutputTokens is checked when set: a whole number from 1 to 32,768, named in a 400. */
  @Test
  void anAnswerCapOutOfRangeIsRefusedWhenSet() {
    for (String bad : new String[] {"0", "32769", "1.5", "\"512\""}) {
      HttpResponse<String> r = app.call("PATCH", "/admin/tenants/chatty", app.adminKey(), "{\"settings\":{\"llm\":{"
          + "\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:1/v1\",\"model\":\"m\","
          + "\"maxOutputTokens\":" + bad + "}]}}}");
      assertThat(r.statusCode()).as(bad).isEqualTo(400);
      assertThat(r.body()).as(bad).contains("llm.endpoints[0].maxOutputTokens must be a whole number from 1 to 32768");
    }
  }

  /**
   * An endpoint that answers 429 with a Retry-After longer than the request may wait is not waited for:
   * the caller gets 503 model_busy at once, with that Retry-After and a message saying to come back then,
   * never the endpoint's error (which quotes the prompt); the call costs nothing and is audited with its
   * reason, the prompt that left and the endpoint. The endpoint's Retry-After was ignored: the request
   * waited LangChain4j's own back-off, asked again, and answered 502 "retry later".
   */
  @Test
  void aRetryAfterTooLongToWaitIsPassedToTheCaller() {
    String key = freshClinician("dr-busy");
    long[] before = usage();
    reply.set("busy");
    prompts.clear();
    HttpResponse<String> r;
    long start = System.nanoTime();
    try {
      r = askAs(key, "Summarize glucose control while busy");
    } finally {
      reply.set("echo");
    }
    assertThat((System.nanoTime() - start) / 1_000_000).as("no wait").isLessThan(10_000);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(503);
    assertThat(r.headers().firstValue("Retry-After")).hasValue("120");
    assertThat(r.body()).startsWith("{\"error\":\"model_busy\",\"message\":\"")
        .contains("HTTP 429", "120 s", "Retry-After").doesNotContain("rate limited:", "glucose");
    assertThat(prompts).as("asked once").hasSize(1);
    assertThat(usage()).containsExactly(before);
    String[] row = lastExchange("dr-busy");
    assertThat(row[0]).isEqualTo("chat failed model_busy");
    assertThat(row[1]).contains("\"endpoint\":\"local\"", "asked to be called again in 120 s")
        .doesNotContain("glucose", "rate limited:");
    assertThat(row[4]).isEqualTo("true");
    assertThat(app.call("GET", "/metrics", app.adminKey(), null).body()).contains("carecontext_requests_total{action=\"chat\","
        + "decision=\"refused\",reason=\"model_busy\",tenant=\"chatty\"}");
  }

  /** A Retry-After that fits in the call's deadline is waited, and the endpoint asked again. */
  @Test
  void aShortRetryAfterIsWaitedAndTheAnswerReturned() {
    busyOnce.set(0);
    reply.set("busy-once");
    prompts.clear();
    HttpResponse<String> r;
    long start = System.nanoTime();
    try {
      r = ask("Summarize glucose control after a wait", false);
    } finally {
      reply.set("echo");
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(prompts).hasSize(2);
    assertThat((System.nanoTime() - start) / 1_000_000).as("waited the second asked for").isGreaterThanOrEqualTo(1_000);
  }

  /**
   * An HTTP 200 whose body is no chat completion is the endpoint's failure (502, saying so), asked once
   * though a retry is allowed, charged its prompt and its answer cap, and audited with the prompt, the
   * endpoint and what went wrong. It was refunded and asked again: each attempt spent the endpoint's
   * tokens free of every budget.
   */
  @Test
  void aBrokenAnswerIsChargedNotRetriedAndAudited() {
    String key = freshClinician("dr-broken");
    configure(true, 1_000_000, 500);
    long[] before = usage();
    reply.set("broken");
    prompts.clear();
    HttpResponse<String> r;
    try {
      r = askAs(key, "Summarize glucose control from a broken endpoint");
    } finally {
      reply.set("echo");
      configure(true, 1_000_000);
    }
    assertThat(r.statusCode()).as(r.body()).isEqualTo(502);
    assertThat(r.body()).contains("\"error\":\"model_unavailable\"", "not a chat completion")
        .doesNotContain("Summary of", "glucose");
    assertThat(prompts).as("asked once").hasSize(1);
    long[] after = usage();
    assertThat(after[1] - before[1]).as("output tokens: the cap").isEqualTo(500);
    assertThat(after[0] - before[0]).as("prompt tokens").isPositive();
    assertThat(after[2] - before[2]).as("calls").isEqualTo(1);
    String[] row = lastExchange("dr-broken");
    assertThat(row[0]).isEqualTo("chat failed model_unavailable");
    assertThat(row[1]).contains("\"endpoint\":\"local\"", "\"failure\":\"its answer was not a chat completion\"");
    assertThat(row[3]).as("no response was read").isNull();
  }

  /**
   * An answer whose identifier scan fails is returned to no one and audited like every other end of an
   * exchange: the prompt that left and the answer that came back (encrypted, hashed), the endpoint, the
   * tokens and what failed, never the scan's message. The row held the reason alone.
   */
  @Test
  void anOutputScanThatFailsIsAuditedWithThePromptTheEndpointAndTheAnswer() {
    TenantId t = TenantId.of("chatty");
    var tx = app.bean(io.carecontext.migrations.TenantTransactions.class);
    io.carecontext.retrieval.chat.ChatService failing = new io.carecontext.retrieval.chat.ChatService(
        app.bean(io.carecontext.retrieval.ContextService.class), new io.carecontext.retrieval.chat.LlmGateway(tx),
        app.bean(io.carecontext.retrieval.audit.AuditLog.class), tx, app.bean(io.carecontext.migrations.TenantKeys.class),
        (answer, known, deidentified) -> {
          throw new IllegalStateException("scan failed on " + answer);
        });
    var parsed = io.carecontext.services.auth.ApiKeySecrets.parse(freshClinician("dr-scan")).orElseThrow();
    var who = new io.carecontext.retrieval.Requester("dr-scan", parsed.keyId(), List.of("clinician"), practitioner,
        io.carecontext.services.auth.ApiKeySecrets.secretHashHex(parsed.secret()));
    Map<String, Object> settings = app.bean(io.carecontext.services.tenancy.TenantDirectory.class).settings(t);
    var embeddings = app.bean(io.carecontext.services.tenancy.TenantEmbeddings.class);
    String question = "Summarize glucose control for the scan";
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.chat(t, settings, who, patientId, question,
            () -> embeddings.embedQuery(t, settings, question), embeddings.modelId(settings), null, "TREAT", null,
            false, false))
        .isInstanceOfSatisfying(io.carecontext.retrieval.chat.ChatRefused.class, refused -> {
          assertThat(refused.status()).isEqualTo(500);
          assertThat(refused.code()).isEqualTo("output_filter_failed");
          assertThat(refused.getMessage()).doesNotContain("Summary", "glucose");
        });
    String[] row = lastExchange("dr-scan");
    assertThat(row[0]).isEqualTo("chat failed output_filter_failed");
    assertThat(row[1]).contains("\"endpoint\":\"local\"", "\"promptTokens\":50", "\"outputTokens\":10",
        "\"failure\":\"the output identifier scan failed (IllegalStateException)\"").doesNotContain("Summary");
    assertThat(row[2]).as("prompt hash").isNotNull();
    assertThat(row[3]).as("response hash").isNotNull();
  }

  /**
   * A chat dry run shows nothing of records the caller may not read: two patients alike but for a
   * RelatedPerson labelled SDV (which a care coordinator reads only with explicit consent), whose name the
   * question guesses, get byte-identical prompts. The hidden RelatedPerson's name was one of the identifiers
   * the question was de-identified with, so the guess became a token for one patient and stayed as typed for
   * the other. The same name in a RelatedPerson the coordinator may read is still de-identified.
   */
  @Test
  void aDryRunIsTheSameWhetherOrNotAHiddenRecordNamesTheGuess() {
    String feed = app.tenantWithKey("twins", "feed", "[\"ehr-integration\"]", null);
    String coordinator = app.tenantWithKey("twins", "coord", "[\"care-coordinator\"]", null);
    HttpResponse<String> llm = app.call("PATCH", "/admin/tenants/twins", app.adminKey(), "{\"settings\":{\"llm\":{"
        + "\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:" + model.getAddress().getPort()
        + "/v1\",\"model\":\"test-model\",\"baaCovered\":true}]}}}");
    assertThat(llm.statusCode()).as(llm.body()).isEqualTo(200);
    StringBuilder entries = new StringBuilder();
    for (String p : List.of("tw-a", "tw-b", "tw-c")) {
      entries.append("""
          {"resource":{"resourceType":"Patient","id":"%1$s","gender":"female","name":[{"family":"Okonkwo","given":["Ada"]}]},
           "request":{"method":"PUT","url":"Patient/%1$s"}},
          {"resource":{"resourceType":"Consent","id":"cs-%1$s","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-%1$s"}},
          {"resource":{"resourceType":"Condition","id":"cond-%1$s","subject":{"reference":"Patient/%1$s"},
             "code":{"text":"Type 2 diabetes mellitus"}},
           "request":{"method":"PUT","url":"Condition/cond-%1$s"}},""".formatted(p));
    }
    // tw-b: a RelatedPerson labelled SDV; tw-c: the same name unlabelled
    entries.append("""
        {"resource":{"resourceType":"RelatedPerson","id":"rp-b","patient":{"reference":"Patient/tw-b"},
           "meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"SDV"}]},
           "name":[{"family":"Quillfeather","given":["Xanthippe"]}]},
         "request":{"method":"PUT","url":"RelatedPerson/rp-b"}},
        {"resource":{"resourceType":"RelatedPerson","id":"rp-c","patient":{"reference":"Patient/tw-c"},
           "name":[{"family":"Quillfeather","given":["Xanthippe"]}]},
         "request":{"method":"PUT","url":"RelatedPerson/rp-c"}}""");
    HttpResponse<String> r = app.call("POST", "/fhir/twins", feed,
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("twins"));
    Map<String, String> shown = new java.util.LinkedHashMap<>();
    for (String p : List.of("tw-a", "tw-b", "tw-c")) {
      HttpResponse<String> dry = app.call("POST", "/v1/twins/patients/" + p + "/chat", coordinator,
          "{\"question\":\"Is Xanthippe coming today?\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}");
      assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
      Matcher prompt = Pattern.compile("\"prompt\":\"((?:[^\"\\\\]++|\\\\.)*+)\"").matcher(dry.body());
      assertThat(prompt.find()).as(dry.body()).isTrue();
      shown.put(p, prompt.group(1));
    }
    assertThat(shown.get("tw-a")).contains("Question: Is Xanthippe coming today?");
    assertThat(shown.get("tw-b")).isEqualTo(shown.get("tw-a"));
    // the record's own (readable) relative is still known: its name leaves as a token
    assertThat(shown.get("tw-c")).doesNotContain("Xanthippe").contains("Question: Is [");
  }

  /**
   * A dry run shows nothing of records the role's categories or resource types leave out: a care coordinator
   * whose policy reads demographics but not {@code clinical}, and one whose types leave out FamilyMemberHistory,
   * get byte-identical prompts for two patients alike but for a family history (which neither may read) naming
   * the guess. The identifiers were judged by labels and consent alone, so the relative of a family history the
   * role may not read turned the guess into a token, telling that such a record exists. A RelatedPerson of the
   * same name, which both may read (demographic, and of a type they list), still makes it a token, and so does
   * the family history for the coordinator's default policy, which reads it.
   */
  @Test
  void aDryRunIsTheSameWhetherOrNotARecordOfACategoryOrTypeTheRoleMayNotReadNamesTheGuess() {
    String feed = app.tenantWithKey("kin", "feed", "[\"ehr-integration\"]", null);
    String coordinator = app.tenantWithKey("kin", "coord", "[\"care-coordinator\"]", null);
    HttpResponse<String> set = app.call("PATCH", "/admin/tenants/kin", app.adminKey(), "{\"settings\":{\"llm\":{"
        + "\"endpoints\":[{\"name\":\"local\",\"baseUrl\":\"http://127.0.0.1:" + model.getAddress().getPort()
        + "/v1\",\"model\":\"test-model\",\"baaCovered\":true}]}}}");
    assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
    StringBuilder entries = new StringBuilder();
    for (String p : List.of("kin-a", "kin-b", "kin-c")) {
      entries.append("""
          {"resource":{"resourceType":"Patient","id":"%1$s","gender":"female","name":[{"family":"Okonkwo","given":["Ada"]}]},
           "request":{"method":"PUT","url":"Patient/%1$s"}},
          {"resource":{"resourceType":"Consent","id":"cs-%1$s","status":"active",
             "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
             "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},"provision":{"type":"permit"}},
           "request":{"method":"PUT","url":"Consent/cs-%1$s"}},
          {"resource":{"resourceType":"Condition","id":"cond-%1$s","subject":{"reference":"Patient/%1$s"},
             "code":{"text":"Type 2 diabetes mellitus"}},
           "request":{"method":"PUT","url":"Condition/cond-%1$s"}},""".formatted(p));
    }
    // kin-b: a family history naming the relative (clinical, unlabelled); kin-c: a RelatedPerson of that name
    entries.append("""
        {"resource":{"resourceType":"FamilyMemberHistory","id":"fmh-b","status":"completed",
           "patient":{"reference":"Patient/kin-b"},"name":"Xanthippe Quillfeather",
           "relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"SIS"}]},
           "condition":[{"code":{"text":"Breast cancer"}}]},
         "request":{"method":"PUT","url":"FamilyMemberHistory/fmh-b"}},
        {"resource":{"resourceType":"RelatedPerson","id":"rp-kin-c","patient":{"reference":"Patient/kin-c"},
           "name":[{"family":"Quillfeather","given":["Xanthippe"]}]},
         "request":{"method":"PUT","url":"RelatedPerson/rp-kin-c"}}""");
    HttpResponse<String> r = app.call("POST", "/fhir/kin", feed,
        "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" + entries + "]}", "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("kin"));
    // the coordinator's policy as a tenant admin may narrow it: without clinical; with types that leave out
    // FamilyMemberHistory; as the defaults have it (it reads family histories)
    Map<String, String> policies = new java.util.LinkedHashMap<>();
    policies.put("no clinical", "{\"categories\":[\"demographic\",\"administrative\"]}");
    policies.put("no family histories", "{\"categories\":null,\"resourceTypes\":[\"Patient\",\"Condition\","
        + "\"RelatedPerson\"]}");
    policies.put("defaults", "{\"categories\":null,\"resourceTypes\":null}");
    for (var policy : policies.entrySet()) {
      String role = policy.getKey();
      HttpResponse<String> narrowed = app.call("PATCH", "/admin/tenants/kin", app.adminKey(),
          "{\"settings\":{\"rolePolicies\":{\"care-coordinator\":" + policy.getValue() + "}}}");
      assertThat(narrowed.statusCode()).as(narrowed.body()).isEqualTo(200);
      Map<String, String> shown = new java.util.LinkedHashMap<>();
      for (String p : List.of("kin-a", "kin-b", "kin-c")) {
        HttpResponse<String> dry = app.call("POST", "/v1/kin/patients/" + p + "/chat", coordinator,
            "{\"question\":\"Is Xanthippe coming today?\",\"purposeOfUse\":\"TREAT\",\"dryRun\":true}");
        assertThat(dry.statusCode()).as(role + " " + dry.body()).isEqualTo(200);
        Matcher prompt = Pattern.compile("\"prompt\":\"((?:[^\"\\\\]++|\\\\.)*+)\"").matcher(dry.body());
        assertThat(prompt.find()).as(dry.body()).isTrue();
        shown.put(p, prompt.group(1));
      }
      assertThat(shown.get("kin-a")).as(role).contains("Question: Is Xanthippe coming today?");
      if (role.equals("defaults")) {
        // a role that reads the family history knows its relative
        assertThat(shown.get("kin-b")).as(role).doesNotContain("Xanthippe").contains("Question: Is [");
      } else {
        assertThat(shown.get("kin-b")).as(role).isEqualTo(shown.get("kin-a"));
      }
      assertThat(shown.get("kin-c")).as(role).doesNotContain("Xanthippe").contains("Question: Is [");
    }
  }

  /** A ChatService over the application's own beans, with {@code scan} as its output scan. */
  static io.carecontext.retrieval.chat.ChatService service(io.carecontext.retrieval.chat.ChatService.OutputFilter scan) {
    var tx = app.bean(io.carecontext.migrations.TenantTransactions.class);
    return new io.carecontext.retrieval.chat.ChatService(app.bean(io.carecontext.retrieval.ContextService.class),
        new io.carecontext.retrieval.chat.LlmGateway(tx), app.bean(io.carecontext.retrieval.audit.AuditLog.class), tx,
        app.bean(io.carecontext.migrations.TenantKeys.class), scan);
  }

  /** A clinician of the chatty tenant as the service sees it (a fresh key named {@code principal}). */
  static io.carecontext.retrieval.Requester requester(String principal) {
    var parsed = io.carecontext.services.auth.ApiKeySecrets.parse(freshClinician(principal)).orElseThrow();
    return new io.carecontext.retrieval.Requester(principal, parsed.keyId(), List.of("clinician"), practitioner,
        io.carecontext.services.auth.ApiKeySecrets.secretHashHex(parsed.secret()));
  }

  /**
   * An Error from the output scan (a StackOverflowError from a pattern over a hostile answer) still leaves the
   * exchange's row, with the prompt that left, the answer, and the scan's failure by its class; the caller gets
   * a 500 output_filter_failed with nothing of the answer. The scan caught RuntimeException alone: an Error
   * skipped the row, and a prompt that had gone to a model left no trail.
   */
  @Test
  void anErrorFromTheOutputScanStillLeavesTheExchangesRow() {
    TenantId t = TenantId.of("chatty");
    var failing = service((answer, known, deidentified) -> {
      throw new StackOverflowError("overflowed on " + answer);
    });
    var who = requester("dr-overflow");
    Map<String, Object> settings = app.bean(io.carecontext.services.tenancy.TenantDirectory.class).settings(t);
    var embeddings = app.bean(io.carecontext.services.tenancy.TenantEmbeddings.class);
    String question = "Summarize glucose control for the overflow";
    prompts.clear();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.chat(t, settings, who, patientId, question,
            () -> embeddings.embedQuery(t, settings, question), embeddings.modelId(settings), null, "TREAT", null,
            false, false))
        .isInstanceOfSatisfying(io.carecontext.retrieval.chat.ChatRefused.class, refused -> {
          assertThat(refused.status()).isEqualTo(500);
          assertThat(refused.code()).isEqualTo("output_filter_failed");
          assertThat(refused.getMessage()).doesNotContain("Summary", "glucose", "overflow");
        });
    assertThat(prompts).hasSize(1);
    String[] row = lastExchange("dr-overflow");
    assertThat(row[0]).isEqualTo("chat failed output_filter_failed");
    assertThat(row[1]).contains("\"endpoint\":\"local\"", "\"promptTokens\":50", "\"outputTokens\":10",
        "\"failure\":\"the output identifier scan failed (StackOverflowError)\"").doesNotContain("Summary");
    assertThat(row[2]).as("prompt hash").isNotNull();
    assertThat(row[3]).as("response hash").isNotNull();
  }


  /**
   * When the failed row of an exchange cannot be written either (the trail refuses it), one line says so: the
   * tenant, the action, the row's reason and the classes of both failures, never a message or a trace, which
   * can quote the answer. The failure was swallowed without a word: an exchange whose prompt left had no row,
   * and nothing told an operator.
   */
  @Test
  void aFailedRowThatCannotBeWrittenIsLoggedWithoutTheAnswer() throws Exception {
    TenantId t = TenantId.of("chatty");
    // after the answer came back (the output scan fails) and before (the model call itself fails)
    assertUnrecordedFailureLogged(t, service((answer, known, deidentified) -> {
      throw new IllegalStateException("scan failed on " + answer);
    }), "output_filter_failed");
    assertUnrecordedFailureLogged(t, io.carecontext.retrieval.chat.ChatServices.withApiKey(
        app.bean(io.carecontext.retrieval.ContextService.class), app.bean(io.carecontext.retrieval.audit.AuditLog.class),
        app.bean(io.carecontext.migrations.TenantTransactions.class), app.bean(io.carecontext.migrations.TenantKeys.class),
        prompt -> {
          throw new IllegalStateException("scan failed on " + prompt.user());
        }), "model_unavailable");
  }

  private void assertUnrecordedFailureLogged(TenantId t, io.carecontext.retrieval.chat.ChatService failing,
                                             String reason) throws Exception {
    var who = requester("dr-unrecorded-" + reason);
    Map<String, Object> settings = app.bean(io.carecontext.services.tenancy.TenantDirectory.class).settings(t);
    var embeddings = app.bean(io.carecontext.services.tenancy.TenantEmbeddings.class);
    String question = "Summarize glucose control for the unrecorded";
    // the trail refuses this principal's failed rows, and only those
    try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
        java.sql.Statement st = c.createStatement()) {
      st.execute("""
          CREATE FUNCTION tenant_chatty.refuse_unrecorded() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN RAISE EXCEPTION 'refused a row quoting %', NEW.details; END $$;
          CREATE TRIGGER refuse_unrecorded BEFORE INSERT ON tenant_chatty.audit_log FOR EACH ROW
            WHEN (NEW.principal LIKE 'dr-unrecorded-%' AND NEW.decision = 'failed')
            EXECUTE FUNCTION tenant_chatty.refuse_unrecorded()""");
    }
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
        io.carecontext.retrieval.chat.ChatService.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines =
        new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.chat(t, settings, who, patientId, question,
              () -> embeddings.embedQuery(t, settings, question), embeddings.modelId(settings), null, "TREAT", null,
              false, false))
          .as("the caller is told the refusal the row would have explained, not the write's failure")
          .isInstanceOfSatisfying(io.carecontext.retrieval.chat.ChatRefused.class, refused ->
              assertThat(refused.code()).isEqualTo(reason));
    } finally {
      log.detachAppender(lines);
      try (java.sql.Connection c = io.carecontext.migrations.testing.TestPostgres.superuser(app.database);
          java.sql.Statement st = c.createStatement()) {
        st.execute("DROP TRIGGER refuse_unrecorded ON tenant_chatty.audit_log; "
            + "DROP FUNCTION tenant_chatty.refuse_unrecorded()");
      }
    }
    assertThat(lines.list).hasSize(1);
    var line = lines.list.get(0);
    assertThat(line.getLevel()).isEqualTo(ch.qos.logback.classic.Level.ERROR);
    assertThat(line.getThrowableProxy()).as("no trace: its messages can quote the answer").isNull();
    assertThat(line.getFormattedMessage())
        .contains("tenant chatty", "action chat", "reason " + reason, "IllegalStateException",
            "AuditUnavailableException")
        .doesNotContain("Summary", "glucose", "scan failed on", "refused a row", "unrecorded");
  }

  /**
   * A model call that fails in a way the gateway does not name (a RuntimeException or an Error from its own
   * code) still leaves the exchange's failed row, with the prompt and the endpoint and the failure by its class,
   * never its message; the caller gets a 502 model_unavailable that says nothing of the prompt, and the charge is
   * settled. The chat caught ChatRefused alone: the failure went on to the framework (a bare 500) and a prompt
   * that may have left had no row.
   */
  @Test
  void aModelCallThatFailsUnexpectedlyStillLeavesTheExchangesRow() {
    TenantId t = TenantId.of("chatty");
    Map<String, Object> settings = app.bean(io.carecontext.services.tenancy.TenantDirectory.class).settings(t);
    var embeddings = app.bean(io.carecontext.services.tenancy.TenantEmbeddings.class);
    var tx = app.bean(io.carecontext.migrations.TenantTransactions.class);
    for (var failure : List.<java.util.function.Function<String, Throwable>>of(IllegalStateException::new,
        NoClassDefFoundError::new)) {
      String principal = "dr-unexpected-" + failure.apply("x").getClass().getSimpleName();
      var failing = io.carecontext.retrieval.chat.ChatServices.withApiKey(
          app.bean(io.carecontext.retrieval.ContextService.class), app.bean(io.carecontext.retrieval.audit.AuditLog.class),
          tx, app.bean(io.carecontext.migrations.TenantKeys.class), prompt -> {
            Throwable thrown = failure.apply("failed on " + prompt.user());
            if (thrown instanceof Error e) {
              throw e;
            }
            throw (RuntimeException) thrown;
          });
      var who = requester(principal);
      String question = "Summarize glucose control for the unexpected";
      long[] before = usage();
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> failing.chat(t, settings, who, patientId, question,
              () -> embeddings.embedQuery(t, settings, question), embeddings.modelId(settings), null, "TREAT", null,
              false, false))
          .isInstanceOfSatisfying(io.carecontext.retrieval.chat.ChatRefused.class, refused -> {
            assertThat(refused.status()).isEqualTo(502);
            assertThat(refused.code()).isEqualTo("model_unavailable");
            assertThat(refused.getMessage()).doesNotContain("glucose", "failed on", "Summarize");
          });
      String[] row = lastExchange(principal);
      assertThat(row[0]).isEqualTo("chat failed model_unavailable");
      assertThat(row[1]).contains("\"endpoint\":\"local\"", "\"failure\":\"the call failed unexpectedly ("
          + failure.apply("x").getClass().getSimpleName() + ")").doesNotContain("glucose", "failed on");
      assertThat(row[2]).as("prompt hash").isNotNull();
      assertThat(row[3]).as("no response was read").isNull();
      assertThat(usage()[2] - before[2]).as("the call is charged, as the gateway settles it").isEqualTo(1);
    }
  }

  /**
   * The endpoint is chosen once: the date policy applied is the one of the endpoint the prompt goes to. It was
   * chosen twice (once for the date policy, once to send), so settings that named a BAA-covered endpoint at the
   * first reading and one without a BAA at the second sent whole (shifted) dates to the endpoint without one.
   */
  @Test
  void theEndpointWhosePolicyShapedThePromptIsTheOneItGoesTo() {
    TenantId t = TenantId.of("chatty");
    String url = "http://127.0.0.1:" + model.getAddress().getPort() + "/v1";
    Map<String, Object> covered = Map.of("name", "covered", "baseUrl", url, "model", "covered-model", "baaCovered", true);
    Map<String, Object> uncovered = Map.of("name", "uncovered", "baseUrl", url, "model", "uncovered-model",
        "baaCovered", false);
    // settings that change between two readings (as a settings change between the two choices would)
    Map<String, Object> llm = new java.util.HashMap<>(Map.of("allowDeidentifiedToNonBaa", true,
        "dailyTokenBudgetPerKey", 1_000_000)) {
      private int readings;

      @Override
      public Object get(Object key) {
        return "endpoints".equals(key) ? List.of(readings++ == 0 ? covered : uncovered) : super.get(key);
      }
    };
    Map<String, Object> settings = new java.util.HashMap<>(
        app.bean(io.carecontext.services.tenancy.TenantDirectory.class).settings(t));
    settings.put("llm", llm);
    var embeddings = app.bean(io.carecontext.services.tenancy.TenantEmbeddings.class);
    String question = "What is the A1c trend?";
    prompts.clear();
    var outcome = service(io.carecontext.retrieval.deid.OutputPhiFilter::filter).chat(t, settings,
        requester("dr-once"), patientId, question, () -> embeddings.embedQuery(t, settings, question),
        embeddings.modelId(settings), null, "TREAT", null, false, false);
    assertThat(outcome.model()).isEqualTo("covered-model");
    assertThat(prompts).hasSize(1);
    assertThat(prompts.get(0)).contains("\"covered-model\"").doesNotContain("uncovered-model")
        .containsPattern("\\[S\\d+\\] \\d{4}-\\d{2}-\\d{2}: ");
    assertThat(lastExchange("dr-once")[1]).contains("\"endpoint\":\"covered\"");
  }

}
