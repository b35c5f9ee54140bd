package io.carecontext.services.bench;

import com.pgvector.PGvector;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.langchain4j.data.document.Metadata;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.store.embedding.EmbeddingMatch;
import dev.langchain4j.store.embedding.EmbeddingSearchRequest;
import dev.langchain4j.store.embedding.filter.MetadataFilterBuilder;
import dev.langchain4j.store.embedding.pgvector.DefaultMetadataStorageConfig;
import dev.langchain4j.store.embedding.pgvector.MetadataStorageMode;
import dev.langchain4j.store.embedding.pgvector.PgVectorEmbeddingStore;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseConfig;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantProvisioner;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.ContextQuery;
import io.carecontext.retrieval.ContextResult;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.audit.AuditLog;
import io.carecontext.services.CareContextServer;
import io.carecontext.services.auth.ApiKeySecrets;
import io.carecontext.services.tenancy.TenantDirectory;
import io.carecontext.services.tenancy.TenantEmbeddings;
import java.io.PrintStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.IntFunction;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * T tenants × P patients × C chunks; 8 clients for D seconds against (1) the HTTP API end to end
 * (query embedding, policy, consent, RLS, search, audit), (2) the retrieval core in-process with
 * precomputed query vectors, and in the same run the same queries against LangChain4j's
 * PgVectorEmbeddingStore (3) as it creates itself and (4) tuned with a btree expression index on
 * the patient id. (2) and (4), whose ratio is the target, are measured in turns ({@link #ROUNDS}
 * rounds). Prints one table with the ratios.
 */
public final class RetrievalBenchmark {

  static final int DIM = 384;
  /**
   * The model the generated chunks are stored as made by: the tenants' own (the in-process model),
   * since the HTTP runs embed their questions with it and a search compares only chunks of its
   * question's model (tenant migration 52). Their vectors are random all the same.
   */
  static final String CHUNK_MODEL = io.carecontext.ingest.embedding.InProcessMiniLmProvider.MODEL_ID;
  /**
   * The core and the tuned store are measured in this many rounds each, in turns: the machines
   * this runs on drift by up to a tenth within minutes, and in turns the drift weighs on both alike.
   */
  static final int ROUNDS = 6;

  private RetrievalBenchmark() {}

  /**
   * What a run loads and how long it measures. {@code textChars} 0 gives each chunk a short label
   * ("Observation 3 of p17"); more gives it generated clinical-sounding text of that many characters,
   * like the chunk windows ingest makes (600 at most), encrypted in the tenant's table and plain in
   * LangChain4j's. {@code consentExceptions} is the percentage of patients whose consent has an
   * exception (see {@link #EXCLUDED_CLASS}); the others have a plain permit.
   */
  public record Setup(int tenants, int patients, int chunks, int textChars, int consentExceptions, int clients,
                      double seconds, boolean keep, boolean coreOnly, boolean httpOnly) {
    public Setup {
      if (tenants < 1 || patients < 1 || chunks < 1 || clients < 1 || seconds <= 0 || textChars < 0
          || consentExceptions < 0 || consentExceptions > 100) {
        throw new IllegalArgumentException("tenants, patients, chunks, clients and seconds must be positive, "
            + "--text-chars 0 or more, --consent-exceptions a percentage from 0 to 100");
      }
      if (coreOnly && httpOnly) {
        throw new IllegalArgumentException("--core-only and --http-only exclude each other; leave both out for every run");
      }
    }
  }

  /**
   * The class a consent with an exception excludes: a permit for every class but this one, as a
   * patient who keeps scanned documents out of AI use would give. The benchmark's chunks are all
   * Observations, so the exception hides nothing and the answers (and recall) stay the same; what
   * it changes is the work: such a patient's chunks are each checked against the consent's rules,
   * where a plain permit lets them all through at once.
   */
  static final String EXCLUDED_CLASS = "DocumentReference";

  public static void run(CareContextServer server, Setup setup, PrintStream out) throws Exception {
    int tenants = setup.tenants();
    int patients = setup.patients();
    int chunks = setup.chunks();
    int clients = setup.clients();
    double seconds = setup.seconds();
    boolean keep = setup.keep();
    boolean coreOnly = setup.coreOnly();
    boolean httpOnly = setup.httpOnly();
    var ctx = server.context();
    TenantProvisioner provisioner = ctx.getBean(TenantProvisioner.class);
    TenantTransactions tx = ctx.getBean(TenantTransactions.class);
    TenantKeys keys = ctx.getBean(TenantKeys.class);
    Random rng = new Random(42);
    List<TenantId> ids = new ArrayList<>();
    long loadStart = System.nanoTime();
    for (int t = 0; t < tenants; t++) {
      TenantId id = TenantId.of("bench" + t);
      provisioner.delete(id);
      provisioner.provision(id, "Benchmark " + t);
      load(tx, keys.cipher(id), id, feedKey(server, id).settings(), patients, chunks, setup.textChars(),
          setup.consentExceptions(), rng);
      ids.add(id);
    }
    out.printf("loaded %d tenants x %d patients x %d chunks = %,d chunks (%s; %s) in %.1f s%n", tenants, patients,
        chunks, (long) tenants * patients * chunks,
        setup.textChars() == 0 ? "short texts" : setup.textChars() + "-character texts",
        setup.consentExceptions() == 0 ? "every consent a plain permit"
            : setup.consentExceptions() + " % of consents exclude " + EXCLUDED_CLASS,
        (System.nanoTime() - loadStart) / 1e9);

    List<float[]> queries = IntStream.range(0, 256).mapToObj(i -> randomUnit(rng)).toList();
    AuditLog audit = ctx.getBean(AuditLog.class);
    // A clinician key of each tenant, for the HTTP runs and the core alike: the read policies admit
    // rows only for a live key of the tenant (tenant migration 27).
    List<String> apiKeys = httpKeys(server, ids);
    Comparison comparison = httpOnly ? null : compare(server, setup, ids, apiKeys, queries, out);

    List<Stats> rows = new ArrayList<>();
    AuditLog.GroupCommitStats auditHttpBefore = audit.groupCommitStats();
    if (!coreOnly) {
      settle(server, out);
      rows.add(httpRun(server, ids, apiKeys, patients, clients, seconds, false));
      rows.add(httpRun(server, ids, apiKeys, patients, clients, seconds, true));
    }
    Stats tuned = comparison == null ? null : comparison.tuned();
    Stats created = comparison == null ? null : comparison.created();
    if (comparison != null) {
      rows.add(comparison.core());
      rows.add(tuned);
      if (created != null) {
        rows.add(created);
      }
    }

    out.println();
    out.println(Stats.header());
    for (Stats s : rows) {
      out.println(s.row(tuned, created));
    }
    out.println();
    List<String> summary = new ArrayList<>();
    if (comparison != null) {
      Stats coreStats = comparison.core();
      double[] interval = comparison.pair().ratioInterval();
      summary.add(String.format("core ÷ tuned baseline: %.2fx (target ≥ 2x; by round: %s; the rounds' mean %.2fx, "
              + "95 %% interval %.2f–%.2fx)", coreStats.qps() / tuned.qps(),
          Arrays.stream(comparison.pair().roundRatios()).mapToObj(r -> String.format("%.2f", r))
              .collect(Collectors.joining(", ")), interval[0], interval[1], interval[2]));
      if (created != null) {
        summary.add(String.format("core ÷ as created: %.1fx (target ≥ 50x)", coreStats.qps() / created.qps()));
      }
    }
    if (!coreOnly) {
      summary.add(String.format("HTTP end to end p99: %.1f ms repeated questions, %.1f ms every question new "
          + "(target ≤ 50 ms)", rows.get(0).percentileMillis(99), rows.get(1).percentileMillis(99)));
    }
    out.println(String.join("; ", summary));
    if (comparison != null) {
      Stats coreStats = comparison.core();
      int cpus = Runtime.getRuntime().availableProcessors();
      out.printf("CPU budget: 2x the tuned store is %.0f QPS, which %d cores allow only at %.0f µs of CPU a request "
          + "with every core busy; the core used %.0f µs a request and kept %.2f of %d cores busy%n", 2 * tuned.qps(),
          cpus, cpus / (2 * tuned.qps()) * 1e6, coreStats.cpuMicrosPerRequest(), coreStats.busyCores(), cpus);
      out.println(groupCommit("the core run", comparison.auditBefore(), comparison.auditAfter()));
    }
    if (!coreOnly) {
      out.println(groupCommit("the HTTP runs", auditHttpBefore, audit.groupCommitStats()));
    }
    if (keep) {
      out.printf("kept tenants %s%s%n", ids, httpOnly ? "" : " and table bench_langchain4j");
      return;
    }
    for (TenantId t : ids) {
      provisioner.delete(t);
    }
    try (Connection c = server.database().ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("DROP TABLE IF EXISTS bench_langchain4j");
    }
  }

  /** The retrieval core against LangChain4j's store, tuned (in turns) and, unless core-only, as created. */
  private record Comparison(Stats core, Stats tuned, Stats created, Load.Pair pair,
                            AuditLog.GroupCommitStats auditBefore, AuditLog.GroupCommitStats auditAfter) {}

  private static Comparison compare(CareContextServer server, Setup setup, List<TenantId> ids, List<String> apiKeys,
                                    List<float[]> queries, PrintStream out) throws Exception {
    int clients = setup.clients();
    // The store gets a pool of its own with a connection for every client, as a careful user would
    // size it. Until the eighteenth session it borrowed the platform's owner pool: 3 connections for
    // the 8 clients (and since the connect timeout became 3 s, the store as created, whose queries
    // take seconds, timed out waiting for one).
    DatabaseConfig owner = server.database().config();
    HikariConfig poolConfig = new HikariConfig();
    poolConfig.setJdbcUrl(owner.jdbcUrl());
    poolConfig.setUsername(owner.ownerUser());
    poolConfig.setPassword(owner.ownerPassword());
    poolConfig.setMaximumPoolSize(clients);
    poolConfig.setConnectionTimeout(120_000);
    poolConfig.setPoolName("bench-langchain4j");
    try (HikariDataSource storePool = new HikariDataSource(poolConfig)) {
      return compare(server, setup, ids, apiKeys, queries, out, storePool);
    }
  }

  private static Comparison compare(CareContextServer server, Setup setup, List<TenantId> ids, List<String> apiKeys,
                                    List<float[]> queries, PrintStream out, HikariDataSource storePool)
      throws Exception {
    int tenants = ids.size();
    int patients = setup.patients();
    int clients = setup.clients();
    double seconds = setup.seconds();
    TenantTransactions tx = server.context().getBean(TenantTransactions.class);
    TenantKeys keys = server.context().getBean(TenantKeys.class);
    ContextService core = server.context().getBean(ContextService.class);
    AuditLog audit = server.context().getBean(AuditLog.class);
    TenantPolicy policy = TenantPolicy.fromSettings(Map.of("consentMode", "opt-in", "rateLimitPerMinute", Integer.MAX_VALUE));
    // Each tenant's clinician key, as authentication would hand it to the read path.
    List<Requester> clinicians = apiKeys.stream().map(token -> {
      ApiKeySecrets.Parsed parsed = ApiKeySecrets.parse(token).orElseThrow();
      return new Requester("bench", parsed.keyId(), List.of("clinician"), "bench-pr",
          ApiKeySecrets.secretHashHex(parsed.secret()));
    }).toList();

    PgVectorEmbeddingStore store = PgVectorEmbeddingStore.datasourceBuilder()
        .datasource(storePool).table("bench_langchain4j").dimension(DIM)
        .metadataStorageConfig(DefaultMetadataStorageConfig.builder().storageMode(MetadataStorageMode.COMBINED_JSONB)
            .columnDefinitions(List.of("metadata JSONB NULL")).build())
        .createTable(true).dropTableFirst(true).useIndex(false).skipCreateVectorExtension(true).build();
    long l4jStart = System.nanoTime();
    for (TenantId t : ids) {
      copyToStore(tx, keys.cipher(t), t, store);
    }
    out.printf("LangChain4j store filled in %.1f s%n", (System.nanoTime() - l4jStart) / 1e9);

    int samples = 30;
    List<Set<Long>> truth = new ArrayList<>();
    for (int i = 0; i < samples; i++) {
      truth.add(bruteForce(tx, ids.get(i % tenants), patient(i, patients), queries.get(i % queries.size())));
    }

    Stats created = null;
    if (!setup.coreOnly()) {
      settle(server, out);
      created = l4j("LangChain4j PgVectorEmbeddingStore (as created)", store, ids, patients, queries, clients,
          Math.min(seconds, 10), truth);
    }
    try (Connection c = server.database().ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      st.execute("CREATE INDEX bench_langchain4j_patient ON bench_langchain4j ((metadata->>'patient_id'))");
    }

    // The ratio's two sides in turns (see ROUNDS).
    settle(server, out);
    AuditLog.GroupCommitStats auditBefore = audit.groupCommitStats();
    IntFunction<ContextResult> coreCall = i -> core.context(ids.get(i % tenants), policy, clinicians.get(i % tenants),
        patient(i, patients), new ContextQuery("bench", queries.get(i % queries.size()), 10, "TREAT", null).withModel(CHUNK_MODEL),
        "context");
    IntFunction<List<Long>> tunedCall = l4jSearch(store, ids, patients, queries);
    Load.Pair pair = Load.alternate(clients, seconds, ROUNDS, coreCall::apply, tunedCall::apply);
    AuditLog.GroupCommitStats auditAfter = audit.groupCommitStats();
    Stats coreStats = new Stats("retrieval core (policy+consent+RLS+audit)", pair.a(), seconds,
        recall(truth, i -> coreCall.apply(i).chunks().stream().map(c -> c.chunkId()).toList()));
    Stats tuned = new Stats("LangChain4j store + btree on patient id", pair.b(), seconds, recall(truth, tunedCall));
    return new Comparison(coreStats, tuned, created, pair, auditBefore, auditAfter);
  }

  /**
   * Before each measured run: VACUUM (ANALYZE) what the earlier phases wrote (the loaded chunks,
   * the store's table, the audit rows of the previous run) and, on the embedded cluster, a
   * CHECKPOINT. Without it, autovacuum and the spread checkpoint of the load's WAL ran during
   * whichever run came first after the load, and the audit rows of one run were vacuumed during
   * the next.
   */
  static void settle(CareContextServer server, PrintStream out) throws Exception {
    long start = System.nanoTime();
    try (Connection c = server.database().ownerDataSource().getConnection(); Statement st = c.createStatement()) {
      c.setAutoCommit(true);
      st.execute("VACUUM (ANALYZE)");
    }
    boolean checkpoint = server.embedded().isPresent();
    if (checkpoint) {
      try (Connection c = server.embedded().get().superuserConnection("postgres"); Statement st = c.createStatement()) {
        st.execute("CHECKPOINT");
      }
    }
    out.printf("settled before the next run: VACUUM (ANALYZE)%s in %.1f s%n",
        checkpoint ? " and CHECKPOINT" : " (no CHECKPOINT: not the embedded cluster)", (System.nanoTime() - start) / 1e9);
  }

  static String groupCommit(String run, AuditLog.GroupCommitStats before, AuditLog.GroupCommitStats after) {
    long rows = after.rows() - before.rows();
    long commits = Math.max(1, after.commits() - before.commits());
    return String.format("audit group commit in %s: %,d rows in %,d commits, %.1f rows a commit; a batch took %.0f us "
        + "on average; %,d rows written alone while the writer was stalled, %,d after a failed batch", run, rows,
        commits, rows / (double) commits, (after.writeNanos() - before.writeNanos()) / 1e3 / commits,
        after.alone() - before.alone(), after.fallbacks() - before.fallbacks());
  }

  /** The patient of call i: a fixed stride through the patients, in long arithmetic so that large i never goes negative. */
  static String patient(int i, int patients) {
    return "p" + Math.floorMod(i * 7919L, patients);
  }

  static void load(TenantTransactions tx, TenantCipher cipher, TenantId t, PolicySettings writer, int patients,
                   int chunks, int textChars, int consentExceptions, Random rng) {
    Random words = new Random(t.value().hashCode()); // its own stream: the vectors stay those of a short-text run
    int perTx = Math.max(1, 5000 / chunks);
    for (int from = 0; from < patients; from += perTx) {
      int start = from;
      int end = Math.min(patients, from + perTx);
      tx.run(t, writer, c -> {
        try (PreparedStatement pat = c.prepareStatement("INSERT INTO resources (resource_type, resource_id, version_id, "
            + "patient_id, content_hash, body, last_updated) VALUES ('Patient', ?, 1, ?, '\\x00', '\\x00', now())");
            PreparedStatement con = c.prepareStatement("INSERT INTO consents (consent_id, patient_id, status, decision, "
                + "denied_classes) VALUES (?, ?, 'active', 'permit', ?::text[])");
            PreparedStatement link = c.prepareStatement("INSERT INTO care_links VALUES ('bench-pr', ?, 'Encounter', ?)");
            PreparedStatement ch = c.prepareStatement("INSERT INTO chunks (resource_type, resource_id, version_id, "
                + "patient_id, category, seq, text_hash, text, model, embedding) VALUES ('Observation', ?, 1, ?, "
                + "'clinical', 0, '\\x00', ?, ?, ?)")) {
          for (int p = start; p < end; p++) {
            String pid = "p" + p;
            pat.setString(1, pid);
            pat.setString(2, pid);
            pat.addBatch();
            con.setString(1, "c" + p);
            con.setString(2, pid);
            con.setString(3, hasConsentException(p, consentExceptions) ? "{" + EXCLUDED_CLASS + "}" : "{}");
            con.addBatch();
            link.setString(1, pid);
            link.setString(2, "e" + p);
            link.addBatch();
            for (int k = 0; k < chunks; k++) {
              String rid = pid + "-" + k;
              ch.setString(1, rid);
              ch.setString(2, pid);
              String text = textChars == 0 ? "Observation " + k + " of " + pid : clinicalText(words, textChars);
              ch.setBytes(3, cipher.encryptString(text, Aad.chunk(t, "Observation", rid, 0)));
              ch.setString(4, CHUNK_MODEL);
              ch.setObject(5, new PGvector(randomUnit(rng)));
              ch.addBatch();
            }
          }
          pat.executeBatch();
          con.executeBatch();
          link.executeBatch();
          ch.executeBatch();
        }
        return null;
      });
    }
    tx.run(t, PolicySettings.ingest(), c -> c.createStatement().execute("ANALYZE chunks"));
  }

  /**
   * Whether patient {@code p} gets the consent with an exception: {@code percent} of every hundred
   * consecutive patients, spread out, so that the queries' stride through the patients meets them in
   * that share.
   */
  static boolean hasConsentException(int p, int percent) {
    return Math.floorMod(p * 37, 100) < percent;
  }

  static void copyToStore(TenantTransactions tx, TenantCipher cipher, TenantId t, PgVectorEmbeddingStore store) {
    tx.run(t, PolicySettings.ingest(), c -> {
      List<Embedding> embeddings = new ArrayList<>();
      List<TextSegment> segments = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT chunk_id, patient_id, embedding, resource_id, text FROM chunks")) {
        ps.setFetchSize(5000);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            embeddings.add(Embedding.from(((PGvector) rs.getObject(3)).toArray()));
            String text = cipher.decryptToString(rs.getBytes(5), Aad.chunk(t, "Observation", rs.getString(4), 0));
            segments.add(TextSegment.from(text, Metadata.from(Map.of("patient_id", t.value() + ":" + rs.getString(2),
                "chunk_id", String.valueOf(rs.getLong(1))))));
            if (embeddings.size() == 2000) {
              store.addAll(embeddings, segments);
              embeddings.clear();
              segments.clear();
            }
          }
        }
      }
      if (!embeddings.isEmpty()) {
        store.addAll(embeddings, segments);
      }
      return null;
    });
  }

  private static final String[] WORDS = ("patient reports intermittent chest pain on exertion relieved by rest "
      + "denies dyspnea palpitations syncope blood pressure elevated at last visit metformin continued glucose "
      + "trend improving follow up in three months labs ordered lipid panel creatinine stable no acute distress "
      + "lungs clear heart regular rate and rhythm abdomen soft nontender plan discussed with the care team").split(" ");

  /** Words drawn at random up to {@code chars} characters: compresses about as well as a clinical note. */
  static String clinicalText(Random rng, int chars) {
    StringBuilder b = new StringBuilder(chars + 16);
    while (b.length() < chars) {
      b.append(WORDS[rng.nextInt(WORDS.length)]).append(rng.nextInt(12) == 0 ? ". " : " ");
    }
    return b.substring(0, chars);
  }

  static Stats l4j(String name, PgVectorEmbeddingStore store, List<TenantId> ids, int patients, List<float[]> queries,
                   int clients, double seconds, List<Set<Long>> truth) throws Exception {
    IntFunction<List<Long>> search = l4jSearch(store, ids, patients, queries);
    return new Stats(name, Load.run(clients, seconds, search::apply), seconds, recall(truth, search));
  }

  /** Call i against the LangChain4j store: the same patient and query as the core's call i; the chunk ids found. */
  static IntFunction<List<Long>> l4jSearch(PgVectorEmbeddingStore store, List<TenantId> ids, int patients,
                                           List<float[]> queries) {
    return i -> store.search(EmbeddingSearchRequest.builder()
            .queryEmbedding(Embedding.from(queries.get(i % queries.size()))).maxResults(10)
            .filter(MetadataFilterBuilder.metadataKey("patient_id").isEqualTo(
                ids.get(i % ids.size()).value() + ":" + patient(i, patients))).build())
        .matches().stream().map(EmbeddingMatch::embedded)
        .map(s -> Long.parseLong(s.metadata().getString("chunk_id"))).toList();
  }

  /** A new EHR-integration key of a tenant, as the loads present it: its id and its write settings. */
  record FeedKey(String keyId, PolicySettings settings) {}

  /**
   * A new EHR-integration key of the tenant: the tenant role writes resources only for such a key
   * (tenant migration 29), so the loads present one as a feed would.
   */
  static FeedKey feedKey(CareContextServer server, TenantId t) {
    try (PlainHttp http = new PlainHttp("127.0.0.1", server.port())) {
      String body = tenantKey(http, server, t, "bench-feed", "[\"ehr-integration\"]", null);
      ApiKeySecrets.Parsed key = ApiKeySecrets.parse(body.replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1"))
          .orElseThrow(() -> new IllegalStateException("the admin API answered no key"));
      return new FeedKey(key.keyId(), PolicySettings.fhirWrite(key.keyId(), ApiKeySecrets.secretHashHex(key.secret())));
    }
  }

  static List<String> httpKeys(CareContextServer server, List<TenantId> ids) {
    List<String> keys = new ArrayList<>();
    try (PlainHttp http = new PlainHttp("127.0.0.1", server.port())) {
      for (TenantId t : ids) {
        admin(http, server, "PATCH", "/admin/tenants/" + t, "{\"settings\":{\"rateLimitPerMinute\":1000000}}");
        String body = tenantKey(http, server, t, "bench", "[\"clinician\"]", "bench-pr");
        keys.add(body.replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1"));
      }
    }
    return keys;
  }

  /** The tenant-admin key each benchmark tenant got from the operator key, by port and tenant. */
  private static final Map<String, String> TENANT_ADMINS = new java.util.concurrent.ConcurrentHashMap<>();

  /**
   * A new key of the tenant, made by the tenant's tenant-admin key (the operator key makes only that
   * one); the principal gets a random suffix, since a principal names one unrevoked key of a tenant.
   * Answers the admin API's body.
   */
  static String tenantKey(PlainHttp http, CareContextServer server, TenantId t, String principal, String roles,
                          String practitionerId) {
    String admin = TENANT_ADMINS.computeIfAbsent(server.port() + "/" + t, k -> admin(http, server, "POST",
        "/admin/tenants/" + t + "/keys", "{\"principal\":\"bench-admin-" + suffix() + "\",\"roles\":[\"tenant-admin\"]}")
        .replaceAll("(?s).*\"secret\":\"([^\"]+)\".*", "$1"));
    PlainHttp.Response r = http.send("POST", "/admin/tenants/" + t + "/keys", admin, "{\"principal\":\"" + principal + "-"
        + suffix() + "\",\"roles\":" + roles + (practitionerId == null ? "" : ",\"practitionerId\":\"" + practitionerId + "\"")
        + "}");
    if (r.status() == 401 && TENANT_ADMINS.remove(server.port() + "/" + t, admin)) {
      // the tenant was made anew since (a benchmark reprovisions its tenants): its first key again
      return tenantKey(http, server, t, principal, roles, practitionerId);
    }
    if (r.status() != 201) {
      throw new IllegalStateException("POST /admin/tenants/" + t + "/keys answered " + r.status() + ": " + r.body());
    }
    return r.body();
  }

  private static String suffix() {
    return Long.toString(java.util.concurrent.ThreadLocalRandom.current().nextLong() >>> 1, 36);
  }

  static String admin(PlainHttp http, CareContextServer server, String method, String path, String body) {
    PlainHttp.Response r = http.send(method, path, server.adminKey(), body);
    if (r.status() / 100 != 2) {
      throw new IllegalStateException(method + " " + path + " answered " + r.status() + ": " + r.body());
    }
    return r.body();
  }

  /**
   * Context calls over HTTP with real query text, through {@link PlainHttp}. Repeated questions
   * (five canned ones, as a clinical app sends) are embedded once and then served from the
   * query-embedding cache; with {@code everyQuestionNew} each text is unique, so the model runs on
   * every request. Recall is measured afterwards on 30 calls of the same kind: the resources the
   * API answered against an exact search of the patient's chunks with the vector the service's own
   * model gives the same question text.
   */
  static Stats httpRun(CareContextServer server, List<TenantId> ids, List<String> keys, int patients, int clients,
                       double seconds, boolean everyQuestionNew) throws Exception {
    String[] questions = {"recent HbA1c trend", "blood pressure control", "medication changes", "allergies", "last visit"};
    java.util.concurrent.atomic.AtomicLong unique = new java.util.concurrent.atomic.AtomicLong();
    IntFunction<String> question = i -> questions[i % questions.length]
        + (everyQuestionNew ? " #" + unique.incrementAndGet() : "");
    Load.Result lat;
    double recall;
    try (PlainHttp http = new PlainHttp("127.0.0.1", server.port())) {
      lat = Load.run(clients, seconds, i -> contextCall(http, ids, keys, patients, i, question.apply(i)));
      recall = httpRecall(server, http, ids, keys, patients, question);
    }
    return new Stats(everyQuestionNew ? "HTTP end to end, every question new (model each time)"
        : "HTTP end to end, repeated questions (embedding cached)", lat, seconds, recall);
  }

  /** Call i's context request; the answer's body. */
  private static String contextCall(PlainHttp http, List<TenantId> ids, List<String> keys, int patients, int i,
                                    String question) {
    int t = i % ids.size();
    PlainHttp.Response r = http.send("POST", "/v1/" + ids.get(t) + "/patients/" + patient(i, patients) + "/context",
        keys.get(t), "{\"query\":\"" + question + "\",\"k\":10,\"purposeOfUse\":\"TREAT\"}");
    if (r.status() != 200 || !r.body().contains("\"chunks\"")) {
      throw new IllegalStateException("context call failed with " + r.status());
    }
    return r.body();
  }

  /** The resources a context answer returned, in order (only for recall, not in the measured calls). */
  private static List<String> resources(String body) {
    List<String> resources = new ArrayList<>();
    java.util.regex.Matcher m = RESOURCE.matcher(body);
    while (m.find()) {
      resources.add(m.group(1));
    }
    return resources;
  }

  private static final java.util.regex.Pattern RESOURCE = java.util.regex.Pattern.compile("\"resource\":\"([^\"]+)\"");

  private static double httpRecall(CareContextServer server, PlainHttp http, List<TenantId> ids, List<String> keys,
                                   int patients, IntFunction<String> question) {
    TenantTransactions tx = server.context().getBean(TenantTransactions.class);
    TenantEmbeddings embeddings = server.context().getBean(TenantEmbeddings.class);
    TenantDirectory tenants = server.context().getBean(TenantDirectory.class);
    List<String> texts = IntStream.range(0, 30).mapToObj(question).toList();
    List<Set<String>> truth = new ArrayList<>();
    for (int i = 0; i < texts.size(); i++) {
      TenantId t = ids.get(i % ids.size());
      float[] vector = embeddings.embedQuery(t, tenants.settings(t), texts.get(i));
      truth.add(new HashSet<>(nearest(tx, t, patient(i, patients), vector).values()));
    }
    return recall(truth, i -> resources(contextCall(http, ids, keys, patients, i, texts.get(i))));
  }

  static Set<Long> bruteForce(TenantTransactions tx, TenantId t, String patient, float[] q) {
    return new HashSet<>(nearest(tx, t, patient, q).keySet());
  }

  /** The patient's 10 chunks nearest to {@code q} by an exact scan: chunk id → its resource ("Observation/…"). */
  static Map<Long, String> nearest(TenantTransactions tx, TenantId t, String patient, float[] q) {
    return tx.run(t, PolicySettings.ingest(), c -> {
      List<Object[]> rows = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT chunk_id, resource_type || '/' || resource_id, embedding FROM chunks WHERE patient_id = ?")) {
        ps.setString(1, patient);
        try (var rs = ps.executeQuery()) {
          while (rs.next()) {
            rows.add(new Object[] {rs.getLong(1), rs.getString(2), ((PGvector) rs.getObject(3)).toArray()});
          }
        }
      }
      Map<Long, String> top = new java.util.LinkedHashMap<>();
      rows.stream().sorted(Comparator.comparingDouble(r -> -dot(q, (float[]) r[2]))).limit(10)
          .forEach(r -> top.put((Long) r[0], (String) r[1]));
      return top;
    });
  }

  static <T> double recall(List<Set<T>> truth, IntFunction<List<T>> search) {
    double hit = 0;
    double total = 0;
    for (int i = 0; i < truth.size(); i++) {
      Set<T> got = new HashSet<>(search.apply(i));
      for (T id : truth.get(i)) {
        total++;
        hit += got.contains(id) ? 1 : 0;
      }
    }
    return total == 0 ? 1.0 : hit / total;
  }

  static float[] randomUnit(Random rng) {
    float[] v = new float[DIM];
    double n = 0;
    for (int i = 0; i < DIM; i++) {
      v[i] = (float) rng.nextGaussian();
      n += v[i] * v[i];
    }
    for (int i = 0; i < DIM; i++) {
      v[i] /= (float) Math.sqrt(n);
    }
    return v;
  }

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}
