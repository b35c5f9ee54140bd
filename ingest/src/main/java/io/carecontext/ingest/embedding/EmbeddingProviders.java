package io.carecontext.ingest.embedding;

import io.carecontext.migrations.SecretNames;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;

/**
 * Chooses a tenant's embedding provider from its settings (the parsed JSON object):
 * {@code {"provider":"in-process"}} (also when absent) or
 * {@code {"provider":"openai-compatible","baseUrl":"https://host/v1","model":"...","dimensions":768,
 * "apiKeySecret":"NAME","timeoutSeconds":30,"maxRetries":2}}.
 *
 * <p>Tenant settings hold the name of the API key, never the key: {@code secrets} resolves the
 * name (environment, secret store), so keys stay out of the database and its backups. Unknown
 * keys are rejected, so a typo fails loudly instead of silently falling back to a default.
 */
public final class EmbeddingProviders {

  public static final String IN_PROCESS = "in-process";
  public static final String OPENAI_COMPATIBLE = "openai-compatible";

  private static final Set<String> IN_PROCESS_KEYS = Set.of("provider");
  private static final Set<String> OPENAI_KEYS = Set.of("provider", "baseUrl", "model", "dimensions",
      "apiKeySecret", "timeoutSeconds", "maxRetries", "baaCovered");

  private EmbeddingProviders() {
  }

  public static EmbeddingProvider forSettings(Map<String, ?> settings,
      Function<String, Optional<String>> secrets) {
    Map<String, ?> given = settings == null ? Map.of() : settings;
    String provider = Optional.ofNullable(given.get("provider")).map(Object::toString).orElse(IN_PROCESS);
    switch (provider) {
      case IN_PROCESS:
        requireKnownKeys(given, provider, IN_PROCESS_KEYS);
        return new InProcessMiniLmProvider();
      case OPENAI_COMPATIBLE:
        requireKnownKeys(given, provider, OPENAI_KEYS);
        OpenAiEmbeddingConfig config = openAiConfig(given, secrets);
        requireBaa(given);
        return new OpenAiCompatibleEmbeddingProvider(config);
      default:
        throw new IllegalArgumentException("unknown embedding provider '" + provider + "'; expected '"
            + IN_PROCESS + "' or '" + OPENAI_COMPATIBLE + "'");
    }
  }

  /**
   * The id of the model a tenant's {@code embedding} setting names, as its provider's
   * {@link EmbeddingProvider#modelId()} gives it, read from the setting alone (no provider is built,
   * no secret read), or null for a setting that names no usable model, whose provider cannot be
   * built to embed anything either.
   */
  public static String modelIdOf(Map<String, ?> settings) {
    Map<String, ?> given = settings == null ? Map.of() : settings;
    Object provider = given.get("provider");
    if (provider == null || IN_PROCESS.equals(provider)) {
      return InProcessMiniLmProvider.MODEL_ID;
    }
    Object model = given.get("model");
    return OPENAI_COMPATIBLE.equals(provider) && model != null && !model.toString().isBlank()
        ? OpenAiCompatibleEmbeddingProvider.idOf(model.toString()) : null;
  }

  /**
   * An embedding endpoint receives every chunk's text and every question as they are, identified
   * (de-identification is for prompts, and a de-identified text would embed differently), so only an
   * endpoint under a business associate agreement may have them: the tenant admin says so with
   * {@code "baaCovered": true}, as for model endpoints. Checked when the setting is stored and again
   * before each use, so a setting stored before this rule embeds nothing until it is confirmed.
   */
  private static void requireBaa(Map<String, ?> settings) {
    if (!Boolean.TRUE.equals(settings.get("baaCovered"))) {
      throw new EndpointNotCoveredException("embedding setting baaCovered must be true: an embedding endpoint "
          + "receives identified patient text, so use only one covered by a business associate agreement "
          + "and say so with \"baaCovered\": true (or use the in-process model)");
    }
  }

  static OpenAiEmbeddingConfig openAiConfig(Map<String, ?> settings,
      Function<String, Optional<String>> secrets) {
    String apiKey = null;
    Object secretName = settings.get("apiKeySecret");
    if (secretName != null) {
      if (!SecretNames.isVariableName(secretName.toString())) {
        // not echoed: what is pasted here instead of a variable's name is often the key itself
        throw new IllegalArgumentException("embedding setting apiKeySecret must be the name of an environment "
            + "variable that holds the key, never the key itself");
      }
      if (SecretNames.isPlatformVariable(secretName.toString())) {
        throw new IllegalArgumentException("embedding setting apiKeySecret names a variable of the platform's own "
            + "configuration (" + SecretNames.PLATFORM_VARIABLES + "), which is never sent to an embedding endpoint: give the key a "
            + "variable of its own");
      }
      apiKey = secrets.apply(secretName.toString()).orElseThrow(() -> new IllegalArgumentException(
          "embedding setting apiKeySecret names secret '" + secretName + "', which is not set"));
    }
    return new OpenAiEmbeddingConfig(
        required(settings, "baseUrl"),
        apiKey,
        required(settings, "model"),
        intSetting(settings, "dimensions", null),
        Duration.ofSeconds(intSetting(settings, "timeoutSeconds",
            (int) OpenAiEmbeddingConfig.DEFAULT_TIMEOUT.toSeconds())),
        intSetting(settings, "maxRetries", OpenAiEmbeddingConfig.DEFAULT_MAX_RETRIES));
  }

  private static String required(Map<String, ?> settings, String key) {
    Object value = settings.get(key);
    if (value == null || value.toString().isBlank()) {
      throw new IllegalArgumentException("embedding setting '" + key + "' is required for provider '"
          + OPENAI_COMPATIBLE + "'");
    }
    return value.toString();
  }

  private static int intSetting(Map<String, ?> settings, String key, Integer defaultValue) {
    Object value = settings.get(key);
    if (value == null) {
      if (defaultValue == null) {
        throw new IllegalArgumentException("embedding setting '" + key + "' is required for provider '"
            + OPENAI_COMPATIBLE + "'");
      }
      return defaultValue;
    }
    try {
      return value instanceof Number n && n.doubleValue() == n.intValue()
          ? n.intValue() : Integer.parseInt(value.toString().trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("embedding setting '" + key + "' must be a whole number");
    }
  }

  private static void requireKnownKeys(Map<String, ?> settings, String provider, Set<String> known) {
    Set<String> unknown = new TreeSet<>(settings.keySet());
    unknown.removeAll(known);
    if (!unknown.isEmpty()) {
      throw new IllegalArgumentException("unknown embedding settings " + unknown + " for provider '"
          + provider + "'; allowed: " + new TreeSet<>(known));
    }
  }
}
