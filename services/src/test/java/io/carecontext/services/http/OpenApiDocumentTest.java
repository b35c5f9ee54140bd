package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The served /openapi.yml against what the service does: a client generated from it, or Swagger UI's
 * "try it out", must send what the endpoints need and read what they answer.
 */
class OpenApiDocumentTest {

  static String document() throws IOException {
    try (InputStream in = OpenApiDocumentTest.class.getResourceAsStream("/META-INF/swagger/carecontext-0.1.yml")) {
      assertThat(in).as("the generated OpenAPI document").isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  /** The part of the document from {@code start} to the next line indented as {@code start}'s, or less. */
  static String block(String doc, String start) {
    int from = doc.indexOf("\n" + start + "\n");
    assertThat(from).as(start).isNotNegative();
    int indent = start.length() - start.stripLeading().length();
    String[] lines = doc.substring(from + 1).split("\n");
    StringBuilder out = new StringBuilder(lines[0]).append('\n');
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      if (!line.isBlank() && line.length() - line.stripLeading().length() <= indent) {
        break;
      }
      out.append(line).append('\n');
    }
    return out.toString();
  }

  /** /metrics answers 401 without the scrape token or the operator key: it said it needed no key. */
  @Test
  void metricsSaysItNeedsABearerToken() throws IOException {
    String metrics = block(document(), "  /metrics:");
    assertThat(metrics).doesNotContain("security: []").contains("\"401\"").contains("CARECONTEXT_METRICS_TOKEN");
    assertThat(block(document(), "- name: operations")).doesNotContain("no key needed");
  }

  /** Verify against anchors: the POST's body, its 413, and the problem it adds, as the controller answers them. */
  @Test
  void verifyAgainstAnchorsIsDescribed() throws IOException {
    String doc = document();
    String post = block(block(doc, "  /v1/{tenant}/audit/verify:"), "    post:");
    assertThat(post).contains("#/components/schemas/AuditAnchors").contains("\"413\"").contains("\"400\"");
    assertThat(block(doc, "    AuditAnchors:")).contains("maxItems: 1000").contains("pattern:");
    assertThat(block(doc, "    AuditVerify:")).contains("forged-anchor");
  }

  /**
   * Research search as a researcher reads it from the document: the subject code is the same in every search (the
   * 200 said "pseudonyms that hold within one answer", the opposite of what the service does), the k the
   * request takes and its cap, and the warnings a capped answer carries (absent from the schema, as context's).
   */
  @Test
  void researchSearchDescribesItsCodesItsKAndItsWarnings() throws IOException {
    String doc = document();
    String ok = block(block(block(doc, "  /v1/{tenant}/research/search:"), "    post:"), "        \"200\":");
    assertThat(ok).doesNotContain("within one answer").contains("the same in every");
    String request = block(doc, "    ResearchController.SearchRequest:");
    assertThat(block(request, "        k:")).contains("minimum: 1").contains("maximum: 100").contains("kMax");
    assertThat(block(request, "        purposeOfUse:")).contains("HRESCH");
    assertThat(block(block(doc, "    ResearchResponse:"), "        warnings:")).contains("kMax");
    assertThat(block(block(doc, "    ContextResponse:"), "        warnings:")).contains("kMax");
  }

  /** A research chunk's subject is a research subject code (R and 15 hex digits), not a source handle. */
  @Test
  void researchSubjectsAreShownAsTheCodesTheServiceGives() throws IOException {
    String research = block(document(), "    ResearchResponse:");
    assertThat(research).doesNotContain("example: S1").containsPattern("example: \"?R[0-9A-F]{15}\"?");
  }

  /** The ingest status names every count it answers, chunksOfAnotherModel included (the CLI reads it). */
  @Test
  void ingestStatusNamesChunksOfAnotherModel() throws IOException {
    assertThat(block(document(), "    IngestStatus:")).contains("chunksOfAnotherModel:")
        .contains("embeddedPerSecond:", "rateWindowSeconds:", "etaSeconds:", "lastProgressAt:");
    // the research index's progress has a decimal (13.8): a client typed from "integer" failed to read it
    assertThat(block(block(document(), "    IngestStatus:"), "            percent:")).contains("type: number");
  }

  /** A row's decision is allowed, denied or failed (AuditEntry.Decision): the document said "refused", which no row holds. */
  @Test
  void auditDecisionsAreTheOnesRowsHold() throws IOException {
    String decision = block(block(document(), "    AuditEntry:"), "        decision:");
    assertThat(decision).contains("failed").doesNotContain("or refused");
    for (io.carecontext.retrieval.audit.AuditEntry.Decision d : io.carecontext.retrieval.audit.AuditEntry.Decision.values()) {
      assertThat(decision).contains("- " + d.name().toLowerCase(java.util.Locale.ROOT));
    }
  }

  /**
   * The admin and audit operations name the errors they answer: the document gave GET and PATCH of a tenant,
   * the key list, the tenant list, the offboardings and the audit export a 200 alone, and key creation no 409,
   * though a principal already held (principal_taken) and the operator's second tenant-admin key
   * (tenant_admin_exists) answer it.
   */
  @Test
  void adminAndAuditOperationsNameTheirErrors() throws IOException {
    String doc = document();
    String tenant = block(doc, "  /admin/tenants/{tenant}:");
    assertThat(block(tenant, "    get:")).contains("\"401\"", "\"403\"", "\"404\"", "\"503\"");
    assertThat(block(tenant, "    patch:")).contains("\"400\"", "\"401\"", "\"403\"", "\"404\"", "\"415\"",
        "application/merge-patch+json", "\"503\"");
    String keys = block(doc, "  /admin/tenants/{tenant}/keys:");
    assertThat(block(keys, "    post:")).contains("\"409\"", "principal_taken", "tenant_admin_exists");
    assertThat(block(keys, "    get:")).contains("\"401\"", "\"403\"", "\"404\"");
    assertThat(block(block(doc, "  /admin/tenants:"), "    get:")).contains("\"401\"", "\"403\"");
    assertThat(block(block(doc, "  /admin/offboardings:"), "    get:")).contains("\"401\"", "\"403\"");
    String export = block(block(doc, "  /v1/{tenant}/audit/export:"), "    get:");
    assertThat(export).contains("application/fhir+ndjson", "\"400\"", "\"401\"", "\"403\"", "\"404\"");
  }

  /**
   * Statuses the running service gave a newcomer walking the README that the document left out: every
   * admin path answers a query parameter 400 and an unreachable database 503, and the audit export an
   * Accept it cannot answer 406.
   */
  @Test
  void theStatusesTheServiceGivesAreDocumented() throws IOException {
    String doc = document();
    for (String path : new String[] {"  /admin/tenants/{tenant}/ingest:", "  /admin/tenants/{tenant}/ingest/parked:"}) {
      assertThat(block(block(doc, path), "    get:")).as(path).contains("\"400\"", "\"503\"");
    }
    assertThat(block(block(doc, "  /admin/tenants/{tenant}/ingest/parked/retry:"), "    post:"))
        .contains("\"400\"", "\"503\"");
    assertThat(block(block(doc, "  /admin/tenants:"), "    get:")).contains("\"400\"");
    assertThat(block(block(doc, "  /admin/tenants/{tenant}:"), "    delete:")).contains("\"400\"");
    assertThat(block(block(doc, "  /admin/tenants/{tenant}/keys/{keyId}:"), "    delete:")).contains("\"400\"");
    assertThat(block(block(doc, "  /v1/{tenant}/audit/export:"), "    get:")).contains("\"406\"");
  }
}
