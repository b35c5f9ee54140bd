package io.carecontext.retrieval.deid;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The tokens of one request and the values they stand for. Lives in memory for that request only;
 * {@link #toString()} prints counts, never values.
 */
public final class TokenMap {

  private final Map<String, String> valueToToken = new LinkedHashMap<>();
  private final Map<String, String> tokenToValue = new LinkedHashMap<>();
  private final Map<String, Integer> counters = new LinkedHashMap<>();
  private final String scope;

  public TokenMap() {
    this(null);
  }

  /** Tokens named within a scope ([S2_PATIENT_1]), so that several maps' tokens in one response differ. */
  TokenMap(String scope) {
    if (scope != null && !scope.matches("[A-Z][A-Z0-9]{0,15}")) {
      throw new IllegalArgumentException("a token scope is a capital letter and up to 15 capitals or digits");
    }
    this.scope = scope;
  }

  /**
   * The token for a value of a class; the same value gets the same token throughout the request, and so
   * does every value of one {@code identity} (a known identifier as the record writes it; null: the value
   * itself). An answer is re-identified with the value the token was first made for, so that it reads as
   * its source did.
   */
  String tokenFor(String prefix, String value, String identity) {
    String stands = identity == null ? value : identity;
    String key = prefix + "\u0000" + normalize(stands);
    return valueToToken.computeIfAbsent(key, k -> {
      int n = counters.merge(prefix, 1, Integer::sum);
      String token = "[" + (scope == null ? "" : scope + "_") + prefix + "_" + n + "]";
      tokenToValue.put(token, value);
      return token;
    });
  }

  public Optional<String> valueOf(String token) {
    return Optional.ofNullable(tokenToValue.get(token));
  }

  public int size() {
    return tokenToValue.size();
  }

  boolean containsValue(String value) {
    String n = normalize(value);
    return valueToToken.keySet().stream().anyMatch(k -> k.endsWith("\u0000" + n));
  }

  static String normalize(String v) {
    return v.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z0-9]", "");
  }

  @Override
  public String toString() {
    return "TokenMap" + counters;
  }
}
