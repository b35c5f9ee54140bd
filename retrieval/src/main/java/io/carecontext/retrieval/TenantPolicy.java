package io.carecontext.retrieval;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A tenant's retrieval settings: consent mode, care relationship, role policies, rate limit, and the
 * roles whose stored override is not valid (set before overrides were checked on PATCH): those
 * have no policy, and a request by a key holding one is refused with that reason.
 */
public record TenantPolicy(String consentMode, boolean careRelationship, Map<String, RolePolicy> roles,
                           int rateLimitPerMinute, Set<String> invalidRoles) {

  /** Shown when a caller's role has an invalid stored policy; names no value. */
  public static final String INVALID_POLICY = "a role policy of this tenant is not valid: a tenant admin must "
      + "correct settings.rolePolicies (PATCH /admin/tenants/{tenant})";

  /** Roles are tried in this order; the first whose policy allows the purpose decides. */
  static final List<String> PRECEDENCE = List.of("clinician", "care-coordinator", "billing", "researcher",
      "tenant-admin", "auditor", "ehr-integration");

  @SuppressWarnings("unchecked")
  public static TenantPolicy fromSettings(Map<String, Object> settings) {
    Map<String, RolePolicy> roles = new LinkedHashMap<>(RolePolicy.DEFAULTS);
    Set<String> invalid = new TreeSet<>();
    if (settings.get("rolePolicies") instanceof Map<?, ?> overrides) {
      overrides.forEach((role, value) -> {
        String r = String.valueOf(role);
        try {
          RolePolicy.check(r, value);
          roles.put(r, RolePolicy.merge(roles.get(r), (Map<String, Object>) value));
        } catch (IllegalArgumentException e) {
          invalid.add(r); // fail closed: no policy rather than the default or half of the override
          roles.remove(r);
        }
      });
    }
    String mode = "opt-out".equals(settings.get("consentMode")) ? "opt-out" : "opt-in";
    boolean care = !(settings.get("careRelationship") instanceof Boolean b) || b;
    int rate = settings.get("rateLimitPerMinute") instanceof Number n ? n.intValue() : 600;
    return new TenantPolicy(mode, care, roles, rate, Set.copyOf(invalid));
  }

  /**
   * Checks the names a merge patch of {@code rolePolicies} uses (roles, a role's fields, its breakGlass
   * fields), whatever their values, {@code null} and {@code {}} included: the merged result is checked
   * too, but a member the patch removes or leaves empty is not in it, so {@code {"biling": null}}, meant to
   * reset billing, answered 200 and changed nothing.
   *
   * @throws IllegalArgumentException naming where the unknown name is (never the name sent)
   */
  public static void checkPatchNames(Object patch) {
    if (!(patch instanceof Map<?, ?> policies)) {
      return; // not an object: the check of the merged result says what it takes
    }
    for (Map.Entry<?, ?> e : policies.entrySet()) {
      String role = String.valueOf(e.getKey());
      if (!PRECEDENCE.contains(role)) {
        throw unknownRole();
      }
      if (!(e.getValue() instanceof Map<?, ?> fields)) {
        continue;
      }
      for (Map.Entry<?, ?> f : fields.entrySet()) {
        String field = String.valueOf(f.getKey());
        if (!RolePolicy.FIELDS.contains(field)) {
          throw new IllegalArgumentException("rolePolicies." + role + " has an unknown field; its fields are "
              + RolePolicy.FIELDS);
        }
        if ("breakGlass".equals(field) && f.getValue() instanceof Map<?, ?> bg) {
          for (Object b : bg.keySet()) {
            if (!RolePolicy.BREAK_GLASS_FIELDS.contains(String.valueOf(b))) {
              throw new IllegalArgumentException("rolePolicies." + role + ".breakGlass has an unknown field; its "
                  + "fields are " + RolePolicy.BREAK_GLASS_FIELDS);
            }
          }
        }
      }
    }
  }

  /**
   * Checks a {@code rolePolicies} setting before it is stored: known roles, known fields, values of
   * the right kind and range.
   *
   * @throws IllegalArgumentException naming the first problem (setting names and codes, never data)
   */
  public static void checkRolePolicies(Object value) {
    if (!(value instanceof Map<?, ?> policies)) {
      throw new IllegalArgumentException("rolePolicies must be a JSON object of role to policy");
    }
    for (Map.Entry<?, ?> e : policies.entrySet()) {
      String role = String.valueOf(e.getKey());
      if (!PRECEDENCE.contains(role)) {
        throw unknownRole();
      }
      RolePolicy.check(role, e.getValue());
    }
  }

  /**
   * Checks only the platform's limits of a {@code rolePolicies} setting (roles that read no patient data
   * take no policy; a de-identified-only role stays de-identified, for research, without break-glass),
   * which the database holds every write of a tenant's settings to (platform migrations 9 and 16), for
   * settings an earlier version stored: anything else not valid there is the read path's to refuse.
   *
   * @throws IllegalArgumentException naming the first field beyond them (setting names and codes, never data)
   */
  public static void checkPlatformLimits(Object value) {
    if (!(value instanceof Map<?, ?> policies)) {
      return;
    }
    for (Map.Entry<?, ?> e : policies.entrySet()) {
      String role = String.valueOf(e.getKey());
      if (!PRECEDENCE.contains(role)) {
        throw unknownRole();
      }
      RolePolicy.checkLimits(role, e.getValue());
    }
  }

  /**
   * An unknown role in {@code rolePolicies}, naming the roles a policy applies to: it listed every role, so
   * tenant-admin, auditor and ehr-integration, which read no patient data and whose policy is refused next.
   */
  private static IllegalArgumentException unknownRole() {
    return new IllegalArgumentException("rolePolicies: unknown role; the roles that take a policy are "
        + String.join(", ", PRECEDENCE.stream().filter(RolePolicy.DEFAULTS::containsKey).toList()));
  }

  /** The role whose policy decides for this purpose, if any of the caller's roles has one that allows it. */
  public Optional<Map.Entry<String, RolePolicy>> decide(List<String> callerRoles, String purpose) {
    for (String role : PRECEDENCE) {
      RolePolicy p = roles.get(role);
      if (callerRoles.contains(role) && p != null && p.purposes().contains(purpose)) {
        return Optional.of(Map.entry(role, p));
      }
    }
    return Optional.empty();
  }

  /**
   * Whether a request served by the role's policy needs a care relationship with the patient: the
   * tenant's setting and the role's both on (break-glass aside, which the read path decides).
   */
  public boolean careRequiredFor(RolePolicy role) {
    return careRelationship && role != null && role.careRelationship();
  }

  /** Whether one of the caller's roles has a stored policy that is not valid. */
  public boolean invalidFor(List<String> callerRoles) {
    return callerRoles.stream().anyMatch(invalidRoles::contains);
  }

  boolean anyPolicy(List<String> callerRoles) {
    return callerRoles.stream().anyMatch(r -> roles.containsKey(r) && !roles.get(r).purposes().isEmpty());
  }

  /**
   * Whether a key with these roles may read no patient data at all (tenant-admin, auditor,
   * ehr-integration): it is refused for its role before anything about its request. A role whose
   * policy is invalid is not such a key: it is answered 503 for the tenant's misconfiguration.
   */
  public boolean readsNothing(List<String> callerRoles) {
    return !invalidFor(callerRoles) && !anyPolicy(callerRoles);
  }
}
