package io.carecontext.migrations;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.carecontext.migrations.testing.TestPlatform;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The pools' connections carry the keepalive that notices a database gone silent, as the kernel
 * sees the socket: a keepalive timer due within {@link KeepAliveSocketFactory#IDLE_SECONDS}, where
 * the system default would be two hours.
 */
class KeepAliveIT {

  private static final List<Path> TABLES = List.of(Path.of("/proc/net/tcp"), Path.of("/proc/net/tcp6"));

  @Test
  void aPooledConnectionHasAKeepaliveTimerDueWithinTheIdleTime() throws SQLException, IOException {
    assumeTrue(Files.isReadable(TABLES.get(0)), "needs Linux's /proc/net/tcp");
    try (TestPlatform platform = new TestPlatform();
        Connection c = platform.db.appDataSource().getConnection();
        Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT inet_client_port(), inet_server_port()")) {
      rs.next();
      String socket = socket(rs.getInt(1), rs.getInt(2))
          .orElseThrow(() -> new AssertionError("the connection's socket is not in /proc/net/tcp"));
      // "tr:tm->when": timer 2 is the keepalive timer, due in clock ticks (100 a second).
      String[] timer = socket.trim().split("\\s+")[5].split(":");
      assertThat(timer[0]).as("timer kind").isEqualTo("02");
      assertThat(Long.parseLong(timer[1], 16)).as("ticks until the first probe")
          .isLessThanOrEqualTo(KeepAliveSocketFactory.IDLE_SECONDS * 100L);
    }
  }

  /** The line of the socket from local port {@code local} to remote port {@code remote}. */
  private static Optional<String> socket(int local, int remote) throws IOException {
    String ports = String.format(Locale.ROOT, ":%04X .*:%04X ", local, remote);
    for (Path table : TABLES) {
      if (Files.isReadable(table)) {
        try (Stream<String> lines = Files.lines(table)) {
          Optional<String> found = lines.filter(l -> l.matches(".*" + ports + ".*")).findFirst();
          if (found.isPresent()) {
            return found;
          }
        }
      }
    }
    return Optional.empty();
  }
}
