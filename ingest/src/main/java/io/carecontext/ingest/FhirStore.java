package io.carecontext.ingest;

import io.carecontext.fhir.BundleValidator;
import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.FhirId;
import io.carecontext.fhir.FhirInputException;
import io.carecontext.fhir.FhirIssue;
import io.carecontext.fhir.ResourceValidator;
import io.carecontext.fhir.StoredTypes;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Collectors;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The write path of one tenant's FHIR data: create, update, read, delete, transaction and batch
 * Bundles. Every write runs in one tenant transaction under the tenant's role, for the caller's
 * {@link FhirWriter}: its settings present the caller's key (the database writes a resource only for a
 * live EHR-integration key of the tenant, tenant migration 29), and its audit records what the
 * transaction wrote before it commits. A failed transaction stores nothing and records nothing.
 */
public final class FhirStore {

  private static final Logger LOG = LoggerFactory.getLogger(FhirStore.class);

  /** The most entries a transaction or batch Bundle may hold unless configured otherwise. */
  public static final int DEFAULT_MAX_BUNDLE_ENTRIES = 10_000;

  /** How many NDJSON lines {@link #importNdjson} commits at a time (what a re-send after a broken import repeats). */
  public static final int NDJSON_LINES_PER_COMMIT = NdjsonImporter.BATCH;

  private final TenantTransactions tx;
  private final TenantKeys keys;
  private final int maxBundleEntries;

  public FhirStore(TenantTransactions tx, TenantKeys keys) {
    this(tx, keys, DEFAULT_MAX_BUNDLE_ENTRIES);
  }

  /**
   * {@code maxBundleEntries}: the most entries a transaction or batch Bundle may hold
   * ({@code CARECONTEXT_FHIR_MAX_BUNDLE_ENTRIES}).
   */
  public FhirStore(TenantTransactions tx, TenantKeys keys, int maxBundleEntries) {
    if (maxBundleEntries < 1) {
      throw new IllegalArgumentException("maxBundleEntries must be at least 1");
    }
    this.tx = tx;
    this.keys = keys;
    this.maxBundleEntries = maxBundleEntries;
  }

  /** Creates or updates the resource with the id it carries. */
  public WriteOutcome put(TenantId tenant, FhirWriter writer, Resource resource) {
    return put(tenant, writer, resource, null);
  }

  /**
   * Updates the resource only while it is at {@code expectedVersion} (If-Match; 0 for any version,
   * {@code null} for no condition), else {@link VersionConflictException} and nothing is stored.
   */
  public WriteOutcome put(TenantId tenant, FhirWriter writer, Resource resource, Long expectedVersion) {
    requireValidId(resource);
    requireValid(resource);
    return write(tenant, writer, w -> writeResolved(w, resource, expectedVersion));
  }

  /** Creates the resource under a server-assigned id. */
  public WriteOutcome create(TenantId tenant, FhirWriter writer, Resource resource) {
    resource.setId(UUID.randomUUID().toString());
    requireValid(resource);
    return write(tenant, writer, w -> writeResolved(w, resource, null));
  }

  /**
   * What one entry of a transaction or batch response did, for the endpoint to answer {@code Prefer: return}
   * with: {@code written} when it was written (created, updated, unchanged or deleted), else {@code matched},
   * the location ({@code Type/id/_history/v}) of the resource a conditional create found, which stored nothing,
   * and {@code matchedPatient}, the patient whose compartment that resource is in (null for none): handing out
   * its id and version is a read of that patient's record, which the endpoint records.
   */
  public record EntryResult(WriteOutcome written, String matched, String matchedPatient) {}

  static final String RESULT = FhirStore.class.getName() + ".entryResult";

  /** What the response entry of {@link #transaction} or {@link #batch} did; empty for an entry refused. */
  public static Optional<EntryResult> resultOf(Bundle.BundleEntryComponent responseEntry) {
    return responseEntry.getUserData(RESULT) instanceof EntryResult r ? Optional.of(r) : Optional.empty();
  }

  /** What a conditional create did: {@code created} when it wrote, else the {@code existing} resource it matched. */
  public record ConditionalCreate(WriteOutcome created, StoredResource existing) {}

  /**
   * Conditional create ({@code If-None-Exist: identifier=system|value}): if a resource of this type
   * carries that identifier, nothing is written and that resource comes back (the first by id when
   * several do, as in a Bundle); otherwise the resource is created under a server-assigned id. The
   * match, and the create or the read, are one transaction.
   */
  public ConditionalCreate createIfNoneExist(TenantId tenant, FhirWriter writer, Resource resource, String criteria) {
    IdentifierCriteria c = IdentifierCriteria.parse(criteria).orElseThrow(() -> FhirInputException.of(
        FhirIssue.error("not-supported", null, "If-None-Exist",
            "If-None-Exist supports identifier=system|value only (identifier=|value for an identifier without a "
                + "system)" + IdentifierCriteria.problem(criteria))));
    resource.setId(UUID.randomUUID().toString());
    requireValid(resource);
    return write(tenant, writer, w -> {
      w.lockIdentifier(resource.fhirType(), c.system(), c.value());
      Optional<String> match = w.findByIdentifier(resource.fhirType(), c.system(), c.value());
      if (match.isEmpty()) {
        return new ConditionalCreate(writeResolved(w, resource, null), null);
      }
      // A match writes nothing and hands out the stored resource whole: a FHIR read. The write path's
      // role reads every resource for any key (or none), so the resource is read as the FHIR-read
      // role, which sees it only while the key is a live EHR-integration key of the tenant (tenant
      // migration 28), as GET does; nothing was written, so leaving the write's role costs nothing.
      tx.switchTo(w.connection(), tenant, fhirReadOf(writer.settings()));
      return new ConditionalCreate(null, read(w.connection(), tenant, resource.fhirType(), match.get(), CURRENT, null)
          .orElseThrow(KeyNotAdmittedException::new));
    });
  }

  /** The FHIR-read settings for the key that {@code writeSettings} present (none when they present none). */
  private static PolicySettings fhirReadOf(PolicySettings writeSettings) {
    return PolicySettings.fhirRead(writeSettings.values().get("cc.key"), writeSettings.values().get("cc.key_hash"));
  }

  /**
   * The current version, decrypted, as the write path sees it; empty if the resource never
   * existed. FHIR reads for a caller use {@link #read(TenantId, PolicySettings, String, String)}.
   */
  public Optional<StoredResource> read(TenantId tenant, String type, String id) {
    return read(tenant, PolicySettings.ingest(), type, id, CURRENT, null);
  }

  /**
   * The current version for a FHIR read with {@code callerSettings} ({@link PolicySettings#fhirRead}):
   * under the tenant's FHIR-read role, which sees resources only while the settings present a live
   * EHR-integration key of the tenant (tenant migration 28); empty otherwise, as for a resource that
   * never existed.
   */
  public Optional<StoredResource> read(TenantId tenant, PolicySettings callerSettings, String type, String id) {
    return read(tenant, callerSettings, type, id, CURRENT, null);
  }

  private static final String CURRENT =
      "SELECT version_id, last_updated, deleted, body, patient_id FROM resources WHERE resource_type = ? AND resource_id = ?";

  /**
   * One version of a resource, current or earlier (every version's body is kept, encrypted), in one
   * query with the resource's current state: a resource deleted now reads as deleted whichever
   * version is asked for. Empty if the resource never existed or has no such version.
   */
  public Optional<StoredResource> readVersion(TenantId tenant, PolicySettings callerSettings, String type, String id,
                                             long version) {
    return read(tenant, callerSettings, type, id, """
        SELECT coalesce(v.version_id, p.vid), coalesce(v.last_updated, r.last_updated),
               r.deleted OR coalesce(v.deleted, false), v.body, coalesce(v.patient_id, r.patient_id)
        FROM (SELECT ?::text AS type, ?::text AS id, ?::bigint AS vid) p
        JOIN resources r ON r.resource_type = p.type AND r.resource_id = p.id
        LEFT JOIN resource_versions v
          ON v.resource_type = p.type AND v.resource_id = p.id AND v.version_id = p.vid""", version);
  }

  private Optional<StoredResource> read(TenantId tenant, PolicySettings settings, String type, String id, String sql,
                                        Long wanted) {
    requireUrlId(type, id);
    return tx.run(tenant, settings, c -> read(c, tenant, type, id, sql, wanted));
  }

  /** One version inside the caller's transaction. */
  private Optional<StoredResource> read(Connection c, TenantId tenant, String type, String id, String sql,
                                        Long wanted) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, type);
      ps.setString(2, id);
      if (wanted != null) {
        ps.setLong(3, wanted);
      }
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        long version = rs.getLong(1);
        boolean deleted = rs.getBoolean(3);
        if (!deleted && rs.getBytes(4) == null) {
          return Optional.empty(); // the resource has no such version
        }
        String json = deleted ? null
            : keys.cipher(tenant).decryptToString(rs.getBytes(4), Aad.resource(tenant, type, id, version));
        return Optional.of(new StoredResource(type, id, version, rs.getTimestamp(2).toInstant(), deleted, json,
            rs.getString(5)));
      }
    }
  }

  /**
   * Deletes the resource; its chunks are gone when this returns. Empty if there was nothing to
   * delete. An id FHIR does not allow is refused (400), not answered as "nothing there": no write
   * path stores such an id, so a 204 told the feed a delete had happened when its URL was wrong.
   */
  public Optional<WriteOutcome> delete(TenantId tenant, FhirWriter writer, String type, String id) {
    return delete(tenant, writer, type, id, null);
  }

  /** As {@link #delete(TenantId, FhirWriter, String, String)}, only while the resource is at {@code expectedVersion} (If-Match). */
  public Optional<WriteOutcome> delete(TenantId tenant, FhirWriter writer, String type, String id, Long expectedVersion) {
    requireUrlId(type, id);
    return write(tenant, writer, w -> w.delete(type, id, expectedVersion));
  }

  /**
   * An id from a URL that FHIR allows, or a 400 that gives the rule, never the value (an id sent
   * wrong can be an MRN or a name). No write path stores any other id, so answering a read of one
   * 404 sent a feed looking for a missing resource when its URL was wrong.
   */
  public static void requireUrlId(String type, String id) {
    if (!FhirId.isValid(id)) {
      throw FhirInputException.of(FhirIssue.error("invalid", null, type + ".id",
          "the id in the URL must match " + FhirId.RULE));
    }
  }

  private static WriteOutcome writeResolved(ResourceWriter w, Resource resource, Long expectedVersion)
      throws SQLException {
    BundleProcessor.resolveStandalone(w, resource);
    return w.write(resource, expectedVersion);
  }

  /** All or nothing: every entry is written in one transaction, or none is. */
  public Bundle transaction(TenantId tenant, FhirWriter writer, Bundle bundle) {
    requireWithinEntryCap(bundle);
    requireValid(bundle, Bundle.BundleType.TRANSACTION);
    return write(tenant, writer,
        // a copy an attempt: processing gives POST entries ids and rewrites references in place, and a
        // write that lost a deadlock runs again from the Bundle as it was sent
        w -> new BundleProcessor(w).process(bundle.copy(), Bundle.BundleType.TRANSACTIONRESPONSE));
  }

  /** Each entry on its own: a bad entry is answered with its OperationOutcome, the others are written. */
  public Bundle batch(TenantId tenant, FhirWriter writer, Bundle bundle) {
    requireWithinEntryCap(bundle);
    // Only a problem with the Bundle itself refuses the whole batch; an invalid entry is answered
    // in its own response entry, and the valid entries are still written.
    List<FhirIssue> issues = BundleValidator.validate(bundle);
    List<FhirIssue> whole = issues.stream().filter(i -> i.entryIndex() == null).toList();
    requireValid(whole, bundle, Bundle.BundleType.BATCH);
    Map<Integer, List<FhirIssue>> byEntry = issues.stream().filter(i -> i.entryIndex() != null)
        .collect(Collectors.groupingBy(FhirIssue::entryIndex));
    return BundleProcessor.batch(bundle, byEntry, (index, entry) -> write(tenant, writer,
        w -> new BundleProcessor(w).processOne(index, entry.copy())));
  }

  /**
   * A Bundle of more entries than the cap is refused before any of it is validated or stored. The body
   * limit (50 MB) let through Bundles of hundreds of thousands of small entries (a DELETE entry is some
   * 60 bytes), and a transaction of them held one database transaction, and past a few hundred entries
   * the tenant's writes whole ({@link ResourceWriter#lock}), for as long as it took: every other write
   * of the tenant waited. {@code $import} commits in batches and holds nothing that long.
   */
  private void requireWithinEntryCap(Bundle bundle) {
    if (bundle.getEntry().size() > maxBundleEntries) {
      throw FhirInputException.of(BundleValidator.overEntryCap(maxBundleEntries));
    }
  }

  /**
   * The most entries a Bundle may hold here: the HTTP layer refuses a body of more before it is parsed
   * ({@link io.carecontext.fhir.Fhir#parseBundleBody(String, int)}), as parsing holds every entry at once.
   */
  public int maxBundleEntries() {
    return maxBundleEntries;
  }

  /**
   * Streams NDJSON into the store in committed batches; see {@link NdjsonImporter}. Lines are split
   * at the line feed byte and then decoded from {@code charset}, which must keep ASCII's bytes for
   * line feeds (UTF-8, Latin-1; not UTF-16).
   */
  public ImportSummary importNdjson(TenantId tenant, FhirWriter writer, java.io.InputStream in,
                                    java.nio.charset.Charset charset, ImportProgress progress) {
    return importNdjson(tenant, writer, in, charset, progress, io.carecontext.fhir.Handling.LENIENT);
  }

  /**
   * {@link #importNdjson(TenantId, FhirWriter, java.io.InputStream, java.nio.charset.Charset, ImportProgress)}
   * with the request's handling of elements R4 does not define: under strict, a line that holds one is
   * refused and listed as other bad lines are.
   */
  public ImportSummary importNdjson(TenantId tenant, FhirWriter writer, java.io.InputStream in,
                                    java.nio.charset.Charset charset, ImportProgress progress,
                                    io.carecontext.fhir.Handling handling) {
    return new NdjsonImporter(this, tenant, writer, charset, progress, handling).run(in);
  }

  /** Writes a batch of already-parsed resources (with ids) in one transaction. */
  List<WriteOutcome> putAll(TenantId tenant, FhirWriter writer, List<Resource> resources) {
    return write(tenant, writer, w -> {
      w.lock(resources.stream().map(r -> w.resourceKey(r.fhirType(), r.getIdElement().getIdPart())).toList());
      List<WriteOutcome> out = new java.util.ArrayList<>(resources.size());
      for (Resource r : resources) {
        out.add(w.write(r));
      }
      return out;
    });
  }

  /** Work inside one write transaction, with a {@link ResourceWriter} on its connection. */
  @FunctionalInterface
  private interface Work<T> {
    T apply(ResourceWriter w) throws SQLException;
  }

  /**
   * One write transaction for {@code writer}: the work, then, as its last step, the audit rows of
   * what it created, changed, deleted or was sent and left as it was (a write attempt is an access
   * to the record even when the content was already there), so the write and its record commit
   * together or not at all.
   */
  private <T> T write(TenantId tenant, FhirWriter writer, Work<T> work) {
    for (int attempt = 1; ; attempt++) {
      try {
        return writeOnce(tenant, writer, work);
      } catch (DatabaseException e) {
        // Writes that touch the same resources in another order (two Bundles, two $import batches)
        // deadlock, and PostgreSQL aborts one of them: it answered 500 and its data was lost. Nothing
        // of it was committed, so it runs again; only a third loss in a row is the caller's error.
        if (attempt >= MAX_ATTEMPTS || !lostToAnotherWrite(e)) {
          throw e;
        }
        LOG.warn("tenant {}: a FHIR write lost a deadlock to another write; running it again ({} of {})", tenant,
            attempt + 1, MAX_ATTEMPTS);
      }
    }
  }

  private static final int MAX_ATTEMPTS = 3;

  /** Deadlock (40P01) or serialization failure (40001): the transaction was rolled back whole. */
  private static boolean lostToAnotherWrite(Throwable e) {
    return java.util.stream.Stream.iterate(e, java.util.Objects::nonNull, Throwable::getCause)
        .anyMatch(t -> t instanceof SQLException s && ("40P01".equals(s.getSQLState()) || "40001".equals(s.getSQLState())));
  }

  private <T> T writeOnce(TenantId tenant, FhirWriter writer, Work<T> work) {
    try {
      return tx.run(tenant, writer.settings(), c -> {
        ResourceWriter w = writer(tenant, c);
        T result = work.apply(w);
        List<WriteOutcome> outcomes = w.outcomes();
        if (!outcomes.isEmpty()) {
          writer.audit().record(c, tenant, outcomes);
        }
        return result;
      });
    } catch (DatabaseException e) {
      // Refused by a policy or a grant (42501): a key the database no longer admits is the caller's
      // to fix; anything else (a missing grant) is the server's, and stays as it is.
      if (insufficientPrivilege(e) && !keyAdmitted(tenant, writer.settings())) {
        throw new KeyNotAdmittedException();
      }
      throw e;
    }
  }

  private static boolean insufficientPrivilege(Throwable e) {
    return java.util.stream.Stream.iterate(e, java.util.Objects::nonNull, Throwable::getCause)
        .anyMatch(t -> t instanceof SQLException s && "42501".equals(s.getSQLState()));
  }

  /** Whether the database admits the settings' key for writing (the check of tenant migration 29). */
  private boolean keyAdmitted(TenantId tenant, PolicySettings settings) {
    return tx.run(tenant, settings, c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT EXISTS (SELECT 1 FROM caller_key WHERE roles && '{ehr-integration}'::text[])");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getBoolean(1);
      }
    });
  }

  private ResourceWriter writer(TenantId tenant, Connection c) {
    return new ResourceWriter(tenant, keys.cipher(tenant), c);
  }

  /**
   * The id a client gives a resource must be one FHIR allows, as on every other write path: a
   * resource stored under any other id could never be read, updated or deleted by its URL, so its
   * chunks would stay retrievable after a DELETE of it.
   */
  static void requireValidId(Resource resource) {
    if (!resource.getIdElement().hasIdPart() || !FhirId.isValid(resource.getIdElement().getIdPart())) {
      throw FhirInputException.of(FhirIssue.error("invalid", null, resource.fhirType() + ".id",
          resource.fhirType() + ".id must match " + FhirId.RULE));
    }
  }

  static void requireValid(Resource resource) {
    StoredTypes.refusal(resource.fhirType()).ifPresent(why -> {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, resource.fhirType(), why));
    });
    List<FhirIssue> issues = ResourceValidator.validate(resource);
    if (!issues.isEmpty()) {
      throw new FhirInputException(issues);
    }
  }

  private static void requireValid(Bundle bundle, Bundle.BundleType expected) {
    requireValid(BundleValidator.validate(bundle), bundle, expected);
  }

  private static void requireValid(List<FhirIssue> issues, Bundle bundle, Bundle.BundleType expected) {
    if (!issues.isEmpty()) {
      throw new FhirInputException(issues);
    }
    if (bundle.getType() != expected) {
      throw FhirInputException.of(FhirIssue.error("invalid", null, "Bundle.type", "Bundle.type must be "
          + expected.toCode()));
    }
  }
}
