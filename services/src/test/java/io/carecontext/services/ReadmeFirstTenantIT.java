package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * README's "A first tenant by hand", pasted as is: its context call returns the patient's HbA1c.
 * It answered 404 no_care_relationship once the Encounter it loads had ended more than
 * encounterFollowUpDays ago, and nothing ran the block to notice.
 */
class ReadmeFirstTenantIT {

  static TestServer app;

  @BeforeAll
  static void start() {
    app = new TestServer();
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  @Test
  void theStepsAsPastedReturnContextAndAnAuditRow() throws Exception {
    Path readme = Path.of(System.getProperty("user.dir")).resolve("../README.md").normalize();
    String text = Files.readString(readme, StandardCharsets.UTF_8);
    int from = text.indexOf("CC=http://127.0.0.1:8080;");
    int to = text.indexOf("```", from);
    assertThat(from).as("the block in README.md").isPositive();
    // the block waits for the worker itself (it said "sleep 3", which a cold server's model load outlasts: the
    // test replaced it with a wait, and a reader pasting the block asked for context before there was any)
    assertThat(text.substring(from, to)).contains("grep -q '\"outboxDepth\":0' && break").doesNotContain("sleep 3");
    String block = text.substring(from, to).replace("127.0.0.1:8080", "127.0.0.1:" + app.server.port());
    ProcessBuilder pb = new ProcessBuilder("bash", "-c", block).redirectErrorStream(true);
    pb.environment().put("CARECONTEXT_ADMIN_KEY", app.adminKey());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(out).as(out).contains("\"resource\":\"Observation/a1c-1\"").contains("HbA1c 7.1 %")
        .contains("\"action\":\"context\",\"decision\":\"allowed\"")
        .doesNotContain("patient_not_found");
  }
}
