package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;

import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.StrictErrorHandler;
import io.carecontext.fhir.Fhir;
import io.carecontext.migrations.TenantId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

/**
 * Every row the trail can hold, as the export writes it, parses with HAPI's strict R4 parser and is one line: an
 * auditor's importer that refuses an invalid event, or splits the NDJSON by line, gets one event a row.
 */
class AuditEventsStrictTest {

  private static final TenantId TENANT = TenantId.of("acme");

  /** No origin (rows before tenant migration 75, the platform's own), and a request from each address family. */
  private static final List<AuditOrigin> ORIGINS = List.of(AuditOrigin.NONE,
      new AuditOrigin("0190a1b2-0000-4000-8000-00000000abcd", "192.0.2.7"),
      new AuditOrigin("01JD8Y3XG0ABCDEFGHJKMNPQRS", "2001:db8::17"));

  /** A row as AuditLog.row hands it to the export; {@code details} and the odd columns as the test sets them. */
  private static Map<String, Object> row(String action, String decision, String patient, String principal,
                                         String details) {
    Map<String, Object> row = new HashMap<>();
    row.put("auditId", "0190a1b2-0000-7000-8000-000000000001");
    row.put("at", "2026-12-02T10:00:00.123456Z");
    row.put("principal", principal);
    row.put("keyId", principal == null ? null : "k1");
    row.put("roles", principal == null ? List.of() : List.of("clinician", "auditor"));
    row.put("patient", patient);
    row.put("purposeOfUse", "TREAT");
    row.put("action", action);
    row.put("decision", decision);
    row.put("reason", "allowed".equals(decision) ? "allowed" : "denied".equals(decision) ? "not_permitted" : "failed");
    row.put("breakGlass", false);
    row.put("details", details);
    row.put("shard", 3);
    row.put("seq", 42L);
    row.put("hash", "00ff");
    return row;
  }

  /** The details each action's rows carry now, and none (a row written before the export read them). */
  private static List<String> detailsOf(String action) {
    List<String> out = new ArrayList<>(java.util.Arrays.asList(null, "{}"));
    switch (action) {
      case "fhir-read" -> {
        out.add("{\"resources\":[\"Observation/o-1/_history/3\"]}");
        out.add("{\"resources\":[\"Patient/p-1/_history/1\"],\"interaction\":\"vread\"}");
      }
      case "fhir-write" -> {
        out.add("{\"created\":1,\"resources\":[\"Observation/o-1/_history/1\"]}");
        out.add("{\"deleted\":2}");
        out.add("{\"created\":1,\"updated\":1,\"deleted\":1,\"unchanged\":1}");
      }
      case "research" -> out.add("{\"patients\":[\"p-1\",\"p-2\",\"not an id\"]}");
      case "request", "admin-request" -> {
        out.add("{\"method\":\"GET\"}");
        out.add("{\"method\":\"DELETE\"}");
        out.add("{\"method\":\"TRACE\"}");
      }
      default -> { }
    }
    return out;
  }

  @Test
  void everyActionAndOddRowParsesStrictlyAsOneLine() {
    IParser writer = Fhir.context().newJsonParser().setDontStripVersionsFromReferencesAtPaths("AuditEvent.entity.what");
    IParser strict = Fhir.context().newJsonParser().setParserErrorHandler(new StrictErrorHandler());
    List<String> principals = java.util.Arrays.asList("dr-lee", "Dr Lee Ünal", "system:audit-retention", null, "");
    List<String> patients = java.util.Arrays.asList("p-1", null, AuditEntry.NOT_A_FHIR_ID);
    int events = 0;
    for (String action : AuditEntry.ACTIONS) {
      for (String decision : List.of("allowed", "denied", "failed")) {
        for (String details : detailsOf(action)) {
          for (String principal : principals) {
            for (String patient : patients) {
              // a row before tenant migration 75 (no origin), one with an IPv4 and one with an IPv6 client
              for (AuditOrigin origin : ORIGINS) {
                Map<String, Object> row = row(action, decision, patient, principal, details);
                row.put("requestId", origin.requestId());
                row.put("clientAddress", origin.clientAddress());
                for (AuditEvent event : AuditEvents.forExport(TENANT, row)) {
                  String line = writer.encodeResourceToString(event);
                  assertThat(line).as(action).doesNotContain("\n").doesNotContain("\r");
                  AuditEvent parsed = strict.parseResource(AuditEvent.class, line);
                  assertThat(parsed.getSubtype()).as(action).anyMatch(c -> action.equals(c.getCode())
                      && "http://carecontext.io/audit-action".equals(c.getSystem()));
                  assertThat(parsed.hasAction()).as(action).isTrue();
                  // the user, the client (when the row names a key or an address) and the server; the address is
                  // the client's network (BALP gives the user none)
                  boolean client = row.get("keyId") != null || origin.clientAddress() != null;
                  assertThat(parsed.getAgent()).as(action).hasSize(client ? 3 : 2);
                  assertThat(parsed.getAgent().get(0).hasNetwork()).as(action).isFalse();
                  assertThat(parsed.getAgent()).as(action)
                      // the client: no requestor and not the server (its type is 110152 for a read, BALP's Read)
                      .filteredOn(a -> !a.getRequestor() && !AuditEvents.SERVER.equals(a.getWho().getDisplay()))
                      .extracting(a -> a.getNetwork().getAddress())
                      .isEqualTo(client ? java.util.Collections.singletonList(origin.clientAddress()) : List.of());
                  assertThat(parsed.getEntity()).as(action)
                      .filteredOn(x -> "XrequestId".equals(x.getType().getCode()))
                      .extracting(x -> x.getWhat().getIdentifier().getValue())
                      .isEqualTo(origin.requestId() == null ? List.of() : List.of(origin.requestId()));
                  events++;
                }
              }
            }
          }
        }
      }
    }
    assertThat(events).isGreaterThan(AuditEntry.ACTIONS.size() * 3 * 2 * 5 * 3 * ORIGINS.size() - 1);
  }

  /**
   * A break-glass row with no reason, with each purpose a row can hold (a code, "(unknown)", a row of before the
   * column kept codes only with the caller's text, none), and a patient of such a row that is a name: still a valid
   * event, which carries none of that text.
   */
  @Test
  void aBreakGlassRowWithAnyPurposeAndNoReasonParsesStrictly() {
    IParser strict = Fhir.context().newJsonParser().setParserErrorHandler(new StrictErrorHandler());
    for (String purpose : java.util.Arrays.asList("ETREAT", AuditEntry.UNKNOWN_PURPOSE, "for Zebulon's chart", null)) {
      Map<String, Object> row = row("context", "allowed", "Zebulon Quixote", "dr-lee", AuditEntry.BREAK_GLASS_REVIEW);
      row.put("purposeOfUse", purpose);
      row.put("breakGlass", true);
      row.put("reason", null);
      String line = Fhir.context().newJsonParser().encodeResourceToString(AuditEvents.of(TENANT, row));
      assertThat(line).as(String.valueOf(purpose)).doesNotContain("Zebulon");
      AuditEvent parsed = strict.parseResource(AuditEvent.class, line);
      assertThat(parsed.getPurposeOfEvent()).hasSize(purpose == null ? 1 : 2);
    }
  }
}
