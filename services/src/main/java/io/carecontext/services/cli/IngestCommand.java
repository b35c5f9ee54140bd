package io.carecontext.services.cli;

import io.carecontext.services.ops.EmbedProgress;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * Loads FHIR Bundles ({@code *.json}) and NDJSON ({@code *.ndjson}) through the tenant's FHIR
 * endpoint, with a progress bar (resources/s, chunks/s, ETA) and a summary; waits until the
 * embedding worker has caught up unless {@code --no-wait}. NDJSON lines and batch Bundle entries
 * the server refused are listed with the server's reason; any refused file, line or entry makes the
 * command exit 1.
 */
@Command(name = "ingest", description = "Load FHIR Bundles (*.json) and NDJSON (*.ndjson) from a file or folder.")
final class IngestCommand implements Callable<Integer> {

  @Mixin Connection connection;
  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
  @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
  @Option(names = "--admin-key", description = "platform or tenant-admin key for progress of embedding "
      + "(default: CARECONTEXT_ADMIN_KEY or $CARECONTEXT_HOME/admin.key)") String adminKey;
  @Option(names = "--no-wait", description = "do not wait for the embedding worker") boolean noWait;
  @Parameters(index = "0", description = "a file or a folder") Path path;

  @Override
  public Integer call() throws Exception {
    var out = spec.commandLine().getErr();
    List<Path> files = files(path);
    if (files.isEmpty()) {
      throw new CliException("no *.json or *.ndjson files under " + path);
    }
    ApiClient client = connection.client(false);
    // Before anything is sent: a load that cannot be followed to the end is refused whole, not
    // reported as a failure after its resources were stored.
    ApiClient progress = noWait ? null : progressClient();
    long start = System.nanoTime();
    long resources = 0;
    int failed = 0;
    long failedLines = 0;
    // NDJSON lines stored already as sent: counted among the resources ingested, and said apart, since the
    // progress line counts only new ones ("0 new resources stored", then "ingested 15,000 resources")
    long unchanged = 0;
    long refusedEntries = 0;
    for (int i = 0; i < files.size(); i++) {
      Path f = files.get(i);
      boolean ndjson = f.toString().endsWith(".ndjson");
      // sent as bytes, streamed: decoding here failed the whole command on one file that is not UTF-8
      long size = Files.size(f);
      int index = i;
      long fileStart = System.nanoTime();
      long storedBefore = storedResources(progress);
      long[] storedLast = {storedBefore};
      HttpResponse<String> r = client.sendFile("POST", "/fhir/" + ApiClient.segment(tenant) + (ndjson ? "/$import" : ""),
          f, ndjson ? "application/fhir+ndjson" : "application/fhir+json",
          sent -> {
            // Within one file too: a large NDJSON load answers only when all of it is stored, and the
            // server takes the bytes long before it has stored them, so what counts is the tenant's
            // resource count (committed every 200 lines), read with the key that follows embedding.
            long storedNow = storedBefore < 0 ? -1 : storedResources(progress);
            out.print("\r" + padded(String.format("file %d/%d %s: %s of %s sent%s", index + 1, files.size(),
                f.getFileName(), megabytes(sent), megabytes(size),
                stored(storedNow < 0 ? -1 : storedNow - storedBefore, System.nanoTime() - fileStart))));
            out.flush();
            boolean further = storedNow > storedLast[0];
            storedLast[0] = Math.max(storedLast[0], storedNow);
            return further;
          });
      if (r.statusCode() == 200 && !ApiJson.isFhirAnswer(r.body(), ndjson)) {
        // a 200 that is not the FHIR endpoint's answer (a proxy's page, a wrong base URL): what
        // was stored is unknown, so the file counts as failed rather than as "0 ingested"
        failed++;
        out.printf("%n%s: HTTP 200 but the answer is not %s: check the server URL (--url / CARECONTEXT_URL) "
            + "and any proxy in between; whether the file was stored is unknown%n", f.getFileName(),
            ndjson ? "an import report" : "a FHIR Bundle");
      } else if (r.statusCode() != 200) {
        failed++;
        List<String> why = ApiJson.errors(r.body());
        out.printf("%n%s: HTTP %d%s%n", f.getFileName(), r.statusCode(),
            why.isEmpty() ? " " + ApiJson.diagnostics(r.body()) : ", nothing of it stored:");
        why.forEach(e -> out.printf("  %s%n", e));
        if (!ndjson && r.statusCode() == 400 && r.body().contains("takes a transaction or batch Bundle")) {
          // the server's advice is for HTTP clients; this command's way to load single resources is NDJSON
          out.printf("  (ingest sends each *.json file as a Bundle; put single resources one a line in an *.ndjson "
              + "file, which it sends to $import)%n");
        }
      } else if (ndjson) {
        resources += ApiJson.importStored(r.body());
        unchanged += ApiJson.importCount(r.body(), "unchanged");
        long bad = ApiJson.importCount(r.body(), "failed");
        if (bad > 0) {
          // the good lines are stored; name the bad ones, so the feed can be fixed and sent again
          failedLines += bad;
          out.printf("%n%s: %,d line(s) not loaded%n", f.getFileName(), bad);
          ApiJson.errors(r.body()).forEach(e -> out.printf("  %s%n", e));
        }
      } else {
        resources += ApiJson.succeededEntries(r.body());
        // a batch answers 200 even when entries were refused; each says why in its own response entry
        List<String> refused = ApiJson.refusedEntries(r.body());
        if (!refused.isEmpty()) {
          refusedEntries += refused.size();
          out.printf("%n%s: %,d Bundle %s refused, the others stored:%n", f.getFileName(), refused.size(),
              entries(refused.size()));
          refused.forEach(e -> out.printf("  %s%n", e));
        }
      }
      double secs = (System.nanoTime() - start) / 1e9;
      double eta = secs / (i + 1) * (files.size() - i - 1);
      out.print("\r" + padded(String.format("files %d/%d  resources %,d  %.0f resources/s  ETA %.0fs", i + 1,
          files.size(), resources, resources / Math.max(0.001, secs), eta)));
      out.flush();
    }
    out.println();
    long parked = noWait ? 0 : waitForWorker(progress, tenant, out).parked();
    spec.commandLine().getOut().printf("ingested %,d resources from %d file(s) in %.1f s; %d file(s) failed, "
            + "%,d Bundle %s refused, %,d NDJSON line(s) not loaded%s%s%n", resources, files.size(),
        (System.nanoTime() - start) / 1e9, failed, refusedEntries, entries(refusedEntries), failedLines,
        parked > 0 ? String.format(", %,d resource(s) not embedded (parked)", parked) : "",
        // "of them" followed the lines not loaded, and read as some of those having been stored
        unchanged > 0 ? String.format("; %,d of the %,d resources were stored already as sent (unchanged, no new "
            + "version: a file sent again)", unchanged, resources) : "");
    return failed == 0 && failedLines == 0 && refusedEntries == 0 && parked == 0 ? 0 : 1;
  }

  /**
   * What the wait adds to its progress line while rows fail: they are retried with backoff for
   * minutes before they are parked, and meanwhile the depth alone did not say that nothing moved.
   */
  static String failing(long retrying, String lastError) {
    return retrying <= 0 ? "" : String.format(java.util.Locale.ROOT, "  %,d failing (%s)", retrying,
        lastError == null ? "see GET /admin/tenants/{tenant}/ingest/parked" : lastError);
  }

  /** What to do about rows the worker gave up on during this load: they are stored, not retrievable. */
  static String parkedAdvice(String tenant, long parked, String lastError) {
    String base = "/admin/tenants/" + tenant + "/ingest";
    return String.format(java.util.Locale.ROOT, "%,d resource(s) stored but not embedded, so not retrievable: the "
        + "embedding worker parked them after repeated failures (%s). Fix the cause (GET %s/parked lists them; "
        + "a model error names what to check, e.g. settings.embedding), then POST %s/parked/retry", parked,
        lastError == null ? "reason in GET " + base + "/parked" : lastError, base, base);
  }

  static String otherModelAdvice(String tenant, long otherModel) {
    return String.format(java.util.Locale.ROOT, "%,d chunk(s) are still of another model than the tenant's, with "
        + "nothing queued to re-embed them: context and chat for their patients, and research search, answer 503 "
        + "reembedding_in_progress until they are. Their resources may be parked (GET /admin/tenants/%s/ingest/parked, "
        + "then POST /admin/tenants/%s/ingest/parked/retry); otherwise the embedding worker queues them again when it "
        + "next starts (restart the service or the worker), then run this wait again", otherModel, tenant, tenant);
  }

  /** A progress line padded so that it covers a longer one it replaces on the same line. */
  static String padded(String line) {
    return line.length() >= 100 ? line + "   " : line + " ".repeat(100 - line.length());
  }

  /**
   * The progress text of a wait from its successive status reads, by the arithmetic the status endpoint's own
   * rate uses ({@link EmbedProgress}). The wait's own work is the fall of the queue: a file's resources are all
   * stored before the wait begins.
   */
  static final class EmbedRate {
    private final EmbedProgress window = new EmbedProgress();

    /** The progress text after the status read at {@code nanos}: {@code depth} queued, {@code retrying} of them failed. */
    String add(long nanos, long depth, long retrying) {
      EmbedProgress.Estimate e = window.add(nanos, -depth, depth, retrying);
      if (e.stalled()) {
        return "the queue did not go down in " + WINDOW_NANOS / 1_000_000_000L + " s: check that an embedding "
            + "worker runs (serve with CARECONTEXT_WORKER_THREADS above 0, or a worker process) and its log";
      }
      if (e.perSecond().isEmpty()) {
        return "";
      }
      double rate = e.perSecond().getAsDouble();
      return e.etaSeconds().isEmpty()
          ? String.format(java.util.Locale.ROOT, "%.0f resources/s", rate)
          : String.format(java.util.Locale.ROOT, "%.0f resources/s  ETA %ds", rate, e.etaSeconds().getAsLong());
    }
  }

  /** The span over which {@link EmbedRate} measures the worker's rate. */
  static final long WINDOW_NANOS = EmbedProgress.WINDOW_NANOS;

  static String megabytes(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MB", bytes / 1e6);
  }

  /** New resources stored so far in this file and their rate, or nothing when unknown. */
  static String stored(long newResources, long nanos) {
    if (newResources < 0) {
      return "";
    }
    return String.format(java.util.Locale.ROOT, "  %,d new resources stored (%.0f/s)", newResources,
        newResources / Math.max(0.001, nanos / 1e9));
  }

  /** The tenant's stored resources, or -1 without a key that may read them (--no-wait) or on any failure. */
  private long storedResources(ApiClient admin) {
    if (admin == null) {
      return -1;
    }
    try {
      var r = admin.send("GET", "/admin/tenants/" + ApiClient.segment(tenant) + "/ingest", null);
      return r.statusCode() == 200 ? ApiJson.number(r.body(), "resources") : -1;
    } catch (RuntimeException e) {
      return -1; // progress only: the load goes on
    }
  }

  private static String entries(long n) {
    return n == 1 ? "entry" : "entries";
  }

  /** The client that follows embedding, with the platform or tenant-admin key (--key is the feed's own). */
  private ApiClient progressClient() {
    String key = adminKey != null ? adminKey : Connection.defaultAdminKey().orElseThrow(() -> new CliException(
        "waiting for embedding needs a platform or tenant-admin key: pass --admin-key or set CARECONTEXT_ADMIN_KEY, "
            + "or load without waiting with --no-wait; nothing was sent"));
    Connection admin = new Connection();
    admin.url = connection.url;
    admin.key = key;
    ApiClient client = admin.client(true);
    // Tried once before anything is sent: a key that cannot read the tenant's progress (a feed key, a
    // revoked key, another tenant's admin) used to fail only after every file had been stored.
    HttpResponse<String> probe = client.send("GET", "/admin/tenants/" + ApiClient.segment(tenant) + "/ingest", null);
    try {
      ApiClient.expectOk(probe);
    } catch (CliException e) {
      throw new CliException("waiting for embedding needs a platform or tenant-admin key of this tenant, and the "
          + (adminKey != null ? "--admin-key" : "default admin key") + " was refused (" + e.getMessage()
          + "): pass another with --admin-key, or load without waiting with --no-wait; nothing was sent");
    }
    return client;
  }

  /**
   * What a wait ended with: the rows parked meanwhile, and the chunks still of another model than the tenant's
   * (which searches refuse) once nothing was left queued.
   */
  record Waited(long parked, long otherModel) {}

  /**
   * Waits until the worker has no ready row left for the tenant; returns how many rows it parked
   * meanwhile, and the chunks of another model left. Also {@code tenant wait}, for work queued otherwise (a
   * change of embedding model).
   */
  static Waited waitForWorker(ApiClient client, String tenant, java.io.PrintWriter out) throws InterruptedException {
    // Ctrl-C ends the wait, and the output stopped mid-line: nothing said the data was stored or how to
    // follow the rest. The hook says so as the process ends, and is removed once the wait is over.
    Thread interrupted = new Thread(() -> {
      out.printf("%nstopped waiting: everything stored stays stored, and the embedding worker goes on with what is "
          + "queued; follow it with ./carecontext tenant wait %s%n", tenant);
      out.flush();
    }, "ingest-wait-interrupted");
    Runtime.getRuntime().addShutdownHook(interrupted);
    try {
      return waitUntilDone(client, tenant, out);
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(interrupted);
      } catch (IllegalStateException shuttingDown) {
        // the process is ending: the hook is running, or about to
      }
    }
  }

  private static Waited waitUntilDone(ApiClient client, String tenant, java.io.PrintWriter out) throws InterruptedException {
    EmbedRate rate = new EmbedRate();
    long firstDepth = -1;
    long parkedBefore = -1;
    boolean told = false;
    while (true) {
      String body;
      try {
        body = ApiClient.expectOk(client.send("GET", "/admin/tenants/" + ApiClient.segment(tenant) + "/ingest", null));
      } catch (CliException e) {
        if (firstDepth < 0) {
          throw e;
        }
        // The service went away mid-wait (killed, restarted): the error was printed on the end of the progress
        // line, and said only to start the service, not that nothing stored was lost or how to go on following.
        out.println();
        out.flush();
        throw new CliException("stopped waiting, the status could not be read: " + e.getMessage() + ". What was stored "
            + "stays stored, and the queued resources are embedded once the service runs again; follow them then with "
            + "./carecontext tenant wait " + tenant);
      }
      long depth = ApiJson.number(body, "outboxDepth");
      long chunks = ApiJson.number(body, "chunks");
      long parked = ApiJson.number(body, "parked");
      long retrying = ApiJson.number(body, "retrying");
      // what searches still refuse while a change of model is re-embedded (0, or absent, otherwise)
      long otherModel = ApiJson.number(body, "chunksOfAnotherModel");
      String lastError = ApiJson.optionalText(body, "lastError");
      if (firstDepth < 0) {
        firstDepth = depth;
        parkedBefore = parked; // parked by earlier loads: not this one's to report
      }
      if (retrying > 0 && !told) {
        // once, on its own line: the progress line is overwritten every second
        told = true;
        out.printf("%nembedding is failing (%s): the resources are stored; the worker retries them with backoff "
            + "and parks them after 5 attempts. Fix the cause (a model error names what to check, e.g. "
            + "settings.embedding); Ctrl-C stops only this wait%n", lastError == null ? "no reason given" : lastError);
      }
      // the rate of this wait's own work: the tenant's chunk count over the whole run counted every chunk
      // it held before (a tenant of 1,000 chunks "embedded" 1,000 chunks/s of a file that made none)
      out.print("\r" + padded(String.format("embedding: %,d left  chunks %,d%s  %s%s", depth, chunks,
          otherModel > 0 ? String.format(java.util.Locale.ROOT, " (%,d of another model)", otherModel) : "",
          rate.add(System.nanoTime(), depth, retrying), failing(retrying, lastError))));
      out.flush();
      if (depth == 0) {
        out.println();
        long parkedNow = Math.max(0, parked - parkedBefore);
        if (parkedNow > 0) {
          out.println(parkedAdvice(tenant, parkedNow, lastError));
        }
        if (otherModel > 0) {
          // nothing queued, yet chunks the tenant's model did not make: the wait ended as if the change of
          // model were done, while searches for their patients still answered 503 reembedding_in_progress
          out.println(otherModelAdvice(tenant, otherModel));
        }
        return new Waited(parkedNow, otherModel);
      }
      Thread.sleep(1000);
    }
  }

  static List<Path> files(Path path) throws IOException {
    if (Files.isRegularFile(path)) {
      return List.of(path);
    }
    if (!Files.isDirectory(path)) {
      // it said only that, with no word of what to do or of which files a folder gives
      throw new CliException(path + " is neither a file nor a folder: check the path (a typo, or a folder not "
          + "mounted here); ingest takes one file, or a folder whose Bundles (*.json) and NDJSON (*.ndjson) files "
          + "it loads, in its subfolders too");
    }
    try (Stream<Path> s = Files.walk(path)) {
      return new ArrayList<>(s.filter(Files::isRegularFile)
          .filter(p -> p.toString().endsWith(".json") || p.toString().endsWith(".ndjson")).sorted().toList());
    }
  }
}
