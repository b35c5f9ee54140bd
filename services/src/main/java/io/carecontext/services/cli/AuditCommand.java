package io.carecontext.services.cli;

import io.carecontext.migrations.TenantId;
import io.carecontext.retrieval.audit.AuditAnchor;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "audit", description = "Verify or export a tenant's audit trail (auditor key).",
    subcommands = {AuditCommand.Verify.class, AuditCommand.Export.class})
final class AuditCommand {

  @Command(name = "verify", description = "Recompute the hash chain; exit 1 if it is broken.")
  static final class Verify implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
    @Option(names = "--anchors", description = "a file of the service's log lines (or your log system's copy): "
        + "the tenant's latest audit-anchor line of each shard is checked too") Path anchors;

    @Override
    public Integer call() {
      String path = "/v1/" + ApiClient.segment(tenant) + "/audit/verify";
      String body = ApiClient.expectOk(anchors == null ? connection.client(false).send("GET", path, null)
          : connection.client(false).send("POST", path, anchorsBody(anchorsIn(anchors, tenant))));
      spec.commandLine().getOut().println(body);
      return body.replace(" ", "").contains("\"valid\":true") ? 0 : 1;
    }

    /**
     * The tenant's latest anchor of each shard among a file's lines ({@code audit-anchor tenant=…} lines,
     * anywhere in a log line: the rest of the file is skipped). A file with none for the tenant is an error:
     * a check without them would say nothing of what they were kept for.
     */
    static List<AuditAnchor> anchorsIn(Path file, String tenant) {
      TenantId id;
      try {
        id = TenantId.of(tenant);
      } catch (IllegalArgumentException e) {
        throw new CliException(e.getMessage());
      }
      List<AuditAnchor> found;
      // a line not valid UTF-8 (another program's, a crashed process's bytes) is read with replacements and skipped
      // like any line without an anchor (anchor lines are ASCII); a strict reader refused the whole file
      java.nio.charset.CharsetDecoder utf8 = java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPLACE)
          .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPLACE);
      try (java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(
          Files.newInputStream(file), utf8))) {
        found = AuditAnchor.latestPerShard(id, () -> in.lines().iterator());
      } catch (java.nio.file.NoSuchFileException e) {
        throw new CliException("no such file " + file + ": give --anchors the log file that holds the service's "
            + "audit-anchor lines");
      } catch (java.io.IOException | java.io.UncheckedIOException e) {
        throw new CliException("cannot read " + file + " (" + e.getClass().getSimpleName() + "): give --anchors a "
            + "text file this user may read");
      }
      if (found.isEmpty()) {
        throw new CliException("no audit-anchor line of tenant " + tenant + " in " + file + ": the service logs one "
            + "(logger " + AuditAnchor.LOGGER + ") for each seal it makes; nothing was verified");
      }
      return found;
    }

    /** {@code {"anchors":[{"shard","seq","head","mac"}, …]}}. */
    static String anchorsBody(List<AuditAnchor> anchors) {
      java.util.HexFormat hex = java.util.HexFormat.of();
      return anchors.stream().map(a -> "{\"shard\":" + a.shard() + ",\"seq\":" + a.seq() + ",\"head\":\""
              + hex.formatHex(a.head()) + "\",\"mac\":\"" + hex.formatHex(a.mac()) + "\"}")
          .collect(java.util.stream.Collectors.joining(",", "{\"anchors\":[", "]}"));
    }
  }

  @Command(name = "export", description = "Export as FHIR AuditEvent NDJSON.")
  static final class Export implements Callable<Integer> {
    @Mixin Connection connection;
    @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;
    @Option(names = "--tenant", required = true, description = "tenant id") String tenant;
    @Option(names = "--out", description = "file to write (default: standard output)") Path out;
    @Option(names = "--patient", description = "one patient's accounting: the rows that name this FHIR Patient id")
    String patient;
    @Option(names = "--patient-identifier", paramLabel = "SYSTEM|VALUE", description = "one patient's accounting by "
        + "an identifier the EHR sent (an MRN), its system and value joined by | as in Patient.identifier "
        + "('|VALUE' without a system); not with --patient")
    String patientIdentifier;

    /**
     * Says how many events it wrote, and when the server breaks the transfer off (it does, rather than
     * end a short export as if complete) says so and removes the file: it was a stack trace, with the
     * partial file left behind to be kept as the trail of a tenant about to be offboarded. An error
     * answer shows the server's message, not its JSON.
     */
    @Override
    public Integer call() throws Exception {
      // Checked before the service is asked: a folder that does not exist (or may not be written) was a stack
      // trace, after the service had read and sent the whole trail. An earlier export there stays as it is
      // until the service answers.
      String query = patientQuery(spec, patient, patientIdentifier);
      if (out != null) {
        writable(out);
      }
      HttpResponse<InputStream> r = connection.client(false).stream("/v1/" + ApiClient.segment(tenant)
          + "/audit/export" + query);
      if (r.statusCode() / 100 != 2) {
        try (InputStream in = r.body()) {
          throw ApiClient.failure(r.statusCode(), new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
      }
      OutputStream file = out == null ? null : open(out);
      long events = 0;
      try (InputStream in = r.body(); OutputStream o = file == null ? nonClosing(System.out) : file) {
        byte[] buf = new byte[64 * 1024];
        int n;
        while ((n = read(in, buf, events)) > 0) {
          for (int i = 0; i < n; i++) {
            if (buf[i] == '\n') {
              events++;
            }
          }
          o.write(buf, 0, n);
        }
      }
      if (out != null) {
        spec.commandLine().getErr().printf("wrote %,d AuditEvent(s) to %s%n", events, out);
      }
      return 0;
    }

    /**
     * The export's filter for one patient, as the service takes it ({@code ?patient=} or {@code ?patientIdentifier=},
     * percent-encoded), or nothing. Both at once, an empty one or an identifier without its {@code |} are usage
     * errors (2), as the service would refuse them: the messages name the options, never what was given (an MRN
     * is the patient's identifier, and what a terminal prints is often kept).
     */
    static String patientQuery(picocli.CommandLine.Model.CommandSpec spec, String patient, String identifier) {
      if (patient != null && identifier != null) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--patient and --patient-identifier "
            + "are one patient's accounting each: give one of them");
      }
      if (patient != null && patient.isBlank()) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--patient takes a FHIR Patient id");
      }
      if (identifier != null && (identifier.indexOf('|') < 0 || identifier.endsWith("|"))) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--patient-identifier takes SYSTEM|VALUE, "
            + "the identifier's system and value joined by | as the EHR sent them in Patient.identifier (|VALUE for "
            + "one without a system; quote it, as a shell reads | as a pipe)");
      }
      return patient != null ? "?patient=" + ApiClient.segment(patient)
          : identifier != null ? "?patientIdentifier=" + ApiClient.segment(identifier) : "";
    }

    /** Whether {@code file} can be written, as one line saying why not. */
    static void writable(Path file) {
      Path folder = file.toAbsolutePath().getParent();
      if (folder == null || !Files.isDirectory(folder)) {
        throw noSuchFolder(file);
      }
      if (Files.isDirectory(file) || !Files.isWritable(Files.exists(file) ? file : folder)) {
        throw new CliException("cannot write " + file + " (" + (Files.isDirectory(file) ? "a folder" : "permission denied")
            + "): give --out a file this user may write; nothing was exported");
      }
    }

    private static CliException noSuchFolder(Path file) {
      return new CliException("cannot write " + file + ": no such folder " + file.toAbsolutePath().getParent()
          + "; create it or give --out a file in a folder that exists; nothing was exported");
    }

    /**
     * The export names patients (each event's entity) and the workforce: it is made readable by its owner only
     * (mode 0600, as admin.key and kek.key), and a file there already that others could read is closed to them
     * before a byte is written. It was made with the umask's mode, 0644 on most systems.
     */
    private static OutputStream open(Path file) {
      try {
        java.util.Set<java.nio.file.attribute.PosixFilePermission> ownerOnly =
            java.nio.file.attribute.PosixFilePermissions.fromString("rw-------");
        boolean posix = Files.getFileStore(file.toAbsolutePath().getParent())
            .supportsFileAttributeView(java.nio.file.attribute.PosixFileAttributeView.class);
        if (!posix) {
          return Files.newOutputStream(file);
        }
        if (Files.exists(file)) {
          Files.setPosixFilePermissions(file, ownerOnly);
        }
        return java.nio.channels.Channels.newOutputStream(Files.newByteChannel(file, java.util.Set.of(
            java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.WRITE,
            java.nio.file.StandardOpenOption.TRUNCATE_EXISTING),
            java.nio.file.attribute.PosixFilePermissions.asFileAttribute(ownerOnly)));
      } catch (java.nio.file.NoSuchFileException e) {
        throw noSuchFolder(file);
      } catch (java.io.IOException e) {
        throw new CliException("cannot write " + file + " (" + e.getClass().getSimpleName() + "): give --out a file "
            + "this user may write; nothing was exported");
      }
    }

    /** A read of the export; a transfer the server broke off removes the file and says so. */
    private int read(InputStream in, byte[] buf, long events) throws java.io.IOException {
      try {
        return in.read(buf);
      } catch (java.io.IOException broken) {
        if (out != null) {
          Files.deleteIfExists(out);
        }
        throw new CliException(String.format("the export broke off after %,d AuditEvent(s) (%s)%s: it is "
            + "incomplete; run it again (the service's log says why)", events, broken.getClass().getSimpleName(),
            out == null ? "" : ", so " + out + " was removed"));
      }
    }

    private static OutputStream nonClosing(OutputStream o) {
      return new java.io.FilterOutputStream(o) {
        @Override
        public void write(byte[] b, int off, int len) throws java.io.IOException {
          out.write(b, off, len);
        }

        @Override
        public void close() throws java.io.IOException {
          flush();
        }
      };
    }
  }
}
