package io.carecontext.retrieval.chat;

import ca.uhn.fhir.model.api.TemporalPrecisionEnum;
import io.carecontext.fhir.Fhir;
import io.carecontext.fhir.KnownIdentifiers;
import io.carecontext.migrations.Aad;
import io.carecontext.migrations.DatabaseException;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantKeys;
import io.carecontext.migrations.TenantTransactions;
import io.carecontext.migrations.crypto.TenantCipher;
import io.carecontext.retrieval.Requester;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.Address;
import org.hl7.fhir.r4.model.ContactPoint;
import org.hl7.fhir.r4.model.FamilyMemberHistory;
import org.hl7.fhir.r4.model.HumanName;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Practitioner;
import org.hl7.fhir.r4.model.RelatedPerson;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.r4.model.StringType;

/**
 * The identifiers the platform knows for one patient: from the Patient, its RelatedPersons, the
 * relatives its FamilyMemberHistories name and the practitioners linked to it. Read internally for
 * de-identification; never returned.
 */
public final class PatientIdentifiers {

  private PatientIdentifiers() {}

  public static KnownIdentifiers load(TenantTransactions tx, TenantKeys keys, TenantId tenant, Requester who,
                                      String patientId) {
    return loadAll(tx, keys, tenant, who, List.of(patientId)).get(patientId);
  }

  /**
   * The known identifiers of each of the patients, read in one statement with the requester's key
   * presented to the database. Fails when the database does not admit that key: no identifiers
   * would look like a patient without any, and the texts in hand would pass de-identification with
   * their names in them.
   */
  public static Map<String, KnownIdentifiers> loadAll(TenantTransactions tx, TenantKeys keys, TenantId tenant,
                                                      Requester who, Collection<String> patientIds) {
    // Under the tenant's identity role (V14): those resources of these patients, whatever their labels.
    Map<String, List<Resource>> byPatient = new LinkedHashMap<>();
    patientIds.forEach(p -> byPatient.put(p, new ArrayList<>()));
    rows(tx, keys, tenant, who, patientIds).forEach(row -> byPatient.get(row.patientId()).add(row.resource()));
    Map<String, KnownIdentifiers> out = new LinkedHashMap<>();
    byPatient.forEach((p, resources) -> out.put(p, extract(resources)));
    return out;
  }

  /**
   * The known identifiers of one patient taken only from what the request may read: its Patient (the request
   * was served about it), the RelatedPersons and FamilyMemberHistories whose types, categories, labels and the
   * subject's consent let the request read them (judged under {@code readSettings}, the read transaction's own
   * settings, as the chunk policy judges a chunk: the role's resource types and categories, the role's labels or
   * those a consent permits, and the consent's class and label rules), and the practitioners linked to it through
   * a resource it may read by the same conditions.
   *
   * <p>All of them were used: a name found only in a record the role may not read (a RelatedPerson labelled
   * SDV, a family history labelled PSY, a practitioner linked by a hidden encounter) became a token in a dry
   * run, so asking about a guessed name told whether a hidden record named it. A name known only from such a
   * record is now what any unknown name is: de-identified where the generic detectors find it. The role's
   * categories and types were not asked: a role without {@code clinical} (or whose types leave out
   * FamilyMemberHistory) still had a family history's relative turned into a token, and so learned that the
   * record it may not read exists.
   */
  public static KnownIdentifiers loadReadable(TenantTransactions tx, TenantKeys keys, TenantId tenant, Requester who,
                                              String patientId, PolicySettings readSettings) {
    List<Row> rows = rows(tx, keys, tenant, who, List.of(patientId));
    List<Judged> own = new ArrayList<>();
    List<Judged> sources = new ArrayList<>();
    List<Integer> sourceOf = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      String type = row.resource().fhirType();
      own.add(new Judged(type, null, row.labels(), categoriesOf(type)));
      for (String source : row.sources()) {
        int slash = source.indexOf('/');
        String sourceType = source.substring(0, slash);
        sources.add(new Judged(sourceType, source.substring(slash + 1), null, categoriesOf(sourceType)));
        sourceOf.add(i);
      }
    }
    boolean[][] readable = judge(tx, tenant, readSettings, own, sources);
    List<Resource> kept = new ArrayList<>();
    for (int i = 0; i < rows.size(); i++) {
      Row row = rows.get(i);
      boolean linkedReadably = false;
      for (int j = 0; j < sourceOf.size(); j++) {
        linkedReadably |= sourceOf.get(j) == i && readable[1][j];
      }
      boolean keep = row.resource() instanceof Patient || (row.resource() instanceof Practitioner ? linkedReadably
          : readable[0][i]);
      if (keep) {
        kept.add(row.resource());
      }
    }
    return extract(kept);
  }

  /**
   * The categories a record of this type is read under, as the chunk policy files its chunks (ChunkRenderer): a
   * request that reads none of them may not read the record. A RelatedPerson, like the Patient's registration, is
   * demographic; a FamilyMemberHistory clinical; a CareTeam, which has no chunks, clinical (FHIR's care provision,
   * beside CarePlan); an Encounter administrative and clinical (its chunks are of both). A type that names no care
   * link and no identifying record here is read under none: a name it gave would be known to no request.
   */
  static List<String> categoriesOf(String type) {
    return switch (type) {
      case "Patient", "RelatedPerson" -> List.of("demographic");
      case "FamilyMemberHistory", "CareTeam" -> List.of("clinical");
      case "Encounter" -> List.of("administrative", "clinical");
      default -> List.of();
    };
  }

  /**
   * A record judged by {@link #READABLE}: its type, and either its id (a care link's source, whose labels the
   * statement reads from the table under the read policy) or its labels (an identifying record, which the read
   * role cannot see in the table), and the categories it is read under.
   */
  record Judged(String type, String id, List<String> labels, List<String> categories) {}

  /**
   * One statement under the read settings: which of {@code own} (by their labels) and which of {@code sources}
   * (by their rows) the request may read. Package-private for the IT that holds it to the chunk policy.
   */
  static boolean[][] judge(TenantTransactions tx, TenantId tenant, PolicySettings readSettings, List<Judged> own,
                           List<Judged> sources) {
    return tx.run(tenant, readSettings, c -> {
      boolean[] ownRows = new boolean[own.size()];
      boolean[] sourceRows = new boolean[sources.size()];
      try (PreparedStatement ps = c.prepareStatement(io.carecontext.migrations.TenantSql.of(tenant, READABLE))) {
        ps.setObject(1, own.stream().map(Judged::type).toArray(String[]::new));
        ps.setObject(2, own.stream().map(j -> String.join(",", j.labels())).toArray(String[]::new));
        ps.setObject(3, own.stream().map(j -> String.join(",", j.categories())).toArray(String[]::new));
        ps.setObject(4, sources.stream().map(Judged::type).toArray(String[]::new));
        ps.setObject(5, sources.stream().map(Judged::id).toArray(String[]::new));
        ps.setObject(6, sources.stream().map(j -> String.join(",", j.categories())).toArray(String[]::new));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            (rs.getBoolean(1) ? ownRows : sourceRows)[rs.getInt(2) - 1] = true;
          }
        }
      }
      return new boolean[][] {ownRows, sourceRows};
    });
  }

  /**
   * Under the read settings: each identifying resource (1-based, by its type, its labels, which this role cannot
   * read from the table, and the categories it is read under) and each care link's source resource (by its row,
   * which the read policy shows only when its labels are within what the request may read) that the chunk
   * policy's conditions on a chunk admit (tenant migrations 20, 36 and 43): its type among the request's types, one
   * of its categories among the request's, its labels readable, and the consent's class and label rules. (The
   * chunk policy's patient and care conditions held when the request was served.) The two kinds take one set of
   * conditions, so that they cannot differ; a source's labels are its row's. Before, the request's categories and
   * types were not asked at all, and a source's labels were not put to the consent's label rules. The consent
   * functions are wrapped in {@code (SELECT …)} as the chunk policies wrap them, so each runs once a statement, not
   * once a row (a patient may have thousands of care links to judge).
   */
  private static final String READABLE = """
      SELECT x.own, x.i FROM (
        SELECT true AS own, c.i, c.t, coalesce(string_to_array(nullif(c.l, ''), ','), '{}'::text[]) AS labels,
               coalesce(string_to_array(nullif(c.k, ''), ','), '{}'::text[]) AS categories
        FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS c(t, l, k, i)
        UNION ALL
        SELECT false, s.i, s.t, r.security_labels, coalesce(string_to_array(nullif(s.k, ''), ','), '{}'::text[])
        FROM unnest(?::text[], ?::text[], ?::text[]) WITH ORDINALITY AS s(t, id, k, i)
        JOIN {schema}.resources r ON r.resource_type = s.t AND r.resource_id = s.id AND NOT r.deleted) x
      WHERE x.categories && (SELECT coalesce(string_to_array(current_setting('cc.categories', true), ','),
                                             '{}'::text[]))
        AND ((SELECT current_setting('cc.types', true) = '*')
             OR x.t = ANY ((SELECT string_to_array(current_setting('cc.types', true), ','))::text[]))
        AND (cardinality(x.labels) = 0
             OR x.labels <@ (SELECT coalesce(string_to_array(current_setting('cc.labels', true), ','), '{}'::text[]))
             OR x.labels <@ (SELECT {schema}.subject_readable_labels()))
        AND ((SELECT current_setting('cc.consent_override', true) = 'on'
                     AND {schema}.break_glass_closes_at() IS NOT NULL)
             OR (SELECT allows_all_rows FROM {schema}.subject_consent_summary)
             OR coalesce(NOT x.t = ANY ((SELECT {schema}.subject_excluded_classes())::text[])
                           AND NOT x.labels && (SELECT {schema}.subject_excluded_labels()),
                         {schema}.subject_consent_rules_allow((SELECT {schema}.subject_consent_rules()), x.t,
                                                              x.labels)))""";

  /** An identifying resource, its security labels and, for a practitioner, its care links' sources ("Type/id"). */
  private record Row(String patientId, Resource resource, List<String> labels, List<String> sources) {}

  /**
   * The identifying resources of patients {@code ?} (a text array, bound twice): their Patient, RelatedPerson and
   * FamilyMemberHistory resources, and the Practitioner of each of their care links, with its links' sources.
   * Columns: patient, type, id, version, body, labels, sources.
   */
  private static final String IDENTIFYING = """
      SELECT r.patient_id, r.resource_type, r.resource_id, r.version_id, r.body, r.security_labels,
             NULL::text[] AS sources FROM resources r
      WHERE NOT r.deleted AND r.resource_type IN ('Patient', 'RelatedPerson', 'FamilyMemberHistory')
        AND r.patient_id = ANY (?)
      UNION ALL
      SELECT l.patient_id, r.resource_type, r.resource_id, r.version_id, r.body, r.security_labels, l.sources
      FROM (SELECT patient_id, practitioner_id, array_agg(source_type || '/' || source_id) AS sources
            FROM care_links WHERE patient_id = ANY (?) GROUP BY patient_id, practitioner_id) l
      JOIN resources r ON r.resource_type = 'Practitioner' AND r.resource_id = l.practitioner_id AND NOT r.deleted""";

  /**
   * The known identifiers of each of the patients, read on a connection the caller holds, under settings whose
   * role sees those resources whatever their labels (the research build's ingest role): no key is presented.
   */
  public static Map<String, KnownIdentifiers> loadAll(Connection c, TenantId tenant, TenantCipher cipher,
                                                      Collection<String> patientIds) throws SQLException {
    Map<String, List<Resource>> byPatient = new LinkedHashMap<>();
    patientIds.forEach(p -> byPatient.put(p, new ArrayList<>()));
    try (PreparedStatement ps = c.prepareStatement(IDENTIFYING)) {
      String[] ids = patientIds.toArray(String[]::new);
      ps.setObject(1, ids);
      ps.setObject(2, ids);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          byPatient.get(rs.getString(1)).add(Fhir.parseResource(cipher.decryptToString(rs.getBytes(5),
              Aad.resource(tenant, rs.getString(2), rs.getString(3), rs.getLong(4)))));
        }
      }
    }
    Map<String, KnownIdentifiers> out = new LinkedHashMap<>();
    byPatient.forEach((p, resources) -> out.put(p, extract(resources)));
    return out;
  }

  /** The identifying resources of these patients, under the identity role, with their labels and link sources. */
  private static List<Row> rows(TenantTransactions tx, TenantKeys keys, TenantId tenant, Requester who,
                                Collection<String> patientIds) {
    var cipher = keys.cipher(tenant);
    return tx.run(tenant, PolicySettings.identity(patientIds).withCaller(who.keyId(), who.keySecretHash()), c -> {
      List<Row> out = new ArrayList<>();
      // The key's admission and the rows in one statement, so one snapshot: the rows are all there are.
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT a.admitted, x.* FROM (SELECT EXISTS (SELECT 1 FROM caller_key) AS admitted) a LEFT JOIN (
          """ + IDENTIFYING + """
          ) x ON true""")) {
        String[] ids = patientIds.toArray(String[]::new);
        ps.setObject(1, ids);
        ps.setObject(2, ids);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            if (!rs.getBoolean(1)) {
              throw new DatabaseException("the database did not admit the request's key for reading identifiers");
            }
            if (rs.getString(2) != null) {
              java.sql.Array labels = rs.getArray(7);
              java.sql.Array sources = rs.getArray(8);
              out.add(new Row(rs.getString(2), Fhir.parseResource(cipher.decryptToString(rs.getBytes(6),
                  Aad.resource(tenant, rs.getString(3), rs.getString(4), rs.getLong(5)))),
                  labels == null ? List.of() : List.of((String[]) labels.getArray()),
                  sources == null ? List.of() : List.of((String[]) sources.getArray())));
            }
          }
        }
      }
      return out;
    });
  }

  static KnownIdentifiers extract(List<Resource> resources) {
    List<KnownIdentifiers.Name> names = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    List<String> telecoms = new ArrayList<>();
    List<KnownIdentifiers.Address> addresses = new ArrayList<>();
    List<LocalDate> dates = new ArrayList<>();
    for (Resource r : resources) {
      if (r instanceof FamilyMemberHistory f) {
        relative(f).ifPresent(names::add);
        continue;
      }
      KnownIdentifiers.NameKind kind = r instanceof Patient ? KnownIdentifiers.NameKind.PATIENT
          : r instanceof Practitioner ? KnownIdentifiers.NameKind.PRACTITIONER : KnownIdentifiers.NameKind.RELATED_PERSON;
      List<HumanName> hn = r instanceof Patient p ? p.getName() : r instanceof Practitioner pr ? pr.getName()
          : r instanceof RelatedPerson rp ? rp.getName() : List.of();
      for (HumanName n : hn) {
        names.add(new KnownIdentifiers.Name(kind, n.getFamily(), n.getGiven().stream().map(StringType::getValue).toList(),
            n.getText()));
      }
      List<Identifier> idents = r instanceof Patient p ? p.getIdentifier() : r instanceof Practitioner pr
          ? pr.getIdentifier() : r instanceof RelatedPerson rp ? rp.getIdentifier() : List.of();
      idents.stream().map(Identifier::getValue).filter(v -> v != null).forEach(ids::add);
      List<ContactPoint> tel = r instanceof Patient p ? p.getTelecom() : r instanceof Practitioner pr ? pr.getTelecom()
          : r instanceof RelatedPerson rp ? rp.getTelecom() : List.of();
      tel.stream().map(ContactPoint::getValue).filter(v -> v != null).forEach(telecoms::add);
      if (r instanceof Patient p) {
        p.getAddress().forEach(a -> addresses.add(address(a)));
        // The patient's contacts (next of kin, emergency contact, health care proxy) are Safe Harbor's
        // relatives and household members: without them, "spoke with Dmitri" reached the model.
        for (Patient.ContactComponent contact : p.getContact()) {
          if (contact.hasName()) {
            HumanName n = contact.getName();
            names.add(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.RELATED_PERSON, n.getFamily(),
                n.getGiven().stream().map(StringType::getValue).toList(), n.getText()));
          }
          contact.getTelecom().stream().map(ContactPoint::getValue).filter(v -> v != null).forEach(telecoms::add);
          if (contact.hasAddress()) {
            addresses.add(address(contact.getAddress()));
          }
        }
        // the date as written (a year or month alone: its first day, for its year): read through
        // java.util.Date at midnight in the JVM's zone and then in UTC, east of UTC it was the day before
        if (p.hasBirthDate()) {
          var b = p.getBirthDateElement();
          dates.add(LocalDate.of(b.getYear(), b.getPrecision() == TemporalPrecisionEnum.YEAR ? 1 : b.getMonth() + 1,
              b.getPrecision() == TemporalPrecisionEnum.DAY ? b.getDay() : 1));
        }
      }
    }
    return new KnownIdentifiers(names, ids, telecoms, addresses, dates);
  }

  /**
   * The relative a family history names ({@code name}, one string: "Gertrude", "Gertrude Okafor"), known
   * as a related person's name: its last word as the family name when it has more than one, so that
   * each part alone is found as a RelatedPerson's are. Tenant migration 51 lets the identity role read it.
   */
  static java.util.Optional<KnownIdentifiers.Name> relative(FamilyMemberHistory f) {
    String name = f.getName() == null ? "" : f.getName().strip();
    if (name.isEmpty()) {
      return java.util.Optional.empty();
    }
    String[] parts = name.split("\\s+");
    String family = parts.length > 1 ? parts[parts.length - 1] : null;
    List<String> given = List.of(parts).subList(0, parts.length > 1 ? parts.length - 1 : 1);
    return java.util.Optional.of(new KnownIdentifiers.Name(KnownIdentifiers.NameKind.RELATED_PERSON, family, given, name));
  }

  private static KnownIdentifiers.Address address(Address a) {
    return new KnownIdentifiers.Address(a.getLine().stream().map(StringType::getValue).toList(), a.getCity(),
        a.getDistrict(), a.getState(), a.getPostalCode(), a.getCountry());
  }
}
