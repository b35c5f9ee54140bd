package io.carecontext.migrations.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
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
    pg.start();
    return new DockerCluster(pg);
  }

  @Override
  public String jdbcUrl(String database) {
    String url = container.getJdbcUrl().replaceAll("\\?.*$", "");
    return url.substring(0, url.lastIndexOf('/') + 1) + database;
  }

  @Override
  public Connection superuser(String database) throws SQLException {
    return DriverManager.getConnection(jdbcUrl(database), container.getUsername(), container.getPassword());
  }
}
