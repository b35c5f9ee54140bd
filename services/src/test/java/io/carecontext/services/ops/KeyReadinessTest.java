package io.carecontext.services.ops;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class KeyReadinessTest {

  @Test
  void downOnlyWhenDataKeysAreStoredAndNoneOpens() {
    assertThat(KeyReadiness.opensNone(Map.of(), kek -> false)).as("no tenant yet: nothing to open").isFalse();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3), kek -> false)).as("the wrong key file").isTrue();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3, "b2", 1), "b2"::equals))
        .as("one tenant's key opens: that tenant is served, the start's warning names the rest").isFalse();
    assertThat(KeyReadiness.opensNone(Map.of("a1", 3), "a1"::equals)).isFalse();
  }
}
