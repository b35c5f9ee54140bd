package io.carecontext.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class RtfTextTest {

  /** A discharge summary as WordPad and Epic write one: font and colour tables, a bullet list, escapes. */
  static final String DISCHARGE = """
      {\\rtf1\\ansi\\ansicpg1252\\deff0\\nouicompat{\\fonttbl{\\f0\\fnil\\fcharset0 Calibri;}{\\f1\\fswiss Arial;}}
      {\\colortbl ;\\red0\\green0\\blue0;}
      {\\*\\generator Riched20 10.0.19041}\\viewkind4\\uc1
      \\pard\\sa200\\sl276\\slmult1\\b\\f0\\fs22\\lang9 DISCHARGE SUMMARY\\b0\\par
      Hyperkalemia resolved: K 4.6 mmol/L. Temp 38.4\\'b0C on admission.\\par
      \\pard{\\pntext\\f1\\'B7\\tab}{\\*\\pn\\pnlvlblt\\pnf1\\pnindent0{\\pntxtb\\'B7}}\\fi-360\\li720 Continue aspirin 81 mg daily\\par
      {\\pntext\\f1\\'B7\\tab}Do NOT restart lisinopril until nephrology review\\par
      \\pard Patient\\rquote s K \\u8805?5.5 twice \\{per lab\\}; see C:\\\\notes.\\par
      }""";

  // Before: the note's text was its RTF source: "\\par \\pard{\\pntext\\f1\\'B7\\tab}{\\*\\pn..." and "38.4\\'b0C".
  @Test
  void anRtfNoteReadsAsItsTextWithoutControlWords() {
    String text = RtfText.toText(DISCHARGE);
    assertThat(text).isEqualTo("""
        DISCHARGE SUMMARY
        Hyperkalemia resolved: K 4.6 mmol/L. Temp 38.4\u00b0C on admission.
        \u00b7 Continue aspirin 81 mg daily
        \u00b7 Do NOT restart lisinopril until nephrology review
        Patient\u2019s K \u22655.5 twice {per lab}; see C:\\notes.""");
    assertThat(text).doesNotContain("\\par", "Calibri", "Riched20", "pnlvlblt", "\\'");
  }

  @Test
  void picturesFieldCodesAndBinaryDataAreNotText() {
    assertThat(RtfText.toText("{\\rtf1 Before {\\pict\\pngblip 89504e470d0a} "
        + "{\\field{\\*\\fldinst HYPERLINK \"http://x\"}{\\fldrslt link}} \\bin3 \\{x after}"))
        .isEqualTo("Before link after");
  }

  @Test
  void aDocumentThatIsNotRtfGivesNoText() {
    assertThat(RtfText.toText("Plain words, not RTF")).isEmpty();
    assertThat(RtfText.toText("")).isEmpty();
  }

  @Test
  void unbalancedOrDeeplyNestedInputEndsWithoutError() {
    assertThat(RtfText.toText("{\\rtf1 open {\\b bold")).isEqualTo("open bold");
    assertThat(RtfText.toText("{\\rtf1 a}}} b")).isEqualTo("a b");
    String deep = "{\\rtf1 x" + "{".repeat(10_000) + "hidden" + "}".repeat(10_000) + " y}";
    assertThat(RtfText.toText(deep)).isEqualTo("x y");
  }

  // Through the renderer: a text/rtf DocumentReference, and an RTF document mislabelled text/plain.
  @Test
  void theRendererReadsRtfAttachmentsAsText() {
    ChunkRenderer renderer = new ChunkRenderer();
    String data = Base64.getEncoder().encodeToString(DISCHARGE.getBytes(StandardCharsets.US_ASCII));
    for (String type : new String[] {"text/rtf", "application/rtf", "text/plain"}) {
      var chunks = renderer.render(Fhir.parseResource("""
          {"resourceType":"DocumentReference","id":"d","status":"current","subject":{"reference":"Patient/p1"},
           "type":{"text":"Discharge summary"},"date":"2024-03-08T15:00:00-07:00",
           "content":[{"attachment":{"contentType":"%s","data":"%s"}}]}""".formatted(type, data)));
      assertThat(chunks).hasSize(1);
      assertThat(chunks.get(0).text()).startsWith("Discharge summary: DISCHARGE SUMMARY Hyperkalemia resolved")
          .contains("Do NOT restart lisinopril").doesNotContain("\\par", "fonttbl", "\\'b0");
    }
    // an RTF type whose content is not RTF: said to be not included, never passed through
    var notRtf = renderer.render(Fhir.parseResource("""
        {"resourceType":"DocumentReference","id":"d","status":"current","subject":{"reference":"Patient/p1"},
         "type":{"text":"Discharge summary"},"content":[{"attachment":{"contentType":"text/rtf","data":"%s"}}]}"""
        .formatted(Base64.getEncoder().encodeToString("%PDF-1.4 binary".getBytes(StandardCharsets.US_ASCII)))));
    assertThat(notRtf.get(0).text()).contains("Its content (text/rtf) is not included here").doesNotContain("PDF-1.4");
  }
}
