package io.carecontext.retrieval.chat;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.fhir.Fhir;
import io.carecontext.ingest.EmbeddingWorker;
import io.carecontext.ingest.FhirStore;
import io.carecontext.ingest.FhirWriter;
import io.carecontext.ingest.WriteAudit;
import io.carecontext.ingest.embedding.EmbeddingProvider;
import io.carecontext.ingest.embedding.InProcessMiniLmProvider;
import io.carecontext.migrations.PolicySettings;
import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.TenantSql;
import io.carecontext.migrations.testing.TestPlatform;
import io.carecontext.migrations.testing.TestPostgres;
import io.carecontext.retrieval.AccessDenied;
import io.carecontext.retrieval.ContextQuery;
import io.carecontext.retrieval.ContextService;
import io.carecontext.retrieval.Requester;
import io.carecontext.retrieval.RolePolicy;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.retrieval.audit.AuditLog;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The statement that picks the identifiers a chat de-identifies with (PatientIdentifiers' READABLE) restates the
 * chunk policy's conditions in application SQL: the request's categories and resource types, the labels it may
 * read (its role's, and those a consent explicitly permits), and the consent's class and label rules, with the
 * break-glass override. Nothing else ties the two: a change to the policy that missed the statement would let a
 * chat's prompt depend on records the request may not read, or forget names it may. This holds them together:
 * over patients of every consent state, records of every category with and without sensitive labels, and requests
 * of roles that differ in categories, types, labels and purpose, the statement admits exactly the chunks the chunk
 * policy shows, and a record as a care link's source exactly when the policy shows one of its chunks.
 */
class ReadableIdentifiersIT {

  static TestPlatform platform;
  static TenantId tenant;
  static FhirWriter feed;
  static TenantPolicy policy;
  static final EmbeddingProvider MODEL = new InProcessMiniLmProvider();
  static final String VISIT = java.time.LocalDate.now(java.time.ZoneOffset.UTC).minusDays(1).toString();
  /** Each patient's consent: its provision's type and nested provisions (none: no consent on record). */
  static final Map<String, String[]> CONSENTS = new LinkedHashMap<>();

  static {
    CONSENTS.put("m-none", null);
    CONSENTS.put("m-permit", new String[] {"permit", null});
    CONSENTS.put("m-deny", new String[] {"deny", null});
    CONSENTS.put("m-no-family", new String[] {"permit", "{\"type\":\"deny\",\"class\":[{\"code\":\"FamilyMemberHistory\"}]}"});
    CONSENTS.put("m-no-psy", new String[] {"permit", "{\"type\":\"deny\",\"securityLabel\":[{\"code\":\"PSY\"}]}"});
    CONSENTS.put("m-sdv-ok", new String[] {"permit", "{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"SDV\"}]}"});
    CONSENTS.put("m-psy-both", new String[] {"permit", "{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"PSY\"}]},"
        + "{\"type\":\"deny\",\"securityLabel\":[{\"code\":\"PSY\"}]}"});
    CONSENTS.put("m-labs-only", new String[] {"deny", "{\"type\":\"permit\",\"class\":[{\"code\":\"Observation\"}]}"});
    CONSENTS.put("m-eth-only", new String[] {"deny", "{\"type\":\"permit\",\"securityLabel\":[{\"code\":\"ETH\"}]}"});
  }

  @BeforeAll
  static void setUp() {
    platform = new TestPlatform();
    tenant = platform.tenant("mirror");
    // roles are the platform's (platform migration 9): the coordinator reads no clinical records here, and the
    // researcher no family histories (by type)
    Map<String, Object> settings = Map.of("consentMode", "opt-in", "rolePolicies", Map.of(
        "care-coordinator", Map.of("categories", List.of("demographic", "administrative", "lab")),
        "researcher", Map.of("categories", List.of("demographic", "clinical", "lab", "medication", "note"),
            "resourceTypes", List.of("Patient", "Condition", "Observation", "Encounter", "DocumentReference"))));
    platform.storeSettings(tenant, settings);
    policy = TenantPolicy.fromSettings(settings);
    feed = new FhirWriter(platform.issueKey(tenant, "feed", List.of("ehr-integration"), null)
        .present(PolicySettings.ingest()), WriteAudit.NONE);
    FhirStore store = new FhirStore(platform.tx, platform.keys);
    CONSENTS.forEach((id, consent) -> patient(store, id, consent));
    new EmbeddingWorker(platform.tx, platform.keys, t -> MODEL, () -> List.of(tenant), 64).drain(tenant);
  }

  @AfterAll
  static void tearDown() {
    platform.close();
  }

  static void put(FhirStore store, String json) {
    store.put(tenant, feed, Fhir.parseResource(json));
  }

  static String labelled(String code) {
    return "\"meta\":{\"security\":[{\"system\":\"http://terminology.hl7.org/CodeSystem/v3-ActCode\",\"code\":\""
        + code + "\"}]},";
  }

  /** A patient with its consent, and records of every category, with and without sensitive labels. */
  static void patient(FhirStore store, String id, String[] consent) {
    put(store, "{\"resourceType\":\"Patient\",\"id\":\"%s\",\"gender\":\"female\",\"name\":[{\"family\":\"Mirror\"}]}"
        .formatted(id));
    if (consent != null) {
      put(store, """
          {"resourceType":"Consent","id":"c-%1$s","status":"active",
           "scope":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/consentscope","code":"patient-privacy"}]},
           "category":[{"coding":[{"code":"59284-0"}]}],"patient":{"reference":"Patient/%1$s"},
           "provision":{"type":"%2$s"%3$s}}""".formatted(id, consent[0],
          consent[1] == null ? "" : ",\"provision\":[" + consent[1] + "]"));
    }
    for (String[] e : new String[][] {{"e-", ""}, {"eth-", labelled("ETH")}}) {
      put(store, """
          {"resourceType":"Encounter","id":"%1$s%2$s",%3$s"status":"finished","class":{"code":"AMB","display":"ambulatory"},
           "period":{"start":"%4$s"},"reasonCode":[{"text":"poorly controlled diabetes"}],
           "subject":{"reference":"Patient/%2$s"},"participant":[{"individual":{"reference":"Practitioner/pr-1"}}]}"""
          .formatted(e[0], id, e[1], VISIT));
    }
    put(store, """
        {"resourceType":"Condition","id":"cond-%1$s","subject":{"reference":"Patient/%1$s"},"code":{"text":"Type 2 diabetes"}}"""
        .formatted(id));
    put(store, """
        {"resourceType":"Condition","id":"psy-%1$s",%2$s"subject":{"reference":"Patient/%1$s"},"code":{"text":"Depression"}}"""
        .formatted(id, labelled("PSY")));
    for (String[] f : new String[][] {{"fmh-", ""}, {"sdv-", labelled("SDV")}}) {
      put(store, """
          {"resourceType":"FamilyMemberHistory","id":"%1$s%2$s",%3$s"status":"completed","patient":{"reference":"Patient/%2$s"},
           "name":"Gertrude Mirror","relationship":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-RoleCode","code":"MTH"}]},
           "condition":[{"code":{"text":"Diabetes"}}]}""".formatted(f[0], id, f[1]));
    }
    put(store, """
        {"resourceType":"Observation","id":"o-%1$s","status":"final","category":[{"coding":[
           {"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
         "code":{"coding":[{"system":"http://loinc.org","code":"4548-4","display":"Hemoglobin A1c"}]},
         "subject":{"reference":"Patient/%1$s"},"valueQuantity":{"value":7.1,"unit":"%%"}}""".formatted(id));
    put(store, """
        {"resourceType":"DocumentReference","id":"d-%1$s",%2$s"status":"current","subject":{"reference":"Patient/%1$s"},
         "content":[{"attachment":{"contentType":"text/plain","data":"%3$s"}}]}""".formatted(id, labelled("V"),
        java.util.Base64.getEncoder().encodeToString("Patient reports fatigue and thirst.".getBytes())));
    put(store, """
        {"resourceType":"MedicationRequest","id":"mr-%1$s","status":"active","intent":"order",
         "medicationCodeableConcept":{"text":"metformin 500 mg"},"subject":{"reference":"Patient/%1$s"}}""".formatted(id));
    put(store, """
        {"resourceType":"Coverage","id":"cov-%1$s","status":"active","beneficiary":{"reference":"Patient/%1$s"},
         "payor":[{"display":"Acme Health"}]}""".formatted(id));
  }

  /** A chunk as the superuser sees it: its id, resource, category and labels. */
  record Chunk(long id, String type, String resourceId, String category, List<String> labels) {}

  static List<Chunk> chunksOf(String patient) throws Exception {
    List<Chunk> out = new ArrayList<>();
    try (Connection c = TestPostgres.superuser(platform.config); PreparedStatement ps = c.prepareStatement(
        TenantSql.of(tenant, "SELECT chunk_id, resource_type, resource_id, category, security_labels "
            + "FROM {schema}.chunks WHERE patient_id = ? ORDER BY chunk_id"))) {
      ps.setString(1, patient);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Chunk(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
              List.of((String[]) rs.getArray(5).getArray())));
        }
      }
    }
    return out;
  }

  /** The chunks the chunk policy shows under {@code settings}. */
  static Set<Long> shown(PolicySettings settings) {
    return platform.tx.run(tenant, settings, c -> {
      Set<Long> out = new TreeSet<>();
      try (PreparedStatement ps = c.prepareStatement(TenantSql.of(tenant, "SELECT chunk_id FROM {schema}.chunks"));
          ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
      return out;
    });
  }

  static Requester requester(String principal, String role, String practitionerId) {
    TestPlatform.TestKey key = platform.issueKey(tenant, principal, List.of(role), practitionerId);
    return new Requester(principal, key.keyId(), List.of(role), practitionerId, key.secretHashHex());
  }

  @Test
  void theIdentifiersStatementAdmitsExactlyWhatTheChunkPolicyShows() throws Exception {
    Requester clinician = requester("dr-mirror", "clinician", "pr-1");
    Requester breakGlass = requester("dr-glass", "clinician", "pr-2");
    List<Object[]> requests = List.of(
        new Object[] {clinician, "TREAT"},
        new Object[] {requester("cora", "care-coordinator", null), "TREAT"},
        new Object[] {requester("billy", "billing", null), "HPAYMT"},
        new Object[] {requester("res", "researcher", null), "HRESCH"},
        new Object[] {breakGlass, "ETREAT"});
    // the break-glass requests' windows, opened as the read path opens them (pr-2 has no care relationship)
    ContextService context = new ContextService(platform.tx, platform.keys, new AuditLog(platform.tx, platform.keys));
    float[] vector = MODEL.embedAll(List.of("blood sugar control")).get(0);
    for (String p : CONSENTS.keySet()) {
      try {
        context.context(tenant, policy, breakGlass, p, new ContextQuery("blood sugar control", () -> vector, 10,
            "ETREAT", "unconscious in the emergency department", false), "context");
      } catch (AccessDenied refused) {
        throw new AssertionError("break-glass refused for " + p + ": " + refused.getMessage());
      }
    }
    int admittedSomewhere = 0;
    int refusedSomewhere = 0;
    Set<String> categoriesSeen = new TreeSet<>();
    for (Object[] request : requests) {
      Requester who = (Requester) request[0];
      String purpose = (String) request[1];
      RolePolicy rp = policy.roles().get(who.roles().get(0));
      for (String p : CONSENTS.keySet()) {
        String at = who.principal() + " " + purpose + " " + p;
        PolicySettings settings = ContextService.readSettings(policy, rp, who, p, purpose);
        List<Chunk> chunks = chunksOf(p);
        Set<Long> shown = shown(settings);
        // as identifying records, by their labels
        List<PatientIdentifiers.Judged> own = chunks.stream().map(k -> new PatientIdentifiers.Judged(k.type(), null,
            k.labels(), List.of(k.category()))).toList();
        // as care links' sources, by their rows: each resource with the categories of its chunks
        Map<String, Set<String>> resources = new LinkedHashMap<>();
        chunks.forEach(k -> resources.computeIfAbsent(k.type() + "/" + k.resourceId(), x -> new LinkedHashSet<>())
            .add(k.category()));
        List<PatientIdentifiers.Judged> sources = resources.entrySet().stream().map(e -> new PatientIdentifiers.Judged(
            e.getKey().substring(0, e.getKey().indexOf('/')), e.getKey().substring(e.getKey().indexOf('/') + 1), null,
            List.copyOf(e.getValue()))).toList();
        boolean[][] judged = PatientIdentifiers.judge(platform.tx, tenant, settings, own, sources);
        Set<Long> admitted = new TreeSet<>();
        for (int i = 0; i < chunks.size(); i++) {
          if (judged[0][i]) {
            admitted.add(chunks.get(i).id());
          }
        }
        assertThat(admitted).as(at).isEqualTo(shown);
        Set<String> sourcesAdmitted = new TreeSet<>();
        Set<String> sourcesShown = new TreeSet<>();
        List<String> names = List.copyOf(resources.keySet());
        for (int j = 0; j < names.size(); j++) {
          if (judged[1][j]) {
            sourcesAdmitted.add(names.get(j));
          }
        }
        chunks.stream().filter(k -> shown.contains(k.id())).forEach(k -> sourcesShown.add(k.type() + "/" + k.resourceId()));
        assertThat(sourcesAdmitted).as(at + " (sources)").isEqualTo(sourcesShown);
        admittedSomewhere += admitted.size();
        refusedSomewhere += chunks.size() - admitted.size();
        chunks.stream().filter(k -> shown.contains(k.id())).forEach(k -> categoriesSeen.add(k.category()));
      }
    }
    // the comparison is not empty on either side, and every category is read by some request
    assertThat(admittedSomewhere).isPositive();
    assertThat(refusedSomewhere).isPositive();
    assertThat(categoriesSeen).contains("demographic", "clinical", "lab", "medication", "note", "administrative");
  }
}
