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
import io.carecontext.retrieval.Requester;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
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
    var cipher = keys.cipher(tenant);
    // Under the tenant's identity role (V14): those resources of these patients, whatever their labels.
    return tx.run(tenant, PolicySettings.identity(patientIds).withCaller(who.keyId(), who.keySecretHash()), c -> {
      Map<String, List<Resource>> byPatient = new LinkedHashMap<>();
      patientIds.forEach(p -> byPatient.put(p, new ArrayList<>()));
      // The key's admission and the rows in one statement, so one snapshot: the rows are all there are.
      try (PreparedStatement ps = c.prepareStatement("""
          SELECT a.admitted, x.* FROM (SELECT EXISTS (SELECT 1 FROM caller_key) AS admitted) a LEFT JOIN (
            SELECT r.patient_id, r.resource_type, r.resource_id, r.version_id, r.body FROM resources r
            WHERE NOT r.deleted AND r.resource_type IN ('Patient', 'RelatedPerson', 'FamilyMemberHistory')
              AND r.patient_id = ANY (?)
            UNION ALL
            SELECT l.patient_id, r.resource_type, r.resource_id, r.version_id, r.body
            FROM (SELECT DISTINCT patient_id, practitioner_id FROM care_links WHERE patient_id = ANY (?)) l
            JOIN resources r ON r.resource_type = 'Practitioner' AND r.resource_id = l.practitioner_id AND NOT r.deleted
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
              byPatient.get(rs.getString(2)).add(Fhir.parseResource(cipher.decryptToString(rs.getBytes(6),
                  Aad.resource(tenant, rs.getString(3), rs.getString(4), rs.getLong(5)))));
            }
          }
        }
      }
      Map<String, KnownIdentifiers> out = new LinkedHashMap<>();
      byPatient.forEach((p, resources) -> out.put(p, extract(resources)));
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
