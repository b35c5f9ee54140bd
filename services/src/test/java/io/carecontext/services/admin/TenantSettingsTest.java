package io.carecontext.services.admin;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.carecontext.services.http.ApiException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A settings PATCH is a JSON Merge Patch (RFC 7386), checked as the settings will be. */
class TenantSettingsTest {

  @RegisterExtension
  static final io.carecontext.services.http.RequestBodies bodies = new io.carecontext.services.http.RequestBodies();

  private static Map<String, Object> patch(String key, Object value) {
    Map<String, Object> p = new HashMap<>();
    p.put(key, value);
    return p;
  }

  /**
   * The settings-change row names each role's field a PATCH changed, not just settings.rolePolicies: the trail could
   * not tell a billing kMax from a clinician's labels or break-glass window. Names only, never a value.
   */
  @Test
  void aChangeNamesEachRolesFieldThatChanged() {
    Map<String, Object> before = TenantSettings.merge(Map.of(), Map.of("rolePolicies",
        Map.of("billing", Map.of("kMax", 3), "care-coordinator", Map.of("labels", List.of("N")))));
    Map<String, Object> roles = patch("billing", null); // billing's override removed: its kMax changed back
    roles.put("clinician", Map.of("kMax", 5, "breakGlass", Map.of("maxMinutes", 30)));
    Map<String, Object> after = TenantSettings.merge(before, Map.of("careRelationship", false, "rolePolicies", roles));
    assertThat(TenantController.changed("Clinic", "Clinic", before, after)).containsExactly(
        "settings.careRelationship", "settings.rolePolicies.billing.kMax", "settings.rolePolicies.clinician.breakGlass",
        "settings.rolePolicies.clinician.kMax");
    assertThat(TenantController.changed("Clinic", "Clinic", after, after)).isEmpty();
  }

  @Test
  void anObjectMergesMemberByMemberAndLeavesTheRestAsItWas() {
    Map<String, Object> current = TenantSettings.merge(Map.of(), Map.of("rolePolicies",
        Map.of("clinician", Map.of("kMax", 5)), "llm", Map.of("allowDeidentifiedToNonBaa", true)));
    // a PATCH of the billing policy used to drop the clinician's, and one of llm.endpoints the BAA waiver
    Map<String, Object> next = TenantSettings.merge(current, Map.of("rolePolicies", Map.of("billing", Map.of("kMax", 3)),
        "llm", Map.of("endpoints", List.of())));
    assertThat(next.get("rolePolicies")).isEqualTo(Map.of("clinician", Map.of("kMax", 5), "billing", Map.of("kMax", 3)));
    assertThat(next.get("llm")).isEqualTo(Map.of("endpoints", List.of(), "allowDeidentifiedToNonBaa", true));
  }

  @Test
  void nullRemovesAMemberOrResetsASettingToItsDefault() {
    Map<String, Object> current = TenantSettings.merge(Map.of(), Map.of("consentMode", "opt-out", "rolePolicies",
        Map.of("clinician", Map.of("kMax", 5), "billing", Map.of("kMax", 3))));
    Map<String, Object> next = TenantSettings.merge(current, Map.of("rolePolicies", patch("billing", null)));
    assertThat(next.get("rolePolicies")).isEqualTo(Map.of("clinician", Map.of("kMax", 5)));
    assertThat(TenantSettings.merge(next, patch("consentMode", null)).get("consentMode")).isEqualTo("opt-in");
    assertThatThrownBy(() -> TenantSettings.merge(next, patch("consentMod", null))).isInstanceOf(ApiException.class)
        .hasMessageStartingWith("settings has an unknown setting; known settings: consentMode")
        .hasMessageNotContaining("consentMod'");
  }

  @Test
  void aRemovedMemberShowsItsDefaultAndAnEmptiedOverrideIsGone() {
    Map<String, Object> current = TenantSettings.merge(Map.of(), Map.of("llm", Map.of("allowDeidentifiedToNonBaa", true),
        "rolePolicies", Map.of("clinician", Map.of("kMax", 5, "breakGlass", Map.of("maxMinutes", 30)))));
    // the member was left out of the view rather than shown at its default
    assertThat(TenantSettings.merge(current, Map.of("llm", patch("allowDeidentifiedToNonBaa", null))).get("llm"))
        .isEqualTo(Map.of("endpoints", List.of(), "allowDeidentifiedToNonBaa", false));
    // removing a role's last override left "clinician":{} (and "breakGlass":{}) in rolePolicies
    Map<String, Object> clinician = new HashMap<>();
    clinician.put("kMax", null);
    clinician.put("breakGlass", patch("maxMinutes", null));
    assertThat(TenantSettings.merge(current, Map.of("rolePolicies", Map.of("clinician", clinician))).get("rolePolicies"))
        .isEqualTo(Map.of());
  }

  @Test
  void aWholeNumberSentWithAFractionOrExponentIsStoredAsTheWholeNumber() {
    // 7.0 and 1e3 passed the whole-number checks and were stored and shown as 7.0 and 1000.0: a typed
    // client (an int field) could no longer read the tenant's configuration, and an embedding's
    // dimensions 1536.0 read as another model than 1536
    Map<String, Object> next = TenantSettings.merge(Map.of(), Map.of("retentionYears", 7.0, "rateLimitPerMinute",
        new java.math.BigDecimal("1e3"), "encounterFollowUpDays", 30.0d, "contextTokenBudget", 2000.0f,
        "rolePolicies", Map.of("clinician", Map.of("kMax", 5.0, "breakGlass", Map.of("maxMinutes", 30.0)))));
    assertThat(next.get("retentionYears")).isEqualTo(7);
    assertThat(next.get("rateLimitPerMinute")).isEqualTo(1000);
    assertThat(next.get("encounterFollowUpDays")).isEqualTo(30);
    assertThat(next.get("contextTokenBudget")).isEqualTo(2000);
    assertThat(next.get("rolePolicies")).isEqualTo(Map.of("clinician", Map.of("kMax", 5, "breakGlass",
        Map.of("maxMinutes", 30))));
    // settings an earlier version stored so were rewritten once by platform migration 15
    // (StoredSettingsWholeNumbersIT): stored settings are taken as they are, not rewritten on every read
    Map<String, Object> stored = Map.of("retentionYears", 7, "rolePolicies", Map.of("billing", Map.of("kMax", 3)));
    assertThat(TenantSettings.merge(stored, Map.of())).containsAllEntriesOf(stored);
    // a fraction is still refused, and a number too large for any setting is left to its check
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("retentionYears", 7.5)))
        .isInstanceOf(ApiException.class).hasMessage("settings.retentionYears must be a whole number from 6 to 100");
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rateLimitPerMinute", 1e300)))
        .isInstanceOf(ApiException.class).hasMessage("settings.rateLimitPerMinute must be a whole number from 1 to 1000000");
  }

  /**
   * An encounter under way whose end the feed never sends linked its participants for good; it now
   * links for openEncounterMaxDays (90 unless set, 1 to 3650), and a null PATCH resets it.
   */
  @Test
  void anOpenEncounterLinksNinetyDaysUnlessSetFromADayToTenYears() {
    assertThat(TenantSettings.merge(Map.of(), Map.of()).get("openEncounterMaxDays")).isEqualTo(90);
    assertThat(TenantSettings.merge(Map.of(), Map.of("openEncounterMaxDays", 1)).get("openEncounterMaxDays"))
        .isEqualTo(1);
    assertThat(TenantSettings.merge(Map.of(), Map.of("openEncounterMaxDays", 3650.0)).get("openEncounterMaxDays"))
        .isEqualTo(3650);
    Map<String, Object> set = new java.util.HashMap<>();
    set.put("openEncounterMaxDays", null);
    assertThat(TenantSettings.merge(Map.of("openEncounterMaxDays", 14), set).get("openEncounterMaxDays"))
        .isEqualTo(90);
    for (Object bad : List.of(0, -1, 3651, "90", 2.5, true, List.of(90), Map.of("days", 90))) {
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("openEncounterMaxDays", bad))).as("" + bad)
          .isInstanceOf(ApiException.class)
          .hasMessage("settings.openEncounterMaxDays must be a whole number from 1 to 3650");
    }
  }

  @Test
  void theEncounterFollowUpIsThirtyDaysUnlessSetAndAtMostAYear() {
    assertThat(TenantSettings.merge(Map.of(), Map.of()).get("encounterFollowUpDays")).isEqualTo(30);
    assertThat(TenantSettings.merge(Map.of(), Map.of("encounterFollowUpDays", 0)).get("encounterFollowUpDays"))
        .isEqualTo(0);
    assertThat(TenantSettings.merge(Map.of(), Map.of("encounterFollowUpDays", 365)).get("encounterFollowUpDays"))
        .isEqualTo(365);
    for (Object bad : List.of(-1, 366, "30", 2.5)) {
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("encounterFollowUpDays", bad))).as("" + bad)
          .isInstanceOf(ApiException.class)
          .hasMessageContaining("settings.encounterFollowUpDays must be a whole number from 0 to 365");
    }
  }

  @Test
  void theEmbeddingIsReplacedWholeAndTheMergedResultIsWhatIsChecked() {
    Map<String, Object> external = TenantSettings.merge(Map.of(), Map.of("embedding", Map.of("provider",
        "openai-compatible", "baseUrl", "http://127.0.0.1:9/v1", "model", "m", "dimensions", 384)));
    assertThat(TenantSettings.merge(external, Map.of("embedding", Map.of("provider", "in-process"))).get("embedding"))
        .isEqualTo(Map.of("provider", "in-process"));
    // a member merged into a valid policy that makes it invalid is refused, naming the setting
    assertThatThrownBy(() -> TenantSettings.merge(external, Map.of("rolePolicies",
        Map.of("clinician", Map.of("kMax", 0))))).isInstanceOf(ApiException.class).hasMessageContaining("settings.");
  }

  @Test
  void roleLabelsAreHl7SecurityLabelCodesNamedByPositionNeverEchoed() {
    // the product's own defaults and every v3 code pass
    assertThat(TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("clinician",
        Map.of("labels", List.of("N", "R", "V", "HIV", "PSY", "ETH", "SUD", "SDV", "STD")),
        "care-coordinator", Map.of("labelsWithConsent", List.of("PSY", "BH", "OPIOIDUD")))))).isNotNull();
    for (String bad : List.of("psy", "PSYCH", "MRN4471902", "JaneDoe")) {
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("billing",
          Map.of("labels", List.of("N", bad)))))).as(bad).isInstanceOf(ApiException.class)
          .satisfies(e -> assertThat(((ApiException) e).status().getCode()).isEqualTo(400))
          .hasMessageContaining("rolePolicies.billing.labels[1]")
          .hasMessageContaining("HL7 v3 confidentiality code (U, L, M, N, R, V)")
          .satisfies(e -> assertThat(e.getMessage().length()).isLessThan(400))
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain(bad));
    }
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("care-coordinator",
        Map.of("labelsWithConsent", List.of("XYZ")))))).hasMessageContaining("care-coordinator.labelsWithConsent[0]");
  }

  /**
   * A whole number too large for a long passed the range check: its long value wraps (2^64 + 6 reads
   * as 6), so a tenant admin could store retentionYears 18446744073709551622, which the purge then
   * never obeys, or a rate limit, token budget or follow-up outside the range the API states.
   */
  @Test
  void aWholeNumberBeyondALongIsOutOfRangeNotWrapped() throws java.io.IOException {
    AdminDtos.PatchTenant body = bodies.read("{\"settings\":{\"retentionYears\":18446744073709551622}}",
        AdminDtos.PatchTenant.class);
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), body.settingsObject()))
        .isInstanceOf(ApiException.class).hasMessage("settings.retentionYears must be a whole number from 6 to 100");
    for (String key : List.of("rateLimitPerMinute", "contextTokenBudget", "encounterFollowUpDays",
        "openEncounterMaxDays")) {
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), patch(key,
          java.math.BigInteger.TWO.pow(64).add(java.math.BigInteger.valueOf(500))))).as(key)
          .isInstanceOf(ApiException.class).hasMessageStartingWith("settings." + key + " must be a whole number");
    }
    assertThat(TenantSettings.merge(Map.of(), patch("retentionYears", java.math.BigInteger.valueOf(7)))
        .get("retentionYears")).isEqualTo(7);
  }

  /**
   * A role the patch names must be a role even when the patch removes it or leaves it empty: a typo meant to
   * reset a role's override ({"biling": null}) answered 200 and left billing's override in force.
   */
  @Test
  void aMisspelledRoleOrFieldIsRefusedEvenWhenRemovedOrEmpty() {
    Map<String, Object> current = TenantSettings.merge(Map.of(), Map.of("rolePolicies",
        Map.of("billing", Map.of("kMax", 3))));
    for (Object value : java.util.Arrays.asList(null, Map.of())) {
      assertThatThrownBy(() -> TenantSettings.merge(current, Map.of("rolePolicies", patch("biling", value))))
          .isInstanceOf(ApiException.class)
          .hasMessageContaining("settings.rolePolicies: unknown role")
          .hasMessageNotContaining("biling");
    }
    // so is a misspelled field of a role, or of its breakGlass, removed with null
    assertThatThrownBy(() -> TenantSettings.merge(current, Map.of("rolePolicies",
        Map.of("billing", patch("kMaxx", null)))))
        .isInstanceOf(ApiException.class).hasMessageContaining("settings.rolePolicies.billing has an unknown field")
        .hasMessageNotContaining("kMaxx");
    assertThatThrownBy(() -> TenantSettings.merge(current, Map.of("rolePolicies",
        Map.of("billing", Map.of("breakGlass", patch("maxMinutess", null))))))
        .isInstanceOf(ApiException.class).hasMessageContaining("settings.rolePolicies.billing.breakGlass has an unknown field");
    assertThat(TenantSettings.merge(current, Map.of("rolePolicies", Map.of("billing", patch("kMax", null))))
        .get("rolePolicies")).isEqualTo(Map.of());
    // a real role's override is still removed with null, the platform's own roles' too (the upgrade note's
    // way to clear a policy an earlier version stored for tenant-admin)
    assertThat(TenantSettings.merge(current, Map.of("rolePolicies", patch("billing", null))).get("rolePolicies"))
        .isEqualTo(Map.of());
    assertThat(TenantSettings.merge(current, Map.of("rolePolicies", patch("tenant-admin", null))).get("rolePolicies"))
        .isEqualTo(Map.of("billing", Map.of("kMax", 3)));
    // and of llm: a misspelled member removed with null changed nothing and answered 200
    Map<String, Object> lenient = TenantSettings.merge(Map.of(), Map.of("llm", Map.of("allowDeidentifiedToNonBaa", true)));
    assertThatThrownBy(() -> TenantSettings.merge(lenient, Map.of("llm", patch("allowDeidentifiedToNonBaaa", null))))
        .isInstanceOf(ApiException.class).hasMessageContaining("settings.llm has an unknown field")
        .hasMessageNotContaining("Baaa");
    assertThat(TenantSettings.merge(lenient, Map.of("llm", patch("allowDeidentifiedToNonBaa", null))).get("llm"))
        .isEqualTo(Map.of("endpoints", List.of(), "allowDeidentifiedToNonBaa", false));
  }

  /**
   * A role served de-identified only (researcher) reads for research with the patient's consent: a tenant
   * admin gave it treatment purposes and break-glass (which reads without consent), and both were stored
   * (platform migration 16 refuses them too). What is still a tenant admin's to narrow or widen is.
   */
  @Test
  void aDeidentifiedRoleGetsNoPurposeButResearchAndNoBreakGlass() {
    Map<String, String> refused = new java.util.LinkedHashMap<>();
    refused.put("{\"purposes\":[\"HRESCH\",\"TREAT\",\"ETREAT\"]}",
        "settings.rolePolicies.researcher.purposes[1] is not a research purpose: the platform serves this role "
            + "de-identified only, for research, and its purposes may be only HRESCH");
    refused.put("{\"purposes\":[\"HOPERAT\"]}", "settings.rolePolicies.researcher.purposes[0] is not a research purpose");
    refused.put("{\"breakGlass\":{\"allowed\":true}}",
        "settings.rolePolicies.researcher.breakGlass.allowed cannot be true: break-glass is for emergency treatment");
    refused.put("{\"breakGlass\":{\"allowed\":true,\"overrideConsent\":true}}",
        "settings.rolePolicies.researcher.breakGlass.allowed cannot be true");
    refused.put("{\"breakGlass\":{\"overrideConsent\":true}}",
        "settings.rolePolicies.researcher.breakGlass.overrideConsent cannot be true");
    refused.put("{\"purposes\":[3]}", "settings.rolePolicies.researcher.purposes must be a JSON array of strings");
    refused.forEach((policy, message) -> {
      Map<String, Object> researcher = read(policy);
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("researcher", researcher))))
          .as(policy).isInstanceOf(ApiException.class).hasMessageStartingWith(message);
    });
    // the same purposes and break-glass are still the clinician's to have
    assertThat(TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("clinician",
        read("{\"purposes\":[\"TREAT\",\"ETREAT\",\"HRESCH\"],\"breakGlass\":{\"allowed\":true}}")))))
        .containsKey("rolePolicies");
    // and the researcher's narrower (or other) settings are accepted
    Map<String, Object> narrower = read("{\"purposes\":[\"HRESCH\"],\"kMax\":5,\"categories\":[\"lab\"],"
        + "\"breakGlass\":{\"allowed\":false,\"overrideConsent\":false},\"deidentifiedOnly\":true}");
    assertThat(TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("researcher", narrower))).get("rolePolicies"))
        .isEqualTo(Map.of("researcher", narrower));
    // such a policy stored by an earlier version is not used: the role has none, and its keys are told the
    // tenant is misconfigured (the database gives the role no purpose but research, no break-glass)
    io.carecontext.retrieval.TenantPolicy stored = io.carecontext.retrieval.TenantPolicy.fromSettings(Map.of(
        "rolePolicies", Map.of("researcher", read("{\"purposes\":[\"HRESCH\",\"TREAT\",\"ETREAT\"],"
            + "\"breakGlass\":{\"allowed\":true,\"overrideConsent\":true}}"))));
    assertThat(stored.invalidRoles()).containsExactly("researcher");
    assertThat(stored.roles()).doesNotContainKey("researcher");
    assertThat(stored.decide(List.of("researcher"), "TREAT")).isEmpty();
  }

  /**
   * The database refuses every write of a tenant whose stored settings are beyond the platform's limits
   * (platform migrations 9 and 16), so a PATCH of another setting of such a tenant answered a 500: it is a
   * 400 that names the field and how to correct it, before anything is stored or audited.
   */
  @Test
  void settingsStoredBeyondThePlatformsLimitsAreNamedBeforeAnyChange() {
    Map<String, Object> stored = Map.of("rolePolicies", Map.of("researcher", read(
        "{\"purposes\":[\"HRESCH\",\"TREAT\"],\"breakGlass\":{\"allowed\":true}}")));
    Map<String, Object> merged = TenantSettings.merge(stored, Map.of("retentionYears", 8));
    assertThatThrownBy(() -> TenantSettings.requireWithinPlatformLimits(merged)).isInstanceOf(ApiException.class)
        .hasMessageStartingWith("settings.rolePolicies.researcher.purposes[1] is not a research purpose")
        .hasMessageContaining("send the role's corrected override, or null for it, in settings.rolePolicies");
    Map<String, Object> admin = Map.of("rolePolicies", Map.of("tenant-admin", Map.of("purposes", List.of("TREAT"))));
    assertThatThrownBy(() -> TenantSettings.requireWithinPlatformLimits(admin)).isInstanceOf(ApiException.class)
        .hasMessageStartingWith("settings.rolePolicies.tenant-admin: this role reads no patient data");
    // removing the override is the way out
    TenantSettings.requireWithinPlatformLimits(TenantSettings.merge(stored, Map.of("rolePolicies", patch("researcher", null))));
    // what the database does not refuse (an unknown label code an earlier version stored) is not refused here:
    // the read path refuses that role's policy (503 tenant_misconfigured), and the tenant's other changes go on
    TenantSettings.requireWithinPlatformLimits(Map.of("rolePolicies", Map.of("clinician",
        Map.of("labels", List.of("psy")), "researcher", Map.of("kMax", 500))));
  }

  @Test
  void aRolePolicyThatEmptiesWhatTheRoleReadsIsRefusedNamingTheField() {
    // a clinician with no categories answered 200 with no chunks; with no purposes, a 403 telling it to ask
    // for a clinician key
    for (String field : List.of("categories", "resourceTypes", "purposes")) {
      assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rolePolicies",
          Map.of("clinician", Map.of(field, List.of()))))).isInstanceOf(ApiException.class)
          .hasMessageStartingWith("settings.rolePolicies.clinician." + field + " is empty")
          .hasMessageContaining("send null to go back to the role's default")
          .hasMessageContaining("revoke its keys");
    }
    // a tenant created with such settings is refused the same way (create merges into no settings)
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), read(
        "{\"rolePolicies\":{\"billing\":{\"kMax\":3},\"care-coordinator\":{\"purposes\":[]}}}")))
        .hasMessageStartingWith("settings.rolePolicies.care-coordinator.purposes is empty");
    // a role that takes no policy is told that, not that its list is empty
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), Map.of("rolePolicies",
        Map.of("auditor", Map.of("categories", List.of())))))
        .hasMessageStartingWith("settings.rolePolicies.auditor: this role reads no patient data");
    // labels may be empty (a role that reads only unlabelled data), and so may labelsWithConsent (its default)
    assertThat(TenantSettings.merge(Map.of(), Map.of("rolePolicies", Map.of("clinician",
        Map.of("labels", List.of(), "labelsWithConsent", List.of())))).get("rolePolicies"))
        .isEqualTo(Map.of("clinician", Map.of("labels", List.of(), "labelsWithConsent", List.of())));
    // an empty list stored by an earlier version does not block the tenant's other changes
    Map<String, Object> stored = Map.of("rolePolicies", Map.of("clinician", Map.of("categories", List.of())));
    assertThat(TenantSettings.merge(stored, Map.of("rolePolicies", Map.of("billing", Map.of("kMax", 3))))
        .get("rolePolicies")).isEqualTo(Map.of("clinician", Map.of("categories", List.of()),
        "billing", Map.of("kMax", 3)));
  }

  @Test
  void aRoleLeftWithBreakGlassAsItsOnlyPurposeButNoBreakGlassIsRefused() {
    // care-coordinator may not break the glass by default: ETREAT alone left every request of its keys refused
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), read(
        "{\"rolePolicies\":{\"care-coordinator\":{\"purposes\":[\"ETREAT\"]}}}")))
        .isInstanceOf(ApiException.class)
        .hasMessageStartingWith("settings.rolePolicies.care-coordinator.purposes names only ETREAT")
        .hasMessageContaining("send null for the role's default purposes");
    // judged on the policy as it will be: a stored ETREAT-only clinician whose break-glass a patch withdraws
    Map<String, Object> stored = read("{\"rolePolicies\":{\"clinician\":{\"purposes\":[\"ETREAT\"]}}}");
    assertThatThrownBy(() -> TenantSettings.merge(stored, read(
        "{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"allowed\":false}}}}")))
        .hasMessageStartingWith("settings.rolePolicies.clinician.purposes names only ETREAT");
    // with break-glass allowed ETREAT alone is a role for emergencies only; and withdrawing a clinician's
    // break-glass leaves its TREAT
    assertThat(TenantSettings.merge(Map.of(), read("{\"rolePolicies\":{\"care-coordinator\":{\"purposes\":"
        + "[\"ETREAT\"],\"breakGlass\":{\"allowed\":true,\"maxMinutes\":15}}}}")).get("rolePolicies"))
        .isNotNull();
    assertThat(TenantSettings.merge(Map.of(), read(
        "{\"rolePolicies\":{\"clinician\":{\"breakGlass\":{\"allowed\":false}}}}")).get("rolePolicies"))
        .isNotNull();
    // a role the patch does not name keeps working as stored, as with empty lists
    assertThat(TenantSettings.merge(stored, read("{\"rolePolicies\":{\"billing\":{\"kMax\":3}}}"))
        .get("rolePolicies")).isEqualTo(Map.of("clinician", Map.of("purposes", List.of("ETREAT")),
        "billing", Map.of("kMax", 3)));
  }

  @Test
  void aRoleWhoseResourceTypesAreFiledUnderNoneOfItsCategoriesIsRefused() {
    // the tenant-admin walk: administrative with Observation saved, and every request then answered no chunks
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), read("{\"rolePolicies\":{\"care-coordinator\":"
        + "{\"categories\":[\"administrative\"],\"resourceTypes\":[\"Observation\",\"Practitioner\"]}}}")))
        .isInstanceOf(ApiException.class)
        .hasMessageStartingWith("settings.rolePolicies.care-coordinator: none of its resourceTypes")
        .hasMessageContaining("Observation: [clinical, lab, note], Practitioner: []")
        .hasMessageContaining("its keys would read nothing");
    // judged on the policy as it will be: billing's default types (Coverage, Claim, …) with a clinical category
    assertThatThrownBy(() -> TenantSettings.merge(Map.of(), read(
        "{\"rolePolicies\":{\"billing\":{\"categories\":[\"lab\"]}}}")))
        .hasMessageStartingWith("settings.rolePolicies.billing: none of its resourceTypes");
    // one type that meets one category is enough (Encounter is filed under clinical too), and * meets any
    assertThat(TenantSettings.merge(Map.of(), read(
        "{\"rolePolicies\":{\"billing\":{\"categories\":[\"clinical\"]}}}")).get("rolePolicies")).isNotNull();
    assertThat(TenantSettings.merge(Map.of(), read("{\"rolePolicies\":{\"care-coordinator\":"
        + "{\"categories\":[\"administrative\"]}}}")).get("rolePolicies")).isNotNull();
    // a role the patch does not name keeps working as stored
    Map<String, Object> stored = read("{\"rolePolicies\":{\"billing\":{\"categories\":[\"lab\"]}}}");
    assertThat(TenantSettings.merge(stored, read("{\"rolePolicies\":{\"clinician\":{\"kMax\":3}}}"))
        .get("rolePolicies")).isNotNull();
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> read(String json) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json, Map.class);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
