package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Random;
import java.util.StringJoiner;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Where PostgreSQL keeps a chunk's embedding (V15): in the row, however long the chunk's text. */
class ChunkStorageIT {

  static TestPlatform platform;
  static TenantId tenant;

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("storage");
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  @Test
  void aFullChunkWindowKeepsItsEmbeddingInTheRowAndMovesItsTextInstead() throws SQLException {
    Random rng = new Random(7);
    byte[] text = new byte[640]; // a 600-character window, encrypted: incompressible
    rng.nextBytes(text);
    StringJoiner vector = new StringJoiner(",", "[", "]");
    for (int i = 0; i < 384; i++) {
      vector.add(Float.toString(rng.nextFloat()));
    }
    try (Connection su = TestPostgres.superuser(platform.config)) {
      try (PreparedStatement ps = su.prepareStatement("""
          INSERT INTO tenant_storage.chunks (resource_type, resource_id, version_id, patient_id, category, seq,
                                             text_hash, text, model, embedding)
          VALUES ('DocumentReference', 'note-1', 1, 'p-1', 'clinical', ?, '\\x00', ?, 'test', ?::vector)""")) {
        for (int seq = 0; seq < 3; seq++) {
          ps.setInt(1, seq);
          ps.setBytes(2, text);
          ps.setString(3, vector.toString());
          ps.executeUpdate();
        }
      }
      try (Statement st = su.createStatement()) {
        String toast = scalar(st, "SELECT reltoastrelid::regclass::text FROM pg_class WHERE oid = 'tenant_storage.chunks'::regclass");
        // The row was over the 2 KB threshold, so one value of each went to the TOAST table: the
        // text (about 640 bytes), not the embedding (1,544 bytes).
        assertThat(Integer.parseInt(scalar(st, "SELECT count(DISTINCT chunk_id) FROM " + toast))).isEqualTo(3);
        assertThat(Integer.parseInt(scalar(st, "SELECT max(octet_length(chunk_data)) FROM " + toast)))
            .isBetween(600, 1000);
        assertThat(scalar(st, """
            SELECT attstorage FROM pg_attribute
            WHERE attrelid = 'tenant_storage.chunks'::regclass AND attname = 'embedding'""")).isEqualTo("p");
        // and the distance reads the row as stored
        assertThat(scalar(st, "SELECT count(*) FROM tenant_storage.chunks WHERE embedding <=> embedding < 1e-6"))
            .isEqualTo("3");
      }
    }
  }

  private static String scalar(Statement st, String sql) throws SQLException {
    try (ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getString(1);
    }
  }
}
