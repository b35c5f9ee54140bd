package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The answer's handles numbered as its citations, so a chat app can pair [Sn] with citations[n-1]. */
class ChatCitationsTest {

  private static Map<String, String> handles() {
    Map<String, String> h = new LinkedHashMap<>();
    for (int i = 1; i <= 12; i++) {
      h.put("S" + i, "Observation/o" + i);
    }
    h.put("S13", "Encounter/e1");
    h.put("S14", "Encounter/e1"); // an Encounter's administrative and clinical chunks
    return h;
  }

  @Test
  void theFirstCitedSourceIsS1WhateverItsNumberInThePrompt() {
    ChatService.Cited c = ChatService.cite("Rising [S10], then [S1] and again [S10].", handles(), true);
    assertThat(c.citations()).containsExactly("Observation/o10", "Observation/o1");
    assertThat(c.text()).isEqualTo("Rising [S1], then [S2] and again [S1].");
  }

  @Test
  void twoChunksOfOneResourceShareItsNumber() {
    ChatService.Cited c = ChatService.cite("Seen [S14] for [S13]; A1c [S3].", handles(), true);
    assertThat(c.citations()).containsExactly("Encounter/e1", "Observation/o3");
    assertThat(c.text()).isEqualTo("Seen [S1] for [S1]; A1c [S2].");
  }

  @Test
  void aHandleThePromptDidNotCarryIsUnresolvedNotGuessed() {
    ChatService.Cited c = ChatService.cite("As [S99] and [S2] say.", handles(), true);
    assertThat(c.citations()).containsExactly("Observation/o2");
    assertThat(c.text()).isEqualTo("As [unresolved] and [S1] say.");
  }

  @Test
  void aDeidentifiedRoleIsCitedItsNewHandles() {
    ChatService.Cited c = ChatService.cite("[S7] and [S2].", ChatService.handlesOnly(handles()), false);
    assertThat(c.citations()).isEqualTo(List.of("S1", "S2"));
    assertThat(c.text()).isEqualTo("[S1] and [S2].");
  }

  @Test
  void anAnswerWithoutHandlesCitesNothing() {
    ChatService.Cited c = ChatService.cite("No source answers this; $1 \\ kept.", handles(), true);
    assertThat(c.citations()).isEmpty();
    assertThat(c.text()).isEqualTo("No source answers this; $1 \\ kept.");
  }
}
