package io.carecontext.retrieval.chat;

import java.util.List;
import java.util.Map;

/** One allowlisted model endpoint of a tenant (OpenAI-compatible: Azure OpenAI, vLLM, LiteLLM, Ollama…). */
public record LlmEndpoint(String name, String baseUrl, String model, boolean baaCovered, String apiKeySecret,
                          int timeoutSeconds, int maxRetries) {

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
        m.get("maxRetries") instanceof Number n ? n.intValue() : 1)).toList();
  }
}
