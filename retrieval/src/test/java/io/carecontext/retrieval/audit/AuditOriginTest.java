package io.carecontext.retrieval.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.migrations.TenantId;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.junit.jupiter.api.Test;

/**
 * A row's origin (its request id and client address, tenant migration 75): only validated forms are kept, both
 * enter the canonical payload the chain hashes without changing the payload of a row that names neither (every
 * row before), the listing's filter digest is unchanged for a listing without the new filter, and the export
 * names both as IHE BALP does and answers a multi-patient research row one event a patient.
 */
class AuditOriginTest {

  private static final Instant AT = Instant.parse("2026-12-07T10:00:00.123456Z");

  private static byte[] payload(byte[] justification, String requestId, String address) {
    return AuditPayload.of("id-1", AT, "dr-lee", "k1", List.of("clinician"), "p-1", "TREAT", "context", "allowed",
        "allowed", false, List.of(1L, 2L), null, null, null, null, null, null, "{}", 5, justification, requestId,
        address);
  }

  @Test
  void onlyTheValidatedFormsAreKept() {
    assertThat(new AuditOrigin("0190a1b2-0000-4000-8000-00000000abcd", "192.0.2.7").requestId()).isNotNull();
    assertThat(AuditOrigin.requestId("Zebulon Quixote 1950-02-03")).isNull();
    assertThat(AuditOrigin.requestId("a".repeat(65))).isNull();
    assertThat(AuditOrigin.clientAddress("192.0.2.7")).isEqualTo("192.0.2.7");
    assertThat(AuditOrigin.clientAddress("2001:db8::17")).isEqualTo("2001:db8::17");
    assertThat(AuditOrigin.clientAddress("evil.example.org")).isNull();
    assertThat(AuditOrigin.clientAddress("192.0.2.7, 10.0.0.1")).isNull();
    assertThat(AuditOrigin.clientAddress("1234")).isNull();
    AuditEntry e = AuditEntry.of("dr-lee", "k1", List.of(), "p-1", "TREAT", "context", AuditEntry.Decision.ALLOWED,
        "allowed").withOrigin(new AuditOrigin("not an id!", "<script>"));
    assertThat(e.requestId()).isNull();
    assertThat(e.clientAddress()).isNull();
  }

  @Test
  void anEntryKeepsItsOwnOriginAndEveryWithKeepsIt() {
    AuditOrigin origin = new AuditOrigin("req-1", "192.0.2.7");
    AuditEntry e = AuditEntry.of("dr-lee", "k1", List.of(), "p-1", "TREAT", "context", AuditEntry.Decision.ALLOWED,
        "allowed").withOrigin(origin);
    assertThat(e.withOrigin(new AuditOrigin("req-2", "192.0.2.8"))).isSameAs(e);
    AuditEntry later = e.withQuery("q").withDetail("count", "1").withResult(AuditEntry.Decision.DENIED, "x",
        List.of(), 3).withPatient("p-2").withJustification("j").withModel("m", "p", "r", null).withBreakGlass(true, null);
    assertThat(later.requestId()).isEqualTo("req-1");
    assertThat(later.clientAddress()).isEqualTo("192.0.2.7");
  }

  @Test
  void aRowWithoutOriginKeepsThePayloadOfTheRowsBefore() {
    // the form the rows before tenant migration 75 were hashed in, spelt out: 20 fields, 21 with a justification
    String micros = Long.toString(AT.getEpochSecond() * 1_000_000L + AT.getNano() / 1_000);
    String before = "4:id-1;" + micros.length() + ":" + micros + ";6:dr-lee;2:k1;9:clinician;3:p-1;5:TREAT;7:context;7:allowed;"
        + "7:allowed;5:false;3:1,2;-1:;-1:;-1:;-1:;-1:;-1:;2:{};1:5;";
    assertThat(new String(payload(null, null, null), StandardCharsets.UTF_8)).isEqualTo(before);
    byte[] justification = {1, 2, 3};
    String hash = AuditPayload.hex(AuditPayload.sha256(justification));
    assertThat(new String(payload(justification, null, null), StandardCharsets.UTF_8))
        .isEqualTo(before + "64:" + hash + ";");
  }

  @Test
  void theOriginIsInThePayloadAndNoTwoFormsShareAnEncoding() {
    String withOrigin = new String(payload(null, "req-1", "192.0.2.7"), StandardCharsets.UTF_8);
    assertThat(withOrigin).endsWith(";1:5;-1:;5:req-1;9:192.0.2.7;");
    assertThat(payload(null, "req-1", "192.0.2.7")).isNotEqualTo(payload(null, "req-2", "192.0.2.7"))
        .isNotEqualTo(payload(null, "req-1", "192.0.2.8")).isNotEqualTo(payload(null, null, "192.0.2.7"))
        .isNotEqualTo(payload(null, "req-1", null));
    // a justification's hash is 64 hex digits, which a request id may also be: the slots keep them apart
    byte[] justification = {1, 2, 3};
    String hash = AuditPayload.hex(AuditPayload.sha256(justification));
    assertThat(payload(justification, null, null)).isNotEqualTo(payload(null, hash, null));
  }

  @Test
  void theFilterDigestOfAListingWithoutARequestIdIsTheOneBefore() {
    AuditFilter f = new AuditFilter("p-1", null, "context", null, null, 10, null);
    // what the digest was before the filter existed: the six values, length-prefixed
    String text = "carecontext-audit-filters:v1|3:p-1|-|7:context|-|-|-";
    byte[] hash = AuditPayload.sha256(text.getBytes(StandardCharsets.UTF_8));
    assertThat(f.digest()).isEqualTo(java.util.Base64.getUrlEncoder().withoutPadding()
        .encodeToString(java.util.Arrays.copyOf(hash, 16)));
    AuditFilter byRequest = f.withRequestId("0190a1b2-0000-4000-8000-000000000001");
    assertThat(byRequest.digest()).isNotEqualTo(f.digest()).isNotEqualTo(f.withRequestId("0190a1b2-0000-4000-8000-000000000002").digest());
    AuditCursor cursor = new AuditCursor(AT, java.util.UUID.randomUUID(), byRequest);
    assertThat(cursor.continues(byRequest)).isTrue();
    assertThat(cursor.continues(f)).isFalse();
    assertThat(byRequest.after(cursor).requestId()).isEqualTo("0190a1b2-0000-4000-8000-000000000001");
    assertThatThrownBy(() -> f.withRequestId("Zebulon Quixote")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("Zebulon");
    // letters alone pass a row's form but are no id the service gives: a name typed there is refused too
    assertThatThrownBy(() -> f.withRequestId("ZebulonQuixote")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("Zebulon");
  }

  private static Map<String, Object> researchRow(String patients) {
    Map<String, Object> row = new HashMap<>();
    row.put("auditId", "0190a1b2-0000-7000-8000-000000000001");
    row.put("at", "2026-12-02T10:00:00Z");
    row.put("action", "research");
    row.put("decision", "allowed");
    row.put("reason", "allowed");
    row.put("principal", "res-a");
    row.put("keyId", "k1");
    row.put("roles", List.of("researcher"));
    row.put("breakGlass", false);
    row.put("purposeOfUse", "HRESCH");
    row.put("details", patients);
    row.put("shard", 1);
    row.put("seq", 9L);
    row.put("hash", "ab");
    row.put("requestId", "req-r");
    row.put("clientAddress", "192.0.2.9");
    return row;
  }

  private static List<String> patientsOf(AuditEvent e) {
    return e.getEntity().stream().filter(x -> "1".equals(x.getRole().getCode()))
        .map(x -> x.getWhat().getReference()).toList();
  }

  @Test
  void aResearchRowOfSeveralPatientsIsOneEventAPatient() {
    TenantId t = TenantId.of("acme");
    List<AuditEvent> events = AuditEvents.forExport(t, researchRow("{\"patients\":[\"p-1\",\"p-2\",\"p-3\"]}"));
    assertThat(events).hasSize(3);
    assertThat(events).extracting(AuditOriginTest::patientsOf)
        .containsExactly(List.of("Patient/p-1"), List.of("Patient/p-2"), List.of("Patient/p-3"));
    assertThat(events).extracting(e -> e.getIdElement().getIdPart()).containsExactly(
        "0190a1b2-0000-7000-8000-000000000001-1", "0190a1b2-0000-7000-8000-000000000001-2",
        "0190a1b2-0000-7000-8000-000000000001-3");
    // everything else as the row's one event: its query entity, the request, the chain entity naming the one row
    AuditEvent whole = AuditEvents.of(t, researchRow("{\"patients\":[\"p-1\",\"p-2\",\"p-3\"]}"));
    for (AuditEvent e : events) {
      assertThat(e.getEntity()).hasSize(whole.getEntity().size() - 2);
      assertThat(e.getEntity()).anyMatch(x -> x.getDescription() != null && x.getDescription().startsWith("chain 1/9 "));
      assertThat(e.getEntity()).anyMatch(x -> "XrequestId".equals(x.getType().getCode()));
      assertThat(e.getAgent().get(1).getNetwork().getAddress()).isEqualTo("192.0.2.9");
      assertThat(e.getAgent().get(1).getNetwork().getType()).isEqualTo(AuditEvent.AuditEventAgentNetworkType._2);
    }
    // one patient's search, or none's: the row's one event, under the row's id
    assertThat(AuditEvents.forExport(t, researchRow("{\"patients\":[\"p-1\"]}"))).singleElement()
        .satisfies(e -> assertThat(e.getIdElement().getIdPart()).isEqualTo("0190a1b2-0000-7000-8000-000000000001"));
    assertThat(AuditEvents.forExport(t, researchRow("{}"))).hasSize(1);
  }
}
