package io.carecontext.services.cli;

import io.carecontext.migrations.EmbeddedPostgres;
import io.carecontext.retrieval.deid.DeidEvaluation;
import io.carecontext.services.CareContextServer;
import io.carecontext.services.Demo;
import io.carecontext.services.KeyEncryptionKeyRotation;
import io.carecontext.services.RuntimeSettings;
import io.carecontext.services.bench.ImportBenchmark;
import io.carecontext.services.bench.IngestBenchmark;
import io.carecontext.services.bench.RetrievalBenchmark;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The server half of {@code ./carecontext}: commands that run the service, the worker, the
 * embedded PostgreSQL, the benchmarks and the evaluation in this process. Configuration comes from
 * the environment (see README.md).
 */
final class RuntimeCommands {

  private RuntimeCommands() {}

  /**
   * What {@code serve --help} must say: a newcomer who ran it learnt nothing of the port, the key or
   * where the data goes, which the environment decides.
   */
  static final String CONFIGURATION = "%nConfigured by environment variables (README.md lists them all), e.g.:%n"
      + "  CARECONTEXT_PORT       HTTP port (8080; -1: any free port)%n"
      + "  CARECONTEXT_ADMIN_KEY  operator key (else $CARECONTEXT_HOME/admin.key)%n"
      + "  CARECONTEXT_HOME       data, keys, embedded PostgreSQL (./.carecontext)%n"
      + "  CARECONTEXT_DB_URL     an external PostgreSQL (else the embedded one)%n"
      + "Stop with Ctrl-C or SIGTERM.";

  /**
   * What `kek rotate` reads: the settings of the service it rotates for. It showed serve's footer, whose
   * port and operator key it does not use and whose "Stop with Ctrl-C or SIGTERM" a one-off command has no use for.
   */
  static final String KEK_CONFIGURATION = "%nRun it with the service's own settings (README.md lists them all):%n"
      + "  CARECONTEXT_HOME       data, keys, embedded PostgreSQL (./.carecontext)%n"
      + "  CARECONTEXT_KEK_FILE   the current key ($CARECONTEXT_HOME/kek.key)%n"
      + "  CARECONTEXT_KEK_PREVIOUS_FILE  the old key, to rotate while serve runs%n"
      + "  CARECONTEXT_KEK_PKCS11_*       a key in a PKCS#11 token instead%n"
      + "  CARECONTEXT_DB_URL     an external PostgreSQL (else the embedded one),%n"
      + "                         with the owner's CARECONTEXT_DB_USER/_PASSWORD";

  @Command(name = "serve", description = "Start the HTTP service (the embedded PostgreSQL unless CARECONTEXT_DB_URL "
      + "is set). Runs until stopped.", footer = CONFIGURATION)
  static final class Serve implements Callable<Integer> {
    @Override
    public Integer call() throws InterruptedException {
      return runUntilStopped("CareContext listening on port ", false);
    }
  }

  @Command(name = "worker", description = "Run the embedding worker alone, with health and metrics on "
      + "CARECONTEXT_PORT for probes and scraping; configured like serve (see serve --help).")
  static final class Worker implements Callable<Integer> {
    @Override
    public Integer call() throws InterruptedException {
      // the worker's own default, unless set either way: a -Dcarecontext.worker.threads was overwritten
      if (io.carecontext.migrations.Setting.of("CARECONTEXT_WORKER_THREADS").isEmpty()) {
        System.setProperty("carecontext.worker.threads", "2");
      }
      return runUntilStopped("CareContext embedding worker running; health and metrics on port ", true);
    }
  }

  /**
   * A benchmark or evaluation of no patients measured nothing and printed a table all the same:
   * {@code eval deid --patients 0} reported recall 1.000, every target met, with nothing planted.
   */
  static void requirePatients(CommandSpec spec, int patients) {
    if (patients < 1 || patients > 100_000) {
      // a value the option cannot take is a usage error (2), as the README says; it exited 1, like a refused
      // configuration
      throw new ParameterException(spec.commandLine(), "--patients must be 1 to 100000");
    }
  }

  /** Starts the service as configured, says so with its port, and serves until stopped. */
  static int runUntilStopped(String banner, boolean workerOnly) throws InterruptedException {
    RuntimeSettings settings = RuntimeSettings.fromEnvironment();
    CareContextServer server = CareContextServer.start(settings, workerOnly);
    server.stopOnExit();
    System.out.println(banner + server.port() + (settings.tlsCertificate().isPresent() ? " (HTTPS)" : ""));
    java.util.List<String> ineffective = io.carecontext.migrations.SecretNames.ineffectiveGrants();
    if (!ineffective.isEmpty()) {
      // names of variables, never their values: a grant that can never take effect, said once at start
      System.err.println("warning: " + io.carecontext.migrations.SecretNames.GRANTS_VARIABLE + " lists "
          + String.join(", ", ineffective) + ", which never take effect: each entry is tenant:VARIABLE, and the "
          + "platform's own variables (" + io.carecontext.migrations.SecretNames.PLATFORM_VARIABLES
          + ") are never sent to an endpoint");
    }
    java.util.List<String> unmatched = io.carecontext.migrations.ModelHosts.ineffectiveApprovals();
    if (!unmatched.isEmpty()) {
      // host names the operator wrote, no secret: said once at start, where a typo was silent until a tenant
      // admin's endpoint setting was refused as not approved
      System.err.println("warning: " + io.carecontext.migrations.ModelHosts.VARIABLE + " lists "
          + String.join(", ", unmatched) + ", which approve no host: each entry is tenant:host (or *:host), the host "
          + "alone, without scheme, port or path, e.g. acme:acme.openai.azure.com");
    }
    server.awaitShutdown();
    return 0;
  }

  @Command(name = "migrate", description = "Bring the roles, the platform schema and every tenant schema up to date, "
      + "then exit (for a Helm hook or a compose one-off).")
  static final class Migrate implements Callable<Integer> {
    @Override
    public Integer call() {
      CareContextServer.migrateOnly(RuntimeSettings.fromEnvironment());
      System.out.println("database schemas are up to date");
      return 0;
    }
  }

  @Command(name = "demo", description = "The main job: the service on the embedded PostgreSQL, a demo tenant with a "
      + "key per role, generated patients ingested and embedded, and curl calls that work as printed.",
      footer = CONFIGURATION)
  static final class DemoCommand implements Callable<Integer> {
    @Option(names = "--patients", defaultValue = "20", description = "generated patients to ingest (default ${DEFAULT-VALUE})")
    int patients;
    @Spec CommandSpec spec;

    @Option(names = "--exit", description = "stop after printing the calls instead of serving them")
    boolean exit;

    @Override
    public Integer call() throws Exception {
      requirePatients(spec, patients);
      CareContextServer server = CareContextServer.start(RuntimeSettings.fromEnvironment());
      // a Ctrl-C while the patients load and embed (the progress says it stops the demo) stops it all
      server.stopOnExit();
      Demo demo = new Demo(server);
      Demo.Setup setup;
      try {
        setup = demo.setUp(patients, System.err);
      } catch (Exception e) {
        if (server.stopping()) {
          // the stop took the service away under the load: its own lines say so; no stack trace over them
          Thread.currentThread().join();
        }
        throw e;
      }
      demo.printInstructions(setup, System.out, !exit);
      if (exit) {
        server.close();
        return 0;
      }
      server.awaitShutdown();
      return 0;
    }
  }

  @Command(name = "kek", description = "The key-encryption key that wraps every tenant's data key.",
      subcommands = {Kek.Rotate.class})
  static final class Kek {

    @Command(name = "rotate", description = "Wrap every tenant's data key again under a new key-encryption key (no "
        + "data is re-encrypted); resumable. Either stop serve and worker and give --to, or, to keep them running, "
        + "restart them with CARECONTEXT_KEK_FILE=the new key and CARECONTEXT_KEK_PREVIOUS_FILE=the old one and run "
        + "it without --to.", footer = KEK_CONFIGURATION)
    static final class Rotate implements Callable<Integer> {
      @Option(names = "--to", paramLabel = "FILE",
          description = "the new key's file: base64 of 32 random bytes, mode 600; made so if it does not exist, in a "
              + "folder that must exist. "
              + "Without it, rotates from CARECONTEXT_KEK_PREVIOUS_FILE to the current key: CARECONTEXT_KEK_FILE, or the "
              + "PKCS#11 key of CARECONTEXT_KEK_PKCS11_*")
      java.nio.file.Path to;

      @Override
      public Integer call() {
        RuntimeSettings settings = RuntimeSettings.fromEnvironment();
        var result = KeyEncryptionKeyRotation.run(settings, java.util.Optional.ofNullable(to), sessions -> {
          if (sessions > 0) {
            // Refused, not warned about: a serve or worker still on the old key makes a new tenant's data key
            // under it after this commits, and the warning came with the rotation already done.
            throw new CliException(sessions + " connection(s) of the application role are open: a serve or worker "
                + "is still running on the old key; stop them and run this again, or rotate while they run (restart "
                + "them with CARECONTEXT_KEK_PREVIOUS_FILE, then `kek rotate` without --to; see the README); "
                + "nothing was changed");
          }
        });
        System.out.printf("rewrapped %d tenant data key(s) from kek %s to kek %s (%d already under it).%n",
            result.rewrapped(), result.fromKekId(), result.toKekId(), result.alreadyUnderNew());
        if (to == null) {
          System.out.println("Next: unset " + settings.previousKekSetting() + " and restart serve and worker, one at a "
              + "time; no data key needs the old key any longer. Keep the old key apart, with the backups made under it: "
              + "a restored backup needs the key of its day.");
        } else {
          System.out.println("Next: set CARECONTEXT_KEK_FILE=" + to.toAbsolutePath() + " (or move that file over "
              + settings.kekFile().toAbsolutePath() + ") and start serve and worker again; they cannot open the data "
              + "keys with the old key any longer. Keep the old key apart, with the backups made under it: a "
              + "restored backup needs the key of its day.");
        }
        return 0;
      }
    }
  }

  @Command(name = "db", description = "Manage the embedded PostgreSQL under $CARECONTEXT_HOME/postgres.",
      subcommands = {Db.Start.class, Db.Stop.class, Db.Status.class})
  static final class Db {

    static EmbeddedPostgres embedded() {
      return EmbeddedPostgres.at(RuntimeSettings.fromEnvironment().home().resolve("postgres"));
    }

    @Command(name = "start", description = "Start it (initialise it on first use); idempotent.")
    static final class Start implements Callable<Integer> {
      @Override
      public Integer call() {
        EmbeddedPostgres pg = embedded().start();
        System.out.println("embedded PostgreSQL running on 127.0.0.1:" + pg.port() + " (data in " + pg.dataDir() + ")");
        return 0;
      }
    }

    @Command(name = "stop", description = "Stop it; idempotent.")
    static final class Stop implements Callable<Integer> {
      @Spec CommandSpec spec;

      @Override
      public Integer call() {
        java.io.PrintWriter out = spec.commandLine().getOut();
        EmbeddedPostgres pg = embedded();
        if (!pg.isRunning()) {
          // it said "stopped" when nothing had run: with a mistyped CARECONTEXT_HOME the cluster that
          // does run looked stopped
          out.println("no embedded PostgreSQL was running under " + pg.dataDir() + ": nothing to stop "
              + "(check CARECONTEXT_HOME if you expected one)");
          return 0;
        }
        pg.stop();
        if (pg.isRunning()) {
          throw new CliException("the embedded PostgreSQL under " + pg.dataDir() + " did not stop: run "
              + "./carecontext db stop again, or pg_ctl -D " + pg.dataDir() + " stop as the user that owns it");
        }
        out.println("embedded PostgreSQL stopped");
        return 0;
      }
    }

    @Command(name = "status", description = "Exit 0 when it runs, 3 when it does not.")
    static final class Status implements Callable<Integer> {
      @Override
      public Integer call() {
        EmbeddedPostgres pg = embedded();
        var port = pg.runningPort();
        System.out.println(port.map(p -> "embedded PostgreSQL running on 127.0.0.1:" + p)
            .orElse("embedded PostgreSQL not running (data in " + pg.dataDir() + ")"));
        return port.isPresent() ? 0 : 3;
      }
    }
  }

  @Command(name = "bench", description = "Benchmarks against the embedded default (or CARECONTEXT_DB_URL); each "
      + "prints a table with its baseline measured in the same run.",
      subcommands = {Bench.Ingest.class, Bench.Import.class, Bench.Retrieval.class})
  static final class Bench {

    /** On a random port, with no background worker: the benchmark drives the work itself. */
    static CareContextServer server() {
      System.setProperty("carecontext.port", "-1");
      System.setProperty("carecontext.worker.threads", "0");
      return CareContextServer.start(RuntimeSettings.fromEnvironment());
    }

    @Command(name = "ingest", description = "Store and embed generated patients; compare with the bare model.")
    static final class Ingest implements Callable<Integer> {
      @Option(names = "--patients", defaultValue = "100", description = "generated patients to store and embed "
          + "(default ${DEFAULT-VALUE})") int patients;
      @Spec CommandSpec spec;

      @Override
      public Integer call() throws Exception {
        requirePatients(spec, patients);
        try (CareContextServer server = server()) {
          IngestBenchmark.run(server, patients, System.out);
        }
        return 0;
      }
    }

    @Command(name = "import", description = "Bulk $import of one NDJSON body; throughput and peak memory.")
    static final class Import implements Callable<Integer> {
      @Option(names = "--patients", defaultValue = "200", description = "generated patients in the NDJSON body "
          + "(default ${DEFAULT-VALUE})") int patients;
      @Spec CommandSpec spec;

      @Override
      public Integer call() throws Exception {
        requirePatients(spec, patients);
        // One NDJSON body for all patients: allow it, the point is that it is streamed.
        System.setProperty("carecontext.fhir.max.bytes", Integer.toString(Integer.MAX_VALUE)); // the most the setting takes
        try (CareContextServer server = server()) {
          ImportBenchmark.run(server, patients, System.out);
        }
        return 0;
      }
    }

    @Command(name = "retrieval", description = "Context queries: HTTP end to end, the retrieval core, and "
        + "LangChain4j's PgVectorEmbeddingStore as created and tuned, in one run.")
    static final class Retrieval implements Callable<Integer> {
      @Option(names = "--tenants", defaultValue = "3", description = "tenants (default ${DEFAULT-VALUE})") int tenants;
      @Spec CommandSpec spec;
      @Option(names = "--patients", defaultValue = "2000", description = "patients per tenant (default ${DEFAULT-VALUE})")
      int patients;
      @Option(names = "--chunks", defaultValue = "50", description = "chunks per patient (default ${DEFAULT-VALUE})") int chunks;
      @Option(names = "--text-chars", defaultValue = "0", description = "characters of text per chunk; 0 (the "
          + "default) for a short label, 600 for full chunk windows as ingest makes them") int textChars;
      @Option(names = "--consent-exceptions", defaultValue = "0", description = "percentage of patients whose "
          + "consent excludes a class (each of their chunks is then checked against the consent's rules); "
          + "0 (the default): every consent a plain permit") int consentExceptions;
      @Option(names = "--clients", defaultValue = "8", description = "concurrent clients (default ${DEFAULT-VALUE})") int clients;
      @Option(names = "--seconds", defaultValue = "60", description = "measured seconds per run, after a warm-up "
          + "(default ${DEFAULT-VALUE})") double seconds;
      @Option(names = "--keep", description = "keep the benchmark tenants (bench0, bench1, …) afterwards, "
          + "to inspect plans or rerun queries by hand; the next run replaces them") boolean keep;
      @Option(names = "--core-only", description = "only the retrieval core and the tuned LangChain4j store (the "
          + "ratio that matters when working on the read path), without the HTTP runs and the untuned store")
      boolean coreOnly;
      @Option(names = "--http-only", description = "only the two HTTP runs (the figures that matter when working "
          + "on the HTTP path), without the retrieval core and LangChain4j's store") boolean httpOnly;

      @Override
      public Integer call() throws Exception {
        RetrievalBenchmark.Setup setup;
        try {
          // checked before the service starts, and a usage error (2): --patients 0 started it and then exited 1
          setup = new RetrievalBenchmark.Setup(tenants, patients, chunks, textChars, consentExceptions, clients,
              seconds, keep, coreOnly, httpOnly);
        } catch (IllegalArgumentException e) {
          throw new ParameterException(spec.commandLine(), e.getMessage());
        }
        try (CareContextServer server = server()) {
          RetrievalBenchmark.run(server, setup, System.out);
        }
        return 0;
      }
    }
  }

  @Command(name = "eval", description = "Evaluations.", subcommands = {Eval.Deid.class})
  static final class Eval {
    @Command(name = "deid", description = "De-identification recall and precision per identifier class on "
        + "annotated generated notes.")
    static final class Deid implements Callable<Integer> {
      @Option(names = "--patients", defaultValue = "200", description = "generated patients whose annotated notes "
          + "make the corpus (default ${DEFAULT-VALUE})") int patients;
      @Spec CommandSpec spec;
      @Option(names = "--seed", defaultValue = "2024", description = "seed of the generator: the same seed makes "
          + "the same corpus (default ${DEFAULT-VALUE})") long seed;

      @Override
      public Integer call() {
        requirePatients(spec, patients);
        DeidEvaluation.print(DeidEvaluation.run(patients, seed), System.out);
        return 0;
      }
    }
  }
}
