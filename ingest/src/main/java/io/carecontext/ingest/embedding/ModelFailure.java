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

  /**
   * Whether the failure is the endpoint's, whatever was sent: unreachable, too slow, refusing the
   * credentials, not knowing the model, rate limiting, or failing on its side (HTTP 5xx, 401, 403,
   * 404, 408, 429). Such a failure says nothing about the rows of the batch; an HTTP 400 (a text it
   * would not take, say) or an answer of the wrong shape may be one row's.
   */
  static boolean endpointWide(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof dev.langchain4j.exception.TimeoutException || t instanceof java.net.http.HttpTimeoutException
          || t instanceof java.net.SocketTimeoutException || t instanceof java.net.ConnectException
          || t instanceof java.net.UnknownHostException || t instanceof dev.langchain4j.exception.UnresolvedModelServerException
          || t instanceof dev.langchain4j.exception.AuthenticationException
          || t instanceof dev.langchain4j.exception.ModelNotFoundException
          || t instanceof dev.langchain4j.exception.RateLimitException) {
        return true;
      }
      if (t instanceof dev.langchain4j.exception.HttpException h) {
        int status = h.statusCode();
        return status >= 500 || status == 401 || status == 403 || status == 404 || status == 408 || status == 429;
      }
    }
    return false;
  }
}
