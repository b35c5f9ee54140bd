package io.carecontext.migrations.testing;

import io.carecontext.migrations.EmbeddedPostgres;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/** The shared cluster from Testcontainers' pgvector image, where a Docker engine answers. */
final class DockerCluster implements TestPostgres.Cluster {

  private final PostgreSQLContainer<?> container;

  private DockerCluster(PostgreSQLContainer<?> container) {
    this.container = container;
  }

  static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (RuntimeException | LinkageError e) {
      return false;
    }
  }

  static DockerCluster start() {
    PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(
        DockerImageName.parse("pgvector/pgvector:pg16").asCompatibleSubstituteFor("postgres"));
    // the image's defaults log DETAIL lines with row values; the server logs as the README recommends
    List<String> command = new ArrayList<>(List.of("postgres", "-c", "fsync=off"));
    EmbeddedPostgres.SERVER_LOG_SETTINGS.forEach(s -> command.addAll(List.of("-c", s)));
    pg.withCommand(command.toArray(String[]::new));
    pg.start();
    return new DockerCluster(pg);
  }

  @Override
  public String jdbcUrl(String database) {
    String url = container.getJdbcUrl().replaceAll("\\?.*$", "");
    return url.substring(0, url.lastIndexOf('/') + 1) + database;
  }

  @Override
  public Optional<String> serverLog() {
    return Optional.of(container.getLogs());
  }

  @Override
  public Connection superuser(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database), container.getUsername(), container.getPassword());
  }

  @Override
  public Optional<java.nio.file.Path> dataDirectory() {
    return Optional.empty(); // inside the container
  }
}
