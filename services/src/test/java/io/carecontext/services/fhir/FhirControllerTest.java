package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.migrations.DatabaseException;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class FhirControllerTest {

  /**
   * A write the database refuses for the presented key (its policies admit no row for it, tenant
   * migration 29) is the caller's key gone stale mid-request, answered 403 with what to do; any
   * other database failure is not.
   */
  @Test
  void aWriteRefusedForTheKeyIsToldApartFromOtherFailures() {
    assertThat(FhirController.refusedForTheKey(new DatabaseException("tenant transaction failed (42501)",
        new SQLException("new row violates row-level security policy for table \"resources\"", "42501")))).isTrue();
    assertThat(FhirController.refusedForTheKey(new DatabaseException("tenant transaction failed (08006)",
        new SQLException("connection lost", "08006")))).isFalse();
    assertThat(FhirController.refusedForTheKey(new DatabaseException("no cause"))).isFalse();
    assertThat(FhirController.refusedForTheKey(new DatabaseException("tenant transaction failed (42501)",
        new SQLException("permission denied for table audit_log", "42501")))).isFalse();
    assertThat(FhirController.KEY_REFUSED).contains("nothing was stored").contains("ehr-integration");
  }
}
