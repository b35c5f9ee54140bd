package io.carecontext.services.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.retrieval.audit.AuditAnchor;
import io.carecontext.services.http.ApiException;
import java.math.BigInteger;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The body of {@code POST /v1/{tenant}/audit/verify}: refused naming the field, never quoting a value. */
class AuditAnchorsBodyTest {

  static final String HEX = "ab".repeat(32);

  static Map<String, Object> anchor(Object shard, Object seq, Object head, Object mac) {
    Map<String, Object> a = new HashMap<>();
    a.put("shard", shard);
    a.put("seq", seq);
    a.put("head", head);
    a.put("mac", mac);
    return a;
  }

  static String refusal(Object body) {
    return assertThatThrownByApi(body).getMessage();
  }

  static ApiException assertThatThrownByApi(Object body) {
    try {
      AuditController.anchors(body);
    } catch (ApiException e) {
      assertThat(e.status().getCode()).isEqualTo(400);
      return e;
    }
    throw new AssertionError("accepted: " + body);
  }

  @Test
  void anchorsAsTheLogLinesGiveThemAreRead() {
    List<AuditAnchor> read = AuditController.anchors(Map.of("anchors", List.of(anchor(3, 12L, HEX, HEX.toUpperCase()),
        anchor(0, new BigInteger("4"), HEX, HEX))));
    assertThat(read).extracting(AuditAnchor::shard, AuditAnchor::seq).containsExactly(
        org.assertj.core.groups.Tuple.tuple(3, 12L), org.assertj.core.groups.Tuple.tuple(0, 4L));
    assertThat(read.get(0).mac()).isEqualTo(read.get(0).head());
  }

  @Test
  void aBadBodyIsRefusedNamingTheField() {
    assertThat(refusal(null)).startsWith("the body must be a JSON object {\"anchors\"");
    assertThat(refusal(List.of())).startsWith("the body must be a JSON object");
    assertThat(refusal(Map.of("anchors", List.of(), "MRN4471902", 1))).startsWith("an unknown field;")
        .doesNotContain("MRN4471902");
    assertThat(refusal(Map.of())).startsWith("anchors is required and must be an array");
    assertThat(refusal(Map.of("anchors", "x"))).startsWith("anchors is required and must be an array");
    assertThat(refusal(Map.of("anchors", List.of()))).startsWith("anchors must hold at least one anchor");
    assertThat(refusal(Map.of("anchors", Collections.nCopies(AuditController.MAX_ANCHORS + 1, anchor(0, 1, HEX, HEX)))))
        .isEqualTo("anchors holds at most 1000 (the latest of each shard is enough)");
    assertThat(refusal(Map.of("anchors", List.of(anchor(0, 1, HEX, HEX), "x"))))
        .isEqualTo("anchors[1] must be an object {\"shard\",\"seq\",\"head\",\"mac\"}");
    Map<String, Object> extra = anchor(0, 1, HEX, HEX);
    extra.put("Jane Doe", "x");
    assertThat(refusal(Map.of("anchors", List.of(extra))))
        .isEqualTo("anchors[0] has an unknown field; an anchor takes shard, seq, head and mac").doesNotContain("Jane");
    for (Object shard : new Object[] {null, -1, 8, "3", 1.5, new BigInteger("99999999999999999999")}) {
      assertThat(refusal(Map.of("anchors", List.of(anchor(shard, 1, HEX, HEX))))).as(String.valueOf(shard))
          .isEqualTo("anchors[0].shard is required: a whole number from 0 to 7");
    }
    for (Object seq : new Object[] {null, -1, "12", 2.0}) {
      assertThat(refusal(Map.of("anchors", List.of(anchor(0, seq, HEX, HEX))))).as(String.valueOf(seq))
          .isEqualTo("anchors[0].seq is required: a whole number, 0 or more");
    }
    for (Object head : new Object[] {null, "", "ab", HEX + "0", "zz".repeat(32), 7}) {
      assertThat(refusal(Map.of("anchors", List.of(anchor(0, 1, head, HEX))))).as(String.valueOf(head))
          .isEqualTo("anchors[0].head is required: 64 hexadecimal digits (the head= of an audit-anchor log line)");
    }
    assertThat(refusal(Map.of("anchors", List.of(anchor(0, 1, HEX, "Jane Doe")))))
        .isEqualTo("anchors[0].mac is required: 64 hexadecimal digits (the mac= of an audit-anchor log line)");
  }

  @Test
  void theBodyLimitIsAnswered413() {
    AuditController controller = new AuditController(null, null, null, null);
    ApiException e = org.junit.jupiter.api.Assertions.assertThrows(ApiException.class,
        () -> controller.anchors(new byte[AuditController.MAX_VERIFY_BODY_BYTES + 1]));
    assertThat(e.status().getCode()).isEqualTo(413);
    assertThat(e.code()).isEqualTo("payload_too_large");
    assertThat(e.getMessage()).contains("at most 1000 anchors");
  }
}
