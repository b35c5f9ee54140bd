package io.carecontext.retrieval.chat;

import io.carecontext.migrations.SecretNames;
import io.carecontext.retrieval.SettingChecks;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** One allowlisted model endpoint of a tenant (OpenAI-compatible: Azure OpenAI, vLLM, LiteLLM, Ollama…). */
public record LlmEndpoint(String name, String baseUrl, String model, boolean baaCovered, String apiKeySecret,
                          int timeoutSeconds, int maxRetries, int maxOutputTokens, String tokenLimitField) {

  /**
   * The request field that carries {@code maxOutputTokens}: {@code max_tokens}, what every OpenAI-compatible
   * server reads, or {@code max_completion_tokens}, which OpenAI's reasoning (o-series) models require
   * (they refuse {@code max_tokens}). The gateway always sent {@code max_tokens}, so such a model refused
   * every request.
   */
  static final List<String> TOKEN_LIMIT_FIELDS = List.of("max_tokens", "max_completion_tokens");

  public LlmEndpoint {
    tokenLimitField = tokenLimitField != null && TOKEN_LIMIT_FIELDS.contains(tokenLimitField) ? tokenLimitField
        : TOKEN_LIMIT_FIELDS.get(0);
  }

  /** With the answer's cap sent as {@code max_tokens}. */
  public LlmEndpoint(String name, String baseUrl, String model, boolean baaCovered, String apiKeySecret,
                     int timeoutSeconds, int maxRetries, int maxOutputTokens) {
    this(name, baseUrl, model, baaCovered, apiKeySecret, timeoutSeconds, maxRetries, maxOutputTokens, null);
  }

  /** Whether the cap goes out as {@code max_completion_tokens} (else {@code max_tokens}). */
  boolean capAsCompletionTokens() {
    return "max_completion_tokens".equals(tokenLimitField);
  }

  /**
   * The answer a request asks for at most when the endpoint's setting names none: a long clinical summary
   * fits, and the daily budgets are charged it ahead ({@link LlmGateway#reserve}).
   */
  static final int DEFAULT_MAX_OUTPUT_TOKENS = 1024;
  /** The most a setting may ask for: about what {@link LlmGateway#MAX_ANSWER_BYTES} holds, the most ever read. */
  static final int MAX_OUTPUT_TOKENS = LlmGateway.MAX_ANSWER_BYTES / 4;

  static final List<String> SETTING_FIELDS = List.of("endpoints", "default", "allowDeidentifiedToNonBaa",
      "dailyTokenBudgetPerKey", "dailyTokenBudgetPerTenant");
  static final List<String> ENDPOINT_FIELDS = List.of("name", "baseUrl", "model", "baaCovered", "apiKeySecret",
      "timeoutSeconds", "maxRetries", "maxOutputTokens", "tokenLimitField");
  private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9_.-]{1,64}$");

  /**
   * The names a patch of the {@code llm} setting uses, also those it removes with null: the merged result
   * ({@link #check}) does not hold a removed member, so {@code {"llm":{"allowDeidentifiedToNonBaaa":null}}},
   * meant to put the flag back to false, answered 200 and changed nothing.
   *
   * @throws IllegalArgumentException for a name the setting does not have (never a value)
   */
  public static void checkPatchNames(Object patch) {
    if (patch instanceof Map<?, ?> fields) {
      for (Object field : fields.keySet()) {
        if (!SETTING_FIELDS.contains(String.valueOf(field))) {
          throw new IllegalArgumentException("llm has an unknown field; its fields are " + SETTING_FIELDS);
        }
      }
    }
  }

  /**
   * Checks a tenant's {@code llm} setting before it is stored. The allowlist decides where prompts
   * may go, so a typo must not pass as "no endpoint" or "not BAA-covered" without a word.
   *
   * @throws IllegalArgumentException naming the first problem (setting names, never values)
   */
  public static void check(Object setting) {
    if (!(setting instanceof Map<?, ?> llm)) {
      throw new IllegalArgumentException("llm must be a JSON object");
    }
    Set<String> names = new HashSet<>();
    for (Map.Entry<?, ?> e : llm.entrySet()) {
      String field = String.valueOf(e.getKey());
      Object v = e.getValue();
      switch (field) {
        case "endpoints" -> {
          if (!(v instanceof List<?> list)) {
            throw new IllegalArgumentException("llm.endpoints must be a JSON array of endpoints");
          }
          for (int i = 0; i < list.size(); i++) {
            String name = checkEndpoint("llm.endpoints[" + i + "]", list.get(i));
            if (!names.add(name)) {
              throw new IllegalArgumentException("llm.endpoints[" + i + "].name is used twice; names must differ");
            }
          }
        }
        case "default" -> {
          if (!(v instanceof String)) {
            throw new IllegalArgumentException("llm.default must be the name of one of llm.endpoints");
          }
        }
        case "allowDeidentifiedToNonBaa" -> SettingChecks.bool("llm.allowDeidentifiedToNonBaa", v);
        case "dailyTokenBudgetPerKey", "dailyTokenBudgetPerTenant" ->
            SettingChecks.wholeNumber("llm." + field, v, 1, Long.MAX_VALUE);
        default -> throw new IllegalArgumentException("llm has an unknown field; its fields are " + SETTING_FIELDS);
      }
    }
    if (llm.get("default") instanceof String wanted && !names.contains(wanted)) {
      throw new IllegalArgumentException("llm.default names no endpoint of llm.endpoints");
    }
  }

  /**
   * Refuses a setting whose endpoints name a secret variable the operator has not granted to
   * {@code tenant} ({@link SecretNames}); run with {@link #check} when the setting is stored.
   */
  public static void checkGrants(String tenant, Object setting) {
    if (setting instanceof Map<?, ?> llm && llm.get("endpoints") instanceof List<?> list) {
      for (int i = 0; i < list.size(); i++) {
        if (list.get(i) instanceof Map<?, ?> m) {
          SecretNames.requireGrantedTo(tenant, "llm.endpoints[" + i + "]", m);
          // the host too: the prompts go wherever the tenant admin points it
          io.carecontext.migrations.ModelHosts.requireApprovedFor(tenant, "llm.endpoints[" + i + "]", m.get("baseUrl"));
        }
      }
    }
  }

  private static String checkEndpoint(String at, Object value) {
    if (!(value instanceof Map<?, ?> m)) {
      throw new IllegalArgumentException(at + " must be a JSON object with " + ENDPOINT_FIELDS);
    }
    for (Object k : m.keySet()) {
      if (!ENDPOINT_FIELDS.contains(String.valueOf(k))) {
        throw new IllegalArgumentException(at + " has an unknown field; its fields are " + ENDPOINT_FIELDS);
      }
    }
    Object name = m.containsKey("name") ? m.get("name") : "default";
    if (!(name instanceof String n) || !NAME.matcher(n).matches()) {
      throw new IllegalArgumentException(at + ".name must be 1 to 64 letters, digits, '-', '_' or '.'");
    }
    URI uri;
    try {
      uri = m.get("baseUrl") instanceof String u ? new URI(u) : null;
    } catch (URISyntaxException e) {
      uri = null;
    }
    if (uri == null || uri.getHost() == null
        || !("https".equalsIgnoreCase(uri.getScheme()) || "http".equalsIgnoreCase(uri.getScheme()))) {
      throw new IllegalArgumentException(at + ".baseUrl must be an http(s) URL with a host, e.g. "
          + "https://example-openai.azure.com/openai/v1");
    }
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(at + ".baseUrl must not carry user info, a query or a fragment: "
          + "credentials go in the environment variable that apiKeySecret names");
    }
    // the same rule as the embedding endpoint's: prompts are de-identified, but still about a patient
    if ("http".equalsIgnoreCase(uri.getScheme()) && !List.of("localhost", "127.0.0.1", "[::1]").contains(uri.getHost())) {
      throw new IllegalArgumentException(at + ".baseUrl uses plain http to a remote host: use https");
    }
    if (!(m.get("model") instanceof String model) || model.isBlank()) {
      throw new IllegalArgumentException(at + ".model is required: the model (or deployment) name");
    }
    if (m.containsKey("baaCovered")) {
      SettingChecks.bool(at + ".baaCovered", m.get("baaCovered"));
    }
    if (m.containsKey("apiKeySecret") && !(m.get("apiKeySecret") instanceof String s && SecretNames.isVariableName(s))) {
      throw new IllegalArgumentException(at + ".apiKeySecret must be the name of an environment variable that "
          + "holds the key, never the key itself");
    }
    if (m.get("apiKeySecret") instanceof String s && SecretNames.isPlatformVariable(s)) {
      throw new IllegalArgumentException(at + ".apiKeySecret names a variable of the platform's own configuration "
          + "(" + SecretNames.PLATFORM_VARIABLES + "), which is never sent to a model endpoint: give the key a variable of its own");
    }
    if (m.containsKey("timeoutSeconds")) {
      SettingChecks.wholeNumber(at + ".timeoutSeconds", m.get("timeoutSeconds"), 1, 600);
    }
    if (m.containsKey("maxRetries")) {
      SettingChecks.wholeNumber(at + ".maxRetries", m.get("maxRetries"), 0, 10);
    }
    if (m.containsKey("maxOutputTokens")) {
      SettingChecks.wholeNumber(at + ".maxOutputTokens", m.get("maxOutputTokens"), 1, MAX_OUTPUT_TOKENS);
    }
    if (m.containsKey("tokenLimitField")
        && !(m.get("tokenLimitField") instanceof String f && TOKEN_LIMIT_FIELDS.contains(f))) {
      throw new IllegalArgumentException(at + ".tokenLimitField must be one of " + TOKEN_LIMIT_FIELDS
          + " (max_completion_tokens for reasoning models that refuse max_tokens)");
    }
    return (String) name;
  }

  /**
   * The key sent to the endpoint: the value of the variable {@code name}; null, and no Authorization
   * header at all, without one, for a variable of the platform's own configuration, or for one the
   * operator has not granted to {@code tenant} (settings stored before those were refused). It was
   * "none", sent as "Bearer none", which a gateway refuses as a wrong key.
   */
  static String secretFor(String tenant, String name, java.util.function.Function<String, String> env) {
    if (name == null || !SecretNames.isGrantedTo(tenant, name)) {
      return null;
    }
    return env.apply(name);
  }

  @SuppressWarnings("unchecked")
  static List<LlmEndpoint> fromSettings(Map<String, Object> llm) {
    Object list = llm.get("endpoints");
    if (!(list instanceof List<?> l)) {
      return List.of();
    }
    return l.stream().filter(Map.class::isInstance).map(o -> (Map<String, Object>) o).map(m -> new LlmEndpoint(
        String.valueOf(m.getOrDefault("name", "default")), String.valueOf(m.get("baseUrl")),
        String.valueOf(m.get("model")), Boolean.TRUE.equals(m.get("baaCovered")),
        m.get("apiKeySecret") == null ? null : String.valueOf(m.get("apiKeySecret")),
        m.get("timeoutSeconds") instanceof Number n ? n.intValue() : 30,
        m.get("maxRetries") instanceof Number n ? n.intValue() : 1,
        outputCap(m.get("maxOutputTokens")),
        m.get("tokenLimitField") instanceof String f ? f : null)).toList();
  }

  /**
   * A stored maxOutputTokens, within 1..{@link #MAX_OUTPUT_TOKENS} whatever was stored (a setting written
   * before its check, or by hand): it was read with {@code intValue()}, so -1000000 made a request's
   * reservation negative (the day's total went down while it was in flight, and concurrent requests passed
   * a spent budget), and 4294967301 wrapped to 5.
   */
  static int outputCap(Object stored) {
    if (!(stored instanceof Number n)) {
      return DEFAULT_MAX_OUTPUT_TOKENS;
    }
    double d = n.doubleValue();
    return Double.isNaN(d) ? DEFAULT_MAX_OUTPUT_TOKENS : (int) Math.max(1, Math.min(MAX_OUTPUT_TOKENS, n.longValue()));
  }
}
