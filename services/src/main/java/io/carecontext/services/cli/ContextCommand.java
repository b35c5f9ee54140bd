package io.carecontext.services.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "context", description = "Ask for a patient's context (the caller's key decides what it may see).")
final class ContextCommand implements Callable<Integer> {
  @Mixin Connection connection;
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
  @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
  @Option(names = "--patient", required = true, description = "FHIR Patient id") String patient;
  @Option(names = "--query", required = true, description = "what to look for, in words") String query;
  @Option(names = "--k", defaultValue = "8", description = "how many chunks, 1 to 100 (the role's policy may cap it; "
      + "default: ${DEFAULT-VALUE})") int k;
  @Option(names = "--purpose", defaultValue = "TREAT", description = "TREAT, ETREAT, HPAYMT, HOPERAT, HRESCH "
      + "(default: ${DEFAULT-VALUE})")
  String purpose;
  @Option(names = "--reason", description = "required with ETREAT (break-glass)") String reason;

  @Override
  public Integer call() {
    String body = "{\"query\":" + Json.quote(query) + ",\"k\":" + k + ",\"purposeOfUse\":" + Json.quote(purpose)
        + (reason == null ? "" : ",\"reason\":" + Json.quote(reason)) + "}";
    spec.commandLine().getOut().println(ApiClient.expectOk(connection.client(false)
        .send("POST", "/v1/" + ApiClient.segment(tenant) + "/patients/" + ApiClient.segment(patient) + "/context", body)));
    return 0;
  }
}
