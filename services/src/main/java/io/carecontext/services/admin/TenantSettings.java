package io.carecontext.services.admin;

import io.carecontext.services.http.ApiException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tenant's settings: defaults, and validation of a PATCH. Unknown keys are refused so a typo
 * never silently leaves a safeguard at its default.
 */
public final class TenantSettings {

  /** The audit retention the admin API accepts, in years; the purge obeys no other (AuditRetention). */
  public static final int MIN_RETENTION_YEARS = 1;
  public static final int MAX_RETENTION_YEARS = 100;

  private TenantSettings() {}

  public static Map<String, Object> defaults() {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("consentMode", "opt-in");
    d.put("retentionYears", 6);
    d.put("careRelationship", true);
    d.put("datePolicy", "shift");
    d.put("rateLimitPerMinute", 600);
    d.put("embedding", Map.of("provider", "in-process"));
    d.put("llm", Map.of("endpoints", List.of(), "allowDeidentifiedToNonBaa", false));
    d.put("rolePolicies", Map.of());
    d.put("contextTokenBudget", 2000);
    d.put("researchIndex", false);
    return d;
  }

  /** Returns {@code current} with {@code patch} merged in, after checking every patched key. */
  public static Map<String, Object> merge(Map<String, Object> current, Map<String, Object> patch) {
    Map<String, Object> merged = new LinkedHashMap<>(defaults());
    merged.putAll(current);
    for (Map.Entry<String, Object> e : patch.entrySet()) {
      check(e.getKey(), e.getValue());
      merged.put(e.getKey(), e.getValue());
    }
    return merged;
  }

  static void check(String key, Object value) {
    switch (key) {
      case "consentMode" -> requireOneOf(key, value, List.of("opt-in", "opt-out"));
      case "datePolicy" -> requireOneOf(key, value, List.of("token", "shift", "year"));
      case "retentionYears" -> requireInt(key, value, MIN_RETENTION_YEARS, MAX_RETENTION_YEARS);
      case "rateLimitPerMinute" -> requireInt(key, value, 1, 1_000_000);
      case "contextTokenBudget" -> requireInt(key, value, 100, 32_000);
      case "careRelationship", "researchIndex" -> {
        if (!(value instanceof Boolean)) {
          throw ApiException.badRequest("settings." + key + " must be true or false");
        }
      }
      case "rolePolicies" -> asBadRequest(() -> io.carecontext.retrieval.TenantPolicy.checkRolePolicies(value));
      case "llm" -> asBadRequest(() -> io.carecontext.retrieval.chat.LlmEndpoint.check(value));
      case "embedding" -> {
        if (!(value instanceof Map)) {
          throw ApiException.badRequest("settings." + key + " must be a JSON object");
        }
      }
      default -> throw ApiException.badRequest("unknown setting '" + safe(key) + "'; known settings: "
          + String.join(", ", defaults().keySet()));
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

  private static void requireInt(String key, Object value, int min, int max) {
    if (!(value instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue())
        || n.longValue() < min || n.longValue() > max) {
      throw ApiException.badRequest("settings." + key + " must be a whole number from " + min + " to " + max);
    }
  }

  private static String safe(String key) {
    return key.length() > 40 || !key.matches("^[A-Za-z0-9_.-]*$") ? "(invalid name)" : key;
  }
}
