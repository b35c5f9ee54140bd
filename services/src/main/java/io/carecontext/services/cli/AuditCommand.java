package io.carecontext.services.cli;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "audit", description = "Verify or export a tenant's audit trail (auditor key).",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Export.class})
final class AuditCommand {

  @Command(name = "verify", description = "Recompute the hash chain; exit 1 if it is broken.")
  static final class Verify implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;

    @Override
    public Integer call() {
      String body = ApiClient.expectOk(connection.client(false).send("GET", "/v1/" + ApiClient.segment(tenant) + "/audit/verify", null));
      spec.commandLine().getOut().println(body);
      return body.replace(" ", "").contains("\"valid\":true") ? 0 : 1;
    }
  }

  @Command(name = "export", description = "Export as FHIR AuditEvent NDJSON.")
  static final class Export implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
    @Option(names = "--out", description = "file to write (default: standard output)") Path out;

    @Override
    public Integer call() throws Exception {
      HttpResponse<InputStream> r = connection.client(false).stream("/v1/" + ApiClient.segment(tenant) + "/audit/export");
      if (r.statusCode() / 100 != 2) {
        try (InputStream in = r.body()) {
          throw new CliException("HTTP " + r.statusCode() + ": " + new String(in.readAllBytes()));
        }
      }
      try (InputStream in = r.body();
          OutputStream o = out == null ? System.out : Files.newOutputStream(out)) {
        in.transferTo(o);
      }
      return 0;
    }
  }
}
