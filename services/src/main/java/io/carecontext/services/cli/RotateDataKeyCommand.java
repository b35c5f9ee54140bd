package io.carecontext.services.cli;

import io.carecontext.migrations.TenantId;
import io.carecontext.services.DataKeyRotation;
import io.carecontext.services.RuntimeSettings;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code tenant rotate-data-key TENANT}: unlike the other tenant commands it runs in this process, on the database as
 * its owner and with the key-encryption key, as {@code kek rotate} does: it handles key material no HTTP caller
 * should, and its re-encryption may take long for a large tenant. Serve and worker keep running.
 */
@Command(name = "rotate-data-key", description = {"Give the tenant a new data key version and seal its stored resources "
    + "and chunk texts again under it, in batches, while serve and worker run; resumable (--resume). Audit bodies keep "
    + "the version that wrote them; content hashes, identifier lookups and audit seals stay under version 1. Runs here, "
    + "with CARECONTEXT_KEK_FILE and the database owner (CARECONTEXT_DB_*), like kek rotate."})
final class RotateDataKeyCommand implements Callable<Integer> {
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
  @Parameters(index = "0", description = "tenant id") String id;
  @Option(names = "--resume", description = "no new version: finish the re-encryption a stopped run left") boolean resume;
  @Option(names = "--retire", description = "afterwards, delete each older version (not 1) that no value uses any more")
  boolean retire;
  @Option(names = "--batch", defaultValue = "500", description = "rows a transaction (default ${DEFAULT-VALUE})")
  int batch;

  @Override
  public Integer call() {
    if (batch < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--batch must be at least 1");
    }
    TenantId tenant;
    try {
      tenant = TenantId.of(id);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), e.getMessage());
    }
    java.io.PrintWriter out = spec.commandLine().getOut();
    DataKeyRotation.Result r = DataKeyRotation.run(RuntimeSettings.fromEnvironment(), tenant, resume, retire,
        batch, b -> {
          out.printf("%s: %,d value(s) sealed again%n", b.table(), b.reencrypted());
          out.flush();
        });
    out.printf("tenant %s: data key version %d active (was %d); %,d value(s) sealed again%n", id, r.toVersion(),
        r.fromVersion(), r.reencrypted());
    r.retired().forEach(v -> out.printf("data key version %d retired: nothing was sealed under it any more%n", v));
    r.stillUsed().forEach((v, counts) -> out.printf("data key version %d is kept: %s%n", v, v == 1
        ? "the content hashes, identifier lookups and audit seals are under it" + describe(counts)
        : r.replacedTooRecently().containsKey(v) ? "replaced less than two minutes ago, a process may still seal under "
            + "it" + describe(counts)
        : "it still seals " + counts + "; run this again with --resume" + (retire ? " --retire" : "")));
    out.flush();
    if (!r.replacedTooRecently().isEmpty()) {
      // --retire asked for what it may not do yet: a failure (1) a script can see, with when to run it again
      java.time.Instant from = java.util.Collections.max(r.replacedTooRecently().values());
      throw new CliException("--retire refused for data key version(s) " + r.replacedTooRecently().keySet()
          + ": replaced less than two minutes ago, a process may still seal under it; run `tenant rotate-data-key "
          + id + " --resume --retire` again at or after " + from + " (UTC). The rotation and re-encryption are done");
    }
    return 0;
  }

  private static String describe(java.util.Map<String, Long> counts) {
    return counts.values().stream().allMatch(n -> n == 0) ? "" : "; it still seals " + counts;
  }
}
