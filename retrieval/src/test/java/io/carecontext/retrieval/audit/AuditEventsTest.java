package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.TenantId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.Coding;
import org.junit.jupiter.api.Test;

class AuditEventsTest {

  private static Map<String, Object> row(String patient) {
    Map<String, Object> row = new HashMap<>(Map.of("auditId", "0190a1b2-0000-7000-8000-000000000001",
        "at", "2026-12-02T10:00:00Z", "action", "context", "decision", "denied", "reason", "unknown_patient",
        "principal", "dr-lee", "keyId", "k1", "roles", List.of("clinician"), "breakGlass", false, "shard", 0));
    row.put("seq", 7L);
    row.put("hash", "ab");
    row.put("patient", patient);
    return row;
  }

  /**
   * A break-glass review is a use of the trail (DCM 110101) that adds a judgement (C): the reviewed row is an entity
   * (AuditEvent/its id, object role 13 Security Resource) with the outcome as its detail; a refused attempt, which
   * judged nothing, names no reviewed row.
   */
  @Test
  void aReviewNamesTheAccessItJudgedAndItsOutcome() {
    Map<String, Object> review = row("p-123");
    review.put("action", AuditEntry.BREAK_GLASS_REVIEWED);
    review.put("decision", "allowed");
    review.put("reason", "inappropriate");
    review.put("details", "{\"reviewedAuditId\":\"0190a1b2-0000-7000-8000-0000000000aa\",\"outcome\":\"inappropriate\"}");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), review);
    assertThat(e.getType().getCode()).isEqualTo("110101");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.C);
    var judged = e.getEntity().stream().filter(x -> x.getWhat().hasReference()
        && x.getWhat().getReference().startsWith("AuditEvent/")).findFirst().orElseThrow();
    assertThat(judged.getWhat().getReference()).isEqualTo("AuditEvent/0190a1b2-0000-7000-8000-0000000000aa");
    assertThat(judged.getRole().getCode()).isEqualTo("13");
    assertThat(judged.getDetailFirstRep().getType()).isEqualTo("outcome");
    assertThat(judged.getDetailFirstRep().getValue().primitiveValue()).isEqualTo("inappropriate");
    assertThat(e.getEntity()).anyMatch(x -> "Patient/p-123".equals(x.getWhat().getReference()));

    review.put("decision", "denied");
    review.put("reason", "not_break_glass");
    assertThat(AuditEvents.of(TenantId.of("acme"), review).getEntity())
        .noneMatch(x -> x.getWhat().hasReference() && x.getWhat().getReference().startsWith("AuditEvent/"));
    assertThat(AuditEvents.reviewedIn("{\"reviewedAuditId\":\"Jane Doe\"}")).isNull();
  }

  @Test
  void aPatientIdIsAReference() {
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row("p-123"));
    assertThat(e.getEntityFirstRep().getWhat().getReference()).isEqualTo("Patient/p-123");
  }

  @Test
  void whatIsNoFhirIdIsAnIdentifierNotAnInvalidReference() {
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row(AuditEntry.NOT_A_FHIR_ID));
    var what = e.getEntityFirstRep().getWhat();
    assertThat(what.hasReference()).isFalse();
    assertThat(what.getType()).isEqualTo("Patient");
    assertThat(what.getIdentifier().getValue()).isEqualTo(AuditEntry.NOT_A_FHIR_ID);
  }

  /**
   * A row of before the patient column kept FHIR ids only may hold what a caller typed in a path in place of one (a
   * name, a birth date): the export, which leaves the platform for a SIEM, carries it as no text, as rows since do.
   */
  @Test
  void anOldRowsPatientThatIsNoFhirIdLeavesNotAsTyped() {
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row("Zebulon Quixote 1950-02-03"));
    String line = io.carecontext.fhir.Fhir.context().newJsonParser().encodeResourceToString(e);
    assertThat(line).doesNotContain("Zebulon").doesNotContainPattern("\\b1950\\b");
    assertThat(e.getEntityFirstRep().getWhat().getIdentifier().getValue()).isEqualTo(AuditEntry.NOT_A_FHIR_ID);
  }

  /**
   * A row of before the purpose column kept known codes only holds the purpose as the caller sent it (a name, a
   * sentence): the export made it a v3-ActReason code, on the event and on the requesting agent; it leaves as the
   * text an unknown purpose leaves as.
   */
  @Test
  void anOldRowsPurposeThatIsNoKnownCodeLeavesNotAsSent() {
    Map<String, Object> row = row("p-123");
    row.put("purposeOfUse", "treating Zebulon Quixote");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(io.carecontext.fhir.Fhir.context().newJsonParser().encodeResourceToString(e)).doesNotContain("Zebulon");
    assertThat(e.getPurposeOfEventFirstRep().hasCoding()).isFalse();
    assertThat(e.getPurposeOfEventFirstRep().getText()).contains("not an HL7 v3 PurposeOfUse code");
  }

  /** "(unknown)" is what the row holds for a purpose that is no code: as a v3-ActReason coding it made the event invalid. */
  @Test
  void anUnknownPurposeIsTextNotAnInvalidCode() {
    Map<String, Object> row = row("p-123");
    row.put("purposeOfUse", AuditEntry.UNKNOWN_PURPOSE);
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(e.getPurposeOfEvent()).hasSize(1);
    assertThat(e.getPurposeOfEventFirstRep().hasCoding()).isFalse();
    assertThat(e.getPurposeOfEventFirstRep().getText()).contains("not an HL7 v3 PurposeOfUse code");
    row.put("purposeOfUse", "TREAT");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getPurposeOfEventFirstRep().getCodingFirstRep().getCode())
        .isEqualTo("TREAT");
  }

  @Test
  void aPatientsErasureIsItsPatientRecordDeleted() {
    Map<String, Object> row = row("p-9");
    row.put("action", AuditEntry.PATIENT_ERASE);
    row.put("decision", "allowed");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(e.getType().getCode()).isEqualTo("110110");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.D);
    assertThat(e.getEntity()).anySatisfy(x -> assertThat(x.getWhat().getReference()).isEqualTo("Patient/p-9"));
  }

  @Test
  void aKeyMadeOrRevokedIsASecurityAttributesEventNotAQuery() {
    Map<String, Object> row = row(null);
    row.put("action", "key-create");
    AuditEvent created = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(created.getType().getCode()).isEqualTo("110137");
    assertThat(created.getAction()).isEqualTo(AuditEvent.AuditEventAction.C);
    row.put("action", "key-revoke");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getAction()).isEqualTo(AuditEvent.AuditEventAction.D);
    // a settings change that cut a key's break-glass window short changed what that key may read
    row.put("action", "break-glass-window");
    AuditEvent window = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(window.getType().getCode()).isEqualTo("110137");
    assertThat(window.getAction()).isEqualTo(AuditEvent.AuditEventAction.U);
    // the trail read, verified or exported is DICOM's "Audit Log Used" (it was a "Query")
    for (String use : List.of("audit-read", "audit-verify", "audit-export")) {
      row.put("action", use);
      assertThat(AuditEvents.of(TenantId.of("acme"), row).getType().getCode()).as(use).isEqualTo("110101");
    }
    // a change of the tenant's settings is a change of its security configuration
    row.put("action", "tenant-settings");
    AuditEvent settings = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(settings.getType().getCode()).isEqualTo("110113");
    assertThat(settings.getSubtype()).extracting(c -> c.getCode()).containsExactly("110129", "tenant-settings");
    assertThat(settings.getAction()).isEqualTo(AuditEvent.AuditEventAction.U);
    row.put("action", "context");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getType().getCode()).isEqualTo("110112");
    // a key refused at authentication is a failed login, not a query
    row.put("action", "authenticate");
    AuditEvent login = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(login.getType().getCode()).isEqualTo("110114");
    assertThat(login.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
  }

  /** The admin API's reads and refused requests were exported as DICOM "Query" (of patient data). */
  @Test
  void adminReadsAndRefusedRequestsAreRestfulOperationsWithTheirInteraction() {
    Map<String, Object> row = row(null);
    for (Object[] c : new Object[][] {
        {"tenant-read", "read", AuditEvent.AuditEventAction.R},
        {"key-list", "search-type", AuditEvent.AuditEventAction.E},
        {"ingest-parked-read", "search-type", AuditEvent.AuditEventAction.E},
        {"ingest-parked-retry", "update", AuditEvent.AuditEventAction.U}}) {
      row.put("action", c[0]);
      AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
      assertThat(e.getType().getSystem()).as((String) c[0]).isEqualTo("http://terminology.hl7.org/CodeSystem/audit-event-type");
      assertThat(e.getType().getCode()).as((String) c[0]).isEqualTo("rest");
      assertThat(e.getSubtype()).as((String) c[0]).extracting(Coding::getSystem, Coding::getCode).containsExactly(
          org.assertj.core.groups.Tuple.tuple("http://hl7.org/fhir/restful-interaction", c[1]),
          org.assertj.core.groups.Tuple.tuple("http://carecontext.io/audit-action", c[0]));
      assertThat(e.getAction()).as((String) c[0]).isEqualTo(c[2]);
    }
    // a request refused before its handler ran: the interaction of the method its row names
    row.put("action", "admin-request");
    row.put("details", "{\"route\":\"/admin/tenants/{tenant}\",\"method\":\"DELETE\"}");
    AuditEvent refused = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(refused.getType().getCode()).isEqualTo("rest");
    assertThat(refused.getSubtypeFirstRep().getCode()).isEqualTo("delete");
    assertThat(refused.getAction()).isEqualTo(AuditEvent.AuditEventAction.D);
    row.put("details", "{\"method\":\"GET\"}");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
    // no method named: still a RESTful operation, with no interaction it cannot know
    row.put("action", "request");
    row.remove("details");
    AuditEvent unknown = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(unknown.getType().getCode()).isEqualTo("rest");
    assertThat(unknown.getSubtype()).extracting(Coding::getCode).containsExactly("request");
    assertThat(unknown.getAction()).isEqualTo(AuditEvent.AuditEventAction.E);
    // the key and settings changes keep their DICOM security types
    row.put("action", "key-create");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getType().getCode()).isEqualTo("110137");
    row.put("action", "kek-rotate");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getType().getCode()).isEqualTo("110113");
    row.put("action", "data-key-rotate");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getType().getCode()).isEqualTo("110113");
  }

  @Test
  void aWriteIsAPatientRecordEventWhoseActionFollowsWhatItDid() {
    Map<String, Object> row = row("p-123");
    row.put("action", "fhir-write");
    row.put("decision", "allowed");
    row.put("details", "{\"created\":2,\"deleted\":0,\"updated\":0,\"resources\":[\"Patient/p-123/_history/1\"]}");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    // IHE BALP's Create: a RESTful operation whose interaction is create (it was DICOM "Patient Record")
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(e.getSubtype()).extracting(Coding::getSystem, Coding::getCode).containsExactly(
        org.assertj.core.groups.Tuple.tuple("http://hl7.org/fhir/restful-interaction", "create"),
        org.assertj.core.groups.Tuple.tuple("http://carecontext.io/audit-action", "fhir-write"));
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.C);
    // the data it stored, as BALP's data entity beside the patient's
    assertThat(e.getEntity()).filteredOn(x -> "4".equals(x.getRole().getCode()))
        .extracting(x -> x.getWhat().getReference(), x -> x.getType().getCode())
        .containsExactly(org.assertj.core.groups.Tuple.tuple("Patient/p-123/_history/1", "2"));
    assertThat(AuditEvents.writeInteraction("{\"created\":0,\"deleted\":1,\"updated\":0}")).isEqualTo("delete");
    assertThat(AuditEvents.writeInteraction("{\"created\":0,\"deleted\":0,\"unchanged\":1,\"updated\":2}"))
        .isEqualTo("update");
    assertThat(AuditEvents.writeInteraction("{\"created\":1,\"deleted\":0,\"updated\":1}")).isNull(); // a Bundle
    assertThat(AuditEvents.writeInteraction("{\"refusedEntries\":2}")).isNull();
    assertThat(AuditEvents.writeAction("{\"created\":0,\"deleted\":1,\"updated\":0}"))
        .isEqualTo(AuditEvent.AuditEventAction.D);
    assertThat(AuditEvents.writeAction("{\"created\":1,\"deleted\":0,\"updated\":1}"))
        .isEqualTo(AuditEvent.AuditEventAction.U);
    assertThat(AuditEvents.writeAction("{\"created\":0,\"deleted\":0,\"unchanged\":3,\"updated\":0}"))
        .isEqualTo(AuditEvent.AuditEventAction.U); // sent again unchanged: an update that found nothing to change
    assertThat(AuditEvents.writeAction("{\"created\":1,\"deleted\":0,\"unchanged\":3,\"updated\":0}"))
        .isEqualTo(AuditEvent.AuditEventAction.U);
    assertThat(AuditEvents.writeAction("{}")).isEqualTo(AuditEvent.AuditEventAction.U);
    assertThat(AuditEvents.of(TenantId.of("acme"), row("p-1")).getAction()).isEqualTo(AuditEvent.AuditEventAction.E);
  }

  /**
   * IHE BALP's Read has the data flow from the server: its client is the Destination Role ID (DCM 110152) and its
   * server the Source Role ID (110153); a query, a create, an update and a delete keep the client as the source. A
   * create's or an update's user is where the data came from (BALP's DataSources: informant), no recipient.
   */
  @Test
  void aReadsClientIsTheDestinationAndAWritesUserItsInformant() {
    Map<String, Object> read = row("p-1");
    read.put("action", "fhir-read");
    read.put("decision", "allowed");
    read.put("clientAddress", "10.0.0.9");
    AuditEvent r = AuditEvents.of(TenantId.of("acme"), read);
    assertThat(r.getAgent()).extracting(a -> a.getType().getCodingFirstRep().getCode())
        .containsExactly("IRCP", "110152", "110153");
    assertThat(r.getAgent().get(1).getWho().getIdentifier().getValue()).isEqualTo("k1");
    assertThat(r.getAgent().get(1).getNetwork().getAddress()).isEqualTo("10.0.0.9");
    assertThat(r.getAgent().get(2).getWho().getDisplay()).isEqualTo(AuditEvents.SERVER);
    read.put("details", "{\"interaction\":\"vread\"}");
    assertThat(AuditEvents.of(TenantId.of("acme"), read).getAgent())
        .extracting(a -> a.getType().getCodingFirstRep().getCode()).containsExactly("IRCP", "110152", "110153");
    Map<String, Object> write = row("p-1");
    write.put("action", AuditEvents.WRITE_ACTION);
    write.put("decision", "allowed");
    for (String counts : List.of("{\"created\":1}", "{\"updated\":2}")) {
      write.put("details", counts);
      assertThat(AuditEvents.of(TenantId.of("acme"), write).getAgent()).as(counts)
          .extracting(a -> a.getType().getCodingFirstRep().getCode()).containsExactly("INF", "110153", "110152");
    }
    write.put("details", "{\"deleted\":1}");
    assertThat(AuditEvents.of(TenantId.of("acme"), write).getAgent())
        .extracting(a -> a.getType().getCodingFirstRep().getCode()).containsExactly("IRCP", "110153", "110152");
    // a query (a context request) keeps DICOM's pattern: the client the source, the server the destination
    assertThat(AuditEvents.of(TenantId.of("acme"), row("p-1")).getAgent())
        .extracting(a -> a.getType().getCodingFirstRep().getCode()).containsExactly("IRCP", "110153", "110152");
  }

  /**
   * Who asked, the client it asked from and the server that answered, as IHE BALP's user (requestor, no network),
   * client (DCM 110153 Source Role ID: the key, the client's address) and server (110152) agents; the observer.
   * The address was on the user agent and there was no client agent, which BALP's client slice requires.
   */
  @Test
  void threeAgentsTheUserTheClientAndTheServerAndTheObserver() {
    Map<String, Object> row = row("p-123");
    row.put("purposeOfUse", "TREAT");
    row.put("clientAddress", "2001:db8::7");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(e.getAgent()).hasSize(3);
    var requester = e.getAgent().get(0);
    assertThat(requester.getRequestor()).isTrue();
    assertThat(requester.getType().getCodingFirstRep().getCode()).isEqualTo("IRCP");
    assertThat(requester.getWho().getIdentifier().getValue()).isEqualTo("dr-lee");
    assertThat(requester.getAltId()).isEqualTo("k1");
    assertThat(requester.getRoleFirstRep().getCodingFirstRep().getCode()).isEqualTo("clinician");
    assertThat(requester.getPurposeOfUseFirstRep().getCodingFirstRep().getCode()).isEqualTo("TREAT");
    assertThat(requester.hasNetwork()).isFalse();
    var client = e.getAgent().get(1);
    assertThat(client.getRequestor()).isFalse();
    assertThat(client.getType().getCodingFirstRep().getSystem()).isEqualTo("http://dicom.nema.org/resources/ontology/DCM");
    assertThat(client.getType().getCodingFirstRep().getCode()).isEqualTo("110153");
    assertThat(client.getWho().getIdentifier().getSystem()).isEqualTo("http://carecontext.io/key");
    assertThat(client.getWho().getIdentifier().getValue()).isEqualTo("k1");
    assertThat(client.getNetwork().getAddress()).isEqualTo("2001:db8::7");
    assertThat(client.getNetwork().getType()).isEqualTo(AuditEvent.AuditEventAgentNetworkType._2);
    var server = e.getAgent().get(2);
    assertThat(server.getRequestor()).isFalse();
    assertThat(server.getType().getCodingFirstRep().getCode()).isEqualTo("110152");
    // the platform's own row (a retention purge) names no key and no request: no client agent
    Map<String, Object> system = row(null);
    system.put("keyId", null);
    assertThat(AuditEvents.of(TenantId.of("acme"), system).getAgent())
        .extracting(a -> a.getType().getCodingFirstRep().getCode()).containsExactly("IRCP", "110152");
    assertThat(e.getSource().getObserver().getIdentifier().getValue()).isEqualTo("acme");
    assertThat(e.getSource().getTypeFirstRep().getCode()).isEqualTo("4");
    // a context request is a DICOM Query with a query entity that carries no text
    var query = e.getEntity().stream().filter(x -> "24".equals(x.getRole().getCode())).toList();
    assertThat(query).hasSize(1);
    assertThat(query.get(0).hasQuery()).isFalse();
    assertThat(e.getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._4);
    row.put("decision", "failed");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._8);
    row.put("decision", "allowed");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getOutcome()).isEqualTo(AuditEvent.AuditEventOutcome._0);
  }

  /** A FHIR read is BALP's Read: rest/read, action R, the resource handed out as the data entity. */
  @Test
  void aFhirReadIsARestfulReadOfItsResource() {
    Map<String, Object> row = row("p-123");
    row.put("action", "fhir-read");
    row.put("decision", "allowed");
    row.put("details", "{\"resources\":[\"Observation/o-1/_history/3\"]}");
    AuditEvent e = AuditEvents.of(TenantId.of("acme"), row);
    assertThat(e.getType().getCode()).isEqualTo("rest");
    assertThat(e.getSubtypeFirstRep().getCode()).isEqualTo("read");
    assertThat(e.getAction()).isEqualTo(AuditEvent.AuditEventAction.R);
    assertThat(e.getEntity()).extracting(x -> x.getWhat().getReference())
        .contains("Patient/p-123", "Observation/o-1/_history/3");
    // nothing that is no versioned reference becomes one
    row.put("details", "{\"resources\":[\"Zebulon Quixote\"]}");
    assertThat(AuditEvents.of(TenantId.of("acme"), row).getEntity()).noneMatch(x -> "4".equals(x.getRole().getCode()));
  }
}
