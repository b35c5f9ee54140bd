# syntax=docker/dockerfile:1
#
# CareContext image: one image, three subcommands (serve, worker, migrate).
#   docker build -t carecontext/carecontext:0.1.0 .
#
# Build stage: the full JDK + Maven, thrown away after the build so the
# runtime image carries no compiler, no Maven and no source.
FROM maven:3.9-eclipse-temurin-17 AS build
WORKDIR /build
# The whole reactor is needed (services depends on fhir, ingest, retrieval and
# migrations); .dockerignore keeps target/, .git, secrets and the chart out.
COPY . .
# -pl services -am builds services and only the modules it depends on.
# -DskipTests still compiles tests, which the migrations test-jar needs.
# copy-dependencies writes each module's runtime closure to its own
# target/dependency; services' closure (sibling module jars included) is the
# app's classpath, resolved once by Maven, so no two versions of a jar.
# The cache mount keeps ~/.m2 between builds without baking it into a layer.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -DskipTests -pl services -am \
        package dependency:copy-dependencies -DincludeScope=runtime \
 && mkdir -p /out \
 && cp -r services/target/dependency /out/lib \
 && cp -r services/target/classes /out/classes

# Runtime stage: JRE only. eclipse-temurin rather than distroless so an
# operator can still exec into a pod to debug; it has no curl or package
# manager use at run time, and everything the app can write is a mount.
FROM eclipse-temurin:17-jre
# Fixed uid/gid 10001: the Helm chart's runAsUser, and not a uid that exists on
# typical hosts, so a bind mount never maps to a real host account.
RUN groupadd --gid 10001 carecontext \
 && useradd --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin carecontext \
 && mkdir -p /var/lib/carecontext \
 && chown 10001:10001 /var/lib/carecontext
WORKDIR /app
# Code and libraries stay owned by root: the app user cannot modify them.
COPY --from=build /out/lib /app/lib
COPY --from=build /out/classes /app/classes
# CARECONTEXT_HOME must be writable even with a read-only root filesystem:
# Kubernetes mounts an emptyDir here, compose a tmpfs.
# JAVA_TOOL_OPTIONS (not ENTRYPOINT flags) so the chart and compose can
# override them: the heap follows the container memory limit, and an OOM kills
# the JVM so the orchestrator restarts it instead of leaving it half alive.
ENV CARECONTEXT_HOME=/var/lib/carecontext \
    CARECONTEXT_PORT=8080 \
    JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=75 -XX:+ExitOnOutOfMemoryError -Djava.io.tmpdir=/tmp"
USER 10001:10001
EXPOSE 8080
# No HEALTHCHECK: the image has no curl, and with CARECONTEXT_TLS_CERT set the
# port speaks HTTPS. Kubernetes probes /health/liveness and /health/readiness;
# docker-compose.yml has its own check.
# Exec form: java is PID 1 and gets SIGTERM directly for a graceful shutdown.
# The classpath wildcard is expanded by java itself, not by a shell.
ENTRYPOINT ["java", "-cp", "/app/classes:/app/lib/*", "io.carecontext.services.Application"]
CMD ["serve"]
