package io.carecontext.helm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.InstallCommand;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.yaml.snakeyaml.Yaml;

/**
 * Lints and renders the chart in helm/carecontext with the Helm library that
 * helm-java bundles (no helm binary needed), then checks the rendered
 * manifests: the hardening a PHI workload must never lose, secret handling,
 * and the optional resources.
 */
class HelmChartTest {

  private static final String RELEASE = "cc";
  private static final String NAMESPACE = "carecontext";
  private static final String HOOK = "helm.sh/hook";
  private static final String RENAMED_HOOK = "test.carecontext.io/hook";

  /** The chart as committed: linted as is. */
  static Path chart;
  /** A copy whose hooks render as ordinary manifests (see {@link #copyWithVisibleHooks}). */
  static Path renderable;
  static Path productionValues;
  static List<Map<String, Object>> defaults;
  static List<Map<String, Object>> production;

  @TempDir
  static Path tmp;

  @BeforeAll
  static void render() throws IOException {
    chart = locateChart();
    productionValues = chart.resolve("values-production.yaml");
    renderable = copyWithVisibleHooks(chart, tmp.resolve("carecontext"));
    defaults = render(UnaryOperator.identity());
    production = render(t -> t.withValuesFile(productionValues));
  }

  /**
   * helm-java's template returns only the release manifest and drops hook
   * resources (the migration Job, the dev Secret), unlike the helm CLI. A copy
   * of the chart with the hook annotation key renamed renders them as ordinary
   * documents; {@link #parse} puts the original key back, so assertions see
   * exactly what the chart declares.
   */
  static Path copyWithVisibleHooks(Path source, Path target) throws IOException {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        Path copy = target.resolve(source.relativize(file).toString());
        if (Files.isDirectory(file)) {
          Files.createDirectories(copy);
        } else if (file.getParent().getFileName().toString().equals("templates")) {
          Files.writeString(copy, Files.readString(file).replace(HOOK + ":", RENAMED_HOOK + ":"));
        } else {
          Files.copy(file, copy);
        }
      }
    }
    return target;
  }

  /** Maven runs tests with basedir = helm/, an IDE often from the repository root. */
  private static Path locateChart() {
    String basedir = System.getProperty("basedir");
    Stream<Path> candidates = Stream.of(
        basedir == null ? null : Paths.get(basedir, "carecontext"),
        Paths.get("carecontext"),
        Paths.get("helm", "carecontext"));
    return candidates.filter(Objects::nonNull)
        .filter(p -> Files.isRegularFile(p.resolve("Chart.yaml")))
        .map(p -> p.toAbsolutePath().normalize())
        .findFirst()
        .orElseThrow(() -> new IllegalStateException(
            "chart not found: run from the repository root or from helm/"));
  }

  /** The owner role's password a development install must give when the chart makes the Secret. */
  static final String DEV_DB_PASSWORD = "dev-owner-password";

  static List<Map<String, Object>> render(UnaryOperator<TemplateCommand> options) {
    return renderWithoutPassword(t -> options.apply(t.set("secrets.dbPassword", DEV_DB_PASSWORD)));
  }

  static List<Map<String, Object>> renderWithoutPassword(UnaryOperator<TemplateCommand> options) {
    TemplateCommand command = new Helm(renderable).template().withName(RELEASE).withNamespace(NAMESPACE);
    return parse(options.apply(command).call());
  }

  /**
   * Connections the rendered pods can hold at their autoscaling bounds, with the one pod more of each
   * Deployment that a rolling update starts before it stops an old one: each pod's pool and the
   * connection it keeps for its readiness check.
   */
  static int connectionsAtTheBounds(List<Map<String, Object>> docs) {
    int connections = 0;
    for (Map<String, Object> hpa : ofKind(docs, "HorizontalPodAutoscaler")) {
      String target = (String) map(map(hpa, "spec"), "scaleTargetRef").get("name");
      Map<String, Object> pod = podSpec(one(docs, "Deployment", target));
      String pool = (String) byName(list(containers(pod).get(0), "env")).get("CARECONTEXT_DB_POOL_SIZE").get("value");
      Map<String, Object> rolling = map(map(map(one(docs, "Deployment", target), "spec"), "strategy"), "rollingUpdate");
      connections += ((Integer) map(hpa, "spec").get("maxReplicas") + (Integer) rolling.get("maxSurge"))
          * (Integer.parseInt(pool) + 1);
    }
    return connections;
  }

  /** NOTES.txt as `helm install` prints it (a client-only dry run: no cluster). */
  static String notes(UnaryOperator<InstallCommand> options) {
    InstallCommand install = new Helm(chart).install().clientOnly().dryRun()
        .withName(RELEASE).withNamespace(NAMESPACE).set("secrets.dbPassword", DEV_DB_PASSWORD);
    String output = options.apply(install).call().getOutput();
    return output.substring(output.indexOf("NOTES:"));
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> parse(String manifests) {
    return StreamSupport.stream(new Yaml().loadAll(manifests).spliterator(), false)
        .filter(Objects::nonNull)
        .map(doc -> (Map<String, Object>) doc)
        .peek(HelmChartTest::restoreHookAnnotation)
        .collect(Collectors.toList());
  }

  @SuppressWarnings("unchecked")
  private static void restoreHookAnnotation(Map<String, Object> doc) {
    Object metadata = doc.get("metadata");
    Object annotations = metadata instanceof Map ? ((Map<String, Object>) metadata).get("annotations") : null;
    if (annotations instanceof Map && ((Map<String, Object>) annotations).containsKey(RENAMED_HOOK)) {
      Map<String, Object> map = (Map<String, Object>) annotations;
      map.put(HOOK, map.remove(RENAMED_HOOK));
    }
  }

  // ---------------------------------------------------------------- lint

  /**
   * The chart's versions follow the project's, so they cannot drift: {@code version} is the Maven project
   * version as it is (a {@code -SNAPSHOT} is a SemVer pre-release, so a chart packaged from an unreleased
   * tree is never taken for the release), {@code appVersion} the release it builds (the version without
   * {@code -SNAPSHOT}), the image tag the chart deploys by default, and the tag the Dockerfile's and the
   * production values' examples use. Both stayed 0.1.0 through every change to the chart.
   */
  @Test
  @SuppressWarnings("unchecked")
  void theChartsVersionsAreTheProjectsVersion() throws IOException {
    String pom = Files.readString(chart.getParent().getParent().resolve("pom.xml"));
    Matcher own = Pattern.compile("<artifactId>carecontext-parent</artifactId>\\s*<version>([^<]+)</version>").matcher(pom);
    assertThat(own.find()).as("the project's version in the root pom.xml").isTrue();
    String project = own.group(1);
    String release = project.replaceFirst("-SNAPSHOT$", "");
    Map<String, Object> meta = (Map<String, Object>) new Yaml().load(Files.readString(chart.resolve("Chart.yaml")));
    assertThat(String.valueOf(meta.get("version"))).as("Chart.yaml version").isEqualTo(project);
    assertThat(String.valueOf(meta.get("appVersion"))).as("Chart.yaml appVersion").isEqualTo(release);
    Map<String, Object> prod = (Map<String, Object>) new Yaml().load(Files.readString(productionValues));
    assertThat(String.valueOf(((Map<String, Object>) prod.get("image")).get("tag")))
        .as("values-production.yaml image.tag").isEqualTo(release);
    assertThat(Files.readString(chart.getParent().getParent().resolve("Dockerfile")))
        .contains("carecontext/carecontext:" + release + " .");
  }

  @Test
  void lintPasses() {
    LintResult result = new Helm(chart).lint().call();
    assertThat(result.isFailed()).as("lint messages: %s", result.getMessages()).isFalse();
  }

  @Test
  void strictLintPasses() {
    // Strict turns lint warnings into failures. helm-java's lint takes no
    // values file: production values are exercised by rendering below.
    LintResult result = new Helm(chart).lint().strict().call();
    assertThat(result.isFailed()).as("strict lint messages: %s", result.getMessages()).isFalse();
  }

  @Test
  void everyValueIsDocumentedByAComment() throws IOException {
    for (Path file : List.of(chart.resolve("values.yaml"), productionValues)) {
      assertThat(undocumentedKeys(Files.readAllLines(file)))
          .as("keys without a comment in %s", file.getFileName())
          .isEmpty();
    }
  }

  @Test
  void documentationCheckFindsAnUndocumentedKey() {
    List<String> values = List.of(
        "image:",
        "  # -- Repository.",
        "  repository: x",
        "  tag: \"\"",
        "# -- Resources, documented as a whole.",
        "resources:",
        "  limits:",
        "    memory: 1Gi");
    assertThat(undocumentedKeys(values)).containsExactly("4: tag: \"\"");
  }

  @Test
  void theChartsOwnerRoleIsTheOneTheReadmeTellsToCreate() throws IOException {
    // the chart said carecontext while the README has the administrator create carecontext_owner: a
    // development install following the README failed its migration Job at login
    Map<String, Object> data = map(ofKind(defaults, "Secret").get(0), "data");
    String dbUser = new String(java.util.Base64.getDecoder().decode((String) data.get("db-user")),
        java.nio.charset.StandardCharsets.UTF_8);
    assertThat(dbUser).isEqualTo("carecontext_owner");
    String readme = Files.readString(chart.getParent().getParent().resolve("README.md"));
    assertThat(readme).contains("CREATE ROLE " + dbUser + " LOGIN").contains("CARECONTEXT_DB_USER=" + dbUser);
  }

  // ------------------------------------------------------ both value sets

  @Nested
  class Hardening {

    @Test
    void everyContainerIsHardened() {
      for (List<Map<String, Object>> docs : List.of(defaults, production)) {
        List<Map<String, Object>> pods = podSpecs(docs);
        assertThat(pods).hasSizeGreaterThanOrEqualTo(3); // api, worker, migrate
        for (Map<String, Object> pod : pods) {
          assertThat(pod.get("automountServiceAccountToken")).isEqualTo(false);
          Map<String, Object> podContext = map(pod, "securityContext");
          assertThat(podContext.get("runAsNonRoot")).isEqualTo(true);
          assertThat(map(podContext, "seccompProfile").get("type")).isEqualTo("RuntimeDefault");
          for (Map<String, Object> container : containers(pod)) {
            Map<String, Object> sc = map(container, "securityContext");
            assertThat(sc.get("runAsNonRoot")).as("runAsNonRoot of %s", container.get("name")).isEqualTo(true);
            assertThat(sc.get("runAsUser")).isEqualTo(10001);
            assertThat(sc.get("readOnlyRootFilesystem")).isEqualTo(true);
            assertThat(sc.get("allowPrivilegeEscalation")).isEqualTo(false);
            assertThat(values(map(sc, "capabilities"), "drop")).containsExactly("ALL");
            assertThat(map(sc, "capabilities")).doesNotContainKey("add");
            assertThat(map(sc, "seccompProfile").get("type")).isEqualTo("RuntimeDefault");
          }
        }
      }
    }

    @Test
    void noContainerRunsAsRoot() {
      for (List<Map<String, Object>> docs : List.of(defaults, production)) {
        for (Map<String, Object> pod : podSpecs(docs)) {
          assertThat(map(pod, "securityContext").get("runAsUser")).isNotEqualTo(0);
          for (Map<String, Object> container : containers(pod)) {
            assertThat(map(container, "securityContext").get("runAsUser")).isNotEqualTo(0);
          }
        }
      }
    }

    @Test
    void rootUserIsRefusedAtRenderTime() {
      assertThatThrownBy(() -> render(t -> t.set("securityContext.runAsUser", 0)))
          .hasMessageContaining("must not be 0");
    }

    /**
     * Kubernetes adds the pod's fsGroup to every container process's groups: fsGroup 0 put the app in
     * root's group although runAsUser 0 and runAsGroup 0 were refused.
     */
    @Test
    void rootGroupIsRefusedAsFsGroupToo() {
      assertThatThrownBy(() -> render(t -> t.set("securityContext.fsGroup", 0)))
          .hasMessageContaining("securityContext.fsGroup must not be 0");
      assertThatThrownBy(() -> render(t -> t.set("securityContext.runAsGroup", 0)))
          .hasMessageContaining("securityContext.runAsGroup must not be 0");
      for (Map<String, Object> pod : podSpecs(defaults)) {
        assertThat(map(pod, "securityContext").get("fsGroup")).isEqualTo(10001);
      }
    }

    @Test
    void writablePathsAreEmptyDirsAndTheKekIsAReadOnlySecret() {
      for (Map<String, Object> pod : servingPodSpecs(production)) {
        Map<String, Map<String, Object>> volumes = byName(list(pod, "volumes"));
        assertThat(volumes.get("tmp")).containsKey("emptyDir");
        assertThat(volumes.get("home")).containsKey("emptyDir");
        assertThat(map(volumes.get("kek"), "secret").get("secretName")).isEqualTo("carecontext-kek");
        Map<String, Object> container = containers(pod).get(0);
        Map<String, Map<String, Object>> mounts = byName(list(container, "volumeMounts"));
        assertThat(mounts.get("tmp").get("mountPath")).isEqualTo("/tmp");
        assertThat(mounts.get("kek").get("readOnly")).isEqualTo(true);
        Map<String, Map<String, Object>> env = byName(list(container, "env"));
        assertThat(env.get("CARECONTEXT_HOME").get("value")).isEqualTo(mounts.get("home").get("mountPath"));
        assertThat(env.get("CARECONTEXT_KEK_FILE").get("value")).isEqualTo("/etc/carecontext/kek/kek");
      }
    }

    @Test
    void aRotationMountsThePreviousKekBesideTheNewOneAndNamesIt() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues).set("kek.previousKey", "kek-old"));
      for (Map<String, Object> pod : servingPodSpecs(docs)) {
        Map<String, Map<String, Object>> volumes = byName(list(pod, "volumes"));
        assertThat(list(map(volumes.get("kek"), "secret"), "items")).extracting(i -> i.get("key"))
            .containsExactly("kek", "kek-old");
        Map<String, Map<String, Object>> env = byName(list(containers(pod).get(0), "env"));
        assertThat(env.get("CARECONTEXT_KEK_PREVIOUS_FILE").get("value")).isEqualTo("/etc/carecontext/kek/kek-old");
      }
      for (Map<String, Object> pod : servingPodSpecs(production)) { // none outside a rotation
        assertThat(byName(list(containers(pod).get(0), "env"))).doesNotContainKey("CARECONTEXT_KEK_PREVIOUS_FILE");
      }
    }

    /**
     * The move into a token, as the README has it: kek.previousKey set to kek.key for one `kek rotate`. The
     * KEK volume listed the same key and path twice; it is mounted once, and named as the previous key.
     */
    @Test
    void theMoveIntoATokenMountsTheKeyFileOnceAsThePreviousKey() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues)
          .set("kek.pkcs11.library", "/opt/hsm/lib/libcklog2.so").set("kek.pkcs11.slot", "3")
          .set("kek.pkcs11.pinSecret", "hsm-pin").set("kek.previousKey", "kek"));
      for (Map<String, Object> pod : servingPodSpecs(docs)) {
        Map<String, Map<String, Object>> volumes = byName(list(pod, "volumes"));
        assertThat(list(map(volumes.get("kek"), "secret"), "items")).extracting(i -> i.get("path"))
            .containsExactly("kek");
        Map<String, Map<String, Object>> env = byName(list(containers(pod).get(0), "env"));
        assertThat(env.get("CARECONTEXT_KEK_PREVIOUS_FILE").get("value")).isEqualTo("/etc/carecontext/kek/kek");
      }
    }

    @Test
    void aKekInAPkcs11TokenNamesTheModuleSlotAndLabelAndMountsThePinReadOnly() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues)
          .set("kek.pkcs11.library", "/opt/hsm/lib/libcklog2.so").set("kek.pkcs11.slot", "3")
          .set("kek.pkcs11.pinSecret", "hsm-pin").set("kek.pkcs11.previousKeyLabel", "carecontext-kek-2025"));
      for (Map<String, Object> pod : servingPodSpecs(docs)) {
        Map<String, Map<String, Object>> volumes = byName(list(pod, "volumes"));
        assertThat(map(volumes.get("kek-pin"), "secret").get("secretName")).isEqualTo("hsm-pin");
        Map<String, Object> container = containers(pod).get(0);
        assertThat(byName(list(container, "volumeMounts")).get("kek-pin").get("readOnly")).isEqualTo(true);
        Map<String, Map<String, Object>> env = byName(list(container, "env"));
        assertThat(env.get("CARECONTEXT_KEK_PKCS11_LIBRARY").get("value")).isEqualTo("/opt/hsm/lib/libcklog2.so");
        assertThat(env.get("CARECONTEXT_KEK_PKCS11_SLOT").get("value")).isEqualTo("3");
        assertThat(env.get("CARECONTEXT_KEK_PKCS11_PIN_FILE").get("value")).isEqualTo("/etc/carecontext/pkcs11/pin");
        assertThat(env.get("CARECONTEXT_KEK_PKCS11_KEY_LABEL").get("value")).isEqualTo("carecontext-kek");
        assertThat(env.get("CARECONTEXT_KEK_PKCS11_PREVIOUS_KEY_LABEL").get("value")).isEqualTo("carecontext-kek-2025");
      }
      for (Map<String, Object> pod : servingPodSpecs(production)) { // the key file unless a module is named
        assertThat(byName(list(pod, "volumes"))).doesNotContainKey("kek-pin");
        assertThat(byName(list(containers(pod).get(0), "env"))).doesNotContainKey("CARECONTEXT_KEK_PKCS11_LIBRARY");
      }
      assertThatThrownBy(() -> render(t -> t.set("kek.pkcs11.library", "/opt/hsm/lib/libcklog2.so")))
          .hasMessageContaining("kek.pkcs11.library needs kek.pkcs11.slot");
    }

    /**
     * The migration Job changes schemas and roles and decrypts nothing, yet it mounted the KEK (or the
     * token's PIN), the server's TLS key and the scrape token beside the owner role's credentials: a
     * pod more holding the key to every tenant's PHI. The API and worker pods keep them.
     */
    @Test
    void theMigrationJobHoldsNoKey() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues)
          .set("kek.pkcs11.library", "/opt/hsm/lib/libcklog2.so").set("kek.pkcs11.slot", "3")
          .set("kek.pkcs11.pinSecret", "hsm-pin").set("kek.previousKey", "kek-old")
          .set("serverTls.enabled", true).set("serverTls.existingSecret", "api-tls"));
      List<String> keyVolumes = List.of("kek", "kek-pin", "server-tls");
      Map<String, Object> migrate = podSpec(one(docs, "Job", "cc-carecontext-migrate"));
      assertThat(byName(list(migrate, "volumes"))).doesNotContainKeys(keyVolumes.toArray(String[]::new))
          .containsKeys("tmp", "home", "db-ca");
      Map<String, Object> container = containers(migrate).get(0);
      assertThat(byName(list(container, "volumeMounts"))).doesNotContainKeys(keyVolumes.toArray(String[]::new));
      assertThat(byName(list(container, "env")).keySet())
          .noneMatch(n -> n.startsWith("CARECONTEXT_KEK_") || n.startsWith("CARECONTEXT_TLS_")
              || n.equals("CARECONTEXT_METRICS_TOKEN") || n.equals("CARECONTEXT_ADMIN_KEY"))
          .contains("CARECONTEXT_DB_URL", "CARECONTEXT_DB_USER", "CARECONTEXT_DB_PASSWORD", "CARECONTEXT_DB_APP_PASSWORD");
      for (Map<String, Object> pod : servingPodSpecs(docs)) {
        assertThat(byName(list(pod, "volumes"))).containsKeys(keyVolumes.toArray(String[]::new));
        assertThat(byName(list(containers(pod).get(0), "env")))
            .containsKeys("CARECONTEXT_KEK_FILE", "CARECONTEXT_KEK_PKCS11_PIN_FILE", "CARECONTEXT_TLS_KEY", "CARECONTEXT_METRICS_TOKEN");
      }
    }

    @Test
    void extraVolumesAreMountedInEveryContainer() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues)
          .set("config.extraVolumes[0].name", "hsm-module").set("config.extraVolumes[0].hostPath.path", "/opt/hsm")
          .set("config.extraVolumeMounts[0].name", "hsm-module").set("config.extraVolumeMounts[0].mountPath", "/opt/hsm")
          .set("config.extraVolumeMounts[0].readOnly", true));
      for (Map<String, Object> pod : podSpecs(docs)) {
        assertThat(byName(list(pod, "volumes"))).containsKey("hsm-module");
        for (Map<String, Object> container : containers(pod)) {
          assertThat(byName(list(container, "volumeMounts")).get("hsm-module").get("mountPath")).isEqualTo("/opt/hsm");
        }
      }
    }

    @Test
    void deploymentsHaveResourcesAndProbes() {
      for (List<Map<String, Object>> docs : List.of(defaults, production)) {
        for (String component : List.of("api", "worker")) {
          Map<String, Object> pod = podSpec(one(docs, "Deployment", RELEASE + "-carecontext-" + component));
          Map<String, Object> container = containers(pod).get(0);
          assertThat(map(container, "resources")).containsKeys("requests", "limits");
          assertThat(container).containsKeys("livenessProbe", "readinessProbe", "startupProbe");
          assertThat(map(map(container, "readinessProbe"), "httpGet").get("path")).isEqualTo("/health/readiness");
        }
      }
    }

    @Test
    void readinessHasTimeToAnswerAndRequestsWaitForTheDatabaseAsConfigured() {
      for (List<Map<String, Object>> docs : List.of(defaults, production)) {
        for (String component : List.of("api", "worker")) {
          Map<String, Object> container =
              containers(podSpec(one(docs, "Deployment", RELEASE + "-carecontext-" + component))).get(0);
          // /health/readiness answers within about a second (1 s connect, login and validation bounds)
          assertThat((Integer) map(container, "readinessProbe").get("timeoutSeconds")).as(component)
              .isGreaterThanOrEqualTo(2);
          assertThat(byName(list(container, "env")).get("CARECONTEXT_DB_CONNECT_TIMEOUT").get("value"))
              .as(component).isEqualTo("3");
        }
      }
    }

    /**
     * An API pod's stop first keeps answering with readiness DOWN while Kubernetes removes it from the Service's
     * endpoints (config.shutdownDelaySeconds), then lets the requests in flight finish (config.shutdownGraceSeconds),
     * then seals the audit chains and closes the database: terminationGracePeriodSeconds must leave time for all
     * three. A worker gets no traffic, so no delay.
     */
    @Test
    void theStopHasTimeToDrainAndCloseBeforeKubernetesKillsThePod() {
      for (List<Map<String, Object>> docs : List.of(defaults, production)) {
        for (String component : List.of("api", "worker")) {
          Map<String, Object> pod = podSpec(one(docs, "Deployment", RELEASE + "-carecontext-" + component));
          assertThat(pod.get("terminationGracePeriodSeconds")).as(component).isEqualTo(35);
          Map<String, Map<String, Object>> env = byName(list(containers(pod).get(0), "env"));
          assertThat(env.get("CARECONTEXT_SHUTDOWN_GRACE_SECONDS").get("value")).as(component).isEqualTo("20");
          if (component.equals("api")) {
            assertThat(env.get("CARECONTEXT_SHUTDOWN_DELAY_SECONDS").get("value")).isEqualTo("5");
          } else {
            assertThat(env).as("a worker stops without the delay").doesNotContainKey("CARECONTEXT_SHUTDOWN_DELAY_SECONDS");
          }
        }
      }
      String refusal = "terminationGracePeriodSeconds must be at least config.shutdownDelaySeconds + "
          + "config.shutdownGraceSeconds + 10";
      assertThatThrownBy(() -> render(t -> t.set("config.shutdownGraceSeconds", 25))).hasMessageContaining(refusal);
      assertThatThrownBy(() -> render(t -> t.set("config.shutdownDelaySeconds", 10))).hasMessageContaining(refusal);
      List<Map<String, Object>> longer = render(t -> t.set("config.shutdownGraceSeconds", 50)
          .set("config.shutdownDelaySeconds", 15).set("terminationGracePeriodSeconds", 75));
      Map<String, Object> api = podSpec(one(longer, "Deployment", RELEASE + "-carecontext-api"));
      assertThat(api.get("terminationGracePeriodSeconds")).isEqualTo(75);
      Map<String, Map<String, Object>> env = byName(list(containers(api).get(0), "env"));
      assertThat(env.get("CARECONTEXT_SHUTDOWN_GRACE_SECONDS").get("value")).isEqualTo("50");
      assertThat(env.get("CARECONTEXT_SHUTDOWN_DELAY_SECONDS").get("value")).isEqualTo("15");
      // no drain: the old bound holds
      assertThat(podSpec(one(render(t -> t.set("config.shutdownDelaySeconds", 0).set("terminationGracePeriodSeconds", 30)),
          "Deployment", RELEASE + "-carecontext-api")).get("terminationGracePeriodSeconds")).isEqualTo(30);
    }
  }

  // ------------------------------------------------------------ defaults

  @Nested
  class Defaults {

    @Test
    void apiAndWorkerRunTheirSubcommandsWithTwoReplicas() {
      Map<String, Object> api = one(defaults, "Deployment", "cc-carecontext-api");
      Map<String, Object> worker = one(defaults, "Deployment", "cc-carecontext-worker");
      assertThat(map(api, "spec").get("replicas")).isEqualTo(2);
      assertThat(map(worker, "spec").get("replicas")).isEqualTo(2);
      assertThat(values(containers(podSpec(api)).get(0), "args")).containsExactly("serve");
      assertThat(values(containers(podSpec(worker)).get(0), "args")).containsExactly("worker");
      assertThat(envNames(worker)).contains("CARECONTEXT_WORKER_THREADS").doesNotContain("CARECONTEXT_ADMIN_KEY");
      assertThat(envNames(api)).contains("CARECONTEXT_ADMIN_KEY");
      // resources are embedded by the workers: the API pods embed questions only, by default
      assertThat(envValue(api, "CARECONTEXT_WORKER_THREADS")).isEqualTo("0");
      assertThat(envValue(worker, "CARECONTEXT_WORKER_THREADS")).isEqualTo("2");
    }

    @Test
    void imageTagDefaultsToAppVersionAndFollowsValues() {
      assertThat(images(defaults)).containsOnly("carecontext/carecontext:0.1.0");
      List<Map<String, Object>> docs = render(t -> t.set("image.tag", "1.2.3"));
      assertThat(images(docs)).containsOnly("carecontext/carecontext:1.2.3");
    }

    @Test
    void chartCreatesOneSecretAsAHookAndKeepsIt() {
      List<Map<String, Object>> secrets = ofKind(defaults, "Secret");
      assertThat(secrets).hasSize(1);
      Map<String, Object> annotations = map(metadata(secrets.get(0)), "annotations");
      // Created once before the migration Job, never re-rendered on upgrade
      // (a new KEK would make stored PHI unreadable), kept on uninstall.
      assertThat(annotations.get("helm.sh/hook")).isEqualTo("pre-install");
      assertThat(annotations.get("helm.sh/hook-delete-policy")).isEqualTo("hook-failed");
      assertThat(annotations.get("helm.sh/resource-policy")).isEqualTo("keep");
      assertThat(map(secrets.get(0), "data")).containsKeys(
          "admin-key", "metrics-token", "db-user", "db-password", "db-app-user", "db-app-password", "kek");
    }

    /**
     * The chart made its Secret with an empty owner password: the migration Job failed to log in, and
     * since the Secret is kept, the next install with the password failed on it ("already exists").
     * Such an install is refused before anything is made; an existing Secret needs no password here.
     */
    @Test
    void anInstallThatWouldMakeTheSecretWithoutTheOwnerPasswordIsRefused() {
      assertThatThrownBy(() -> renderWithoutPassword(UnaryOperator.identity()))
          .hasMessageContaining("secrets.dbPassword is empty").hasMessageContaining("carecontext_owner");
      String password = new String(java.util.Base64.getDecoder().decode(
          (String) map(ofKind(defaults, "Secret").get(0), "data").get("db-password")), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(password).isEqualTo(DEV_DB_PASSWORD);
      assertThat(renderWithoutPassword(t -> t.set("secrets.existingSecret", "mine").set("kek.existingSecret", "kek")))
          .noneMatch(d -> "Secret".equals(d.get("kind")));
      assertThat(new Helm(chart).lint().strict().call().isFailed()).isFalse(); // lint installs nothing
    }

    @Test
    void pdbsButNoOptionalResources() {
      List<Map<String, Object>> pdbs = ofKind(defaults, "PodDisruptionBudget");
      assertThat(pdbs).hasSize(2);
      pdbs.forEach(pdb -> assertThat(map(pdb, "spec").get("minAvailable")).isEqualTo(1));
      assertThat(ofKind(defaults, "HorizontalPodAutoscaler")).isEmpty();
      assertThat(ofKind(defaults, "NetworkPolicy")).isEmpty();
      assertThat(ofKind(defaults, "Ingress")).isEmpty();
      assertThat(ofKind(defaults, "Service")).hasSize(1);
      assertThat(ofKind(defaults, "ServiceAccount")).hasSize(1);
    }

    @Test
    void notesWarnThatChartMadeSecretsAreForDevelopmentOnly() {
      assertThat(notes(c -> c)).contains("development only").contains("BACK IT UP");
      assertThat(notes(c -> c.withValuesFile(productionValues)))
          .doesNotContain("WARNING").doesNotContain("NOTE:").contains("https://carecontext.example.org/v1\n")
          .contains("https://carecontext.example.org/fhir\n").contains("https://carecontext.example.org/openapi.yml")
          // the routes, not the host's root, which the Ingress does not route (it printed https://host/)
          .doesNotContain("https://carecontext.example.org/\n");
    }

    /**
     * HIPAA wants PHI encrypted on every hop: the notes said so of an Ingress without TLS and of a database URL
     * that checks no certificate, but not of pods serving plain HTTP behind the ingress controller.
     */
    @Test
    void notesSayWhenThePodsServePlainHttp() {
      assertThat(notes(c -> c)).contains("NOTE: serverTls.enabled is false: the pods serve plain HTTP");
      assertThat(notes(c -> c.set("serverTls.enabled", true).set("serverTls.existingSecret", "api-tls")))
          .doesNotContain("serverTls.enabled is false");
    }

    @Test
    void serverTlsMountsTheCertificateAndProbesOverHttps() {
      List<Map<String, Object>> docs = render(t -> t.set("serverTls.enabled", true)
          .set("serverTls.existingSecret", "api-tls"));
      Map<String, Object> container = containers(podSpec(one(docs, "Deployment", "cc-carecontext-api"))).get(0);
      Map<String, Map<String, Object>> env = byName(list(container, "env"));
      assertThat(env.get("CARECONTEXT_TLS_CERT").get("value")).isEqualTo("/etc/carecontext/tls/tls.crt");
      assertThat(env.get("CARECONTEXT_TLS_KEY").get("value")).isEqualTo("/etc/carecontext/tls/tls.key");
      for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
        assertThat(map(map(container, probe), "httpGet").get("scheme")).as(probe).isEqualTo("HTTPS");
      }
    }

    /**
     * values.yaml says to raise api.embeddingThreads when the chart runs no workers; a release that did
     * neither stored every FHIR write and embedded none of it, so nothing ever became searchable.
     */
    @Test
    void aReleaseWhereNoPodEmbedsResourcesIsRefused() {
      assertThatThrownBy(() -> render(t -> t.set("worker.replicaCount", 0)))
          .hasMessageContaining("leaves no pod embedding resources");
      List<Map<String, Object>> apiEmbeds = render(t -> t.set("worker.replicaCount", 0).set("api.embeddingThreads", 2));
      assertThat(envValue(one(apiEmbeds, "Deployment", "cc-carecontext-api"), "CARECONTEXT_WORKER_THREADS")).isEqualTo("2");
      assertThat(map(one(apiEmbeds, "Deployment", "cc-carecontext-worker"), "spec").get("replicas")).isEqualTo(0);
    }

    /**
     * A PodDisruptionBudget whose minAvailable is the component's whole replica count lets no pod be
     * evicted: every node drain (a cluster upgrade) hung on it. A budget that can be met is still rendered.
     */
    @Test
    void aDisruptionBudgetThatBlocksEveryDrainIsRefused() {
      assertThatThrownBy(() -> render(t -> t.set("api.replicaCount", 1)))
          .hasMessageContaining("api.pdb.minAvailable 1 leaves none of the api's 1 pod(s) to evict");
      assertThatThrownBy(() -> render(t -> t.set("worker.autoscaling.enabled", true).set("worker.autoscaling.minReplicas", 2)
          .set("worker.pdb.minAvailable", 2)))
          .hasMessageContaining("worker.pdb.minAvailable 2 leaves none of the worker's 2 pod(s) to evict");
      List<Map<String, Object>> single = render(t -> t.set("api.replicaCount", 1).set("api.pdb.enabled", false));
      assertThat(ofKind(single, "PodDisruptionBudget")).extracting(d -> metadata(d).get("name"))
          .containsExactly("cc-carecontext-worker");
      List<Map<String, Object>> percent = render(t -> t.set("api.replicaCount", 1).set("api.pdb.minAvailable", "50%"));
      assertThat(ofKind(percent, "PodDisruptionBudget")).hasSize(2);
    }

    /**
     * A database URL that asks for plain text renders pods that refuse to start on it (and a migration Job
     * that sends the owner's password in clear first): the chart refuses it unless the values say the
     * network encrypts on its own.
     */
    @Test
    void aPlainTextDatabaseUrlIsRefusedUnlessThePlainTextIsAllowed() {
      for (String url : List.of("jdbc:postgresql://db:5432/cc?sslmode=disable",
          "jdbc:postgresql://db:5432/cc?ApplicationName=cc&sslmode=allow", "jdbc:postgresql://db/cc?sslmode=DISABLE&x=1")) {
        assertThatThrownBy(() -> render(t -> t.set("database.url", url)))
            .as(url).hasMessageContaining("database.url asks for sslmode=disable or allow");
        assertThat(ofKind(render(t -> t.set("database.url", url).set("database.allowPlaintext", true)), "Deployment"))
            .as(url).hasSize(2);
      }
      String verified = "jdbc:postgresql://db:5432/cc?sslmode=verify-full&sslrootcert=/etc/ca/disable";
      assertThat(ofKind(render(t -> t.set("database.url", verified)), "Deployment")).hasSize(2); // the mode alone
    }

    @Test
    void networkPolicyWithoutDatabaseCidrsIsRefused() {
      assertThatThrownBy(() -> render(t -> t.set("networkPolicy.enabled", true)))
          .hasMessageContaining("networkPolicy.database.cidrs");
    }

    /**
     * The per-key rate limit is counted in each API pod: each is told how many there may be, so that
     * together they allow the tenant's rate, not that many times it; the database connection refuses
     * plain text unless the values say the network encrypts it; model hosts and secret grants reach
     * the pods only when listed.
     */
    @Test
    void apiPodsShareTheRateLimitAndTheDatabaseTransportIsChecked() {
      Map<String, Object> api = one(defaults, "Deployment", "cc-carecontext-api");
      assertThat(envValue(api, "CARECONTEXT_RATE_LIMIT_SHARES")).isEqualTo("2");
      assertThat(envValue(api, "CARECONTEXT_DB_ALLOW_PLAINTEXT")).isEqualTo("false");
      assertThat(envNames(api)).doesNotContain("CARECONTEXT_MODEL_HOSTS", "CARECONTEXT_TENANT_SECRETS");
      assertThat(envNames(one(defaults, "Deployment", "cc-carecontext-worker")))
          .doesNotContain("CARECONTEXT_RATE_LIMIT_SHARES");
      List<Map<String, Object>> scaled = render(t -> t.set("api.autoscaling.enabled", true)
          .set("api.autoscaling.maxReplicas", 7).set("database.allowPlaintext", true)
          .set("config.modelHosts[0]", "acme:acme.openai.azure.com").set("config.modelHosts[1]", "*:llm.internal")
          .set("config.tenantSecrets[0]", "acme:OPENAI_KEY_ACME"));
      Map<String, Object> scaledApi = one(scaled, "Deployment", "cc-carecontext-api");
      assertThat(envValue(scaledApi, "CARECONTEXT_RATE_LIMIT_SHARES")).isEqualTo("7");
      assertThat(envValue(scaledApi, "CARECONTEXT_DB_ALLOW_PLAINTEXT")).isEqualTo("true");
      assertThat(envValue(scaledApi, "CARECONTEXT_MODEL_HOSTS")).isEqualTo("acme:acme.openai.azure.com,*:llm.internal");
      assertThat(envValue(scaledApi, "CARECONTEXT_TENANT_SECRETS")).isEqualTo("acme:OPENAI_KEY_ACME");
    }

    @Test
    void autoscalingAtTheDefaultBoundsFitsTheConnectionBudget() {
      List<Map<String, Object>> docs = render(t -> t.set("api.autoscaling.enabled", true)
          .set("worker.autoscaling.enabled", true));
      assertThat(ofKind(docs, "HorizontalPodAutoscaler")).hasSize(2);
      assertThat(connectionsAtTheBounds(docs)).isEqualTo(90);
    }

    @Test
    void aReleaseThatCouldOpenMoreConnectionsThanTheServerTakesIsRefused() {
      assertThatThrownBy(() -> render(t -> t.set("api.autoscaling.enabled", true)
          .set("worker.autoscaling.enabled", true).set("worker.autoscaling.maxReplicas", 8)))
          .hasMessageContaining("(10 API + 8 worker pods + 2 started by a rolling update) x (poolSize 5 + 1 for "
              + "readiness) + 10 reserved = 130, over database.maxConnections 100");
      // at the bounds but for the rolling update's extra pods: an upgrade would wait on a pod the server refuses
      assertThatThrownBy(() -> render(t -> t.set("api.autoscaling.enabled", true)
          .set("worker.autoscaling.enabled", true).set("worker.autoscaling.maxReplicas", 5)))
          .hasMessageContaining("= 112, over database.maxConnections 100");
      assertThatThrownBy(() -> render(t -> t.set("api.replicaCount", 20)))
          .hasMessageContaining("(20 API + 2 worker pods + 2 started by a rolling update)");
      // the same release fits a server that takes more, once the chart is told so
      assertThat(render(t -> t.set("api.replicaCount", 20).set("database.maxConnections", 200))).isNotEmpty();
    }
  }

  // ---------------------------------------------------------- production

  @Nested
  class Production {

    /**
     * HIPAA's encryption in transit, on every hop of the example production release: TLS to PostgreSQL with the
     * server's certificate checked, and TLS from the ingress controller to the pods. The pods served plain HTTP
     * there (serverTls off), so every patient's context crossed the cluster network in the clear.
     */
    @Test
    void everyHopIsEncrypted() {
      for (String name : List.of("cc-carecontext-api", "cc-carecontext-worker")) {
        Map<String, Object> workload = one(production, "Deployment", name);
        assertThat(envValue(workload, "CARECONTEXT_DB_URL")).as(name).contains("sslmode=verify-full");
        assertThat(envValue(workload, "CARECONTEXT_DB_ALLOW_PLAINTEXT")).as(name).isEqualTo("false");
        assertThat(envNames(workload)).as(name).contains("CARECONTEXT_TLS_CERT", "CARECONTEXT_TLS_KEY");
      }
      Map<String, Object> ingress = ofKind(production, "Ingress").get(0);
      assertThat(map(map(ingress, "metadata"), "annotations"))
          .containsEntry("nginx.ingress.kubernetes.io/backend-protocol", "HTTPS");
    }

    @Test
    void noSecretIsRenderedAndCredentialsComeFromTheExistingSecret() {
      assertThat(ofKind(production, "Secret")).isEmpty();
      for (Map<String, Object> pod : podSpecs(production)) {
        Map<String, Map<String, Object>> env = byName(list(containers(pod).get(0), "env"));
        for (String name : List.of("CARECONTEXT_DB_USER", "CARECONTEXT_DB_PASSWORD",
            "CARECONTEXT_DB_APP_USER", "CARECONTEXT_DB_APP_PASSWORD")) {
          assertThat(env.get(name)).as(name).doesNotContainKey("value");
          Map<String, Object> ref = map(map(env.get(name), "valueFrom"), "secretKeyRef");
          assertThat(ref.get("name")).as(name).isEqualTo("carecontext-credentials");
        }
      }
      Map<String, Object> apiEnv = byName(list(containers(podSpec(
          one(production, "Deployment", "cc-carecontext-api"))).get(0), "env")).get("CARECONTEXT_ADMIN_KEY");
      assertThat(map(map(apiEnv, "valueFrom"), "secretKeyRef").get("name")).isEqualTo("carecontext-credentials");
    }

    @Test
    void noCredentialIsALiteralValue() {
      for (Map<String, Object> pod : podSpecs(production)) {
        for (Map<String, Object> env : list(containers(pod).get(0), "env")) {
          String name = (String) env.get("name");
          if (name.matches(".*(PASSWORD|ADMIN_KEY|_USER)$")) {
            assertThat(env).as(name).containsKey("valueFrom").doesNotContainKey("value");
          }
        }
      }
    }

    @Test
    void everyPodSetsItsPoolAndAllFitUnderPostgresDefaultConnectionLimit() {
      // PostgreSQL's default max_connections is 100; the migration job, superuser slots and
      // owner-role connections need the 10 the chart reserves.
      assertThat(connectionsAtTheBounds(production)).isPositive().isLessThanOrEqualTo(90);
    }

    @Test
    void databaseUrlVerifiesTheServerAgainstTheMountedCa() {
      for (Map<String, Object> pod : podSpecs(production)) {
        Map<String, Object> container = containers(pod).get(0);
        String url = (String) byName(list(container, "env")).get("CARECONTEXT_DB_URL").get("value");
        assertThat(url).startsWith("jdbc:postgresql://").contains("sslmode=verify-full");
        Map<String, Object> mount = byName(list(container, "volumeMounts")).get("db-ca");
        assertThat(mount.get("readOnly")).isEqualTo(true);
        assertThat(url).contains("sslrootcert=" + mount.get("mountPath") + "/ca.crt");
        assertThat(map(byName(list(pod, "volumes")).get("db-ca"), "configMap").get("name"))
            .isEqualTo("carecontext-db-ca");
      }
    }

    @Test
    void imageTagComesFromValues() {
      assertThat(images(production)).containsOnly("registry.example.org/carecontext/carecontext:0.1.0");
    }

    @Test
    void hpasReplaceFixedReplicas() {
      List<Map<String, Object>> hpas = ofKind(production, "HorizontalPodAutoscaler");
      assertThat(hpas).extracting(d -> d.get("apiVersion")).containsOnly("autoscaling/v2");
      assertThat(hpas).extracting(d -> map(map(d, "spec"), "scaleTargetRef").get("name"))
          .containsExactlyInAnyOrder("cc-carecontext-api", "cc-carecontext-worker");
      for (Map<String, Object> hpa : hpas) {
        assertThat((Integer) map(hpa, "spec").get("minReplicas")).isGreaterThanOrEqualTo(2);
      }
      for (Map<String, Object> deployment : ofKind(production, "Deployment")) {
        assertThat(map(deployment, "spec")).doesNotContainKey("replicas");
      }
    }

    @Test
    void pdbsKeepOnePodOfEachComponent() {
      assertThat(ofKind(production, "PodDisruptionBudget"))
          .extracting(d -> map(d, "spec").get("minAvailable"))
          .containsExactly(1, 1);
    }

    @Test
    void ingressTerminatesTls() {
      Map<String, Object> ingress = one(production, "Ingress", "cc-carecontext");
      List<Map<String, Object>> tls = list(map(ingress, "spec"), "tls");
      assertThat(tls).hasSize(1);
      assertThat(tls.get(0).get("secretName")).isEqualTo("carecontext-tls");
      assertThat(tls.get(0).get("hosts")).isEqualTo(List.of("carecontext.example.org"));
      Map<String, Object> rule = list(map(ingress, "spec"), "rules").get(0);
      assertThat(rule.get("host")).isEqualTo("carecontext.example.org");
      // the API's prefixes only: /metrics needs no key and names every tenant
      assertThat(list(map(rule, "http"), "paths")).extracting(p -> p.get("path"))
          .containsExactly("/v1", "/fhir", "/admin", "/openapi.yml");
    }

    /**
     * Behind the Ingress, which terminates TLS, the API pod sees http and its internal host: the chart
     * tells it the address clients use (FHIR's implementation.url), from the Ingress's host, or as set.
     */
    @Test
    void theApiIsToldThePublicUrlOfTheIngress() {
      assertThat(envValue(one(production, "Deployment", "cc-carecontext-api"), "CARECONTEXT_PUBLIC_URL"))
          .isEqualTo("https://carecontext.example.org");
      assertThat(envNames(one(production, "Deployment", "cc-carecontext-worker"))).doesNotContain("CARECONTEXT_PUBLIC_URL");
      assertThat(envNames(one(defaults, "Deployment", "cc-carecontext-api"))).doesNotContain("CARECONTEXT_PUBLIC_URL");
      List<Map<String, Object>> plain = render(t -> t.set("ingress.enabled", true).set("ingress.allowPlaintext", true));
      assertThat(envValue(one(plain, "Deployment", "cc-carecontext-api"), "CARECONTEXT_PUBLIC_URL"))
          .isEqualTo("http://carecontext.local");
      List<Map<String, Object>> set = render(t -> t.withValuesFile(productionValues)
          .set("config.publicUrl", "https://ehr-gateway.example.org/carecontext"));
      assertThat(envValue(one(set, "Deployment", "cc-carecontext-api"), "CARECONTEXT_PUBLIC_URL"))
          .isEqualTo("https://ehr-gateway.example.org/carecontext");
    }

    /**
     * config.corsOrigins lets pages of those origins call the API from a browser: set on the API only,
     * comma-joined; unset by default, so no cross-origin requests.
     */
    @Test
    void theApiIsToldTheCorsOriginsWhenSet() {
      apiOnlyListSetting("config.corsOrigins", "CARECONTEXT_CORS_ORIGINS", "https://chat.example.org",
          "https://ehr.example.org:8443");
    }

    /**
     * config.trustedProxies names the ingress whose forwarded client address the audit trail takes: on the API
     * only, comma-joined; unset by default, so no forwarded header is believed.
     */
    @Test
    void theApiIsToldTheTrustedProxiesWhenSet() {
      apiOnlyListSetting("config.trustedProxies", "CARECONTEXT_TRUSTED_PROXIES", "10.244.0.0/16", "fd00::/8");
    }

    /**
     * A list value the API alone takes: unset by default and in the production values, comma-joined into
     * {@code env} when set, never given to the worker.
     */
    private void apiOnlyListSetting(String value, String env, String first, String second) {
      assertThat(envNames(one(defaults, "Deployment", "cc-carecontext-api"))).doesNotContain(env);
      assertThat(envNames(one(production, "Deployment", "cc-carecontext-api"))).doesNotContain(env);
      List<Map<String, Object>> set = render(t -> t.withValuesFile(productionValues)
          .set(value + "[0]", first).set(value + "[1]", second));
      assertThat(envValue(one(set, "Deployment", "cc-carecontext-api"), env)).isEqualTo(first + "," + second);
      assertThat(envNames(one(set, "Deployment", "cc-carecontext-worker"))).doesNotContain(env);
    }

    /** An Ingress without TLS published the API over plain HTTP with a warning in NOTES only. */
    @Test
    void anIngressWithoutTlsIsRefusedUnlessPlainTextIsAllowed() {
      assertThatThrownBy(() -> render(t -> t.set("ingress.enabled", true)))
          .hasMessageContaining("ingress.enabled without ingress.tls publishes the API over plain HTTP")
          .hasMessageContaining("ingress.allowPlaintext");
      assertThat(ofKind(render(t -> t.set("ingress.enabled", true).set("ingress.allowPlaintext", true)), "Ingress"))
          .hasSize(1);
      assertThat(ofKind(production, "Ingress")).hasSize(1);
      assertThat(notes(c -> c.set("ingress.enabled", true).set("ingress.allowPlaintext", true)))
          .contains("WARNING: the Ingress has no TLS (ingress.allowPlaintext)");
    }

    @Test
    void anIngressPathThatWouldPublishMetricsIsRefused() {
      for (String path : List.of("/", "/metrics")) {
        assertThatThrownBy(() -> render(t -> t.set("ingress.enabled", true).set("ingress.hosts[0].paths[0].path", path)))
            .as(path).hasMessageContaining("would publish /metrics");
      }
    }

    @Test
    void networkPoliciesDenyByDefaultAndAllowOnlyWhatIsConfigured() {
      Map<String, Object> api = one(production, "NetworkPolicy", "cc-carecontext-api");
      Map<String, Object> spec = map(api, "spec");
      assertThat(values(spec, "policyTypes")).containsExactlyInAnyOrder("Ingress", "Egress");
      assertThat(map(map(spec, "podSelector"), "matchLabels"))
          .containsEntry("app.kubernetes.io/component", "api");

      List<Map<String, Object>> ingress = list(spec, "ingress");
      assertThat(ingress).hasSize(2); // the ingress controller, and Prometheus for /metrics
      Map<String, Object> from = list(ingress.get(0), "from").get(0);
      assertThat(map(map(from, "namespaceSelector"), "matchLabels"))
          .containsEntry("kubernetes.io/metadata.name", "ingress-nginx");
      assertThat(from).containsKey("podSelector");
      assertThat(list(ingress.get(0), "ports").get(0).get("port")).isEqualTo("http");

      List<String> egressCidrs = cidrs(list(spec, "egress"));
      assertThat(egressCidrs).containsExactlyInAnyOrder("10.20.0.0/24", "10.30.0.10/32");
      assertThat(egressPorts(list(spec, "egress"))).containsExactlyInAnyOrder(53, 53, 5432, 443);

      Map<String, Object> worker = map(one(production, "NetworkPolicy", "cc-carecontext-worker"), "spec");
      // The production example let the ingress controller alone reach the pods, so the scrape annotations
      // it sets led Prometheus to targets the default-deny dropped: only Prometheus, only the app port.
      for (Map<String, Object> scraped : List.of(spec, worker)) {
        List<Map<String, Object>> rules = list(scraped, "ingress");
        Map<String, Object> metrics = rules.get(rules.size() - 1);
        assertThat(map(map(list(metrics, "from").get(0), "namespaceSelector"), "matchLabels"))
            .containsEntry("kubernetes.io/metadata.name", "monitoring");
        assertThat(list(metrics, "ports").get(0).get("port")).isEqualTo("http");
      }
      assertThat(list(worker, "ingress")).hasSize(1);
      Map<String, Object> migrate = map(one(production, "NetworkPolicy", "cc-carecontext-migrate"), "spec");
      assertThat(list(migrate, "ingress")).isEmpty();
      assertThat(cidrs(list(migrate, "egress"))).containsExactly("10.20.0.0/24");
    }

    /**
     * A PKCS#11 module of a network HSM connects to it from the pod; the NetworkPolicies' default-deny
     * had no place for that address except llmEndpoints (meant for BAA-covered model endpoints), so the
     * pods could not open any data key. The HSM is reached by the pods that hold keys, not the migration.
     */
    @Test
    void theNetworkHsmIsReachableFromThePodsThatHoldKeysOnly() {
      List<Map<String, Object>> docs = render(t -> t.withValuesFile(productionValues)
          .set("kek.pkcs11.library", "/opt/hsm/lib/libCryptoki2_64.so").set("kek.pkcs11.slot", "0")
          .set("kek.pkcs11.pinSecret", "hsm-pin")
          .set("networkPolicy.hsmEndpoints[0].cidr", "10.40.0.5/32").set("networkPolicy.hsmEndpoints[0].ports[0]", 1792));
      for (String component : List.of("api", "worker")) {
        List<Map<String, Object>> egress = list(map(one(docs, "NetworkPolicy", "cc-carecontext-" + component), "spec"), "egress");
        assertThat(cidrs(egress)).as(component).contains("10.40.0.5/32");
        assertThat(egressPorts(egress)).as(component).contains(1792);
      }
      List<Map<String, Object>> migrate = list(map(one(docs, "NetworkPolicy", "cc-carecontext-migrate"), "spec"), "egress");
      assertThat(cidrs(migrate)).containsExactly("10.20.0.0/24");
      assertThat(cidrs(list(map(one(production, "NetworkPolicy", "cc-carecontext-api"), "spec"), "egress")))
          .doesNotContain("10.40.0.5/32");
      assertThatThrownBy(() -> render(t -> t.withValuesFile(productionValues)
          .set("networkPolicy.hsmEndpoints[0].cidr", "10.40.0.5/32")))
          .hasMessageContaining("needs its ports");
    }

    @Test
    void migrationJobIsAPreInstallAndPreUpgradeHook() {
      Map<String, Object> job = one(production, "Job", "cc-carecontext-migrate");
      Map<String, Object> annotations = map(metadata(job), "annotations");
      assertThat(annotations.get("helm.sh/hook")).isEqualTo("pre-install,pre-upgrade");
      assertThat(annotations).containsKeys("helm.sh/hook-weight", "helm.sh/hook-delete-policy");
      Map<String, Object> pod = podSpec(job);
      assertThat(pod.get("restartPolicy")).isEqualTo("Never");
      assertThat(values(containers(pod).get(0), "args")).containsExactly("migrate");
    }
  }

  // ------------------------------------------------------- deploy docs

  /** What a newcomer copies from the production example's header and the README's Deploying section. */
  @Nested
  class DeployDocs {

    /**
     * The production example creates the credentials Secret by hand: it named every key but the scrape
     * token, so the Prometheus that its own metricsFrom admits got 401 from every pod.
     */
    @Test
    void theDocumentedCredentialsSecretHoldsEveryKeyThePodsRead() throws IOException {
      Map<String, Object> keys = map(map(chartValues(), "secrets"), "keys");
      for (String doc : List.of(Files.readString(productionValues), readmeDeploying())) {
        List<String> created = createdSecretKeys(doc, "carecontext-credentials");
        assertThat(created).containsExactlyInAnyOrderElementsOf(
            keys.values().stream().map(String::valueOf).collect(Collectors.toList()));
      }
      Map<String, Object> scraped = one(production, "NetworkPolicy", "cc-carecontext-api");
      assertThat(list(map(scraped, "spec"), "ingress")).hasSize(2); // the example does admit a scraper
    }

    /**
     * Helm waits for a hook Job no longer than its --timeout, 5 minutes by default, while the migration Job
     * may run for activeDeadlineSeconds (900 s): the documented install command, which gave no timeout,
     * failed a release whose migration of many tenant schemas was still running.
     */
    @Test
    void theDocumentedInstallWaitsForTheMigrationAsLongAsItMayRun() throws IOException {
      int deadline = (Integer) map(chartValues(), "migration").get("activeDeadlineSeconds");
      assertThat(deadline).isGreaterThan(300); // what makes Helm's default too short
      for (String doc : List.of(Files.readString(productionValues), readmeDeploying())) {
        List<String> commands = helmInstallCommands(doc);
        assertThat(commands).isNotEmpty();
        for (String command : commands) {
          Matcher timeout = Pattern.compile("--timeout[ =](\\d+)([smh])").matcher(command);
          assertThat(timeout.find()).as("a --timeout in: %s", command).isTrue();
          int seconds = Integer.parseInt(timeout.group(1))
              * Map.of("s", 1, "m", 60, "h", 3600).get(timeout.group(2));
          assertThat(seconds).as(command).isGreaterThan(deadline);
        }
      }
    }

    /**
     * The README told upgraders to set CARECONTEXT_MODEL_HOSTS and CARECONTEXT_TENANT_SECRETS through
     * config.extraEnv, which the chart renders after its own config.modelHosts and config.tenantSecrets:
     * the later duplicate wins, so the chart's own values were silently ignored. A variable the chart sets
     * from a value of its own is never to be set through extraEnv.
     */
    @Test
    void theReadmeNeverSendsAVariableTheChartSetsThroughExtraEnv() throws IOException {
      List<Map<String, Object>> everything = render(t -> t.withValuesFile(productionValues)
          .set("config.modelHosts[0]", "acme:acme.openai.azure.com").set("config.tenantSecrets[0]", "acme:KEY_ACME")
          .set("config.corsOrigins[0]", "https://chat.example.org").set("serverTls.enabled", true)
          .set("serverTls.existingSecret", "api-tls").set("kek.previousKey", "kek-old"));
      List<String> chartSet = ofKind(everything, "Deployment").stream().flatMap(d -> envNames(d).stream())
          .filter(n -> n.startsWith("CARECONTEXT_")).distinct().collect(Collectors.toList());
      assertThat(chartSet).contains("CARECONTEXT_MODEL_HOSTS", "CARECONTEXT_TENANT_SECRETS");
      for (String clause : readmeDeploying().split(";|\\.\\s")) {
        if (clause.contains("through `config.extraEnv`")) {
          assertThat(chartSet).as(clause).noneMatch(name -> clause.contains("`" + name + "`"));
        }
      }
    }

    /**
     * The migration Job runs before installs and upgrades only, never on a rollback, and migrations only go
     * forward: the README told an upgrader nothing of the way back, which is a backup made before the upgrade.
     */
    @Test
    void theReadmeSaysARollbackKeepsTheNewerSchemaAndToBackUpBeforeAnUpgrade() throws IOException {
      Map<String, Object> job = one(production, "Job", "cc-carecontext-migrate");
      assertThat((String) map(metadata(job), "annotations").get(HOOK)).doesNotContain("rollback");
      String upgrading = readmeDeploying().substring(readmeDeploying().indexOf("**Upgrading.**"));
      assertThat(upgrading).contains("`helm rollback`").contains("not the previous schema")
          .contains("back up before every upgrade").contains("key-encryption key");
    }

    @Test
    void helmInstallCommandsAreFoundAcrossContinuationLines() {
      assertThat(helmInstallCommands("#   helm upgrade --install x c -n y \\\n#     -f v.yaml --timeout 20m\n# helm rollback x"))
          .containsExactly("helm upgrade --install x c -n y -f v.yaml --timeout 20m");
      assertThat(helmInstallCommands("5. `helm install x c --timeout 3m`.")).containsExactly("helm install x c --timeout 3m");
    }

    @Test
    void createdSecretKeysReadsEveryLiteralAndFileOfOneCommand() {
      String doc = "#   kubectl -n x create secret generic one \\\n"
          + "#     --from-literal=a=... --from-file=b=./b \\\n"
          + "#     --from-literal=c=...\n"
          + "#   kubectl -n x create secret generic two --from-literal=d=...\n";
      assertThat(createdSecretKeys(doc, "one")).containsExactly("a", "b", "c");
      assertThat(createdSecretKeys(doc, "two")).containsExactly("d");
    }
  }

  /** The keys a documented `kubectl create secret generic NAME` command (continued with backslashes) puts in it. */
  static List<String> createdSecretKeys(String doc, String secret) {
    String joined = doc.replaceAll("\\\\\\s*\\n\\s*#?", " ");
    Matcher command = Pattern.compile("create secret generic " + Pattern.quote(secret) + "\\b([^\\n]*)").matcher(joined);
    assertThat(command.find()).as("a command creating %s", secret).isTrue();
    Matcher key = Pattern.compile("--from-(?:literal|file)=([\\w.-]+)=").matcher(command.group(1));
    List<String> keys = new ArrayList<>();
    while (key.find()) {
      keys.add(key.group(1));
    }
    return keys;
  }

  /** `helm install` and `helm upgrade --install` commands of a document, continuation lines joined. */
  static List<String> helmInstallCommands(String doc) {
    String joined = doc.replaceAll("\\s*\\\\\\s*\\n\\s*#?\\s*", " ");
    Matcher command = Pattern.compile("helm (?:upgrade --install|install) [^`\\n]*").matcher(joined);
    List<String> commands = new ArrayList<>();
    while (command.find()) {
      commands.add(command.group().strip());
    }
    return commands;
  }

  /** The README's "Deploying" section. */
  static String readmeDeploying() throws IOException {
    String readme = Files.readString(chart.getParent().getParent().resolve("README.md"));
    int start = readme.indexOf("\n## Deploying\n");
    assertThat(start).as("README's Deploying section").isNotNegative();
    int end = readme.indexOf("\n## ", start + 1);
    return readme.substring(start, end < 0 ? readme.length() : end);
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> chartValues() throws IOException {
    return (Map<String, Object>) new Yaml().load(Files.readString(chart.resolve("values.yaml")));
  }

  // ------------------------------------------------------------ helpers

  /** Key lines with neither a comment right above nor a "# --" documented ancestor. */
  static List<String> undocumentedKeys(List<String> lines) {
    Pattern key = Pattern.compile("^(\\s*)(- )?([A-Za-z][\\w.-]*):(.*)$");
    List<String> missing = new ArrayList<>();
    // indent of each open ancestor key and whether it carries a "# --" comment
    List<int[]> ancestors = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      Matcher m = key.matcher(lines.get(i));
      if (!m.matches()) {
        continue;
      }
      int indent = m.group(1).length() + (m.group(2) == null ? 0 : 2);
      ancestors.removeIf(a -> a[0] >= indent);
      String previous = i == 0 ? "" : lines.get(i - 1).trim();
      boolean commented = previous.startsWith("#");
      boolean documentedAncestor = ancestors.stream().anyMatch(a -> a[1] == 1);
      boolean isGroup = m.group(4).isBlank() && nextIsDeeper(lines, i, indent);
      if (!commented && !documentedAncestor && !isGroup && m.group(2) == null) {
        missing.add((i + 1) + ": " + lines.get(i).trim());
      }
      ancestors.add(new int[] {indent, commented ? 1 : 0});
    }
    return missing;
  }

  private static boolean nextIsDeeper(List<String> lines, int i, int indent) {
    for (int j = i + 1; j < lines.size(); j++) {
      String line = lines.get(j);
      if (line.isBlank() || line.trim().startsWith("#")) {
        continue;
      }
      int next = line.length() - line.stripLeading().length();
      return next > indent || (next == indent && line.trim().startsWith("- "));
    }
    return false;
  }

  static List<Map<String, Object>> ofKind(List<Map<String, Object>> docs, String kind) {
    return docs.stream().filter(d -> kind.equals(d.get("kind"))).collect(Collectors.toList());
  }

  static Map<String, Object> one(List<Map<String, Object>> docs, String kind, String name) {
    List<Map<String, Object>> found = ofKind(docs, kind).stream()
        .filter(d -> name.equals(metadata(d).get("name")))
        .collect(Collectors.toList());
    assertThat(found).as("%s %s", kind, name).hasSize(1);
    return found.get(0);
  }

  static Map<String, Object> metadata(Map<String, Object> doc) {
    return map(doc, "metadata");
  }

  static Map<String, Object> podSpec(Map<String, Object> workload) {
    return map(map(map(workload, "spec"), "template"), "spec");
  }

  static List<Map<String, Object>> podSpecs(List<Map<String, Object>> docs) {
    return docs.stream()
        .filter(d -> List.of("Deployment", "Job", "StatefulSet", "DaemonSet").contains(d.get("kind")))
        .map(HelmChartTest::podSpec)
        .collect(Collectors.toList());
  }

  /** The pods that serve and embed (the Deployments), which hold the keys; not the migration Job. */
  static List<Map<String, Object>> servingPodSpecs(List<Map<String, Object>> docs) {
    List<Map<String, Object>> pods = ofKind(docs, "Deployment").stream().map(HelmChartTest::podSpec)
        .collect(Collectors.toList());
    assertThat(pods).hasSize(2);
    return pods;
  }

  static List<Map<String, Object>> containers(Map<String, Object> pod) {
    List<Map<String, Object>> all = new ArrayList<>(list(pod, "containers"));
    if (pod.containsKey("initContainers")) {
      all.addAll(list(pod, "initContainers"));
    }
    return all;
  }

  static List<String> images(List<Map<String, Object>> docs) {
    return podSpecs(docs).stream()
        .flatMap(p -> containers(p).stream())
        .map(c -> (String) c.get("image"))
        .distinct()
        .collect(Collectors.toList());
  }

  /** The value of the last entry named {@code name}: Kubernetes takes the last of duplicates. */
  static String envValue(Map<String, Object> workload, String name) {
    return list(containers(podSpec(workload)).get(0), "env").stream()
        .filter(e -> name.equals(e.get("name"))).map(e -> String.valueOf(e.get("value")))
        .reduce((a, b) -> b).orElse(null);
  }

  static List<String> envNames(Map<String, Object> workload) {
    return list(containers(podSpec(workload)).get(0), "env").stream()
        .map(e -> (String) e.get("name"))
        .collect(Collectors.toList());
  }

  static List<String> cidrs(List<Map<String, Object>> egress) {
    return egress.stream()
        .flatMap(rule -> list(rule, "to").stream())
        .filter(peer -> peer.containsKey("ipBlock"))
        .map(peer -> (String) map(peer, "ipBlock").get("cidr"))
        .collect(Collectors.toList());
  }

  static List<Object> egressPorts(List<Map<String, Object>> egress) {
    return egress.stream()
        .flatMap(rule -> list(rule, "ports").stream())
        .map(port -> port.get("port"))
        .collect(Collectors.toList());
  }

  static Map<String, Map<String, Object>> byName(List<Map<String, Object>> items) {
    return items.stream().collect(Collectors.toMap(i -> (String) i.get("name"), i -> i));
  }

  @SuppressWarnings("unchecked")
  static Map<String, Object> map(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertThat(value).as("map %s in %s", key, parent.keySet()).isInstanceOf(Map.class);
    return (Map<String, Object>) value;
  }

  /** A list of objects (containers, env vars, rules...). */
  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
    return (List<Map<String, Object>>) (List<?>) values(parent, key);
  }

  /** A list of scalars (args, capabilities, policy types...). */
  @SuppressWarnings("unchecked")
  static List<Object> values(Map<String, Object> parent, String key) {
    Object value = parent.get(key);
    assertThat(value).as("list %s in %s", key, parent.keySet()).isInstanceOf(List.class);
    return (List<Object>) value;
  }
}
