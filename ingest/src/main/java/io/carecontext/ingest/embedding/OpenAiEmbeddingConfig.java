package io.carecontext.ingest.embedding;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings for an OpenAI-compatible {@code POST {baseUrl}/embeddings} endpoint.
 *
 * @param baseUrl    the API root including its version path, e.g. {@code https://host/v1}; plain
 *                   http is accepted only for loopback hosts because the request body is PHI
 * @param apiKey     bearer token, or {@code null} for a server that needs none; never printed
 * @param modelName  the model name the server knows
 * @param dimensions the vector length to request and to expect back
 * @param timeout    per HTTP call
 * @param maxRetries retries of a failed call, 0 to 10
 */
public record OpenAiEmbeddingConfig(String baseUrl, String apiKey, String modelName, int dimensions,
    Duration timeout, int maxRetries) {

  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
  public static final int DEFAULT_MAX_RETRIES = 2;

  public OpenAiEmbeddingConfig {
    baseUrl = validBaseUrl(baseUrl);
    if (apiKey != null && apiKey.isBlank()) {
      throw new IllegalArgumentException("apiKey is blank; pass null for a server that needs no key");
    }
    if (modelName == null || modelName.isBlank()) {
      throw new IllegalArgumentException("modelName is required");
    }
    if (dimensions < 1 || dimensions > 16_000) {
      throw new IllegalArgumentException("dimensions must be between 1 and 16000, was " + dimensions);
    }
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    if (maxRetries < 0 || maxRetries > 10) {
      throw new IllegalArgumentException("maxRetries must be between 0 and 10, was " + maxRetries);
    }
  }

  public static OpenAiEmbeddingConfig of(String baseUrl, String apiKey, String modelName, int dimensions) {
    return new OpenAiEmbeddingConfig(baseUrl, apiKey, modelName, dimensions, DEFAULT_TIMEOUT,
        DEFAULT_MAX_RETRIES);
  }

  private static String validBaseUrl(String baseUrl) {
    if (baseUrl == null || baseUrl.isBlank()) {
      throw new IllegalArgumentException("baseUrl is required, e.g. https://host/v1");
    }
    URI uri;
    try {
      uri = new URI(baseUrl);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("baseUrl is not a valid URL");
    }
    // The URL is echoed in errors and logs, so it must not carry credentials: those go in apiKey.
    if (uri.getRawUserInfo() != null || uri.getRawQuery() != null || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "baseUrl must not contain user info, a query or a fragment; put credentials in apiKey");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (uri.getHost() == null || !(scheme.equals("https") || scheme.equals("http"))) {
      throw new IllegalArgumentException("baseUrl must be an absolute http(s) URL, was " + baseUrl);
    }
    if (scheme.equals("http") && !isLoopback(uri.getHost())) {
      throw new IllegalArgumentException("baseUrl " + baseUrl
          + " uses plain http to a remote host; use https, since the texts sent are PHI");
    }
    return baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  private static boolean isLoopback(String host) {
    return host.equals("localhost") || host.equals("127.0.0.1") || host.equals("[::1]");
  }

  @Override
  public String toString() {
    return "OpenAiEmbeddingConfig[baseUrl=" + baseUrl + ", apiKey=" + (apiKey == null ? "none" : "***")
        + ", modelName=" + modelName + ", dimensions=" + dimensions + ", timeout=" + timeout
        + ", maxRetries=" + maxRetries + "]";
  }
}
