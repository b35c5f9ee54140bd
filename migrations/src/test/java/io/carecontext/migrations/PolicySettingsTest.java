package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PolicySettingsTest {

  // The rules as they were written before the hand-written checks; the checks must agree with them.
  private static final Pattern NAME = Pattern.compile("^cc\\.[a-z_]{1,40}$");
  private static final Pattern ITEM = Pattern.compile("^[A-Za-z0-9\\-.:_|*]{1,128}$");

  @Test
  void nameCheckAgreesWithTheRule() {
    for (String name : List.of("cc.access", "cc.a", "cc._", "cc." + "a".repeat(40), "cc." + "a".repeat(41), "cc.",
        "cc", "", "cd.access", "cc.Access", "cc.acc-ess", "cc.acc ess", "cc.acc\u00e9s", "xcc.access", "cc.access\n",
        "cc.p1", "cc.consent_mode")) {
      assertThat(PolicySettings.validName(name)).as(name).isEqualTo(NAME.matcher(name).matches());
    }
  }

  @Test
  void itemCheckAgreesWithTheRule() {
    for (String item : List.of("patient-1", "a", "*", "http://loinc.org|1234-5", "A.b:c_d|e*f-9", "x".repeat(128),
        "x".repeat(129), "", "a,b", "a b", "a'b", "a;b", "\u00e9", "a\nb", "a/b", "a\"b", "a\\b", "%")) {
      assertThat(PolicySettings.validItem(item)).as(item).isEqualTo(ITEM.matcher(item).matches());
    }
  }

  @Test
  void refusesBadNamesAndItems() {
    assertThatThrownBy(() -> new PolicySettings(Map.of("search_path", "x"))).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> PolicySettings.read().patients(List.of("p1,p2")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageNotContaining("p1");
  }

  @Test
  void nullValuesBecomeEmptyAndQualifiedNamesKeepTheValues() {
    Map<String, String> values = new HashMap<>();
    values.put("cc.access", "read");
    values.put("cc.labels", null);
    PolicySettings s = new PolicySettings(values);
    assertThat(s.values()).containsEntry("cc.labels", "").containsEntry("cc.access", "read");
    PolicySettings q = s.withQualifiedNames();
    assertThat(q.qualifiedNames()).isTrue();
    assertThat(q.values()).isSameAs(s.values());
    assertThat(s.access()).isEqualTo("read");
  }

  @Test
  void theCallersKeyJoinsTheSettingsAndNoValueIsPrinted() {
    PolicySettings s = PolicySettings.read().patients(List.of("MRN-0042")).set("cc.subject", "MRN-0042").build()
        .withQualifiedNames().withCaller("abcdefghijklmnop", "ab".repeat(32));
    assertThat(s.values()).containsEntry("cc.key", "abcdefghijklmnop").containsEntry("cc.key_hash", "ab".repeat(32))
        .containsEntry("cc.subject", "MRN-0042");
    assertThat(s.qualifiedNames()).isTrue();
    assertThat(s.toString()).contains("cc.key_hash", "cc.subject").doesNotContain("MRN-0042", "abab");
  }
}
