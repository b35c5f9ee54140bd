package io.carecontext.services.cli;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "key", description = "Create, list and revoke API keys of a tenant.",
    subcommands = {KeyCommand.Create.class, KeyCommand.ListKeys.class, KeyCommand.Revoke.class})
final class KeyCommand {

  @Command(name = "create", description = "Create a key; its secret is printed once.")
  static final class Create implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
    @Option(names = "--principal", required = true, description = "who uses the key, e.g. dr-lee") String principal;
    @Option(names = "--role", required = true, description = "ehr-integration, clinician, care-coordinator, billing, "
        + "researcher, tenant-admin, auditor (repeat for several)") List<String> roles;
    @Option(names = "--expires", description = "ISO-8601 instant, e.g. 2030-01-01T00:00:00Z") String expires;
    @Option(names = "--practitioner", description = "the Practitioner's FHIR id, or PractitionerRole/<id> (care relationship for clinicians; without it a clinician key sees no patient but by break-glass)")
    String practitioner;

    @Override
    public Integer call() {
      if (expires != null) {
        try {
          java.time.OffsetDateTime.parse(expires);
        } catch (java.time.format.DateTimeParseException e) {
          // the server's answer named its field, 'expiresAt', which this command does not have; the value is
          // not echoed, as no usage error echoes one (a key pasted into the wrong option would be printed)
          throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--expires takes an ISO-8601 instant "
              + "with its offset, e.g. 2030-01-01T00:00:00Z (a date alone, or epoch seconds, is not one)");
        }
      }
      String body = "{\"principal\":" + Json.quote(principal) + ",\"roles\":["
          + roles.stream().map(Json::quote).collect(Collectors.joining(",")) + "]"
          + (expires == null ? "" : ",\"expiresAt\":" + Json.quote(expires))
          + (practitioner == null ? "" : ",\"practitionerId\":" + Json.quote(practitioner)) + "}";
      spec.commandLine().getOut().println(ApiClient.expectOk(
          connection.client(true).send("POST", "/admin/tenants/" + ApiClient.segment(tenant) + "/keys", body)));
      return 0;
    }
  }

  @Command(name = "list", description = "List a tenant's keys (never their secrets).")
  static final class ListKeys implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(ApiClient.expectOk(
          connection.client(true).send("GET", "/admin/tenants/" + ApiClient.segment(tenant) + "/keys", null)));
      return 0;
    }
  }

  @Command(name = "revoke", description = "Revoke a key at once.")
  static final class Revoke implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
    @Parameters(index = "0", description = "key id") String keyId;

    @Override
    public Integer call() {
      ApiClient.expectOk(connection.client(true).send("DELETE", "/admin/tenants/" + ApiClient.segment(tenant) + "/keys/" + ApiClient.segment(keyId), null));
      spec.commandLine().getOut().println("key " + keyId + " revoked");
      return 0;
    }
  }
}
