package io.carecontext.ingest;

import io.carecontext.fhir.CareLink;
import io.carecontext.fhir.CareLinks;
import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.fhir.ConsentDirective;
import io.carecontext.fhir.ConsentInterpreter;
import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.PatientCompartment;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.ResearchForgetLock;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.crypto.TenantCipher;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Optional;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Consent;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Resource;

/**
 * Writes resources inside one tenant ingest transaction: versioned, encrypted, idempotent, with the
 * outbox row, consent state, care links and identifier index in the same transaction.
 */
final class ResourceWriter {

  private final TenantId tenant;
  private final TenantCipher cipher;
  private final Connection c;
  /**
   * What this transaction did to each resource it was asked to write or delete, in order, unchanged
   * ones included: what its audit rows record.
   */
  private final List<WriteOutcome> outcomes = new ArrayList<>();

  ResourceWriter(TenantId tenant, TenantCipher cipher, Connection c) {
    this.tenant = tenant;
    this.cipher = cipher;
    this.c = c;
  }

  private static final String INSERT_NEW = """
      INSERT INTO resources (resource_type, resource_id, version_id, patient_id, security_labels, content_hash, body,
                             last_updated, deleted)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)
      ON CONFLICT (resource_type, resource_id) DO NOTHING""";

  private static final String UPSERT = """
      INSERT INTO resources (resource_type, resource_id, version_id, patient_id, security_labels, content_hash, body,
                             last_updated, deleted)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)
      ON CONFLICT (resource_type, resource_id) DO UPDATE SET version_id = excluded.version_id,
        patient_id = excluded.patient_id, security_labels = excluded.security_labels,
        content_hash = excluded.content_hash, body = excluded.body, last_updated = excluded.last_updated,
        deleted = false""";

  WriteOutcome write(Resource resource) throws SQLException {
    return write(resource, null);
  }

  /**
   * Writes the resource; with {@code expectedVersion} (If-Match) only while the stored one is at that
   * version (0: at any version, not deleted), else {@link VersionConflictException}.
   */
  WriteOutcome write(Resource resource, Long expectedVersion) throws SQLException {
    String type = resource.fhirType();
    String id = resource.getIdElement().getIdPart();
    resource.setId(id);
    shareTenantWrites();
    Current current = current(type, id);
    if (expectedVersion != null && (current == null || current.deleted
        || (expectedVersion != 0 && current.version != expectedVersion))) {
      throw new VersionConflictException();
    }
    resource.getMeta().setVersionId(null).setLastUpdated(null);
    byte[] hash = cipher.contentHash(Fhir.toJson(resource).getBytes(StandardCharsets.UTF_8));
    if (current != null && !current.deleted && Arrays.equals(current.hash, hash)) {
      if ("Encounter".equals(type)) {
        stillOpen(id);
      }
      return recorded(new WriteOutcome(type, id, current.version, current.lastUpdated, WriteOutcome.Status.UNCHANGED,
          current.patientId));
    }
    long version = current == null ? 1 : current.version + 1;
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    resource.getMeta().setVersionId(Long.toString(version)).setLastUpdated(Date.from(now));
    String json = Fhir.toJson(resource);
    byte[] body = cipher.encryptString(json, Aad.resource(tenant, type, id, version));
    String patient = PatientCompartment.patientIdOf(resource).orElse(null);
    List<String> labels = resource.getMeta().getSecurity().stream().map(Coding::getCode)
        .filter(x -> x != null).distinct().toList();
    // A row that exists is locked (current() reads it FOR UPDATE), so its update is this write's alone.
    // A new one is not: writes of one new resource at once all found no row and took version 1. The
    // first insert wins; the others, told so by the conflict, start again and see its row.
    try (PreparedStatement ps = c.prepareStatement(current == null ? INSERT_NEW : UPSERT)) {
      bindRow(ps, type, id, version, patient, labels, hash, body, now);
      if (ps.executeUpdate() == 0) {
        return write(resource, expectedVersion);
      }
    }
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO resource_versions (resource_type, resource_id, version_id, patient_id, security_labels,
                                       content_hash, body, last_updated, deleted)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, false)""")) {
      bindRow(ps, type, id, version, patient, labels, hash, body, now);
      ps.executeUpdate();
    }
    if (current != null && !current.deleted) {
      // The chunks of the earlier version say what this one changed (its hash differs): served on until the worker
      // chunks this version, they would be a diagnosis the EHR has corrected (an amendment that changes a
      // Condition's code says nothing of the earlier one being wrong), a result filed to another patient, a label
      // a reader may not see, for seconds, and for good if the worker parks the row. They go now, as a DELETE's
      // do; the worker makes the new ones from the outbox row below, and until then context and chat answers count
      // the resource in "pending" instead of serving its superseded text.
      if (!java.util.Objects.equals(current.patientId, patient) || !sameLabels(current.labels, labels)
          || ChunkRenderer.voidsEarlierText(resource)) {
        // Another patient, another label, or a text this version says is wrong (entered in error, cancelled, a
        // corrected result): the earlier versions' queue rows go first, so that a worker embedding one of them
        // now, which holds it locked, is waited for and cannot commit its chunks after this delete (see
        // delete()). Not for every update: that wait lasts the worker's model call, up to an endpoint's timeout.
        // Otherwise a worker that read the earlier version before this write commits may still commit its
        // chunks; the row this write queues replaces them moments later.
        execute("DELETE FROM outbox WHERE resource_type = ? AND resource_id = ?", type, id);
      }
      deleteChunks(type, id);
    }
    enqueue(type, id, version, "index");
    replaceSideTables(resource, type, id);
    boolean created = current == null || current.deleted;
    // An update may move the resource to another patient (a corrected subject): the one it leaves
    // has had its record changed as much as the one it joins, and its trail must say so.
    return recorded(new WriteOutcome(type, id, version, now,
        created ? WriteOutcome.Status.CREATED : WriteOutcome.Status.UPDATED, patient,
        created ? patient : current.patientId));
  }

  /**
   * Marks the resource deleted (a new, empty version) and removes its chunks, consent state, care
   * links and identifiers in the same transaction: they are unretrievable once this commits.
   */
  Optional<WriteOutcome> delete(String type, String id) throws SQLException {
    return delete(type, id, null);
  }

  /**
   * Deletes the resource; with {@code expectedVersion} (If-Match) only while the stored one is at that
   * version (0: at any version, not deleted), else {@link VersionConflictException}. (The header was
   * ignored, and a delete made from an old version went through.)
   */
  Optional<WriteOutcome> delete(String type, String id, Long expectedVersion) throws SQLException {
    shareTenantWrites();
    Current current = current(type, id);
    if (expectedVersion != null && (current == null || current.deleted
        || (expectedVersion != 0 && current.version != expectedVersion))) {
      throw new VersionConflictException();
    }
    if (current == null || current.deleted) {
      return Optional.empty();
    }
    long version = current.version + 1;
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    try (PreparedStatement ps = c.prepareStatement(
        "UPDATE resources SET deleted = true, version_id = ?, last_updated = ?, body = '\\x'::bytea "
            + "WHERE resource_type = ? AND resource_id = ?")) {
      ps.setLong(1, version);
      ps.setTimestamp(2, Timestamp.from(now));
      ps.setString(3, type);
      ps.setString(4, id);
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO resource_versions (resource_type, resource_id, version_id, content_hash, body, last_updated, deleted)
        VALUES (?, ?, ?, '\\x'::bytea, NULL, ?, true)""")) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setLong(3, version);
      ps.setTimestamp(4, Timestamp.from(now));
      ps.executeUpdate();
    }
    // The queue first: a worker that claimed this resource's row holds it locked until it commits the
    // chunks it made from the version it read, so this waits for it, and the chunks go after. Chunks
    // first, and a worker embedding at that moment committed its chunks after them: the deleted
    // resource's text was served for good.
    execute("DELETE FROM outbox WHERE resource_type = ? AND resource_id = ?", type, id);
    deleteChunks(type, id);
    clearSideTables(type, id);
    return Optional.of(recorded(new WriteOutcome(type, id, version, now, WriteOutcome.Status.DELETED, current.patientId)));
  }

  /**
   * Deletes the resource's chunks. The transaction's first deletion takes the tenant's research forgetting lock
   * shared ({@link ResearchForgetLock}) before its first chunk lock, in the same statement (an initial plan, run
   * once before the scan): turning research on forgets every research embedding, updating every chunk that has
   * one in the table's order, while a write of several resources (a transaction Bundle, an {@code $import} batch)
   * deletes their chunks resource by resource. The two met with their chunk locks taken in opposite orders, and
   * PostgreSQL aborted one of them (40P01): turning research on failed, or the write ran again a deadlock timeout
   * later. Now the forgetting waits for the writes under way, and the writes after it for the forgetting.
   */
  private void deleteChunks(String type, String id) throws SQLException {
    if (holdsResearchForgetLock) {
      execute("DELETE FROM chunks WHERE resource_type = ? AND resource_id = ?", type, id);
      return;
    }
    execute("DELETE FROM chunks WHERE resource_type = ? AND resource_id = ? AND (SELECT pg_advisory_xact_lock_shared("
        + ResearchForgetLock.KEY + ")) IS NOT NULL", type, id, tenant.value());
    holdsResearchForgetLock = true;
  }

  /** Whether this transaction holds the research forgetting lock (shared), taken by its first {@link #deleteChunks}. */
  private boolean holdsResearchForgetLock;

  private WriteOutcome recorded(WriteOutcome o) {
    outcomes.add(o);
    return o;
  }

  /** The transaction's connection. */
  Connection connection() {
    return c;
  }

  /**
   * An Encounter sent again unchanged: no new version, but the feed says it still stands. Its links
   * open since an earlier store (under way without an end, or ending ahead: CareLinks.of) are open
   * since now, and the database bounds them by the tenant's openEncounterMaxDays from here (tenant
   * migrations 60 and 63): a long stay whose feed only re-sends the encounter kept the time of its last
   * change, and its link lapsed while the patient was still in the ward. An ended link has no
   * open_since and is left as it is.
   */
  private void stillOpen(String id) throws SQLException {
    execute("UPDATE care_links SET open_since = now() WHERE source_type = 'Encounter' AND source_id = ? "
        + "AND open_since < now()", id);
  }

  /** What this writer created, changed, deleted or left unchanged so far. */
  List<WriteOutcome> outcomes() {
    return List.copyOf(outcomes);
  }

  /**
   * Holds, until this transaction ends, the right to create a resource of that type with that
   * identifier: a conditional create looks for the identifier and creates only when it finds none, and
   * two at once both found none and both created. The key is the identifier's keyed hash, never its value.
   */
  void lockIdentifier(String type, String system, String value) throws SQLException {
    lock(List.of(identifierKey(type, system, value)));
  }

  long identifierKey(String type, String system, String value) {
    return java.nio.ByteBuffer.wrap(identifierHash(system, value), 0, 8).getLong() ^ type.hashCode();
  }

  /** The lock key of a resource ({@code Type/id}), for {@link #lock}. */
  long resourceKey(String type, String id) {
    return java.nio.ByteBuffer.wrap(cipher.contentHash(("resource|" + type + "/" + id)
        .getBytes(StandardCharsets.UTF_8)), 0, 8).getLong();
  }

  /**
   * Transaction advisory locks on {@code keys}, taken in ascending order in one round trip. A write
   * of several resources (a Bundle, an {@code $import} batch) takes them all before it writes, so
   * two writes that share resources wait for one another instead of each locking its first resource
   * and then waiting for the other's: a deadlock, which PostgreSQL ended by aborting one of them.
   */
  void lock(java.util.Collection<Long> keys) throws SQLException {
    if (keys.isEmpty() || holdsTenantWrites) {
      return; // the tenant's writes are this transaction's alone already
    }
    Long[] sorted = keys.stream().distinct().sorted().toArray(Long[]::new);
    if (sorted.length > MAX_KEYS) {
      // An advisory lock a key took a slot of PostgreSQL's shared lock table, which holds some 64 a
      // connection for the whole server (max_locks_per_transaction): a transaction Bundle of 10,000
      // entries (under a megabyte) failed "out of shared memory", a 500, and while it held them every
      // tenant's transactions that needed a lock could fail too. One lock stands for all of them: no
      // other write of the tenant runs beside this one.
      try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
        ps.setLong(1, tenantWritesKey());
        ps.executeQuery().close();
      }
      holdsTenantWrites = true;
      return;
    }
    // every other write holds the tenant's key shared, before its own keys, so that it waits for such a
    // one (taken again by a transaction that holds it, the shared lock is granted at once)
    shareTenantWrites();
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT count(pg_advisory_xact_lock(k)) FROM unnest(?::bigint[]) AS u(k)")) {
      ps.setArray(1, c.createArrayOf("bigint", sorted));
      ps.executeQuery().close();
    }
  }

  /**
   * The tenant's writes lock, shared, once a transaction, before the first row it locks: every write holds it (a
   * single PUT or DELETE, a batch entry, a Bundle of POSTs alone too, which lock no key of their own), so that a
   * patient's erasure, which takes it alone ({@link PatientErasure}), waits for the writes under way and the next
   * wait for it. A single update of one of the patient's resources committed after the erasure had removed its
   * versions, and its new version (the body whole) and queue row were left behind.
   */
  private void shareTenantWrites() throws SQLException {
    if (holdsTenantWrites || sharesTenantWrites) {
      return;
    }
    try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock_shared(?)")) {
      ps.setLong(1, tenantWritesKey());
      ps.executeQuery().close();
    }
    sharesTenantWrites = true;
  }

  /** Whether this transaction holds the tenant's writes lock shared ({@link #shareTenantWrites}). */
  private boolean sharesTenantWrites;

  /**
   * The most keys a transaction locks one by one: an {@code $import} batch's resources
   * ({@link NdjsonImporter#BATCH}); a write of more takes the tenant's writes whole instead.
   */
  static final int MAX_KEYS = NdjsonImporter.BATCH;

  /** Whether this transaction holds the tenant's writes whole ({@link #lock}). */
  private boolean holdsTenantWrites;

  /** The lock key of all of the tenant's writes, once computed ({@link #tenantWritesKey}). */
  private Long tenantWritesKey;

  /** The lock key of all of the tenant's writes: a keyed hash, so every tenant has its own. */
  private long tenantWritesKey() {
    if (tenantWritesKey == null) {
      tenantWritesKey = tenantWritesKey(cipher);
    }
    return tenantWritesKey;
  }

  /** {@link #tenantWritesKey()} of the tenant whose cipher this is: what a patient's erasure takes alone. */
  static long tenantWritesKey(TenantCipher cipher) {
    return java.nio.ByteBuffer.wrap(cipher.contentHash("tenant-writes".getBytes(StandardCharsets.UTF_8)), 0, 8).getLong();
  }

  /** The id of a stored resource of that type with that identifier, if any. */
  Optional<String> findByIdentifier(String type, String system, String value) throws SQLException {
    if (value.indexOf('|') >= 0) {
      return findByIdentifierRead(type, system, value);
    }
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT i.resource_id FROM resource_identifiers i
        JOIN resources r ON r.resource_type = i.resource_type AND r.resource_id = i.resource_id AND NOT r.deleted
        WHERE i.resource_type = ? AND i.value_hash = ? ORDER BY i.resource_id LIMIT 1""")) {
      ps.setString(1, type);
      ps.setBytes(2, identifierHash(system, value));
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(rs.getString(1)) : Optional.empty();
      }
    }
  }

  /**
   * {@link #findByIdentifier} for a value that contains '|': the index's hash is of
   * {@code system|value}, and a system with a '|' in it, which writes took before they were refused
   * (ResourceValidator), hashed alike with a shorter system and a longer value ({@code a|b} and
   * {@code c}, {@code a} and {@code b|c}): a conditional create or reference matched another patient's
   * resource. No write can store such a system now, but rows stored before can still be there, and the
   * key is not the database's to hash them again; so each match is read and kept only when it carries
   * the identifier itself. Values with a '|' are rare, and a match is seldom more than one row.
   */
  private Optional<String> findByIdentifierRead(String type, String system, String value) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        SELECT r.resource_id, r.version_id, r.body FROM resource_identifiers i
        JOIN resources r ON r.resource_type = i.resource_type AND r.resource_id = i.resource_id AND NOT r.deleted
        WHERE i.resource_type = ? AND i.value_hash = ? ORDER BY i.resource_id""")) {
      ps.setString(1, type);
      ps.setBytes(2, identifierHash(system, value));
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          String id = rs.getString(1);
          Resource stored = Fhir.parseResource(cipher.decryptToString(rs.getBytes(3),
              Aad.resource(tenant, type, id, rs.getLong(2))));
          if (carries(stored, system, value)) {
            return Optional.of(id);
          }
        }
      }
    }
    return Optional.empty();
  }

  /** Whether the resource carries the identifier (a null system: one without a system, as the index reads it). */
  static boolean carries(Resource r, String system, String value) {
    Property p = r.getNamedProperty("identifier");
    return p != null && p.getValues().stream().anyMatch(v -> v instanceof Identifier i
        && value.equals(i.getValue()) && java.util.Objects.equals(system, i.hasSystem() ? i.getSystem() : null));
  }

  void enqueue(String type, String id, long version, String operation) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO outbox (resource_type, resource_id, version_id, operation) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, type);
      ps.setString(2, id);
      ps.setLong(3, version);
      ps.setString(4, operation);
      ps.executeUpdate();
    }
  }

  private void replaceSideTables(Resource resource, String type, String id) throws SQLException {
    clearSideTables(type, id);
    Property identifiers = resource.getNamedProperty("identifier");
    if (identifiers != null) {
      for (var v : identifiers.getValues()) {
        if (v instanceof Identifier ident && ident.hasValue()) {
          try (PreparedStatement ps = c.prepareStatement(
              "INSERT INTO resource_identifiers (resource_type, value_hash, resource_id) VALUES (?, ?, ?) "
                  + "ON CONFLICT DO NOTHING")) {
            ps.setString(1, type);
            ps.setBytes(2, identifierHash(ident.getSystem(), ident.getValue()));
            ps.setString(3, id);
            ps.executeUpdate();
          }
        }
      }
    }
    insertCareLinks(c, resource);
    insertRoleHolder(c, id, resource);
    if (resource instanceof Consent consent) {
      // the Consent's directive and, where it denies purposes, the directive denying them (ConsentInterpreter)
      for (ConsentDirective d : ConsentInterpreter.interpretAll(consent)) {
        insertConsent(d);
      }
    }
  }

  private void insertConsent(ConsentDirective d) throws SQLException {
    insertConsent(c, d);
  }

  /**
   * The consent row of one directive, as the current rules read it ({@link ConsentInterpreter#RULES_VERSION});
   * the write path's and the worker's, which reads older rows again.
   */
  static void insertConsent(Connection c, ConsentDirective d) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO consents (consent_id, patient_id, status, decision, period_start, period_end, purposes,
                              denied_classes, denied_labels, permitted_classes, permitted_labels, explicit_labels,
                              rules_version)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""")) {
      ps.setString(1, d.consentId());
      ps.setString(2, d.patientId());
      ps.setString(3, d.status());
      ps.setString(4, d.baseDecision() == ConsentDirective.Decision.PERMIT ? "permit" : "deny");
      ps.setTimestamp(5, d.periodStart() == null ? null : Timestamp.from(d.periodStart()));
      ps.setTimestamp(6, d.periodEnd() == null ? null : Timestamp.from(d.periodEnd()));
      ps.setArray(7, textArray(c, d.purposes()));
      ps.setArray(8, textArray(c, d.deniedClasses()));
      ps.setArray(9, textArray(c, d.deniedLabels()));
      ps.setArray(10, textArray(c, d.permittedClasses()));
      ps.setArray(11, textArray(c, d.permittedLabels()));
      ps.setArray(12, textArray(c, d.explicitLabels()));
      ps.setInt(13, ConsentInterpreter.RULES_VERSION);
      ps.executeUpdate();
    }
  }

  /**
   * For a PractitionerRole in force ({@link CareLinks#practitionerOfRole}): the practitioner holding it
   * and the role's period, and a copy for that practitioner of every link stated through the role so
   * far, bounded by both periods (tenant migration 47); the caller has removed the role's earlier ones.
   */
  static void insertRoleHolder(Connection c, String roleId, Resource resource) throws SQLException {
    Optional<CareLinks.RoleHolder> holder = CareLinks.practitionerOfRole(resource);
    if (holder.isEmpty()) {
      // The role links no one: recorded for the version stored now, so that the worker's start does not
      // queue it again and again as one stored before its row was kept (tenant migration 49).
      try (PreparedStatement ps = c.prepareStatement("""
          INSERT INTO practitioner_roles_without_holder (role_id, version_id)
          SELECT resource_id, version_id FROM resources WHERE resource_type = 'PractitionerRole' AND resource_id = ?
          ON CONFLICT (role_id) DO UPDATE SET version_id = EXCLUDED.version_id""")) {
        ps.setString(1, roleId);
        ps.executeUpdate();
      }
      return;
    }
    try (PreparedStatement ps = c.prepareStatement(
        "INSERT INTO practitioner_roles (role_id, practitioner_id, valid_from, valid_until) VALUES (?, ?, ?, ?)")) {
      ps.setString(1, roleId);
      ps.setString(2, holder.get().practitionerId());
      ps.setTimestamp(3, timestamp(holder.get().validFrom()));
      ps.setTimestamp(4, timestamp(holder.get().validUntil()));
      ps.executeUpdate();
    }
    try (PreparedStatement ps = c.prepareStatement("""
        INSERT INTO care_links (practitioner_id, patient_id, source_type, source_id, valid_from, valid_until, via_role,
                                open_since)
        SELECT r.practitioner_id, l.patient_id, l.source_type, l.source_id, greatest(l.valid_from, r.valid_from),
               least(l.valid_until, r.valid_until), r.role_id, l.open_since
        FROM care_links l JOIN practitioner_roles r ON r.role_id = ?
        WHERE l.practitioner_id = ? ON CONFLICT DO NOTHING""")) {
      ps.setString(1, roleId);
      ps.setString(2, CareLinks.ROLE_PREFIX + roleId);
      ps.executeUpdate();
    }
  }

  /** The role's practitioner and the copies of the links through it ({@link #insertRoleHolder} makes them). */
  static void clearRoleHolder(Connection c, String roleId) throws SQLException {
    for (String sql : new String[] {"DELETE FROM care_links WHERE via_role = ?",
        "DELETE FROM practitioner_roles WHERE role_id = ?"}) {
      try (PreparedStatement ps = c.prepareStatement(sql)) {
        ps.setString(1, roleId);
        ps.executeUpdate();
      }
    }
  }

  private static Timestamp timestamp(Instant instant) {
    return instant == null ? null : Timestamp.from(instant);
  }

  // open_since: an open encounter's (CareLink#openSince), which the database bounds by the tenant's
  // openEncounterMaxDays (tenant migration 60); a copy through a role keeps it, beside the role's end
  private static final String INSERT_LINK = """
      INSERT INTO care_links (patient_id, source_type, source_id, valid_from, valid_until, open_since, practitioner_id)
      VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING""";
  private static final String INSERT_LINK_FOR_ROLES_PRACTITIONER = """
      INSERT INTO care_links (patient_id, source_type, source_id, valid_from, valid_until, open_since, practitioner_id,
                              via_role)
      SELECT ?, ?, ?, greatest(?::timestamptz, r.valid_from), least(?::timestamptz, r.valid_until), ?::timestamptz,
             r.practitioner_id, r.role_id
      FROM practitioner_roles r WHERE r.role_id = ?
      ON CONFLICT DO NOTHING""";

  /**
   * The care links the resource states ({@link CareLinks#of}), and for a link through a PractitionerRole
   * a copy for the role's practitioner (tenant migration 46); the caller has removed its earlier ones.
   */
  static void insertCareLinks(Connection c, Resource resource) throws SQLException {
    List<CareLink> links = CareLinks.of(resource);
    // every link as stated first, then the copies through roles: a practitioner the resource also names
    // directly keeps its own row, which a role's later change must not take away
    for (CareLink link : links) {
      insertLink(c, INSERT_LINK, link, link.practitionerId());
    }
    for (CareLink link : links) {
      if (link.practitionerId().startsWith(CareLinks.ROLE_PREFIX)) {
        insertLink(c, INSERT_LINK_FOR_ROLES_PRACTITIONER, link,
            link.practitionerId().substring(CareLinks.ROLE_PREFIX.length()));
      }
    }
  }

  /** One of the two inserts above; {@code last}: the practitioner, or the role whose practitioner is linked. */
  private static void insertLink(Connection c, String sql, CareLink link, String last) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      ps.setString(1, link.patientId());
      ps.setString(2, link.sourceType());
      ps.setString(3, link.sourceId());
      ps.setTimestamp(4, timestamp(link.validFrom()));
      ps.setTimestamp(5, timestamp(link.validUntil()));
      ps.setTimestamp(6, timestamp(link.openSince()));
      ps.setString(7, last);
      ps.executeUpdate();
    }
  }

  private void clearSideTables(String type, String id) throws SQLException {
    execute("DELETE FROM resource_identifiers WHERE resource_type = ? AND resource_id = ?", type, id);
    execute("DELETE FROM care_links WHERE source_type = ? AND source_id = ?", type, id);
    if ("PractitionerRole".equals(type)) {
      clearRoleHolder(c, id);
    }
    if ("Consent".equals(type)) {
      execute("DELETE FROM consents WHERE consent_id IN (?, ?)", id, ConsentInterpreter.purposesDeniedId(id));
    }
  }

  private byte[] identifierHash(String system, String value) {
    return cipher.identifierHash(system, value);
  }

  private void bindRow(PreparedStatement ps, String type, String id, long version, String patient, List<String> labels,
                       byte[] hash, byte[] body, Instant now) throws SQLException {
    ps.setString(1, type);
    ps.setString(2, id);
    ps.setLong(3, version);
    ps.setString(4, patient);
    ps.setArray(5, textArray(c, labels));
    ps.setBytes(6, hash);
    ps.setBytes(7, body);
    ps.setTimestamp(8, Timestamp.from(now));
  }

  private static Array textArray(Connection c, List<String> values) throws SQLException {
    return c.createArrayOf("text", values.toArray());
  }

  private void execute(String sql, String... values) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(sql)) {
      for (int i = 0; i < values.length; i++) {
        ps.setString(i + 1, values[i]);
      }
      ps.executeUpdate();
    }
  }

  /**
   * The stored version of a resource that is there and not deleted: read, not locked (a matched
   * conditional create only reports it; current() locks the row for a write).
   */
  Optional<StoredVersion> currentVersion(String type, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT version_id, patient_id, last_updated FROM resources WHERE resource_type = ? AND resource_id = ? "
            + "AND NOT deleted")) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? Optional.of(new StoredVersion(rs.getLong(1), rs.getString(2), rs.getTimestamp(3).toInstant()))
            : Optional.empty();
      }
    }
  }

  /** A stored resource's current version, the patient whose compartment it is in (null for none), and its time. */
  record StoredVersion(long version, String patientId, Instant lastUpdated) {}

  private Current current(String type, String id) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(
        "SELECT version_id, content_hash, deleted, last_updated, patient_id, security_labels FROM resources "
            + "WHERE resource_type = ? AND resource_id = ? FOR UPDATE")) {
      ps.setString(1, type);
      ps.setString(2, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next() ? new Current(rs.getLong(1), rs.getBytes(2), rs.getBoolean(3),
            rs.getTimestamp(4).toInstant(), rs.getString(5), List.of((String[]) rs.getArray(6).getArray())) : null;
      }
    }
  }

  private static boolean sameLabels(List<String> a, List<String> b) {
    return new java.util.HashSet<>(a).equals(new java.util.HashSet<>(b));
  }

  private record Current(long version, byte[] hash, boolean deleted, Instant lastUpdated, String patientId,
                         List<String> labels) {}
}
