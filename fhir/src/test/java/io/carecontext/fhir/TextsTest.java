package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** HTML read as plain text: what a narrative or an HTML attachment gives the chunks. */
class TextsTest {

  /**
   * An HTML attachment is an EHR's text: 64 KiB of "a<" took 7.6 s to read, since the tag pattern began at every
   * "<" and scanned to the end for a ">" (and the script pattern as much from every "<script" without its end). A
   * guard against that shape of cost, with a bound some fifty times what reading takes now, and tags, scripts and
   * styles still removed as before.
   */
  @Test
  void aLongRunOfOpeningBracketsWithoutAClosingOneIsScannedOnce() {
    for (String shape : List.of("a<", "<", "<script>", "<style ", "<SCRIPT x", "<script></style>")) {
      String html = shape.repeat(128 * 1024 / shape.length());
      String text = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> Texts.plain(html), shape);
      assertThat(text).as(shape).doesNotContain(">");
    }
    assertThat(Texts.plain("<div><p>BP 120/80</p><SCRIPT type=x>alert(1)</script>troponin <0.01</div>"))
        .isEqualTo("BP 120/80 troponin");
    assertThat(Texts.plain("<style>p{}</STYLE>a < b <i>c</i> <script>x</style> y"))
        .isEqualTo("a c x y");
    assertThat(Texts.plain("<script>never closed <b>bold</b> &amp; done")).isEqualTo("never closed bold & done");
    assertThat(Texts.plain("x < y and z")).isEqualTo("x < y and z");
  }
}
