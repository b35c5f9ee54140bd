package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A narrative is served back as sent and shown as HTML by EHR viewers: active content in one would
 * run in the browser of whoever opens the record next (FHIR R4 rule txt-1 allows basic HTML only).
 */
class NarrativeValidatorTest {

  private static final String XHTML = "xmlns=\\\"http://www.w3.org/1999/xhtml\\\"";

  private static List<FhirIssue> issues(String div) {
    return ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Patient\",\"text\":{\"status\":"
        + "\"generated\",\"div\":\"" + div + "\"}}"));
  }

  private static String div(String inner) {
    return "<div " + XHTML + ">" + inner + "</div>";
  }

  @Test
  void anOrdinaryNarrativePasses() {
    assertThat(issues(div("<p><b>Grace Hopper</b>, born <span style=\\\"color:red\\\">1906</span></p>"
        + "<table border=\\\"1\\\"><tbody><tr><td colspan=\\\"2\\\">HbA1c 7.1%</td></tr></tbody></table>"
        + "<a href=\\\"https://example.org/guide?a=1&amp;b=2\\\">guide</a> <a href=\\\"#sec\\\">see</a> "
        + "<a href=\\\"Observation/1\\\">obs</a> <img src=\\\"#photo\\\" alt=\\\"photo\\\"/>"
        + "<ul><li>one</li></ul><br/>"))).isEmpty();
    assertThat(issues(div("<img src=\\\"data:image/png;base64,iVBORw0KGgo=\\\"/>"))).isEmpty();
  }

  @Test
  void activeContentIsRefusedNamingTheConstructNotTheText() {
    String[][] cases = {
        {"<script>alert('Grace Hopper')</script>", "<script>"},
        {"<iframe src=\\\"https://example.org\\\"></iframe>", "<iframe>"},
        {"<object data=\\\"x.swf\\\"></object>", "<object>"},
        {"<embed src=\\\"x.swf\\\"/>", "<embed>"},
        {"<form action=\\\"https://example.org\\\"><input name=\\\"q\\\"/></form>", "<form>"},
        {"<style>p{}</style>", "<style>"},
        {"<link rel=\\\"stylesheet\\\" href=\\\"x.css\\\"/>", "<link>"},
        {"<base href=\\\"https://example.org/\\\"/>", "<base>"},
        {"<svg><script>alert(1)</script></svg>", "<svg>"},
        {"<p onclick=\\\"alert(1)\\\">Grace Hopper</p>", "event-handler"},
        {"<img src=\\\"#x\\\" ONERROR=\\\"alert(1)\\\"/>", "event-handler"},
        {"<a href=\\\"javascript:alert(1)\\\">Grace Hopper</a>", "href of an <a>"},
        {"<a href=\\\" JaVaScRiPt:alert(1)\\\">x</a>", "href of an <a>"},
        {"<a href=\\\"java\\tscript:alert(1)\\\">x</a>", "href of an <a>"},
        {"<a href=\\\"javascript&#58;alert(1)\\\">x</a>", "href of an <a>"},
        {"<a href=\\\"vbscript:x\\\">x</a>", "href of an <a>"},
        {"<a href=\\\"data:text/html;base64,PHNjcmlwdD4=\\\">x</a>", "href of an <a>"},
        {"<img src=\\\"data:image/svg+xml;base64,PHN2Zz4=\\\"/>", "src of an <img>"},
        {"<p><span><a href=\\\"javascript:void(0)\\\">deep</a></span></p>", "href of an <a>"}};
    for (String[] c : cases) {
      List<FhirIssue> found = issues(div(c[0]));
      assertThat(found).as(c[0]).hasSize(1);
      assertThat(found.get(0).message()).as(c[0]).contains("Patient.text.div").contains(c[1])
          .doesNotContain("Grace").doesNotContain("alert");
    }
  }

  @Test
  void aContainedResourcesNarrativeIsCheckedToo() {
    List<FhirIssue> found = ResourceValidator.validate(Fhir.parseResource("{\"resourceType\":\"Patient\","
        + "\"contained\":[{\"resourceType\":\"Practitioner\",\"id\":\"p1\",\"text\":{\"status\":\"generated\","
        + "\"div\":\"" + div("<script>x</script>") + "\"}}]}"));
    assertThat(found).singleElement().satisfies(i -> assertThat(i.message()).contains("Patient.contained[0].text.div"));
  }

  /**
   * A narrative comes from an EHR: an href of 32 KiB of "/" and a line separator took 1.2 s to check, since the
   * pattern that cut the path began at each "/" and scanned to the separator. A guard against that shape of cost,
   * with a bound some fifty times what the check takes now, and links judged as before.
   */
  @Test
  void aLongRunOfSlashesBeforeALineSeparatorIsScannedOnce() {
    for (String sep : List.of("\u2028", "\u0085", "\u2029")) {
      String href = "/".repeat(128 * 1024) + sep + "x";
      boolean safe = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(java.time.Duration.ofSeconds(5),
          () -> NarrativeValidator.safeUrl(href, false));
      assertThat(safe).isTrue();
    }
    assertThat(NarrativeValidator.safeUrl("notes/visit.html#a", false)).isTrue();
    assertThat(NarrativeValidator.safeUrl("javascript:alert(1)", false)).isFalse();
    assertThat(NarrativeValidator.safeUrl("java\u2028script:alert(1)", false)).isFalse();
    assertThat(NarrativeValidator.safeUrl("/a\u2028javascript:alert(1)", false)).isFalse();
    assertThat(NarrativeValidator.safeUrl("https://example.org/a", false)).isTrue();
    assertThat(NarrativeValidator.pathLength("a/b\u2028c/d\u2028")).isEqualTo(2);
  }
}
