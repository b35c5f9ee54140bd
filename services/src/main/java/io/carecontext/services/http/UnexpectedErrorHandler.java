package io.carecontext.services.http;

import io.carecontext.services.auth.AuthenticationFilter;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.http.server.exceptions.response.ErrorContext;
import jakarta.inject.Singleton;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every exception no more specific handler takes. Without it the framework logs each one with its
 * whole stack trace, which during a database outage meant some 65 lines for every request to the
 * admin API (the other paths meet the outage in the authentication filter, which answers it
 * itself). A database that does not answer is one warning line, as there; anything else is still
 * logged with its trace, as an unexpected error should be. The answer is the error processor's
 * either way: 503 with {@code Retry-After}, or 500.
 *
 * <p>The trace keeps every cause's type and frames but only our own exceptions' messages, which
 * never carry request content. Others can: PostgreSQL's primary message quotes the value it could
 * not take ({@code invalid input syntax for type date: "…"}, {@code timestamp out of range: "…"};
 * only its DETAIL is kept out, by the pools), and wrappers such as Micronaut Data's copy that
 * message into their own. A {@link SQLException} is shown with its SQLSTATE instead.
 */
@Produces
@Singleton
public class UnexpectedErrorHandler implements ExceptionHandler<RuntimeException, HttpResponse<?>> {

  private static final Logger LOG = LoggerFactory.getLogger(UnexpectedErrorHandler.class);

  private final ApiErrorProcessor errors;

  public UnexpectedErrorHandler(ApiErrorProcessor errors) {
    this.errors = errors;
  }

  @Override
  public HttpResponse<?> handle(HttpRequest request, RuntimeException e) {
    Object id = request.getAttribute(AuthenticationFilter.REQUEST_ID).orElse("-");
    if (undecodable(e)) {
      // the caller's body, not a fault of the service: it was a 500 with a stack trace in the log
      return ApiErrorProcessor.answer(HttpResponse.badRequest(), request.getPath(), new ApiError("bad_request",
          "the request body could not be decompressed as its Content-Encoding says (it is not compressed that way, "
              + "or it was cut short): send it whole and compressed that way, or without Content-Encoding; nothing "
              + "was stored"));
    }
    if (ApiErrorProcessor.databaseUnreachable(e)) {
      logOutage(id, e);
    } else if (ApiErrorProcessor.keyUnavailable(e)) {
      // an operator's setting (named by the start-time check too) or the key store: one line, no trace;
      // neither message holds key material or PHI
      LOG.warn("request {}: {}", id, ApiErrorProcessor.causes(e)
          .filter(t -> t instanceof io.carecontext.migrations.TenantKeys.KekNotHeldException
              || t instanceof io.carecontext.migrations.crypto.KeyProviderException).findFirst()
          .map(Throwable::getMessage).orElse("the tenant's data key cannot be opened"));
    } else {
      LOG.error("request {} failed with an unexpected error", id, withheld(e, 0));
    }
    return errors.processResponse(ErrorContext.builder(request).cause(e).build(), HttpResponse.serverError());
  }

  /** A body whose Content-Encoding (gzip, deflate) does not match what was sent. */
  static boolean undecodable(Throwable e) {
    return ApiErrorProcessor.causes(e).anyMatch(io.netty.handler.codec.compression.DecompressionException.class::isInstance);
  }

  private static final int MAX_CAUSES = 16;

  /**
   * A copy of {@code e}, its causes and suppressed exceptions for the log: our own exceptions as
   * they are (their messages are written not to carry request content), any other with its type,
   * and for a SQLException its SQLSTATE, in place of its message; the stack frames of each are kept.
   */
  static Throwable withheld(Throwable e, int depth) {
    if (e == null || depth == MAX_CAUSES) {
      return null;
    }
    boolean ours = e.getClass().getName().startsWith("io.carecontext.");
    Throwable cause = withheld(e.getCause(), depth + 1);
    if (ours && cause == e.getCause() && e.getSuppressed().length == 0) {
      return e;
    }
    String what = e instanceof SQLException sql && sql.getSQLState() != null
        ? " (SQLSTATE " + sql.getSQLState() + ")" : "";
    Withheld copy = new Withheld(e.getClass().getName() + (ours ? ": " + e.getMessage() : what + ": message withheld"),
        cause);
    copy.setStackTrace(e.getStackTrace());
    for (Throwable suppressed : e.getSuppressed()) { // a failed close in try-with-resources, say
      Throwable s = withheld(suppressed, depth + 1);
      if (s != null) {
        copy.addSuppressed(s);
      }
    }
    return copy;
  }

  /** A cause as the log shows it: its text names the class that was thrown. */
  static final class Withheld extends RuntimeException {

    private static final long serialVersionUID = 1L;

    Withheld(String text, Throwable cause) {
      super(text, cause, true, true);
    }
  }

  /**
   * The log of a request answered 503 because a database statement failed, for code that answers
   * it itself (context, chat, research search): one warning line when the database does not
   * answer, as elsewhere; any other failure with its trace, messages withheld as above. Such a
   * request was answered 503 with nothing logged, so an operator saw only the access log's status.
   */
  public static void logNotAudited(Object requestId, Throwable e) {
    if (ApiErrorProcessor.databaseUnreachable(e)) {
      logOutage(requestId, e);
    } else {
      LOG.error("request {} answered 503: a database statement failed (the PostgreSQL server log has the statement's "
          + "error)", requestId, withheld(e, 0));
    }
  }

  /** The one line a request refused for an unreachable database costs, wherever it is refused. */
  public static void logOutage(Object requestId, Throwable e) {
    LOG.warn("request {} answered 503: the database does not answer ({})", requestId, e.getClass().getSimpleName());
  }
}
