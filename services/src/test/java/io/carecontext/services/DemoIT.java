package io.carecontext.services;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The main job's printed curl calls run exactly as printed, and succeed. */
class DemoIT {

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
  void printedCurlCallsWorkAsPrinted() throws Exception {
    Demo demo = new Demo(app.server);
    ByteArrayOutputStream progress = new ByteArrayOutputStream();
    Demo.Setup setup = demo.setUp(4, new PrintStream(progress, true, StandardCharsets.UTF_8));
    assertThat(progress.toString(StandardCharsets.UTF_8)).contains("4/4 patients").contains("outbox      0 left");
    ByteArrayOutputStream printed = new ByteArrayOutputStream();
    demo.printInstructions(setup, new PrintStream(printed, true, StandardCharsets.UTF_8), true);
    String text = printed.toString(StandardCharsets.UTF_8);
    // this server runs on a database it was given, so stopping the demo leaves that database alone
    assertThat(text).contains("Stop with Ctrl-C; the database (CARECONTEXT_DB_URL) is not touched.");
    int executed = 0;
    for (String line : text.lines().map(String::strip).filter(l -> l.startsWith("curl ")).toList()) {
      Process p = new ProcessBuilder("bash", "-c", line + " -w '\\n%{http_code}'").redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(p.waitFor()).as(line).isZero();
      assertThat(out.strip()).as(out).endsWith("200");
      assertThat(out).doesNotContain("\"error\"");
      if (line.contains("recent HbA1c trend")) {
        assertThat(out).contains("\"chunks\":[{").contains("Hemoglobin A1c");
      }
      if (line.contains("dryRun")) {
        assertThat(out).contains("\"prompt\":\"").contains("Sources:");
      }
      if (line.contains("audit/verify")) {
        assertThat(out).contains("\"valid\":true");
      }
      executed++;
    }
    assertThat(executed).isEqualTo(7);

    // demo --exit: the same calls, but it does not claim to be running, and says how to start it again
    ByteArrayOutputStream afterExit = new ByteArrayOutputStream();
    demo.printInstructions(setup, new PrintStream(afterExit, true, StandardCharsets.UTF_8), false);
    assertThat(afterExit.toString(StandardCharsets.UTF_8)).doesNotContain("is running").doesNotContain("Ctrl-C")
        .contains("has stopped (--exit)").contains("CARECONTEXT_PORT=" + app.server.port() + " ./carecontext serve")
        .contains("The database (CARECONTEXT_DB_URL) is not touched.");
    // a home given to demo is named too: serve without it starts an empty installation, where no printed key works
    ByteArrayOutputStream withHome = new ByteArrayOutputStream();
    demo.printInstructions(setup, new PrintStream(withHome, true, StandardCharsets.UTF_8), false,
        java.util.Map.of("CARECONTEXT_HOME", "/tmp/my cc"));
    assertThat(withHome.toString(StandardCharsets.UTF_8))
        .contains("CARECONTEXT_HOME='/tmp/my cc' CARECONTEXT_PORT=" + app.server.port() + " ./carecontext serve");
  }

  /**
   * A refusal says what the server said, which says what to do: "could not create the demo tenant: HTTP 409"
   * alone did not tell that a tenant 'demo' made by hand stood in the way (nor "could not create a demo key:
   * HTTP 503" that the home's key-encryption key had been rotated away).
   */
  @Test
  void aRefusedStepSaysWhatTheServerSaid() {
    try (TestServer other = new TestServer(java.util.Map.of("CARECONTEXT_WORKER_THREADS", "0"))) {
      assertThat(other.call("POST", "/admin/tenants", other.adminKey(),
          "{\"id\":\"demo\",\"name\":\"A tenant of my own\"}").statusCode()).isEqualTo(201);
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> new Demo(other.server).setUp(1,
              new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageStartingWith("could not create the demo tenant: HTTP 409: tenant 'demo' already exists with "
              + "another name");
    }
  }
}
