package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.migrations.TenantId;
import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAgentComponent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventEntityComponent;
import org.hl7.fhir.r4.model.Coding;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The AuditEvent export checked against the IHE Basic Audit Log Patterns, line by line: every line parses with
 * HAPI's R4 parser in strict mode, and each kind of row (context allowed and denied, FHIR read, create and delete,
 * research search, break-glass, audit read) carries BALP's type and subtype, action, the two agents (who asked,
 * requestor; the server, not), the observer, its entities (patient, data, query) and its purpose and outcome. No
 * query text leaves in it.
 */
class AuditExportBalpIT {

  static final String FHIR = "application/fhir+json";
  static final String QUERY_TEXT = "diabetes glycaemic control";
  static TestServer app;
  static String ehr;
  static String clinician;
  static String auditor;
  static String researcher;
  static List<AuditEvent> events;
  static String exported;
  /** The request id a caller sent with the context request below, and the address it claimed to be from. */
  static final String REQUEST_ID = "0190a1b2-0000-4000-8000-0000000c0de1";
  static final String SPOOFED = "203.0.113.66";
  static HttpResponse<String> traced;
  static String listedByRequest;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("balp", "feed", "[\"ehr-integration\"]", null);
    clinician = app.tenantWithKey("balp", "dr-a", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    auditor = app.tenantWithKey("balp", "aud", "[\"auditor\"]", null);
    researcher = app.tenantWithKey("balp", "res-a", "[\"researcher\"]", null);
    assertThat(app.call("POST", "/fhir/balp", ehr, TestServer.WARD_BUNDLE, FHIR).statusCode()).isEqualTo(200);
    app.bean(EmbeddingWorker.class).drain(TenantId.of("balp"));
    app.researchOn("balp");

    String ask = "{\"query\":\"" + QUERY_TEXT + "\",\"purposeOfUse\":\"TREAT\"}";
    // with an id of the caller's and a forwarded address no trusted proxy vouched for (none is trusted here)
    traced = app.call("POST", "/v1/balp/patients/pt-1/context", clinician, ask, "application/json",
        Map.of("X-Request-Id", REQUEST_ID, "X-Forwarded-For", SPOOFED, "Forwarded", "for=" + SPOOFED));
    assertThat(traced.statusCode()).isEqualTo(200);
    assertThat(app.call("POST", "/v1/balp/patients/pt-2/context", clinician, ask).statusCode()).isEqualTo(404);
    String dr = app.tenantWithKey("balp", "dr-btg", "[\"clinician\"]", "\"practitionerId\":\"pr-9\"");
    HttpResponse<String> glass = app.call("POST", "/v1/balp/patients/pt-1/context", dr,
        "{\"query\":\"" + QUERY_TEXT + "\",\"purposeOfUse\":\"ETREAT\",\"reason\":\"unresponsive in the ED\"}");
    assertThat(glass.body()).contains("breakGlassUntil");
    assertThat(app.call("GET", "/fhir/balp/Patient/pt-1", ehr, null, FHIR).statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/fhir/balp/Patient/pt-1/_history/1", ehr, null, FHIR).statusCode()).isEqualTo(200);
    HttpResponse<String> created = app.call("POST", "/fhir/balp/Observation", ehr, "{\"resourceType\":\"Observation\","
        + "\"status\":\"final\",\"code\":{\"text\":\"weight\"},\"subject\":{\"reference\":\"Patient/pt-1\"}}", FHIR);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    String location = created.headers().firstValue("location").orElseThrow();
    String observation = location.substring(location.indexOf("Observation/")).replaceFirst("/_history/.*$", "");
    assertThat(app.call("DELETE", "/fhir/balp/" + observation, ehr, null, FHIR).statusCode()).isEqualTo(204);
    assertThat(app.call("POST", "/v1/balp/research/search", researcher,
        "{\"query\":\"" + QUERY_TEXT + "\",\"k\":5,\"purposeOfUse\":\"HRESCH\"}").statusCode()).isEqualTo(200);
    assertThat(app.call("GET", "/v1/balp/audit?limit=1", auditor, null).statusCode()).isEqualTo(200);
    HttpResponse<String> byRequest = app.call("GET", "/v1/balp/audit?requestId=" + REQUEST_ID, auditor, null);
    assertThat(byRequest.statusCode()).as(byRequest.body()).isEqualTo(200);
    listedByRequest = byRequest.body();

    HttpResponse<String> export = app.call("GET", "/v1/balp/audit/export", auditor, null);
    assertThat(export.statusCode()).isEqualTo(200);
    exported = export.body();
    IParser strict = Fhir.context().newJsonParser().setParserErrorHandler(new StrictErrorHandler());
    events = new ArrayList<>();
    exported.lines().forEach(line -> events.add(strict.parseResource(AuditEvent.class, line)));
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** The first exported event of the action (the row's own action, a subtype) that matches. */
  static AuditEvent event(String action, Predicate<AuditEvent> which) {
    return events.stream().filter(e -> action.equals(code(e.getSubtype(), "http://carecontext.io/audit-action")))
        .filter(which).findFirst().orElseThrow(() -> new AssertionError("no exported " + action + " event"));
  }

  static String code(List<Coding> codings, String system) {
    return codings.stream().filter(c -> system.equals(c.getSystem())).map(Coding::getCode).findFirst().orElse(null);
  }

  static List<AuditEventEntityComponent> entities(AuditEvent e, String type, String role) {
    return e.getEntity().stream().filter(x -> type.equals(x.getType().getCode()) && role.equals(x.getRole().getCode()))
        .toList();
  }

  /** BALP's agents: who asked (information recipient, requestor) and the server; the server observed it. */
  static void agentsAndObserver(AuditEvent e, String principal, String role) {
    List<AuditEventAgentComponent> requesters = e.getAgent().stream().filter(AuditEventAgentComponent::getRequestor)
        .toList();
    assertThat(requesters).hasSize(1);
    AuditEventAgentComponent who = requesters.get(0);
    boolean read = e.getSubtype().stream().anyMatch(c -> "http://hl7.org/fhir/restful-interaction".equals(c.getSystem())
        && ("read".equals(c.getCode()) || "vread".equals(c.getCode())));
    boolean write = e.getSubtype().stream().anyMatch(c -> "http://hl7.org/fhir/restful-interaction".equals(c.getSystem())
        && ("create".equals(c.getCode()) || "update".equals(c.getCode())));
    // BALP's Create and Update: the user is where the data came from (informant); elsewhere its recipient
    assertThat(who.getType().getCodingFirstRep().getCode()).isEqualTo(write ? "INF" : "IRCP");
    assertThat(who.getWho().getIdentifier().getValue()).isEqualTo(principal);
    assertThat(who.getRole()).extracting(r -> r.getCodingFirstRep().getCode()).contains(role);
    assertThat(who.getAltId()).isNotBlank(); // the key
    assertThat(who.hasNetwork()).isFalse(); // BALP's user is no network device
    // the client the request came from (BALP's client: the key, the address) and the server; DCM 110153 Source Role
    // ID the client and 110152 Destination the server, but for a read, whose data flows from the server (BALP's Read)
    assertThat(e.getAgent()).filteredOn(a -> !a.getRequestor())
        .extracting(a -> a.getType().getCodingFirstRep().getCode())
        .containsExactly(read ? "110152" : "110153", read ? "110153" : "110152");
    AuditEventAgentComponent client = e.getAgent().get(1);
    assertThat(client.getWho().getIdentifier().getValue()).isEqualTo(who.getAltId());
    assertThat(client.getNetwork().getAddress()).isEqualTo("127.0.0.1");
    assertThat(e.getSource().getObserver().getDisplay()).isEqualTo("CareContext");
    assertThat(e.getSource().getSite()).isEqualTo("balp");
    assertThat(e.getSource().getTypeFirstRep().getCode()).isEqualTo("4");
  }

  static void patient(AuditEvent e, String id) {
    assertThat(entities(e, "1", "1")).extracting(x -> x.getWhat().getReference()).contains("Patient/" + id);
  }

  static void query(AuditEvent e) {
    List<AuditEventEntityComponent> q = entities(e, "2", "24");
    assertThat(q).hasSize(1);
    assertThat(q.get(0).hasQuery()).isFalse(); // the text is PHI the export does not carry
    assertThat(e.getType().getSystem()).isEqualTo("http://dicom.nema.org/resources/ontology/DCM");
    assertThat(e.getType().getCode()).isEqualTo("110112");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.E);
  }

  static void rest(AuditEvent e, String interaction, AuditEvent.AuditEventAction action) {
    assertThat(e.getType().getSystem()).isEqualTo("http://terminology.hl7.org/CodeSystem/audit-event-type");
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(code(e.getSubtype(), "http://hl7.org/fhir/restful-interaction")).isEqualTo(interaction);
    assertThat(e.getAction()).isEqualTo(action);
  }

  static String purpose(AuditEvent e, String code) {
    return e.getPurposeOfEvent().stream().flatMap(p -> p.getCoding().stream()).map(Coding::getCode)
        .filter(code::equals).findFirst().orElse(null);
  }

  @Test
  void everyLineIsAStrictlyValidR4AuditEventAndNoneCarriesTheQueryText() {
    assertThat(events).isNotEmpty();
    assertThat(exported).endsWith("}\n").doesNotContain(QUERY_TEXT).doesNotContain("unresponsive in the ED");
    assertThat(events).allSatisfy(e -> {
      assertThat(e.getAgent()).hasSize(3);
      assertThat(e.hasRecorded()).isTrue();
      assertThat(e.hasOutcome()).isTrue();
      assertThat(e.getSource().hasObserver()).isTrue();
    });
  }

  @Test
  void contextAllowedIsAQueryOfThePatientWithItsPurpose() {
    AuditEvent e = event("context", x -> x.getOutcome() == AuditEvent.AuditEventOutcome._0
        && purpose(x, "BTG") == null);
    query(e);
    patient(e, "pt-1");
    agentsAndObserver(e, "dr-a", "clinician");
    assertThat(purpose(e, "TREAT")).isEqualTo("TREAT");
    assertThat(e.getAgent().stream().filter(AuditEventAgentComponent::getRequestor).findFirst().orElseThrow()
        .getPurposeOfUse()).extracting(p -> p.getCodingFirstRep().getCode()).containsExactly("TREAT");
  }

  @Test
  void contextDeniedIsAQueryOfThePatientThatFailed() {
    AuditEvent e = event("context", x -> x.getOutcome() == AuditEvent.AuditEventOutcome._4);
    query(e);
    patient(e, "pt-2");
    agentsAndObserver(e, "dr-a", "clinician");
    assertThat(e.getOutcomeDesc()).isEqualTo("no_consent");
  }

  @Test
  void breakGlassCarriesItsPurposes() {
    AuditEvent e = event("context", x -> purpose(x, "BTG") != null);
    query(e);
    patient(e, "pt-1");
    agentsAndObserver(e, "dr-btg", "clinician");
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
    assertThat(purpose(e, "ETREAT")).isEqualTo("ETREAT");
  }

  @Test
  void aFhirReadIsARestfulReadOfTheResourceItHandedOut() {
    AuditEvent e = event("fhir-read", x -> x.getOutcome() == AuditEvent.AuditEventOutcome._0
        && "read".equals(code(x.getSubtype(), "http://hl7.org/fhir/restful-interaction")));
    rest(e, "read", AuditEvent.AuditEventAction.R);
    patient(e, "pt-1");
    agentsAndObserver(e, "feed", "ehr-integration");
    assertThat(entities(e, "2", "4")).extracting(x -> x.getWhat().getReference()).containsExactly("Patient/pt-1/_history/1");
  }

  @Test
  void aVreadIsARestfulVreadOfTheVersionItHandedOut() {
    AuditEvent e = event("fhir-read", x -> "vread".equals(code(x.getSubtype(), "http://hl7.org/fhir/restful-interaction")));
    rest(e, "vread", AuditEvent.AuditEventAction.R);
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
    patient(e, "pt-1");
    assertThat(entities(e, "2", "4")).extracting(x -> x.getWhat().getReference()).containsExactly("Patient/pt-1/_history/1");
  }

  @Test
  void aFhirCreateAndDeleteAreRestfulCreateAndDeleteOfTheirResource() {
    AuditEvent created = event("fhir-write", x -> x.getAction() == AuditEvent.AuditEventAction.C
        && entities(x, "2", "4").stream().anyMatch(d -> d.getWhat().getReference().startsWith("Observation/")));
    rest(created, "create", AuditEvent.AuditEventAction.C);
    patient(created, "pt-1");
    agentsAndObserver(created, "feed", "ehr-integration");
    String observation = entities(created, "2", "4").get(0).getWhat().getReference().replaceFirst("/_history/.*$", "");
    AuditEvent deleted = event("fhir-write", x -> x.getAction() == AuditEvent.AuditEventAction.D);
    rest(deleted, "delete", AuditEvent.AuditEventAction.D);
    patient(deleted, "pt-1");
    assertThat(entities(deleted, "2", "4")).extracting(x -> x.getWhat().getReference())
        .singleElement().asString().startsWith(observation + "/_history/");
    // the transaction that made the patients created only: a create of each of its resources
    AuditEvent bundle = event("fhir-write", x -> entities(x, "1", "1").stream()
        .anyMatch(p -> "Patient/pt-2".equals(p.getWhat().getReference())));
    rest(bundle, "create", AuditEvent.AuditEventAction.C);
    assertThat(entities(bundle, "2", "4")).extracting(x -> x.getWhat().getReference())
        .containsExactly("Patient/pt-2/_history/1", "Encounter/en-2/_history/1");
  }

  @Test
  void aResearchSearchIsAQueryNamingEachPatientItReturned() {
    AuditEvent e = event("research", x -> true);
    query(e);
    agentsAndObserver(e, "res-a", "researcher");
    patient(e, "pt-1");
    assertThat(purpose(e, "HRESCH")).isEqualTo("HRESCH");
  }

  @Test
  void anAuditReadIsAnAuditLogUseThatReads() {
    AuditEvent e = event("audit-read", x -> true);
    assertThat(e.getType().getCode()).isEqualTo("110101");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
    assertThat(entities(e, "2", "24")).hasSize(1);
    agentsAndObserver(e, "aud", "auditor");
    AuditEvent export = event("audit-export", x -> true);
    assertThat(export.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
  }

  /**
   * Which request and from where: the row keeps the id the answer carried (the caller's, a UUID) and the socket's
   * peer, not the address a header claimed from a peer no one trusts; the listing finds it by that id, and its
   * event names both as BALP does (the client agent's network, type 2; an entity of type XrequestId).
   */
  @Test
  void theRowNamesTheRequestAndTheClientNotASpoofedHeader() throws Exception {
    assertThat(traced.headers().firstValue("X-Request-Id")).contains(REQUEST_ID);
    var list = new com.fasterxml.jackson.databind.ObjectMapper().readTree(listedByRequest);
    assertThat(list.get("count").asInt()).isEqualTo(1);
    var row = list.get("entries").get(0);
    assertThat(row.get("action").asText()).isEqualTo("context");
    assertThat(row.get("requestId").asText()).isEqualTo(REQUEST_ID);
    assertThat(row.get("clientAddress").asText()).isEqualTo("127.0.0.1");
    assertThat(exported).doesNotContain(SPOOFED);

    AuditEvent e = events.stream().filter(x -> x.getIdElement().getIdPart().equals(row.get("auditId").asText()))
        .findFirst().orElseThrow();
    AuditEventAgentComponent who = e.getAgent().stream()
        .filter(a -> "110153".equals(a.getType().getCodingFirstRep().getCode())).findFirst().orElseThrow();
    assertThat(who.getNetwork().getAddress()).isEqualTo("127.0.0.1");
    assertThat(who.getNetwork().getType()).isEqualTo(AuditEvent.AuditEventAgentNetworkType._2);
    assertThat(e.getEntity()).filteredOn(x -> "XrequestId".equals(x.getType().getCode())).singleElement()
        .satisfies(x -> {
          assertThat(x.getType().getSystem()).isEqualTo("https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType");
          assertThat(x.getWhat().getIdentifier().getValue()).isEqualTo(REQUEST_ID);
        });
    // every event of a request names its request and its client (this trail has no row of before the columns)
    assertThat(events).allSatisfy(x -> {
      assertThat(x.getAgent().get(1).getNetwork().getAddress()).isEqualTo("127.0.0.1");
      assertThat(x.getEntity()).anyMatch(n -> "XrequestId".equals(n.getType().getCode()));
    });
  }

  /** BALP's patient-specific pattern: no exported event names more than one patient; their ids stay unique. */
  @Test
  void noEventNamesMoreThanOnePatient() {
    assertThat(events).allSatisfy(x -> assertThat(entities(x, "1", "1")).hasSizeLessThanOrEqualTo(1));
    assertThat(events).extracting(x -> x.getIdElement().getIdPart()).doesNotHaveDuplicates();
  }
}
