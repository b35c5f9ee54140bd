package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DatabaseConfigTest {

  @Test
  void aLibpqUrlIsRefusedWithWhatAJdbcOneLooksLike() {
    // "database URL must start with jdbc:postgresql:" named neither the variable nor the form
    for (String url : new String[] {"postgresql://db:5432/carecontext", "postgres://u:p@db/carecontext"}) {
      assertThatThrownBy(() -> new DatabaseConfig(url, "owner", "pw", null, null, "carecontext", 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("CARECONTEXT_DB_URL")
          .hasMessageContaining("e.g. jdbc:postgresql://").hasMessageNotContaining("u:p@");
    }
  }

  @Test
  void aUrlThatWouldSwitchTheServersErrorDetailBackOnIsRefused() {
    for (String url : new String[] {"jdbc:postgresql://db/carecontext?logServerErrorDetail=true",
        "jdbc:postgresql://db/carecontext?sslmode=require&LOGSERVERERRORDETAIL=true"}) {
      assertThatThrownBy(() -> new DatabaseConfig(url, "owner", "pw", null, null, "carecontext", 0))
          .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("logServerErrorDetail");
    }
    assertThat(new DatabaseConfig("jdbc:postgresql://db/carecontext?sslmode=require", "owner", "pw", null, null,
        "carecontext", 0).appUser()).isEqualTo("carecontext_app");
  }
}
