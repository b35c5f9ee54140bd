package io.carecontext.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

class StoredResourceTest {

  @Test
  void itPrintsNeitherItsIdNorItsBody() {
    var s = new StoredResource("Patient", "MRN-0042", 3, Instant.EPOCH, false, "{\"name\":[{\"family\":\"Okonkwo\"}]}");
    assertThat(s.toString()).isEqualTo("StoredResource[Patient, version 3]");
  }
}
