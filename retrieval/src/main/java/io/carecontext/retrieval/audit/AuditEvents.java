package io.carecontext.retrieval.audit;

import io.carecontext.fhir.FhirId;
import io.carecontext.migrations.TenantId;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.AuditEvent;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventAction;
import org.hl7.fhir.r4.model.AuditEvent.AuditEventOutcome;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.Identifier;
import org.hl7.fhir.r4.model.Reference;

/**
 * One audit row as a FHIR R4 AuditEvent, after the IHE Basic Audit Log Patterns (BALP): the FHIR API's reads and
 * writes as RESTful operations with their interaction, searches as DICOM Query with a query entity, who asked and
 * the server that answered as two agents, the patient and the data as entities, the purpose and the outcome. No
 * bodies: a query's text, a prompt or an answer never leaves in an export (README, "Audit export").
 */
public final class AuditEvents {

  /** FHIR's id datatype. */

  /** The action of a FHIR write's rows (one a patient the write touched). */
  public static final String WRITE_ACTION = "fhir-write";

  private AuditEvents() {}

  private static final Pattern COUNT =
      Pattern.compile("\"(created|updated|deleted|unchanged)\":(\\d+)");

  /**
   * A write's AuditEvent action from its row's counts: C when it only created, D when it only
   * deleted, U for anything else (an update, a mix, resources sent again unchanged, or a refused
   * write, which changed nothing).
   */
  static AuditEventAction writeAction(String details) {
    Map<String, Integer> counts = counts(details);
    int created = counts.getOrDefault("created", 0);
    int updated = counts.getOrDefault("updated", 0);
    int deleted = counts.getOrDefault("deleted", 0);
    int unchanged = counts.getOrDefault("unchanged", 0);
    if (created > 0 && updated == 0 && deleted == 0 && unchanged == 0) {
      return AuditEventAction.C;
    }
    return deleted > 0 && created == 0 && updated == 0 && unchanged == 0 ? AuditEventAction.D : AuditEventAction.U;
  }

  /** A write row's counts by kind (created, updated, deleted, unchanged), as its details name them. */
  private static Map<String, Integer> counts(String details) {
    Map<String, Integer> counts = new HashMap<>();
    Matcher m = COUNT.matcher(details == null ? "" : details);
    while (m.find()) {
      counts.put(m.group(1), Integer.parseInt(m.group(2)));
    }
    return counts;
  }

  private static final String DCM = "http://dicom.nema.org/resources/ontology/DCM";
  private static final String AUDIT_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type";
  private static final String RESTFUL_INTERACTION = "http://hl7.org/fhir/restful-interaction";
  private static final Pattern METHOD = Pattern.compile("\"method\":\"([A-Z]+)\"");

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
      Matcher m = METHOD.matcher(details == null ? "" : details);
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
      case "read", "vread" -> AuditEventAction.R;
      case "create" -> AuditEventAction.C;
      case "update", "patch" -> AuditEventAction.U;
      case "delete" -> AuditEventAction.D;
      default -> AuditEventAction.E;
    };
  }

  /** A FHIR read's restful interaction: vread when its row says so, else read (rows before it said none). */
  static String readInteraction(String details) {
    return details != null && details.contains("\"interaction\":\"vread\"") ? "vread" : "read";
  }

  /** A write's restful interaction from its row's counts, or null when it mixed kinds (a Bundle, an import). */
  static String writeInteraction(String details) {
    AuditEventAction a = writeAction(details);
    Map<String, Integer> counts = counts(details);
    if (a == AuditEventAction.C) {
      return "create";
    }
    if (a == AuditEventAction.D) {
      return "delete";
    }
    // only updated or sent again unchanged: an update; anything mixed (or no counts, a refused write) names none
    boolean some = counts.getOrDefault("updated", 0) + counts.getOrDefault("unchanged", 0) > 0;
    return some && counts.getOrDefault("created", 0) == 0 && counts.getOrDefault("deleted", 0) == 0 ? "update" : null;
  }

  private static final String ENTITY_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
  private static final String OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role";
  private static final String PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType";
  private static final String SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type";
  private static final String ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
  /** The platform's own name in every event: the server agent and the source's observer. */
  public static final String SERVER = "CareContext";

  /**
   * The actions that are searches (IHE BALP Query): each gets a query entity. Their text is not exported: a context,
   * chat or research query is the caller's words about a patient (PHI, held encrypted in the trail and answered only
   * by {@code GET /audit?includeBodies=true}, itself audited per patient); an export carries no bodies.
   */
  private static final Set<String> SEARCHES = Set.of("context", "chat", "chat-dry-run", "research",
      "audit-read", AuditEntry.KEY_LIST, AuditEntry.INGEST_PARKED_READ);

  /** What a search's query entity says in place of the text it does not carry. */
  static String queryDescription(String action) {
    return switch (action) {
      case "context", "chat", "chat-dry-run" -> action + " retrieval for one patient; the query text is not exported"
          + " (encrypted in the trail: GET /audit?includeBodies=true)";
      case "research" -> "research search across consenting patients; the query text is not exported"
          + " (encrypted in the trail: GET /audit?includeBodies=true)";
      case "audit-read" -> "a listing of the audit trail; its filters are in the row's details (GET /audit)";
      default -> action + " listing";
    };
  }

  /**
   * The row's one event as a whole: a research search's names every patient whose chunks it returned. Not for
   * leaving this package: every event that leaves goes through {@link #forExport}, which gives such a row one event
   * a patient (it was public, and a caller other than the export would have written one event naming them all).
   */
  @SuppressWarnings("unchecked")
  static AuditEvent of(TenantId tenant, Map<String, Object> row) {
    AuditEvent e = new AuditEvent();
    e.setId((String) row.get("auditId"));
    String action = (String) row.get("action");
    String details = (String) row.get("details");
    boolean write = WRITE_ACTION.equals(action);
    boolean read = "fhir-read".equals(action);
    boolean keyChange = "key-create".equals(action) || "key-revoke".equals(action);
    // a settings change that shortened or closed a key's break-glass window changed what that key may read
    boolean windowChange = "break-glass-window".equals(action);
    // a key refused at authentication (action authenticate) is a login that failed, not a query
    boolean login = "authenticate".equals(action);
    // Reading, verifying or exporting the trail is DICOM's "Audit Log Used", not a query of patient
    // data; a tenant's settings (consent mode, role policies, retention) are its security configuration,
    // which DICOM files under "Security Alert". Both were exported as "Query", so a SIEM that watches
    // for either by its type saw neither.
    // An auditor's review of a break-glass row uses the trail as well: it judges one of its rows (below, the entity)
    boolean review = AuditEntry.BREAK_GLASS_REVIEWED.equals(action);
    boolean auditUse = action != null && action.startsWith("audit-") || review;
    // as is a rotation of the key-encryption key that wraps the tenant's data key (kek rotate), or of the data key
    boolean settings = "tenant-settings".equals(action) || AuditEntry.KEK_ROTATE.equals(action)
        || AuditEntry.DATA_KEY_ROTATE.equals(action);
    // The FHIR API's reads and writes, the admin API's reads and changes that grant no access (a tenant's
    // configuration read, its keys or parked ingest items listed, parked items queued again) and the
    // requests refused before a handler ran are RESTful operations, as IHE BALP types them (type "rest",
    // the FHIR restful interaction as subtype). A FHIR write was DICOM "Patient Record" and a FHIR read a
    // DICOM "Query": an audit repository that files BALP's Read/Create/Update/Delete by type and subtype saw
    // neither. A vread's row says so (details.interaction); any other read, a conditional create's match
    // included, is "read".
    String interaction = write ? writeInteraction(details) : read ? readInteraction(details) : null;
    Coding rest = write || read ? (interaction == null ? new Coding() : new Coding(RESTFUL_INTERACTION, interaction,
        interaction)) : restInteraction(action, details);
    // a patient's erasure removes the patient's whole record (every resource, chunk, consent): DICOM's
    // Patient Record, deleted, not a RESTful interaction (no one FHIR resource) nor the default Query
    boolean erase = AuditEntry.PATIENT_ERASE.equals(action);
    e.setType(erase ? new Coding(DCM, "110110", "Patient Record")
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
    // reading or exporting the trail reads it (DICOM's Audit Log Used is R); verifying it runs a check
    e.setAction(write ? writeAction(details)
        : keyChange ? ("key-create".equals(action) ? AuditEventAction.C : AuditEventAction.D)
        : AuditEntry.AUDIT_PURGE.equals(action) || erase ? AuditEventAction.D
        : "audit-read".equals(action) || "audit-export".equals(action) ? AuditEventAction.R
        : windowChange || settings ? AuditEventAction.U
        : review ? AuditEventAction.C
        : rest != null ? restAction(rest.getCode()) : AuditEventAction.E);
    e.setRecorded(Date.from(Instant.parse((String) row.get("at"))));
    // 0 success, 4 refused (minor failure: the request was denied), 8 failed (serious: it broke off, an
    // upstream model or the database failed). A failure was exported as a refusal.
    Object decision = row.get("decision");
    e.setOutcome("allowed".equals(decision) ? AuditEventOutcome._0
        : "failed".equals(decision) ? AuditEventOutcome._8 : AuditEventOutcome._4);
    e.setOutcomeDesc((String) row.get("reason"));
    // A purpose sent that is no known code is stored as "(unknown)", which is no v3-ActReason code: as
    // a coding it made the event invalid for a validator or a SIEM importer, so it goes as text.
    List<CodeableConcept> purposes = new ArrayList<>();
    // A row of before the column kept known codes only holds the purpose as the caller sent it (free text, a name
    // say), which the export made a code: any purpose that is no known code leaves as that text.
    if (row.get("purposeOfUse") != null && !AuditEntry.PURPOSES_OF_USE.contains(row.get("purposeOfUse"))) {
      purposes.add(new CodeableConcept().setText("purpose sent is not an HL7 v3 PurposeOfUse code"));
    } else if (row.get("purposeOfUse") != null) {
      purposes.add(new CodeableConcept(new Coding(ACT_REASON, (String) row.get("purposeOfUse"), null)));
    }
    if (Boolean.TRUE.equals(row.get("breakGlass"))) {
      purposes.add(new CodeableConcept(new Coding(ACT_REASON, "BTG", "break the glass")));
    }
    purposes.forEach(p -> e.addPurposeOfEvent(p.copy()));
    // The agents, as IHE BALP has them: who asked (the key's principal, its roles, the key as altId: BALP's user,
    // an information recipient, requestor true; BALP gives a user no network), the client that sent the request
    // (DCM 110153 Source Role ID: the key it presented, and the client address the row names, tenant migration 75:
    // the socket's peer or what a trusted proxy forwarded, type 2, an IP address) and the server that answered and
    // recorded it (DCM 110152 Destination Role ID). The address was on the user agent and no client agent was
    // written, so an event met neither BALP's client slice (1..1, with its network) nor its user's (network 0..0).
    // Rows of before migration 75 name no request or address; the platform's own (a retention purge) no key either:
    // those have no client agent.
    // BALP's Read has the data flow from the server to the client: the server is the Source Role ID (DCM 110153) and
    // the client the Destination (110152); its Create, Update, Delete and Query keep DICOM's pattern (the client the
    // source, the server the destination). A read was exported with the query's roles, so a SIEM that finds BALP's
    // client and server of a read by their type swapped them. And a create's or an update's user is where the data came
    // from (BALP's DataSources: informant, here), not its recipient.
    String code = rest == null ? null : rest.getCode();
    boolean restRead = "read".equals(code) || "vread".equals(code);
    boolean dataSource = "create".equals(code) || "update".equals(code) || "patch".equals(code);
    Coding sourceRole = new Coding(DCM, "110153", "Source Role ID");
    Coding destinationRole = new Coding(DCM, "110152", "Destination Role ID");
    String principal = (String) row.get("principal");
    var requester = e.addAgent().setRequestor(true)
        .setType(new CodeableConcept(dataSource ? new Coding(PARTICIPATION, "INF", "informant")
            : new Coding(PARTICIPATION, "IRCP", "information recipient")))
        .setWho(principal == null ? new Reference().setDisplay("(no principal)") : new Reference().setIdentifier(
            new Identifier().setSystem("http://carecontext.io/principal").setValue(principal)).setDisplay(principal))
        .setAltId((String) row.get("keyId"));
    for (String role : (List<String>) row.get("roles")) {
      requester.addRole(new CodeableConcept(new Coding("http://carecontext.io/roles", role, null)));
    }
    purposes.forEach(p -> requester.addPurposeOfUse(p.copy()));
    String keyId = (String) row.get("keyId");
    String address = row.get("clientAddress") instanceof String a && AuditOrigin.clientAddress(a) != null ? a : null;
    if (keyId != null || address != null) {
      var client = e.addAgent().setRequestor(false)
          .setType(new CodeableConcept(restRead ? destinationRole : sourceRole))
          .setWho(keyId == null ? new Reference().setDisplay("(no key)") : new Reference().setIdentifier(
              new Identifier().setSystem(KEY_SYSTEM).setValue(keyId)));
      if (address != null) {
        client.getNetwork().setAddress(address).setType(AuditEvent.AuditEventAgentNetworkType._2);
      }
    }
    e.addAgent().setRequestor(false)
        .setType(new CodeableConcept(restRead ? sourceRole.copy() : destinationRole.copy()))
        .setWho(server(tenant));
    e.getSource().setSite(tenant.value()).setObserver(server(tenant))
        .addType(new Coding(SOURCE_TYPE, "4", "Application Server"));
    // A row of before the column kept FHIR ids only (AuditEntry.recordable) may hold what a caller typed in a path in
    // place of one, a name or a birth date: it leaves as the rows since record it, NOT_A_FHIR_ID, as an identifier
    // (so the event's reference stays valid FHIR); it went out as typed, to a SIEM the export is meant not to give PHI.
    String patient = AuditEntry.recordable((String) row.get("patient"));
    if (patient != null) {
      patientEntity(e, FhirId.isValid(patient) ? new Reference("Patient/" + patient)
          : new Reference().setIdentifier(new Identifier().setValue(patient)).setType("Patient"));
    }
    // A research search names no one patient, yet returned the de-identified chunks of several: each of
    // them is an entity of the event, one a patient (IHE BALP), as the accounting lists the row for each.
    if ("research".equals(action)) {
      for (String returned : AuditEntry.patientsIn(details)) {
        if (FhirId.isValid(returned) && !returned.equals(patient)) {
          patientEntity(e, new Reference("Patient/" + returned));
        }
      }
    }
    // The data a FHIR read handed out or a write stored (IHE BALP's data entity: System Object, Domain Resource),
    // by the versioned reference the row names; stored ids, never text from a request path.
    if (read || write) {
      for (String resource : AuditEntry.stringsIn(details, "resources")) {
        if (VERSIONED.matcher(resource).matches()) {
          e.addEntity().setWhat(new Reference(resource))
              .setType(new Coding(ENTITY_TYPE, "2", "System Object"))
              .setRole(new Coding(OBJECT_ROLE, "4", "Domain Resource"));
        }
      }
    }
    // A search's query entity (IHE BALP: System Object, Query). BALP carries the raw request base64 in
    // entity.query; here that request is PHI the export is not defined to carry, so query is left out and the
    // description says where the text is.
    if (action != null && SEARCHES.contains(action)) {
      e.addEntity().setType(new Coding(ENTITY_TYPE, "2", "System Object"))
          .setRole(new Coding(OBJECT_ROLE, "24", "Query"))
          .setDescription(queryDescription(action));
    }
    // The row a review judged, as the export names it (AuditEvent/<its auditId>): DICOM's Security Resource (object
    // role 13, defined as "a passive object, such as a role table, that is relevant to the event": the trail's row is
    // the passive security object the review is about; BALP has no event of its own for a review), with the outcome
    // as the entity's detail. The note is not exported (free text about a patient, kept encrypted;
    // GET /audit?includeBodies=true answers it).
    if (review && "allowed".equals(decision)) {
      String reviewed = reviewedIn(details);
      if (reviewed != null) {
        var judged = e.addEntity().setWhat(new Reference("AuditEvent/" + reviewed))
            .setType(new Coding(ENTITY_TYPE, "2", "System Object"))
            .setRole(new Coding(OBJECT_ROLE, "13", "Security Resource"))
            .setDescription("the break-glass access this review judged");
        judged.addDetail().setType("outcome").setValue(new org.hl7.fhir.r4.model.StringType((String) row.get("reason")));
      }
    }
    // Which request it was (IHE BALP's transaction entity: the X-Request-Id its answer carried, as an identifier,
    // type XrequestId), so that a line of the access log or a support ticket finds its event; rows before name none
    if (row.get("requestId") instanceof String requestId && AuditOrigin.requestId(requestId) != null) {
      e.addEntity().setWhat(new Reference().setIdentifier(new Identifier().setValue(requestId)))
          .setType(new Coding(BALP_ENTITY_TYPE, "XrequestId", "transport specific unique identifier where http "
              + "X-Request-Id is used"));
    }
    e.addEntity().setType(new Coding(ENTITY_TYPE, "2", "System Object"))
        .setDescription("chain " + row.get("shard") + "/" + row.get("seq") + " " + row.get("hash"));
    return e;
  }

  private static final Pattern REVIEWED_ID = Pattern.compile("\"" + AuditEntry.REVIEWED_DETAIL
      + "\":\"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\"");

  /** The audit id a review row's details name, or null (a row of another form names none). */
  static String reviewedIn(String details) {
    Matcher m = REVIEWED_ID.matcher(details == null ? "" : details);
    return m.find() ? m.group(1) : null;
  }

  /** The system of the client agent's identifier: the id of the API key the request presented. */
  static final String KEY_SYSTEM = "http://carecontext.io/key";

  /** IHE BALP's own entity types (the transaction's {@code XrequestId}). */
  static final String BALP_ENTITY_TYPE = "https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType";

  /**
   * The events an export writes for one row: {@link #of} for every row but a research search that returned the
   * chunks of more than one patient, which becomes one event per patient (IHE BALP's patient-specific pattern:
   * each names one patient, so a patient's accounting of disclosures finds it by {@code entity.what}). The trail
   * keeps one row per search, in its chain; its events share everything else (the chain entity names that row),
   * and are told apart by their ids, the row's id with {@code -1}, {@code -2} … in the order the row names the
   * patients. A search that returned one patient's or none is one event, with the row's id.
   */
  public static List<AuditEvent> forExport(TenantId tenant, Map<String, Object> row) {
    AuditEvent whole = of(tenant, row);
    List<AuditEvent.AuditEventEntityComponent> patients = whole.getEntity().stream()
        .filter(x -> x.hasRole() && "1".equals(x.getRole().getCode()) && OBJECT_ROLE.equals(x.getRole().getSystem()))
        .toList();
    if (!"research".equals(row.get("action")) || patients.size() < 2) {
      return List.of(whole);
    }
    List<AuditEvent> out = new ArrayList<>(patients.size());
    for (int i = 0; i < patients.size(); i++) {
      AuditEvent one = whole.copy();
      one.setId(whole.getIdElement().getIdPart() + "-" + (i + 1));
      AuditEvent.AuditEventEntityComponent keep = patients.get(i);
      one.getEntity().clear();
      for (AuditEvent.AuditEventEntityComponent x : whole.getEntity()) {
        if (!patients.contains(x) || x == keep) {
          one.addEntity(x.copy());
        }
      }
      out.add(one);
    }
    return out;
  }

  /** A patient the event concerns, as IHE BALP names one: an entity of type Person, role Patient. */
  private static void patientEntity(AuditEvent e, Reference patient) {
    e.addEntity().setWhat(patient).setType(new Coding(ENTITY_TYPE, "1", "Person"))
        .setRole(new Coding(OBJECT_ROLE, "1", "Patient"));
  }

  /** A versioned reference as the platform writes one: Type/id/_history/version. */
  private static final Pattern VERSIONED =
      Pattern.compile("[A-Z][A-Za-z]{0,63}/[A-Za-z0-9\\-.]{1,64}/_history/[A-Za-z0-9\\-.]{1,64}");

  /** The server, as the agent that answered and as the source's observer. */
  private static Reference server(TenantId tenant) {
    return new Reference().setIdentifier(new Identifier().setSystem("http://carecontext.io/tenant")
        .setValue(tenant.value())).setDisplay(SERVER);
  }
}
