package io.carecontext.services.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tenant", description = "Create, list, show and delete tenants (platform operator key).",
    subcommands = {TenantCommand.Create.class, TenantCommand.ListTenants.class, TenantCommand.Get.class,
        TenantCommand.Delete.class, TenantCommand.Wait.class, RotateDataKeyCommand.class})
final class TenantCommand {

  @Command(name = "create", description = "Provision a tenant: schema, role, policies and data key.")
  static final class Create implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", description = "tenant id: ^[a-z][a-z0-9_]{1,30}$") String id;
    @Option(names = "--name", description = "display name (default: the id)") String name;

    @Override
    public Integer call() {
      String body = "{\"id\":" + Json.quote(id) + (name == null ? "" : ",\"name\":" + Json.quote(name)) + "}";
      spec.commandLine().getOut().println(ApiClient.expectOk(connection.client(true).send("POST", "/admin/tenants", body)));
      return 0;
    }
  }

  @Command(name = "list", description = "List active tenants.")
  static final class ListTenants implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(ApiClient.expectOk(connection.client(true).send("GET", "/admin/tenants", null)));
      return 0;
    }
  }

  @Command(name = "get", description = "Show a tenant's configuration.")
  static final class Get implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", description = "tenant id") String id;

    @Override
    public Integer call() {
      spec.commandLine().getOut().println(ApiClient.expectOk(connection.client(true).send("GET", "/admin/tenants/" + ApiClient.segment(id), null)));
      return 0;
    }
  }

  /**
   * The progress of work the embedding worker does for a tenant that no load command follows: a
   * change of embedding model re-embeds every resource (hours for a large tenant), and an upgrade
   * may queue re-chunking; both could be followed only by polling GET /admin/tenants/{t}/ingest.
   */
  @Command(name = "wait", description = "Wait until the embedding worker has embedded everything queued for the "
      + "tenant (a load sent with --no-wait, a change of embedding model, an upgrade's re-chunking), showing what "
      + "is left, the rate and any failures; exit 1 if rows were parked meanwhile, or chunks of another model are left "
      + "with nothing queued (platform or tenant-admin key).")
  static final class Wait implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", description = "tenant id") String id;

    @Override
    public Integer call() throws InterruptedException {
      IngestCommand.Waited w = IngestCommand.waitForWorker(connection.client(true), id, spec.commandLine().getErr());
      spec.commandLine().getOut().println("tenant " + id + ": nothing left to embed"
          + (w.parked() == 0 ? "" : String.format("; %,d resource(s) parked", w.parked()))
          + (w.otherModel() == 0 ? "" : String.format("; %,d chunk(s) still of another model", w.otherModel())));
      return w.parked() == 0 && w.otherModel() == 0 ? 0 : 1;
    }
  }

  @Command(name = "delete", description = {"Offboard a tenant: its data key is destroyed, schema and role dropped, at once and "
      + "for good. Its audit trail is in that schema and goes with it: keep it first with "
      + "'audit export --tenant ID' (auditor key).",
      "Asks for the tenant id again: give it as --confirm ID, or type it when asked at a terminal."})
  static final class Delete implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Parameters(index = "0", description = "tenant id") String id;
    @picocli.CommandLine.Option(names = "--confirm", paramLabel = "ID",
        description = "the tenant id again, to confirm the deletion (without it, asked for at a terminal)")
    String confirm;

    @Override
    public Integer call() {
      java.io.Console console = System.console();
      requireConfirmation(id, confirm, console == null ? null : prompt -> console.readLine("%s", prompt));
      ApiClient.expectOk(connection.client(true).send("DELETE", "/admin/tenants/" + ApiClient.segment(id), null));
      spec.commandLine().getOut().println("tenant " + id + " deleted");
      return 0;
    }
  }

  /**
   * A deletion destroys the tenant's data key, data and audit trail at once and for good: one mistyped or
   * recalled command line must not do it. The id is asked for again, as --confirm or typed at a terminal.
   */
  static void requireConfirmation(String id, String confirm,
                                  @io.micronaut.core.annotation.Nullable java.util.function.UnaryOperator<String> ask) {
    String again = confirm;
    if (again == null && ask != null) {
      again = ask.apply("This destroys tenant " + id + "'s data and audit trail for good (" + keepTrail("keep", id)
          + "). Type the tenant id to delete it: ");
    }
    if (again == null) {
      throw new IllegalArgumentException("tenant delete destroys the tenant for good, its audit trail with it, and "
          + "needs its id again. " + keepTrail("Keep", id) + "; then run ./carecontext tenant delete " + id
          + " --confirm " + id);
    }
    if (!again.strip().equals(id)) {
      throw new IllegalArgumentException("the confirmation does not match the tenant id: nothing was deleted. Give "
          + "the same id to --confirm (or type it exactly when asked)");
    }
  }

  /**
   * The step before an offboarding that the deletion cannot undo: the audit trail lives in the tenant's schema, and
   * the retention a covered entity owes it (six years under HIPAA) outlives the tenant.
   */
  private static String keepTrail(String keep, String id) {
    return keep + " its audit trail first if your retention rules require it: ./carecontext audit export --tenant "
        + id + " --out " + id + "-audit.ndjson --key AUDITOR_KEY";
  }
}
