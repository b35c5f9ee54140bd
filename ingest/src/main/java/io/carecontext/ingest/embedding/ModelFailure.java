package io.carecontext.ingest.embedding;

/**
 * What kind of failure an embedding endpoint's call met, read from the client library's exception
 * types (never their messages, which can quote what was sent). Chat's model calls are told apart the
 * same way (LlmGateway.failure); the two modules share no code of this kind.
 */
final class ModelFailure {

  private ModelFailure() {}

  static String kind(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof dev.langchain4j.exception.TimeoutException || t instanceof java.net.http.HttpTimeoutException
          || t instanceof java.net.SocketTimeoutException) {
        return "timed out: check that settings.embedding.baseUrl answers in time";
      }
      if (t instanceof java.net.ConnectException) {
        return "connection refused: check settings.embedding.baseUrl and that the endpoint is up";
      }
      if (t instanceof java.net.UnknownHostException || t instanceof dev.langchain4j.exception.UnresolvedModelServerException) {
        return "host not found: check settings.embedding.baseUrl";
      }
      if (t instanceof dev.langchain4j.exception.AuthenticationException) {
        return "the endpoint refused the credentials: check settings.embedding.apiKeySecret and the secret it names";
      }
      if (t instanceof dev.langchain4j.exception.ModelNotFoundException) {
        return "the endpoint does not know the model: check settings.embedding.model";
      }
      if (t instanceof dev.langchain4j.exception.RateLimitException) {
        return "the endpoint is rate limiting: retry later";
      }
      if (t instanceof dev.langchain4j.exception.HttpException h) {
        return "the endpoint answered HTTP " + h.statusCode();
      }
    }
    return "the call failed (" + ex.getClass().getSimpleName() + ")";
  }
}
