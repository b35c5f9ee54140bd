package io.carecontext.migrations;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.exception.UnresolvedModelServerException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.net.http.HttpTimeoutException;
import java.util.Optional;

/**
 * What kind of failure a call to a model endpoint met (a chat model's, LlmGateway, or an embedding
 * model's, EmbeddingException), read from the client library's exception types and its causes', never
 * their messages, which can quote what was sent. Here, beside the endpoints' other rules (ModelHosts,
 * SecretNames), because the chat and the embedding paths share no module of their own: each kept a copy
 * of this reading, and a kind added to one would have been missing from the other.
 */
public final class ModelFailure {

  /**
   * What an endpoint's failures point a tenant admin to: the prefix its settings are written under
   * ({@code baseUrl}, {@code apiKeySecret} and {@code model} follow it), and the advice on a timeout,
   * which depends on whether the endpoint has a timeout setting to raise.
   */
  public record Advice(String settingsPrefix, String timedOut) {}

  private ModelFailure() {}

  /** What went wrong, in words that say what to check; empty for a failure of no kind known here. */
  public static Optional<String> describe(Throwable ex, Advice advice) {
    Throwable t = known(ex);
    String settings = advice.settingsPrefix();
    if (t == null) {
      return Optional.empty();
    }
    if (timedOut(t)) {
      return Optional.of(advice.timedOut());
    }
    if (t instanceof ConnectException) {
      return Optional.of("connection refused: check " + settings + "baseUrl and that the endpoint is up");
    }
    if (t instanceof UnknownHostException || t instanceof UnresolvedModelServerException) {
      return Optional.of("host not found: check " + settings + "baseUrl");
    }
    if (t instanceof AuthenticationException) {
      return Optional.of("the endpoint refused the credentials: check " + settings + "apiKeySecret and the secret it names");
    }
    if (t instanceof ModelNotFoundException) {
      return Optional.of("the endpoint does not know the model: check " + settings + "model");
    }
    if (t instanceof RateLimitException) {
      return Optional.of("the endpoint is rate limiting: retry later");
    }
    return Optional.of("the endpoint answered HTTP " + ((HttpException) t).statusCode());
  }

  /**
   * Whether the failure is the endpoint's, whatever was sent: unreachable, too slow, refusing the
   * credentials, not knowing the model, rate limiting, or failing on its side (HTTP 5xx, 401, 403,
   * 404, 408, 429). Such a failure says nothing about what was sent; an HTTP 400 (a text it would not
   * take, say) or an answer of the wrong shape may be one input's.
   */
  public static boolean endpointWide(Throwable ex) {
    Throwable t = known(ex);
    if (t == null) {
      return false;
    }
    if (named(t)) {
      return true;
    }
    int status = ((HttpException) t).statusCode();
    return status >= 500 || status == 401 || status == 403 || status == 404 || status == 408 || status == 429;
  }

  /** The first of {@code ex} and its causes whose type tells what failed, or null. */
  private static Throwable known(Throwable ex) {
    for (Throwable t = ex; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (named(t) || t instanceof HttpException) {
        return t;
      }
    }
    return null;
  }

  /** A failure of a kind with a name of its own (every one of them the endpoint's), not only an HTTP status. */
  private static boolean named(Throwable t) {
    return timedOut(t) || t instanceof ConnectException || t instanceof UnknownHostException
        || t instanceof UnresolvedModelServerException || t instanceof AuthenticationException
        || t instanceof ModelNotFoundException || t instanceof RateLimitException;
  }

  private static boolean timedOut(Throwable t) {
    return t instanceof TimeoutException || t instanceof HttpTimeoutException || t instanceof SocketTimeoutException;
  }
}
