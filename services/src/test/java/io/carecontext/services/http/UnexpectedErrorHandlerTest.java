package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.read.ListAppender;
import io.carecontext.migrations.DatabaseException;
import io.micronaut.data.exceptions.DataAccessException;
import io.micronaut.http.HttpRequest;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.postgresql.util.PSQLException;
import org.postgresql.util.PSQLState;
import org.slf4j.LoggerFactory;

class UnexpectedErrorHandlerTest {

  private final UnexpectedErrorHandler handler = new UnexpectedErrorHandler(new ApiErrorProcessor(52_428_800));

  /** What the handler logs for {@code e}: the line and the whole trace, as the console shows it. */
  private String logged(RuntimeException e) {
    Logger log = (Logger) LoggerFactory.getLogger(UnexpectedErrorHandler.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      assertThat(handler.handle(HttpRequest.POST("/admin/tenants/acme/keys", ""), e).code()).isEqualTo(500);
    } finally {
      log.detachAppender(lines);
    }
    assertThat(lines.list).hasSize(1);
    ILoggingEvent line = lines.list.get(0);
    return line.getFormattedMessage() + "\n" + ThrowableProxyUtil.asString(line.getThrowableProxy());
  }

  @Test
  void aDatabaseErrorQuotingTheRequestsValueIsLoggedByItsSqlStateNotItsMessage() {
    // PostgreSQL's primary message quotes the value it could not take (only DETAIL is kept out by
    // the pools), and Micronaut Data copies it into its own exception's message.
    PSQLException pg = new PSQLException("ERROR: invalid input syntax for type date: \"Zyxwquartz Plimbo 1961-07-19\"",
        PSQLState.BAD_DATETIME_FORMAT);
    String log = logged(new DataAccessException("Error executing SQL UPDATE: " + pg.getMessage(), pg));
    assertThat(log).doesNotContain("Zyxwquartz").doesNotContain("1961-07-19")
        .contains("io.micronaut.data.exceptions.DataAccessException: message withheld")
        .contains("org.postgresql.util.PSQLException (SQLSTATE 22007): message withheld")
        .contains("UnexpectedErrorHandlerTest"); // the frames are kept
  }

  @Test
  void ourOwnMessagesAreKeptAroundWithheldCauses() {
    PSQLException pg = new PSQLException("ERROR: timestamp out of range: \"MRN-Q7788991\"", PSQLState.DATETIME_OVERFLOW);
    String log = logged(new DatabaseException("tenant transaction failed (22008)", pg));
    assertThat(log).doesNotContain("MRN-Q7788991")
        .contains("io.carecontext.migrations.DatabaseException: tenant transaction failed (22008)")
        .contains("org.postgresql.util.PSQLException (SQLSTATE 22008): message withheld");
  }

  @Test
  void anyOtherExceptionsMessageIsWithheld() {
    String log = logged(new IllegalStateException("cannot render Zyxwquartz Plimbo",
        new IllegalArgumentException("555-867-5309")));
    assertThat(log).doesNotContain("Zyxwquartz").doesNotContain("555-867-5309")
        .contains("java.lang.IllegalStateException: message withheld")
        .contains("java.lang.IllegalArgumentException: message withheld");
  }

  @Test
  void suppressedExceptionsAreWithheldToo() {
    // try-with-resources adds a failed close to the exception it throws, ours or not
    DatabaseException ours = new DatabaseException("tenant transaction failed (23505)");
    ours.addSuppressed(new PSQLException("ERROR: invalid input syntax for type uuid: \"MRN-Q7788991\"",
        PSQLState.INVALID_PARAMETER_VALUE));
    String log = logged(ours);
    assertThat(log).doesNotContain("MRN-Q7788991")
        .contains("io.carecontext.migrations.DatabaseException: tenant transaction failed (23505)")
        .contains("Suppressed: ").contains("org.postgresql.util.PSQLException (SQLSTATE 22023): message withheld");
  }

  /** What {@link UnexpectedErrorHandler#logNotAudited} logs: each line with its trace. */
  private static List<String> loggedNotAudited(Throwable e) {
    Logger log = (Logger) LoggerFactory.getLogger(UnexpectedErrorHandler.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      UnexpectedErrorHandler.logNotAudited("req-1", e);
    } finally {
      log.detachAppender(lines);
    }
    return lines.list.stream().map(l -> l.getLevel() + " " + l.getFormattedMessage() + "\n"
        + (l.getThrowableProxy() == null ? "" : ThrowableProxyUtil.asString(l.getThrowableProxy()))).toList();
  }

  @Test
  void aContextRequestAnswered503ForAFailedStatementSaysSoInTheLogWithItsSqlState() {
    // a context read whose search failed (a tenant's chunks of two vector sizes) was a 503 with no log line at all
    PSQLException pg = new PSQLException("ERROR: different vector dimensions 384 and 16 near \"Zyxwquartz\"",
        PSQLState.DATA_ERROR);
    List<String> log = loggedNotAudited(new DatabaseException("tenant transaction failed (22000)", pg));
    assertThat(log).hasSize(1);
    assertThat(log.get(0)).startsWith("ERROR request req-1 answered 503: a database statement failed")
        .contains("org.postgresql.util.PSQLException (SQLSTATE 22000): message withheld")
        .doesNotContain("Zyxwquartz");
  }

  @Test
  void aContextRequestAnswered503ForAnUnreachableDatabaseIsOneWarningLine() {
    PSQLException pg = new PSQLException("connection refused", PSQLState.CONNECTION_UNABLE_TO_CONNECT);
    List<String> log = loggedNotAudited(new DatabaseException("tenant transaction failed (08001)", pg));
    assertThat(log).containsExactly("WARN request req-1 answered 503: the database does not answer (DatabaseException)\n");
  }
}
