package io.carecontext.retrieval;

import io.carecontext.migrations.PolicySettings;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * What one role may retrieve: categories, resource types ({@code *} for all), purposes of use,
 * security labels, a cap on k, and what break-glass may override. Policy is data: tenants override
 * these per role in their {@code rolePolicies} setting.
 */
public record RolePolicy(List<String> categories, List<String> resourceTypes, List<String> purposes, List<String> labels,
                         int kMax, boolean careRelationship, boolean breakGlass, boolean breakGlassOverridesConsent,
                         int breakGlassMinutes, boolean deidentifiedOnly) {

  public RolePolicy {
    categories = List.copyOf(categories);
    resourceTypes = List.copyOf(resourceTypes);
    purposes = List.copyOf(purposes);
    labels = List.copyOf(labels);
    if (kMax < 1 || kMax > 100) {
      throw new IllegalArgumentException("kMax must be 1 to 100");
    }
  }

  static final List<String> CLINICAL = List.of("demographic", "clinical", "lab", "medication", "note");
  static final List<String> SENSITIVE = List.of("HIV", "PSY", "ETH", "SUD", "SDV", "STD");

  /** The defaults follow API.md's role table; roles not listed have no policy and are denied. */
  static final Map<String, RolePolicy> DEFAULTS = Map.of(
      "clinician", new RolePolicy(CLINICAL, List.of("*"), List.of("TREAT", "ETREAT"),
          concat(List.of("N", "R", "V"), SENSITIVE), 20, true, true, true, 60, false),
      "care-coordinator", new RolePolicy(CLINICAL, List.of("*"), List.of("TREAT", "HOPERAT"), List.of("N", "R"),
          10, false, false, false, 0, false),
      "billing", new RolePolicy(List.of("administrative", "clinical"),
          List.of("Coverage", "Claim", "ExplanationOfBenefit", "Encounter"), List.of("HPAYMT", "HOPERAT"),
          List.of("N", "R"), 10, false, false, false, 0, false),
      "researcher", new RolePolicy(List.of("demographic", "clinical", "lab", "medication"), List.of("*"),
          List.of("HRESCH"), List.of("N"), 10, false, false, false, 0, true));

  /** This role's scope as RLS settings: categories, resource types ({@code *} for all) and labels. */
  public PolicySettings.Builder scope(PolicySettings.Builder settings) {
    return settings.categories(categories)
        .list("cc.types", resourceTypes.contains("*") ? List.of("*") : resourceTypes)
        .labels(List.copyOf(new LinkedHashSet<>(labels)));
  }

  /** Field by field over the role's default (or a deny-all base for roles without one). */
  @SuppressWarnings("unchecked")
  static RolePolicy merge(RolePolicy base, Map<String, Object> o) {
    RolePolicy b = base != null ? base
        : new RolePolicy(List.of(), List.of(), List.of(), List.of(), 1, false, false, false, 0, false);
    Map<String, Object> bg = o.get("breakGlass") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
    return new RolePolicy(
        list(o.get("categories"), b.categories()), list(o.get("resourceTypes"), b.resourceTypes()),
        list(o.get("purposes"), b.purposes()), list(o.get("labels"), b.labels()),
        o.get("kMax") instanceof Number n ? n.intValue() : b.kMax(),
        o.get("careRelationship") instanceof Boolean x ? x : b.careRelationship(),
        bg.get("allowed") instanceof Boolean x ? x : b.breakGlass(),
        bg.get("overrideConsent") instanceof Boolean x ? x : b.breakGlassOverridesConsent(),
        bg.get("maxMinutes") instanceof Number n ? n.intValue() : b.breakGlassMinutes(),
        o.get("deidentifiedOnly") instanceof Boolean x ? x : b.deidentifiedOnly());
  }

  private static List<String> list(Object v, List<String> fallback) {
    if (v instanceof List<?> l) {
      return l.stream().map(String::valueOf).toList();
    }
    return fallback;
  }

  private static List<String> concat(List<String> a, List<String> b) {
    return java.util.stream.Stream.concat(a.stream(), b.stream()).toList();
  }
}
