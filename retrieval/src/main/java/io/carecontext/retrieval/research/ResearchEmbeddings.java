package io.carecontext.retrieval.research;

import com.pgvector.PGvector;
import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.ResearchForgetLock;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.chat.PatientIdentifiers;
import io.carecontext.retrieval.deid.DatePolicy;
import io.carecontext.retrieval.deid.Deidentifier;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The research embeddings of a tenant's chunks (tenant migration 64): each chunk's text de-identified
 * as research returns it (its own patient's known identifiers, dates to the year, each chunk on its
 * own, tokens without a subject code so that two patients' identical notes read alike) and embedded
 * by the tenant's model. Research ranks on these, so a name typed into a query cannot steer the
 * ranking towards the notes that name that person: the embedded text does not contain it.
 *
 * <p>Made only for tenants with research turned on, by the research build and its sweep, never by
 * ingest: a tenant without research embeds each chunk once. Runs under the ingest settings (the
 * write path's role sees every row of its tenant).
 */
public final class ResearchEmbeddings {

  /**
   * A batch of the research build's work list: the chunks of the tenant's model at its size that have no research
   * embedding, oldest first ({@code model} twice, {@code dimensions}, the batch's size). Read in the order of the
   * work-list index, (model, chunk_id) over the chunks still without one (tenant migration 70), so a batch reads
   * the model's chunks alone. During a re-embedding the tenant holds many chunks of the old model, none of which is
   * ever given a research embedding (their successors are): with {@code model = ?} the planner drops model from
   * the order (one value) and, when the statistics are of before the change of model (every chunk of the new one),
   * walked chunk_id's order instead, reading every old chunk on its way to the new ones (about 290 ms a batch
   * against 0.1-2 ms at 40,000 old chunks, ResearchWorkListIT). A range of one value is not an equality to the
   * planner, so model stays in the order, which only the work-list index yields without reading and sorting the
   * rows; it admits that one value alone (the default collation is deterministic: equal only when byte-equal).
   */
  static final String WORK_LIST = """
      SELECT chunk_id, patient_id, resource_type, resource_id, seq, text FROM chunks
      WHERE research_embedding IS NULL AND model >= ? AND model <= ? AND public.vector_dims(embedding) = ?
      ORDER BY model, chunk_id LIMIT ? FOR UPDATE SKIP LOCKED""";

  /**
   * Read with the generation that a batch starts with, so before {@link #WORK_LIST} in its transaction: no plan of
   * it may sort, and only the work-list index yields its order unsorted. With its values bound (a custom plan, as
   * an EXPLAIN with the values makes, or any session that does not force generic plans as TenantTransactions does)
   * and fresh statistics, the planner chose otherwise during a re-embedding: it takes research_embedding IS NULL as
   * independent of the model (a third of the chunks pending, when every pending chunk is of the new model) and the
   * row-level security filter as rare, expected fewer rows than a batch (which no walk in order stops early for),
   * and read every pending chunk of the model through a bitmap scan and sorted them: 20-250 ms a batch against
   * 0.05-0.15 ms, at 20,000 pending new chunks among 40,000 old ones (ResearchWorkListIT). The generic plan the
   * tenant transactions ask for walked the index in every state measured, but only because its estimates happened
   * to favour it. Planner settings, not the statement's shape: no shape of it forbids a sort. Only for the work
   * list ({@link #WORK_LIST_SORTS_AGAIN} after it), and a transaction's own settings end with it.
   */
  static final String WORK_LIST_WITHOUT_SORT =
      "set_config('enable_sort', 'off', true), set_config('enable_incremental_sort', 'off', true)";

  /** After {@link #WORK_LIST}: the rest of the batch's transaction plans as the server is configured to. */
  static final String WORK_LIST_SORTS_AGAIN = "SELECT set_config(name, reset_val, true) FROM pg_settings "
      + "WHERE name IN ('enable_sort', 'enable_incremental_sort')";

  /** Chunks de-identified and embedded in one transaction. */
  public static final int BATCH = 64;

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final int batch;

  public ResearchEmbeddings(TenantTransactions tx, TenantKeys keys) {
    this(tx, keys, BATCH);
  }

  /** With batches of {@code batch} chunks (tests: a build of many batches over a few chunks). */
  public ResearchEmbeddings(TenantTransactions tx, TenantKeys keys, int batch) {
    this.tx = tx;
    this.keys = keys;
    this.batch = batch;
  }

  /** How many of the tenant's chunks still have no research embedding, of how many. */
  public record Progress(long pending, long total) {
    public double percent() {
      return total == 0 ? 100.0 : Math.floor(1000.0 * (total - pending) / total) / 10.0;
    }
  }

  public Progress progress(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT (SELECT count(*) FROM chunks WHERE research_embedding IS NULL), (SELECT count(*) FROM chunks)");
           ResultSet rs = ps.executeQuery()) {
        rs.next();
        return new Progress(rs.getLong(1), rs.getLong(2));
      }
    });
  }

  /**
   * Makes the research embeddings of up to {@link #BATCH} chunks that have none and are of the
   * tenant's model at its size ({@code model}, {@code dimensions}: a chunk of another model is being
   * re-embedded, and its successor is embedded for research once written). Returns how many were
   * made: 0 when nothing of this model is left, or research is off, or was turned off or on again while the
   * model embedded (then nothing is stored). {@code embed} is the tenant's model (texts to vectors).
   */
  public int embedPending(TenantId tenant, String model, int dimensions, Function<List<String>, List<float[]>> embed) {
    return embedPending(tenant, null, model, dimensions, embed);
  }

  /**
   * {@link #embedPending}, for the research build's {@code generation} (tenant migration 66; null: any):
   * none made, and 0 returned, once research is off or was turned on again since (the build that went on
   * called the model for every batch left, for embeddings no one would rank on).
   */
  private int embedPending(TenantId tenant, Long generation, String model, int dimensions,
                           Function<List<String>, List<float[]>> embed) {
    TenantCipher cipher = keys.cipher(tenant);
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      long batchGeneration;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT generation, " + WORK_LIST_WITHOUT_SORT + " FROM research_build WHERE enabled");
           ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || generation != null && rs.getLong(1) != generation) {
          return 0;
        }
        batchGeneration = rs.getLong(1);
      }
      record Pending(long chunkId, String patientId, String text) {}
      List<Pending> pending = new ArrayList<>();
      try (PreparedStatement ps = c.prepareStatement(WORK_LIST)) {
        ps.setString(1, model);
        ps.setString(2, model);
        ps.setInt(3, dimensions);
        ps.setInt(4, batch);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String type = rs.getString(3);
            pending.add(new Pending(rs.getLong(1), rs.getString(2), cipher.decryptToString(rs.getBytes(6),
                Aad.chunk(tenant, type, rs.getString(4), rs.getInt(5)))));
          }
        }
      }
      try (PreparedStatement ps = c.prepareStatement(WORK_LIST_SORTS_AGAIN)) {
        ps.executeQuery().close();
      }
      if (pending.isEmpty()) {
        return 0;
      }
      Set<String> patients = new LinkedHashSet<>();
      pending.forEach(p -> patients.add(p.patientId()));
      Map<String, KnownIdentifiers> known = PatientIdentifiers.loadAll(c, tenant, cipher, patients);
      List<String> texts = pending.stream().map(p -> deidentified(p.text(), known.get(p.patientId()))).toList();
      List<float[]> vectors = embed.apply(texts);
      if (vectors.size() != texts.size()) {
        throw new IllegalStateException("the model returned " + vectors.size() + " vectors for " + texts.size());
      }
      // Stored only while research is still on for the generation read above. Research turned on again during the
      // model call (seconds) is a new generation, whose build forgets every research embedding: its forgetting saw
      // this batch's chunks without one (not stored yet) and so passed over them, and the batch then stored
      // embeddings of the old identifiers and detectors for good. Read under a share lock, which turning research on
      // or off (an update of this row) waits for, or which waits for it: a turning-on that committed first is seen
      // here (the lock reads the row's latest version, whatever this statement's snapshot), and one that comes
      // after waits until this transaction has committed, so the forgetting, which starts after it, sees what this
      // stores. The setting waits for this write at most, never for a model call.
      try (PreparedStatement ps = c.prepareStatement("SELECT generation FROM research_build WHERE enabled FOR SHARE");
           ResultSet rs = ps.executeQuery()) {
        if (!rs.next() || rs.getLong(1) != batchGeneration) {
          return 0;
        }
      }
      // Only while the chunk is still of the model that made the vector: a change of model meanwhile
      // replaces the chunk, and its successor waits for the next batch.
      try (PreparedStatement ps = c.prepareStatement("""
          UPDATE chunks SET research_embedding = ?
          WHERE chunk_id = ? AND model = ? AND public.vector_dims(embedding) = ?""")) {
        for (int i = 0; i < pending.size(); i++) {
          ps.setObject(1, new PGvector(vectors.get(i)));
          ps.setLong(2, pending.get(i).chunkId());
          ps.setString(3, model);
          ps.setInt(4, dimensions);
          ps.addBatch();
        }
        ps.executeBatch();
      }
      return pending.size();
    });
  }

  /**
   * Research turned on (the setting researchIndex): a new generation of the tenant's research build
   * (tenant migration 66), not completed, so research refuses until {@link #build} completes it.
   * Returns the generation.
   */
  public long turnOn(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE research_build SET enabled = true, generation = generation + 1, completed = NULL RETURNING generation");
           ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  /** Research turned off: the build's completion is forgotten, and a build still running cannot mark it. */
  public void turnOff(TenantId tenant) {
    tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE research_build SET enabled = false, generation = generation + 1, completed = NULL")) {
        return ps.executeUpdate();
      }
    });
  }

  /** Whether research is on (the setting researchIndex, tenant migration 66's marker). */
  public boolean enabled(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT enabled FROM research_build");
           ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    });
  }

  /** Whether the research build has completed since research was last turned on: research answers once it has. */
  public boolean completed(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT enabled AND completed IS NOT DISTINCT FROM generation FROM research_build");
           ResultSet rs = ps.executeQuery()) {
        return rs.next() && rs.getBoolean(1);
      }
    });
  }

  /**
   * The research build (and its sweep): the research embeddings of every chunk of the model that has
   * none, then the build marked completed for the generation research was on at its start, unless
   * research was turned off or on again meanwhile (tenant migration 66): then it stops at its next batch.
   * Nothing is made while research is off. Chunks written while it ran may be left pending: research
   * answers without them, saying it is incomplete, until the sweep makes them. Returns how many were made.
   */
  public long build(TenantId tenant, String model, int dimensions, Function<List<String>, List<float[]>> embed) {
    Long generation = tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT generation FROM research_build WHERE enabled");
           ResultSet rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : null;
      }
    });
    if (generation == null) {
      return 0;
    }
    // The generation's forgetting first, if no one has done it yet: the build of another process (or of this one
    // that ended before it forgot) may still be on its way to it, and until it has happened the embeddings are the
    // old generation's, which no completion may answer from (tenant migration 69).
    forgetAll(tenant);
    long made = 0;
    for (int n; (n = embedPending(tenant, generation, model, dimensions, embed)) > 0; ) {
      made += n;
    }
    tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("UPDATE research_build SET completed = generation "
          + "WHERE enabled AND generation = ? AND forgotten = generation AND completed IS DISTINCT FROM generation")) {
        ps.setLong(1, generation);
        return ps.executeUpdate();
      }
    });
    return made;
  }

  /**
   * The research sweep: {@link #build}, unless the tenant is being re-embedded (a chunk of another model, or of
   * this one at another size, exists). Then its chunks of the old model wait for their successors, which the
   * work list walked past every sweep, batch after batch, while research refuses anyway (a re-embedding under
   * way, tenant migration 54); the sweep after the re-embedding makes what is pending. Two reads, one at each end
   * of the (model, size) index.
   */
  public long sweep(TenantId tenant, String model, int dimensions, Function<List<String>, List<float[]>> embed) {
    boolean reembedding = tx.run(tenant, PolicySettings.ingest(), c -> {
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT coalesce((SELECT low.model <> ? OR low.size <> ? OR high.model <> ? OR high.size <> ?
                           FROM (SELECT model, public.vector_dims(embedding) AS size FROM chunks
                                 ORDER BY model, public.vector_dims(embedding) LIMIT 1) low,
                                (SELECT model, public.vector_dims(embedding) AS size FROM chunks
                                 ORDER BY model DESC, public.vector_dims(embedding) DESC LIMIT 1) high), false)""")) {
        ps.setString(1, model);
        ps.setInt(2, dimensions);
        ps.setString(3, model);
        ps.setInt(4, dimensions);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() && rs.getBoolean(1);
        }
      }
    });
    return reembedding ? 0 : build(tenant, model, dimensions, embed);
  }

  /** Embeds every pending chunk of the model, batch by batch, while research is on. */
  public long embedAll(TenantId tenant, String model, int dimensions, Function<List<String>, List<float[]>> embed) {
    long made = 0;
    for (int n; (n = embedPending(tenant, model, dimensions, embed)) > 0; ) {
      made += n;
    }
    return made;
  }

  /**
   * Forgets every research embedding of the tenant, once per turning-on of research (its generation, tenant
   * migration 66): the build started by turning research on makes them all again, with the patients'
   * identifiers and the detectors as they are now (off and on again is how an operator remakes them after a
   * detector change). Recorded in the same transaction (tenant migration 69: only then may the generation be
   * marked completed), so whichever comes first of this process's build and another process's sweep forgets,
   * and the other does not forget again what the first has made since. Nothing while research is off. Returns
   * how many chunks wait again.
   */
  public int forgetAll(TenantId tenant) {
    return tx.run(tenant, PolicySettings.ingest(), c -> {
      // One forgetting of the tenant at a time, across processes: the second reads the first's record below. And
      // none beside an embedding worker batch's writes of chunks, which hold this lock shared before their first
      // chunk lock (ResearchForgetLock): the update below and such a batch met with their chunk locks in opposite
      // orders, and PostgreSQL aborted one of them (40P01). Taken before this transaction's first chunk lock.
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(" + ResearchForgetLock.KEY + ")")) {
        ps.setString(1, tenant.value());
        ps.executeQuery().close();
      }
      long generation;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT generation FROM research_build WHERE enabled AND forgotten IS DISTINCT FROM generation");
           ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return 0; // research off, or this generation's embeddings already forgotten
        }
        generation = rs.getLong(1);
      }
      // Starts after the turning-on committed (read above): a research batch of an older generation has stored
      // its embeddings before it (the turning-on waited for it), or stores none (embedPending), so all are seen.
      int forgotten;
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE chunks SET research_embedding = NULL WHERE research_embedding IS NOT NULL")) {
        forgotten = ps.executeUpdate();
      }
      // not if research was turned off or on again meanwhile: that generation's own forgetting is still to come
      try (PreparedStatement ps = c.prepareStatement(
          "UPDATE research_build SET forgotten = generation WHERE enabled AND generation = ?")) {
        ps.setLong(1, generation);
        ps.executeUpdate();
      }
      return forgotten;
    });
  }

  /** The chunk's text as research returns it, tokens named without a subject code. */
  static String deidentified(String text, KnownIdentifiers known) {
    return Deidentifier.deidentify(List.of(text), known == null ? KnownIdentifiers.empty() : known, DatePolicy.YEAR, 0)
        .texts().get(0);
  }
}
