package io.carecontext.services;

import io.carecontext.migrations.EmbeddedPostgres;
import java.io.PrintStream;
import java.util.Arrays;

/** The {@code ./carecontext} command line. */
public final class Application {

  private Application() {}

  public static void main(String[] args) throws Exception {
    String command = args.length == 0 ? "serve" : args[0];
    String[] rest = args.length == 0 ? args : Arrays.copyOfRange(args, 1, args.length);
    int code;
    try {
      code = run(command, rest);
    } catch (IllegalArgumentException | IllegalStateException e) {
      System.err.println("carecontext: " + e.getMessage());
      code = 2;
    }
    if (code != 0 || !("serve".equals(command) || "demo".equals(command) || "worker".equals(command))) {
      System.exit(code);
    }
  }

  static int run(String command, String[] rest) throws Exception {
    RuntimeSettings settings = RuntimeSettings.fromEnvironment();
    switch (command) {
      case "serve" -> {
        CareContextServer server = CareContextServer.start(settings);
        System.out.println("CareContext listening on port " + server.port());
        server.awaitShutdown();
        return 0;
      }
      case "migrate" -> {
        // Roles, platform schema and every tenant schema brought up to date, then exit (Helm hook, compose).
        CareContextServer.migrateOnly(settings);
        System.out.println("database schemas are up to date");
        return 0;
      }
      case "worker" -> {
        // The embedding worker, with health and metrics on CARECONTEXT_PORT for probes and scraping.
        if (System.getenv("CARECONTEXT_WORKER_THREADS") == null) {
          System.setProperty("carecontext.worker.threads", "2");
        }
        CareContextServer server = CareContextServer.start(RuntimeSettings.fromEnvironment());
        System.out.println("CareContext embedding worker running; health on port " + server.port());
        server.awaitShutdown();
        return 0;
      }
      case "demo" -> {
        CareContextServer server = CareContextServer.start(settings);
        Demo demo = new Demo(server);
        int patients = Integer.parseInt(option(rest, "--patients", "20"));
        demo.printInstructions(demo.setUp(patients, System.err), System.out);
        if (java.util.List.of(rest).contains("--exit")) {
          server.close();
          return 0;
        }
        server.awaitShutdown();
        return 0;
      }
      case "eval" -> {
        if (rest.length == 0 || !rest[0].equals("deid")) {
          System.err.println("carecontext eval: use 'eval deid [--patients N] [--seed S]'");
          return 2;
        }
        io.carecontext.retrieval.deid.DeidEvaluation.print(io.carecontext.retrieval.deid.DeidEvaluation.run(
            Integer.parseInt(option(rest, "--patients", "200")), Long.parseLong(option(rest, "--seed", "2024"))),
            System.out);
        return 0;
      }
      case "bench" -> {
        return bench(rest);
      }
      case "db" -> {
        return db(settings, rest);
      }
      case "help", "--help", "-h" -> {
        usage(System.out);
        return 0;
      }
      default -> {
        if (io.carecontext.services.cli.Cli.handles(command)) {
          java.io.PrintWriter out = new java.io.PrintWriter(System.out, true);
          java.io.PrintWriter err = new java.io.PrintWriter(System.err, true);
          String[] all = new String[rest.length + 1];
          all[0] = command;
          System.arraycopy(rest, 0, all, 1, rest.length);
          return io.carecontext.services.cli.Cli.run(all, out, err);
        }
        System.err.println("carecontext: unknown command '" + command.replaceAll("[^A-Za-z0-9-]", "?") + "'");
        usage(System.err);
        return 2;
      }
    }
  }

  private static int db(RuntimeSettings settings, String[] rest) {
    String action = rest.length == 0 ? "status" : rest[0];
    EmbeddedPostgres pg = EmbeddedPostgres.at(settings.home().resolve("postgres"));
    switch (action) {
      case "start" -> {
        pg.start();
        System.out.println("embedded PostgreSQL running on 127.0.0.1:" + pg.port() + " (data in " + pg.dataDir() + ")");
        return 0;
      }
      case "stop" -> {
        pg.stop();
        System.out.println("embedded PostgreSQL stopped");
        return 0;
      }
      case "status" -> {
        var port = pg.runningPort();
        System.out.println(port.map(p -> "embedded PostgreSQL running on 127.0.0.1:" + p)
            .orElse("embedded PostgreSQL not running (data in " + pg.dataDir() + ")"));
        return port.isPresent() ? 0 : 3;
      }
      default -> {
        System.err.println("carecontext db: use start, stop or status");
        return 2;
      }
    }
  }

  /** Benchmarks run against the embedded default (or CARECONTEXT_DB_URL), on a random port, no background worker. */
  private static int bench(String[] rest) throws Exception {
    String which = rest.length == 0 ? "" : rest[0];
    if (!which.equals("ingest") && !which.equals("retrieval") && !which.equals("import")) {
      System.err.println("carecontext bench: use 'bench ingest [--patients N]', 'bench import [--patients N]' or "
          + "'bench retrieval [--tenants T --patients P --chunks C --clients N --seconds D]'");
      return 2;
    }
    if (which.equals("import")) {
      // One NDJSON body for all patients: allow it, the point is that it is streamed.
      System.setProperty("carecontext.fhir.max.bytes", Long.toString(8L << 30));
    }
    System.setProperty("carecontext.port", "-1");
    System.setProperty("carecontext.worker.threads", "0");
    try (CareContextServer server = CareContextServer.start(RuntimeSettings.fromEnvironment())) {
      if (which.equals("import")) {
        io.carecontext.services.bench.ImportBenchmark.run(server,
            Integer.parseInt(option(rest, "--patients", "200")), System.out);
      } else if (which.equals("ingest")) {
        io.carecontext.services.bench.IngestBenchmark.run(server,
            Integer.parseInt(option(rest, "--patients", "100")), System.out);
      } else {
        io.carecontext.services.bench.RetrievalBenchmark.run(server,
            Integer.parseInt(option(rest, "--tenants", "3")), Integer.parseInt(option(rest, "--patients", "500")),
            Integer.parseInt(option(rest, "--chunks", "50")), Integer.parseInt(option(rest, "--clients", "8")),
            Double.parseDouble(option(rest, "--seconds", "15")), System.out);
      }
    }
    return 0;
  }

  static String option(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }

  static void usage(PrintStream out) {
    out.println("""
        usage: ./carecontext <command>

          demo [--patients N] [--exit]   the main job: service + embedded PostgreSQL + a demo tenant with
                             N generated patients (default 20) ingested and embedded; prints curl calls
          serve              start the HTTP service (embedded PostgreSQL unless CARECONTEXT_DB_URL is set)
          worker             the embedding worker alone (health and metrics on CARECONTEXT_PORT)
          migrate            bring roles and schemas up to date, then exit
          db start|stop|status   manage the embedded PostgreSQL under $CARECONTEXT_HOME/postgres
          bench ingest|retrieval  benchmarks against the embedded default; print a table with baseline ratios
          eval deid [--patients N]  de-identification recall and precision per identifier class
          tenant create|list|get|delete   tenants (platform operator key)
          key create|list|revoke          API keys of a tenant
          context            a patient's context, as the given key may see it
          audit verify|export             a tenant's audit trail (auditor key)
          (each of these takes --help, --url and --key)
          help               this text

        environment: CARECONTEXT_PORT, CARECONTEXT_ADMIN_KEY, CARECONTEXT_DB_URL, CARECONTEXT_DB_USER,
        CARECONTEXT_DB_PASSWORD, CARECONTEXT_DB_APP_USER, CARECONTEXT_DB_APP_PASSWORD, CARECONTEXT_HOME,
        CARECONTEXT_KEK_FILE (see README.md)""");
  }
}
