package io.carecontext.retrieval.audit;

import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.TenantId;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;

/**
 * One audit row as a FHIR AuditEvent, after the IHE Basic Audit Log Patterns (query of a
 * patient's data): who, what, when, for which patient and purpose, with which outcome. No bodies.
 */
public final class AuditEvents {

  /** FHIR's id datatype. */

  /** The action of a FHIR write's rows (one a patient the write touched). */
  public static final String WRITE_ACTION = "fhir-write";

  private AuditEvents() {}

  private static final java.util.regex.Pattern COUNT =
      java.util.regex.Pattern.compile("\"(created|updated|deleted|unchanged)\":(\\d+)");

  /**
   * A write's AuditEvent action from its row's counts: C when it only created, D when it only
   * deleted, U for anything else (an update, a mix, resources sent again unchanged, or a refused
   * write, which changed nothing).
   */
  static AuditEventAction writeAction(String details) {
    Map<String, Integer> counts = new java.util.HashMap<>();
    java.util.regex.Matcher m = COUNT.matcher(details == null ? "" : details);
    while (m.find()) {
      counts.put(m.group(1), Integer.parseInt(m.group(2)));
    }
    int created = counts.getOrDefault("created", 0);
    int updated = counts.getOrDefault("updated", 0);
    int deleted = counts.getOrDefault("deleted", 0);
    int unchanged = counts.getOrDefault("unchanged", 0);
    if (created > 0 && updated == 0 && deleted == 0 && unchanged == 0) {
      return AuditEventAction.C;
    }
    return deleted > 0 && created == 0 && updated == 0 && unchanged == 0 ? AuditEventAction.D : AuditEventAction.U;
  }

  private static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
  private static final String AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
  private static final String RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction";
  private static final java.util.regex.Pattern METHOD = java.util.regex.Pattern.compile("\"method\":\"([A-Z]+)\"");

  /**
   * The FHIR restful interaction of an admin action that is a RESTful operation (a coding without a
   * code when the request's method is unknown), or null for any other action. A refused request of no
   * other action ({@code admin-request}, {@code request}) takes it from the method its row names.
   */
  static Coding restInteraction(String action, String details) {
    String code;
    if (AuditEntry.TENANT_READ.equals(action)) {
      code = "read";
    } else if (AuditEntry.KEY_LIST.equals(action) || AuditEntry.INGEST_PARKED_READ.equals(action)) {
      code = "search-type";
    } else if (AuditEntry.INGEST_PARKED_RETRY.equals(action)) {
      code = "update";
    } else if ("admin-request".equals(action) || "request".equals(action)) {
      java.util.regex.Matcher m = METHOD.matcher(details == null ? "" : details);
      code = !m.find() ? null : switch (m.group(1)) {
        case "GET", "HEAD" -> "read";
        case "POST" -> "create";
        case "PUT" -> "update";
        case "PATCH" -> "patch";
        case "DELETE" -> "delete";
        default -> null;
      };
    } else {
      return null;
    }
    return code == null ? new Coding() : new Coding(RESTFUL_INTERACTION, code, code);
  }

  /** BALP's action for a restful interaction: R a read, E a search (or no known method), C, U, D the writes. */
  private static AuditEventAction restAction(String interaction) {
    return switch (interaction == null ? "" : interaction) {
      case "read" -> AuditEventAction.R;
      case "create" -> AuditEventAction.C;
      case "update", "patch" -> AuditEventAction.U;
      case "delete" -> AuditEventAction.D;
      default -> AuditEventAction.E;
    };
  }

  @SuppressWarnings("unchecked")
  public static AuditEvent of(TenantId tenant, Map<String, Object> row) {
    AuditEvent e = new AuditEvent();
    e.setId((String) row.get("auditId"));
    String action = (String) row.get("action");
    boolean write = WRITE_ACTION.equals(action);
    boolean keyChange = "key-create".equals(action) || "key-revoke".equals(action);
    // a settings change that shortened or closed a key's break-glass window changed what that key may read
    boolean windowChange = "break-glass-window".equals(action);
    // A FHIR write changes the patient's record; a key made or revoked changes who may read it; every
    // other row is a query.
    // a key refused at authentication (action authenticate) is a login that failed, not a query
    boolean login = "authenticate".equals(action);
    // Reading, verifying or exporting the trail is DICOM's "Audit Log Used", not a query of patient
    // data; a tenant's settings (consent mode, role policies, retention) are its security configuration,
    // which DICOM files under "Security Alert". Both were exported as "Query", so a SIEM that watches
    // for either by its type saw neither.
    boolean auditUse = action != null && action.startsWith("audit-");
    // as is a rotation of the key-encryption key that wraps the tenant's data key (kek rotate)
    boolean settings = "tenant-settings".equals(action) || AuditEntry.KEK_ROTATE.equals(action);
    // The admin API's reads and changes that grant no access (a tenant's configuration read, its keys or
    // parked ingest items listed, parked items queued again) and the requests refused before a handler
    // ran are RESTful operations, as IHE BALP types them (type "rest", the FHIR restful interaction as
    // subtype); they were exported as "Query" of patient data.
    Coding rest = restInteraction(action, (String) row.get("details"));
    e.setType(write ? new Coding(DCM, "110110", "Patient Record")
        : keyChange || windowChange ? new Coding(DCM, "110137", "User Security Attributes Changed")
        : login ? new Coding(DCM, "110114", "User Authentication")
        : auditUse ? new Coding(DCM, "110101", "Audit Log Used")
        : settings ? new Coding(DCM, "110113", "Security Alert")
        : rest != null ? new Coding(AUDIT_EVENT_TYPE, "rest", "RESTful Operation")
        : new Coding(DCM, "110112", "Query"));
    if (settings) {
      e.addSubtype(new Coding(DCM, "110129", "Security Configuration"));
    }
    if (rest != null && rest.hasCode()) {
      e.addSubtype(rest);
    }
    e.addSubtype(new Coding("http://carecontext.io/audit-action", action, null));
    e.setAction(write ? writeAction((String) row.get("details"))
        : keyChange ? ("key-create".equals(action) ? AuditEventAction.C : AuditEventAction.D)
        : AuditEntry.AUDIT_PURGE.equals(action) ? AuditEventAction.D
        : windowChange || settings ? AuditEventAction.U
        : rest != null ? restAction(rest.getCode()) : AuditEventAction.E);
    e.setRecorded(Date.from(java.time.Instant.parse((String) row.get("at"))));
    boolean allowed = "allowed".equals(row.get("decision"));
    e.setOutcome(allowed ? AuditEventOutcome._0 : AuditEventOutcome._4);
    e.setOutcomeDesc((String) row.get("reason"));
    // A purpose sent that is no known code is stored as "(unknown)", which is no v3-ActReason code: as
    // a coding it made the event invalid for a validator or a SIEM importer, so it goes as text.
    if (AuditEntry.UNKNOWN_PURPOSE.equals(row.get("purposeOfUse"))) {
      e.addPurposeOfEvent(new CodeableConcept().setText("purpose sent is not an HL7 v3 PurposeOfUse code"));
    } else if (row.get("purposeOfUse") != null) {
      e.addPurposeOfEvent(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
          (String) row.get("purposeOfUse"), null)));
    }
    var agent = e.addAgent().setRequestor(true)
        .setWho(new Reference().setDisplay((String) row.get("principal")))
        .setAltId((String) row.get("keyId"));
    for (String role : (List<String>) row.get("roles")) {
      agent.addRole(new CodeableConcept(new Coding("http://carecontext.io/roles", role, null)));
    }
    e.getSource().setSite(tenant.value()).setObserver(new Reference().setDisplay("CareContext"));
    if (row.get("patient") instanceof String patient) {
      // A denied request may have named something that is no FHIR id at all (a name, say, in the
      // path); it is kept as asked, as an identifier, so the event's reference stays valid FHIR.
      e.addEntity().setWhat(FhirId.isValid(patient) ? new Reference("Patient/" + patient)
              : new Reference().setIdentifier(new Identifier().setValue(patient)).setType("Patient"))
          .setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"))
          .setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
    }
    // A research search names no one patient, yet returned the de-identified chunks of several: each of
    // them is an entity of the event, one a patient (IHE BALP), as the accounting lists the row for each.
    if ("research".equals(action)) {
      for (String patient : AuditEntry.patientsIn((String) row.get("details"))) {
        if (FhirId.isValid(patient) && !patient.equals(row.get("patient"))) {
          e.addEntity().setWhat(new Reference("Patient/" + patient))
              .setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "1", "Person"))
              .setRole(new Coding("http://terminology.hl7.org/CodeSystem/object-role", "1", "Patient"));
        }
      }
    }
    if (Boolean.TRUE.equals(row.get("breakGlass"))) {
      e.addPurposeOfEvent(new CodeableConcept(new Coding("http://terminology.hl7.org/CodeSystem/v3-ActReason",
          "BTG", "break the glass")));
    }
    e.addEntity().setType(new Coding("http://terminology.hl7.org/CodeSystem/audit-entity-type", "2", "System Object"))
        .setDescription("chain " + row.get("shard") + "/" + row.get("seq") + " " + row.get("hash"));
    return e;
  }
}
