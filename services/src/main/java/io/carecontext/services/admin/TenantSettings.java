package io.carecontext.services.admin;

import io.carecontext.fhir.Category;
import io.carecontext.fhir.ChunkRenderer;
import io.carecontext.retrieval.RolePolicy;
import io.carecontext.retrieval.TenantPolicy;
import io.carecontext.services.http.ApiException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A tenant's settings: defaults, and validation of a PATCH. Unknown keys are refused so a typo
 * never silently leaves a safeguard at its default.
 */
public final class TenantSettings {

  /**
   * The audit retention the admin API accepts, in years; the purge obeys no other (AuditRetention). At
   * least HIPAA's six years for the documentation of what was done with PHI (45 CFR 164.316(b)(2)): with
   * 1, a tenant admin had the next daily purge delete five years of the trail, its own accesses among them.
   */
  public static final int MIN_RETENTION_YEARS = 6;
  public static final int MAX_RETENTION_YEARS = 100;

  /**
   * How long an Encounter's care link stays in force after the encounter (or the practitioner's part
   * in it) ended, in days: results and letters arrive after discharge. Longer care is a CareTeam's to
   * state, so a year at most.
   */
  public static final int DEFAULT_ENCOUNTER_FOLLOW_UP_DAYS = 30;
  public static final int MAX_ENCOUNTER_FOLLOW_UP_DAYS = 365;

  /**
   * How long an encounter under way with no end sent links its participants, in days after the later
   * of its start and the time the feed last stored it: a feed that lost the discharge would otherwise
   * have them linked for good. At least a day, at most ten years; the database's default too, for a
   * tenant whose stored settings name none (tenant migration 60).
   */
  public static final int DEFAULT_OPEN_ENCOUNTER_MAX_DAYS = 90;
  public static final int MAX_OPEN_ENCOUNTER_MAX_DAYS = 3650;

  private TenantSettings() {}

  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("consentMode", "opt-in");
    d.put("retentionYears", 6);
    d.put("careRelationship", true);
    // the database's default too (tenant migration 44), for a tenant whose stored settings name none
    d.put("encounterFollowUpDays", DEFAULT_ENCOUNTER_FOLLOW_UP_DAYS);
    d.put("openEncounterMaxDays", DEFAULT_OPEN_ENCOUNTER_MAX_DAYS);
    d.put("datePolicy", "shift");
    d.put("rateLimitPerMinute", 600);
    d.put("embedding", Map.of("provider", "in-process"));
    d.put("llm", Map.of("endpoints", List.of(), "allowDeidentifiedToNonBaa", false));
    d.put("rolePolicies", Map.of());
    d.put("contextTokenBudget", 2000);
    d.put("researchIndex", false);
    return d;
  }

  /**
   * Returns {@code current} with {@code patch} merged in as a JSON Merge Patch (RFC 7386), after
   * checking every patched setting as it will be: an object merges into the setting's object, member
   * by member and at any depth ({@code {"rolePolicies":{"billing":{"kMax":3}}}} changes billing's k cap
   * and nothing else); {@code null} removes a member, and a setting set to {@code null} is back at its
   * default; anything else (a string, a number, an array) replaces. {@code embedding} is replaced whole:
   * it describes one model, and the fields of the one before would not describe the next. (Each
   * setting used to be replaced whole: a PATCH of {@code llm.endpoints} dropped
   * {@code allowDeidentifiedToNonBaa}, and one of a role's policy every other role's.)
   */
  public static Map<String, Object> merge(Map<String, Object> current, Map<String, Object> patch) {
    // only what is written: stored settings hold whole numbers as such since platform migration 15,
    // and every request reads them through here (TenantDirectory), so they are taken as they are
    patch = wholeNumbers(patch);
    Map<String, Object> defaults = defaults();
    Map<String, Object> merged = new LinkedHashMap<>(defaults);
    merged.putAll(current);
    for (Map.Entry<String, Object> e : patch.entrySet()) {
      String key = e.getKey();
      Object value = e.getValue();
      if (value == null) {
        check(key, defaults.get(key) == null ? Map.of() : defaults.get(key)); // an unknown key is still refused
        merged.put(key, defaults.get(key));
        continue;
      }
      if ("rolePolicies".equals(key)) {
        // the merged result is checked below, but a role or field the patch removes (null) or leaves empty
        // ({}) is not in it: {"rolePolicies":{"biling":null}}, meant to reset billing's override, answered
        // 200 and kept it
        asBadRequest(() -> TenantPolicy.checkPatchNames(value));
      }
      if ("llm".equals(key)) {
        asBadRequest(() -> io.carecontext.retrieval.chat.LlmEndpoint.checkPatchNames(value)); // the same for llm
      }
      Object next = !"embedding".equals(key) && value instanceof Map<?, ?> p && merged.get(key) instanceof Map<?, ?> c
          ? mergePatch(c, p) : value;
      if (!"embedding".equals(key) && next instanceof Map<?, ?> n) {
        // a member removed with null is back at its default, and shown so (llm's
        // allowDeidentifiedToNonBaa was left out of the view); an override emptied by removing its
        // last member is no override ("clinician":{} was left in rolePolicies)
        Map<String, Object> filled = new LinkedHashMap<>();
        if (defaults.get(key) instanceof Map<?, ?> d) {
          d.forEach((k, v) -> filled.put(String.valueOf(k), v));
        }
        withoutEmptyObjects(n).forEach(filled::put);
        next = filled;
      }
      check(key, next);
      if ("rolePolicies".equals(key)) {
        refuseEmptyScopes(value); // after the check, which refuses a role that takes no policy at all
        refuseRolesThatReadNothing(value, next);
      }
      merged.put(key, next);
    }
    return merged;
  }

  /** The fields of a role's policy that say what it reads: an empty one leaves it reading nothing. */
  private static final List<String> SCOPE_FIELDS = List.of("categories", "resourceTypes", "purposes");

  /**
   * Refuses a role policy patch that empties {@code categories}, {@code resourceTypes} or {@code purposes}.
   * Such a role reads nothing, but its keys were not told so: with no categories or resource types every
   * context request answered 200 with no chunks, as for a patient with no record, and with no purposes a
   * 403 telling a clinician key to ask for "a key of a role that reads it (clinician, …)". An empty list is
   * far likelier a client's mistake (a list built from a form left blank) than a way to switch a role off,
   * which revoking its keys does, visibly in the trail. Checked on what the patch sends, not on what is
   * stored: a tenant that stored one earlier keeps working as it did, and can correct it.
   */
  static void refuseEmptyScopes(Object rolePolicies) {
    if (!(rolePolicies instanceof Map<?, ?> roles)) {
      return; // its check says what it must be
    }
    roles.forEach((role, policy) -> {
      if (!(policy instanceof Map<?, ?> fields)) {
        return;
      }
      for (String field : SCOPE_FIELDS) {
        if (fields.get(field) instanceof List<?> l && l.isEmpty()) {
          // the role's name is one of the platform's (checkPatchNames refused any other), never the caller's text
          throw ApiException.badRequest("settings.rolePolicies." + role + "." + field + " is empty, which would "
              + "leave the role reading nothing while its keys' requests look like ones that found nothing: name "
              + "at least one, or send null to go back to the role's default; to stop a role from reading, revoke "
              + "its keys (GET /admin/tenants/{tenant}/keys lists them)");
        }
      }
    });
  }

  /**
   * Refuses a role policy patch that leaves a role it names reading nothing though every list it sent has
   * members, as {@link #refuseEmptyScopes} refuses empty lists; the PATCH answered 200 and the role's keys then
   * read nothing (the tenant-admin walk):
   * <ul>
   *   <li>{@code ETREAT} as its only purpose while the role may not break the glass ({@code breakGlass.allowed}
   *       false, as for care-coordinator and billing by default): every request refused, TREAT and the others
   *       not its purpose, ETREAT not allowed;</li>
   *   <li>resource types none of which is ever filed under one of its categories ({@code administrative} with
   *       {@code Observation}): every request answered 200 with no chunks, as for a patient with no record.</li>
   * </ul>
   * Judged on the role's policy as it will be (defaults, stored override and patch merged), for the roles the
   * patch names only: a tenant that stored one earlier keeps working as it did, and can correct it.
   */
  static void refuseRolesThatReadNothing(Object patch, Object merged) {
    if (!(patch instanceof Map<?, ?> roles) || !(merged instanceof Map<?, ?>)) {
      return;
    }
    Map<String, RolePolicy> effective = TenantPolicy.fromSettings(Map.of("rolePolicies", merged)).roles();
    roles.forEach((role, policy) -> {
      RolePolicy p = effective.get(String.valueOf(role));
      if (!(policy instanceof Map<?, ?>) || p == null) {
        return;
      }
      // the role's name is one of the platform's (checkPatchNames refused any other), never the caller's text
      if (!p.breakGlass() && List.of("ETREAT").equals(p.purposes())) {
        throw ApiException.badRequest("settings.rolePolicies." + role + ".purposes names only ETREAT, which the "
            + "role may not use while its breakGlass.allowed is false: its keys would be refused every request. "
            + "Add the purposes it reads for (TREAT, say), allow it break-glass, or send null for the role's "
            + "default purposes");
      }
      if (!p.resourceTypes().contains("*") && p.resourceTypes().stream().noneMatch(type -> filedUnder(type, p.categories()))) {
        throw ApiException.badRequest("settings.rolePolicies." + role + ": none of its resourceTypes "
            + p.resourceTypes() + " is filed under any of its categories " + p.categories() + " (" + p.resourceTypes()
            .stream().map(type -> type + ": " + ChunkRenderer.categoriesOf(type).stream().map(Category::code).sorted()
                .toList()).collect(Collectors.joining(", ")) + "), so its keys would read nothing: add a category "
            + "those types are filed under, or a type filed under its categories");
      }
    });
  }

  private static boolean filedUnder(String resourceType, List<String> categories) {
    return ChunkRenderer.categoriesOf(resourceType).stream().map(Category::code).anyMatch(categories::contains);
  }

  /**
   * {@code patch} with every number that is whole but was written with a fraction or an exponent
   * ({@code 7.0}, {@code 1e3}) as the whole number. Every numeric setting is a whole number, so such a
   * value passed its check and was stored and shown as {@code 7.0}: a client that reads the setting as
   * an integer could no longer read the tenant, and an embedding's {@code dimensions} of {@code 1536.0}
   * compared unequal to {@code 1536}. A fraction ({@code 7.5}) is left as sent, for its check to refuse.
   * Settings an earlier version stored so were rewritten once, by platform migration 15.
   */
  @SuppressWarnings("unchecked")
  static <T> T wholeNumbers(T value) {
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> out = new LinkedHashMap<>();
      map.forEach((k, v) -> out.put(String.valueOf(k), wholeNumbers(v)));
      return (T) out;
    }
    if (value instanceof List<?> list) {
      return (T) list.stream().map(TenantSettings::wholeNumbers).collect(java.util.stream.Collectors.toList());
    }
    if (value instanceof Double || value instanceof Float || value instanceof java.math.BigDecimal
        || value instanceof java.math.BigInteger) {
      double d = ((Number) value).doubleValue();
      if (Double.isFinite(d) && d == Math.rint(d) && Math.abs(d) <= Integer.MAX_VALUE) {
        return (T) Integer.valueOf((int) d);
      }
    }
    return value;
  }

  /** RFC 7386 for one object: members of {@code patch} merged into {@code target}; null removes. */
  static Map<String, Object> mergePatch(Map<?, ?> target, Map<?, ?> patch) {
    Map<String, Object> out = new LinkedHashMap<>();
    target.forEach((k, v) -> out.put(String.valueOf(k), v));
    patch.forEach((k, v) -> {
      String key = String.valueOf(k);
      if (v == null) {
        out.remove(key);
      } else if (v instanceof Map<?, ?> p && out.get(key) instanceof Map<?, ?> c) {
        out.put(key, mergePatch(c, p));
      } else {
        out.put(key, v);
      }
    });
    return out;
  }

  /** {@code map} without members whose value is an empty object, at any depth. */
  static Map<String, Object> withoutEmptyObjects(Map<?, ?> map) {
    Map<String, Object> out = new LinkedHashMap<>();
    map.forEach((k, v) -> {
      Object value = v instanceof Map<?, ?> m ? withoutEmptyObjects(m) : v;
      if (!(value instanceof Map<?, ?> m && m.isEmpty())) {
        out.put(String.valueOf(k), value);
      }
    });
    return out;
  }

  static void check(String key, Object value) {
    switch (key) {
      case "consentMode" -> requireOneOf(key, value, List.of("opt-in", "opt-out"));
      case "datePolicy" -> requireOneOf(key, value, List.of("token", "shift", "year"));
      case "retentionYears" -> requireInt(key, value, MIN_RETENTION_YEARS, MAX_RETENTION_YEARS);
      case "rateLimitPerMinute" -> requireInt(key, value, 1, 1_000_000);
      case "contextTokenBudget" -> requireInt(key, value, 100, 32_000);
      case "encounterFollowUpDays" -> requireInt(key, value, 0, MAX_ENCOUNTER_FOLLOW_UP_DAYS);
      case "openEncounterMaxDays" -> requireInt(key, value, 1, MAX_OPEN_ENCOUNTER_MAX_DAYS);
      case "careRelationship", "researchIndex" -> {
        if (!(value instanceof Boolean)) {
          throw ApiException.badRequest("settings." + key + " must be true or false");
        }
      }
      case "rolePolicies" -> {
        asBadRequest(() -> TenantPolicy.checkRolePolicies(value));
        SecurityLabels.check(value);
      }
      case "llm" -> asBadRequest(() -> io.carecontext.retrieval.chat.LlmEndpoint.check(value));
      case "embedding" -> {
        if (!(value instanceof Map)) {
          throw ApiException.badRequest("settings." + key + " must be a JSON object");
        }
      }
      default -> throw ApiException.badRequest("settings has an unknown setting; known settings: "
          + String.join(", ", defaults().keySet()));
    }
  }

  /**
   * Refuses to store settings beyond the platform's limits of role policies that an earlier version
   * stored (a researcher with treatment purposes or break-glass, a policy for tenant-admin): the database
   * refuses every write of such a tenant's name or settings (platform migrations 9 and 16), and a PATCH of
   * another setting answered a 500. The 400 names the field and says how to correct it.
   */
  static void requireWithinPlatformLimits(Map<String, Object> settings) {
    try {
      TenantPolicy.checkPlatformLimits(settings.get("rolePolicies"));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("settings." + e.getMessage() + " (the tenant's stored settings say so, which "
          + "an earlier release allowed: no change of the tenant is stored until it is corrected; send the role's "
          + "corrected override, or null for it, in settings.rolePolicies)");
    }
  }

  /** Runs a check whose messages name the setting (never its value), as a 400. */
  private static void asBadRequest(Runnable check) {
    try {
      check.run();
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("settings." + e.getMessage());
    }
  }

  private static void requireOneOf(String key, Object value, List<String> allowed) {
    if (!(value instanceof String s) || !allowed.contains(s)) {
      throw ApiException.badRequest("settings." + key + " must be one of " + allowed);
    }
  }

  /** The one whole-number check of every setting (role policies and model settings use it too). */
  private static void requireInt(String key, Object value, int min, int max) {
    try {
      io.carecontext.retrieval.SettingChecks.wholeNumber("settings." + key, value, min, max);
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(e.getMessage());
    }
  }
}
