package io.carecontext.retrieval;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FreeTextTest {

  @Test
  void wordsAreALetterOrDigitAnywhere() {
    assertThat(FreeText.hasWords("unconscious in ED")).isTrue();
    assertThat(FreeText.hasWords("\u200b 7")).isTrue();
    assertThat(FreeText.hasWords("ÄÖ")).isTrue();
    for (String none : new String[] {"", " ", "\u0000", "\u200b", "\u00a0 \u0007", "???", "\ufeff"}) {
      assertThat(FreeText.hasWords(none)).as(none).isFalse();
    }
  }

  @Test
  void tabAndNewlinesLayTextOutAndOtherControlCharactersAreRefused() {
    assertThat(FreeText.hasControlCharacter("line one\r\n\tline two")).isFalse();
    assertThat(FreeText.hasControlCharacter("emoji \ud83d\ude00 and \u200b")).isFalse();
    for (String control : new String[] {"a\u0000b", "\u001b[31m", "back\bspace", "del\u007f", "next\u0085line", "\u009f"}) {
      assertThat(FreeText.hasControlCharacter(control)).as(control).isTrue();
    }
  }
}
