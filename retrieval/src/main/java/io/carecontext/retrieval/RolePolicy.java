package io.carecontext.retrieval;

import io.carecontext.fhir.Category;
import io.carecontext.fhir.Fhir;
import io.carecontext.migrations.PolicySettings;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * What one role may retrieve: categories, resource types ({@code *} for all), purposes of use,
 * security labels, a cap on k, and what break-glass may override. Policy is data: tenants override
 * these per role in their {@code rolePolicies} setting.
 *
 * <p>{@code labelsWithConsent}: security labels the role may read only for a patient whose
 * applicable Consent names them in a permit (API.md: a care-coordinator sees "no sensitive
 * categories without explicit consent"). The database decides it (V20), per request.
 */
public record RolePolicy(List<String> categories, List<String> resourceTypes, List<String> purposes, List<String> labels,
                         int kMax, boolean careRelationship, boolean breakGlass, boolean breakGlassOverridesConsent,
                         int breakGlassMinutes, boolean deidentifiedOnly, List<String> labelsWithConsent) {

  public RolePolicy {
    categories = List.copyOf(categories);
    resourceTypes = List.copyOf(resourceTypes);
    purposes = List.copyOf(purposes);
    labels = List.copyOf(labels);
    labelsWithConsent = List.copyOf(labelsWithConsent);
    if (kMax < 1 || kMax > 100) {
      throw new IllegalArgumentException("kMax must be 1 to 100");
    }
  }

  static final List<String> CLINICAL = List.of("demographic", "clinical", "lab", "medication", "note");
  static final List<String> SENSITIVE = List.of("HIV", "PSY", "ETH", "SUD", "SDV", "STD");

  /** The defaults follow API.md's role table; roles not listed have no policy and are denied. */
  static final Map<String, RolePolicy> DEFAULTS = Map.of(
      "clinician", new RolePolicy(CLINICAL, List.of("*"), List.of("TREAT", "ETREAT"),
          concat(List.of("N", "R", "V"), SENSITIVE), 20, true, true, true, 60, false, List.of()),
      "care-coordinator", new RolePolicy(CLINICAL, List.of("*"), List.of("TREAT", "HOPERAT"), List.of("N", "R"),
          10, false, false, false, 0, false, SENSITIVE),
      "billing", new RolePolicy(List.of("administrative"),
          List.of("Coverage", "Claim", "ExplanationOfBenefit", "Encounter"), List.of("HPAYMT", "HOPERAT"),
          List.of("N", "R"), 10, false, false, false, 0, false, List.of()),
      "researcher", new RolePolicy(List.of("demographic", "clinical", "lab", "medication"), List.of("*"),
          List.of("HRESCH"), List.of("N"), 10, false, false, false, 0, true, List.of()));

  /**
   * This role's scope as RLS settings: categories, resource types ({@code *} for all), labels, and
   * the labels it may read with explicit consent.
   */
  public PolicySettings.Builder scope(PolicySettings.Builder settings) {
    settings.categories(categories)
        .list("cc.types", resourceTypes.contains("*") ? List.of("*") : resourceTypes)
        .labels(List.copyOf(new LinkedHashSet<>(labels)));
    // Unset reads as none: the policy's comparison with it then matches nothing.
    return labelsWithConsent.isEmpty() ? settings
        : settings.list("cc.consent_labels", List.copyOf(new LinkedHashSet<>(labelsWithConsent)));
  }

  /**
   * The policy in the form a tenant admin writes it ({@code settings.rolePolicies.<role>}), every
   * field filled in: what is in force, defaults and overrides merged, so that an admin can see it.
   */
  public Map<String, Object> asSetting() {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("categories", categories);
    m.put("resourceTypes", resourceTypes);
    m.put("purposes", purposes);
    m.put("labels", labels);
    m.put("labelsWithConsent", labelsWithConsent);
    m.put("kMax", kMax);
    m.put("careRelationship", careRelationship);
    Map<String, Object> bg = new java.util.LinkedHashMap<>();
    bg.put("allowed", breakGlass);
    bg.put("overrideConsent", breakGlassOverridesConsent);
    bg.put("maxMinutes", breakGlassMinutes);
    m.put("breakGlass", bg);
    m.put("deidentifiedOnly", deidentifiedOnly);
    return m;
  }

  /** The fields a tenant may set for a role; anything else is refused, so a typo never keeps a default. */
  static final List<String> FIELDS = List.of("categories", "resourceTypes", "purposes", "labels",
      "labelsWithConsent", "kMax", "careRelationship", "breakGlass", "deidentifiedOnly");
  static final List<String> BREAK_GLASS_FIELDS = List.of("allowed", "overrideConsent", "maxMinutes");
  private static final Pattern LABEL = Pattern.compile("^[A-Za-z0-9\\-._]{1,64}$");

  /**
   * Checks one role's override as a tenant admin sent it; the message names the field and what it
   * takes. Without this, a bad value was stored and then failed every query of the tenant.
   *
   * @throws IllegalArgumentException naming the first problem
   */
  static void check(String role, Object override) {
    String at = "rolePolicies." + role;
    checkLimits(role, override);
    if (!(override instanceof Map<?, ?> o)) {
      throw new IllegalArgumentException(at + " must be a JSON object");
    }
    for (Map.Entry<?, ?> e : o.entrySet()) {
      String field = String.valueOf(e.getKey());
      Object v = e.getValue();
      switch (field) {
        case "categories" -> strings(at + ".categories", v, Allowed.CATEGORIES);
        case "resourceTypes" -> strings(at + ".resourceTypes", v, Allowed.RESOURCE_TYPES);
        case "purposes" -> strings(at + ".purposes", v, Allowed.PURPOSES);
        case "labels", "labelsWithConsent" -> {
          strings(at + "." + field, v, null);
          for (Object l : (List<?>) v) {
            if (!LABEL.matcher((String) l).matches()) {
              throw new IllegalArgumentException(
                  at + "." + field + " takes security label codes (letters, digits, - . _)");
            }
          }
        }
        case "kMax" -> SettingChecks.wholeNumber(at + ".kMax", v, 1, 100);
        case "careRelationship", "deidentifiedOnly" -> SettingChecks.bool(at + "." + field, v);
        case "breakGlass" -> {
          if (!(v instanceof Map<?, ?> bg)) {
            throw new IllegalArgumentException(at + ".breakGlass must be a JSON object with " + BREAK_GLASS_FIELDS);
          }
          for (Map.Entry<?, ?> b : bg.entrySet()) {
            String f = String.valueOf(b.getKey());
            switch (f) {
              case "allowed", "overrideConsent" -> SettingChecks.bool(at + ".breakGlass." + f, b.getValue());
              case "maxMinutes" -> SettingChecks.wholeNumber(at + ".breakGlass.maxMinutes", b.getValue(), 1, 24 * 60);
              default -> throw new IllegalArgumentException(at + ".breakGlass has an unknown field; its fields are "
                  + BREAK_GLASS_FIELDS);
            }
          }
        }
        default -> throw new IllegalArgumentException(at + " has an unknown field; its fields are " + FIELDS);
      }
    }
  }

  /**
   * The platform's limits of a role's override, which no tenant setting lifts (the database keeps the same:
   * platform migrations 9 and 16); the rest of the override's checks are {@link #check}'s.
   *
   * @throws IllegalArgumentException naming the field beyond them
   */
  static void checkLimits(String role, Object override) {
    String at = "rolePolicies." + role;
    if (!DEFAULTS.containsKey(role)) {
      // tenant-admin, auditor, ehr-integration: API.md gives them no patient context, and a policy
      // here gave the admin's own key every patient's (the database refuses it too: platform migration 9)
      throw new IllegalArgumentException(at + ": this role reads no patient data and takes no policy; "
          + "roles with a policy are " + String.join(", ", new TreeSet<>(DEFAULTS.keySet())));
    }
    if (!(override instanceof Map<?, ?> o) || !DEFAULTS.get(role).deidentifiedOnly()) {
      return;
    }
    if (Boolean.FALSE.equals(o.get("deidentifiedOnly"))) {
      // API.md: a researcher gets de-identified context only, never re-identified output
      throw new IllegalArgumentException(at + ".deidentifiedOnly cannot be false: the platform serves this role "
          + "de-identified only");
    }
    researchOnly(at, o);
  }

  /**
   * The purposes a role served de-identified only may have (HL7 v3 PurposeOfUse): research. Its
   * specialisations (CLINTRCH, ...) are research too, but no request asks for them (ContextService's
   * purposes); platform migration 16 keeps the same list (research_purposes()).
   */
  static final List<String> RESEARCH_PURPOSES = List.of("HRESCH");

  /**
   * A role served de-identified only (researcher) reads for research, with the patient's consent: a
   * treatment purpose, or break-glass (which exists for emergency treatment, and reads without consent),
   * is not a tenant admin's to give it (the database refuses it too: platform migration 16). A value
   * of the wrong kind is left to the field's own check.
   */
  private static void researchOnly(String at, Map<?, ?> o) {
    if (o.get("purposes") instanceof List<?> purposes) {
      for (int i = 0; i < purposes.size(); i++) {
        if (purposes.get(i) instanceof String p && !RESEARCH_PURPOSES.contains(p)) {
          throw new IllegalArgumentException(at + ".purposes[" + i + "] is not a research purpose: the platform "
              + "serves this role de-identified only, for research, and its purposes may be only "
              + String.join(", ", RESEARCH_PURPOSES));
        }
      }
    }
    if (o.get("breakGlass") instanceof Map<?, ?> bg) {
      for (String f : List.of("allowed", "overrideConsent")) {
        if (Boolean.TRUE.equals(bg.get(f))) {
          throw new IllegalArgumentException(at + ".breakGlass." + f + " cannot be true: break-glass is for "
              + "emergency treatment, and the platform serves this role de-identified only, for research with "
              + "the patient's consent; leave breakGlass out, or set it false");
        }
      }
    }
  }

  /**
   * The values a role's lists may hold, built once, on first use (the type names need the shared FHIR
   * context): {@link TenantPolicy#fromSettings} checks stored overrides on every request.
   */
  private static final class Allowed {
    static final Set<String> CATEGORIES = new LinkedHashSet<>(Arrays.stream(Category.values()).map(Category::code)
        .toList());
    static final Set<String> PURPOSES = new TreeSet<>(ContextService.PURPOSES);
    static final Set<String> RESOURCE_TYPES = Stream.concat(Fhir.supportedTypes().stream(), Stream.of("*"))
        .collect(Collectors.toUnmodifiableSet());
  }

  private static void strings(String at, Object v, Set<String> allowed) {
    if (!(v instanceof List<?> l) || l.stream().anyMatch(x -> !(x instanceof String))) {
      throw new IllegalArgumentException(at + " must be a JSON array of strings");
    }
    if (allowed != null && !allowed.containsAll(l)) {
      throw new IllegalArgumentException(at + " takes only " + (allowed.size() > 20 ? "FHIR R4 resource type "
          + "names, or \"*\" for all" : List.copyOf(allowed)));
    }
  }

  /** Field by field over the role's default (or a deny-all base for roles without one). */
  @SuppressWarnings("unchecked")
  static RolePolicy merge(RolePolicy base, Map<String, Object> o) {
    RolePolicy b = base != null ? base
        : new RolePolicy(List.of(), List.of(), List.of(), List.of(), 1, false, false, false, 0, false, List.of());
    Map<String, Object> bg = o.get("breakGlass") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    return new RolePolicy(
        list(o.get("categories"), b.categories()), list(o.get("resourceTypes"), b.resourceTypes()),
        list(o.get("purposes"), b.purposes()), list(o.get("labels"), b.labels()),
        o.get("kMax") instanceof Number n ? n.intValue() : b.kMax(),
        o.get("careRelationship") instanceof Boolean x ? x : b.careRelationship(),
        bg.get("allowed") instanceof Boolean x ? x : b.breakGlass(),
        bg.get("overrideConsent") instanceof Boolean x ? x : b.breakGlassOverridesConsent(),
        bg.get("maxMinutes") instanceof Number n ? n.intValue() : b.breakGlassMinutes(),
        o.get("deidentifiedOnly") instanceof Boolean x ? x : b.deidentifiedOnly(),
        list(o.get("labelsWithConsent"), b.labelsWithConsent()));
  }

  private static List<String> list(Object v, List<String> fallback) {
    if (v instanceof List<?> l) {
      return l.stream().map(String::valueOf).toList();
    }
    return fallback;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return Stream.concat(a.stream(), b.stream()).toList();
  }
}
