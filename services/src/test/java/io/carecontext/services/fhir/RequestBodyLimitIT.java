package io.carecontext.services.fhir;

import static org.assertj.core.api.Assertions.assertThat;

import io.carecontext.services.TestServer;
import java.net.http.HttpResponse;
import java.util.Base64;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CARECONTEXT_FHIR_MAX_BYTES is the largest body the service takes, Bundles included. Micronaut keeps
 * a second limit of its own, 10 MB by default, on a body it reads whole before the handler runs (a
 * Bundle, a single resource, a JSON body): a Bundle of 11 MB under the 50 MB default was a 413 whose
 * message named the 50 MB limit, so the feed could not tell how much to cut. The other tests run with a
 * limit far under 10 MB and never met it.
 */
class RequestBodyLimitIT {

  static final long LIMIT = 16L * 1024 * 1024;
  static TestServer app;
  static String ehr;

  @BeforeAll
  static void start() {
    app = new TestServer(Map.of("CARECONTEXT_FHIR_MAX_BYTES", Long.toString(LIMIT), "CARECONTEXT_WORKER_THREADS", "0"));
    ehr = app.tenantWithKey("big", "ehr-feed", "[\"ehr-integration\"]", null);
  }

  @AfterAll
  static void stop() {
    app.close();
  }

  /** A Binary of about 11 MB (a scanned document, say), in a transaction: over 10 MB, under the limit. */
  static String bundleOfBytes(int bytes) {
    byte[] data = new byte[bytes];
    for (int i = 0; i < data.length; i++) {
      data[i] = (byte) (i * 31);
    }
    return "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[{\"resource\":{\"resourceType\":\"Binary\","
        + "\"id\":\"scan-1\",\"contentType\":\"application/pdf\",\"data\":\"" + Base64.getEncoder().encodeToString(data)
        + "\"},\"request\":{\"method\":\"PUT\",\"url\":\"Binary/scan-1\"}}]}";
  }

  @Test
  void aBundleOverTenMegabytesButUnderTheLimitIsStored() {
    String bundle = bundleOfBytes(8 * 1024 * 1024); // base64: about 11.2 MB
    assertThat((long) bundle.length()).isGreaterThan(10L * 1024 * 1024).isLessThan(LIMIT);
    HttpResponse<String> r = app.call("POST", "/fhir/big", ehr, bundle, "application/fhir+json");
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    assertThat(r.body()).contains("201 Created", "Binary/scan-1/_history/1");
  }

  @Test
  void aBundleOverTheLimitIsRefusedNamingTheLimit() {
    String bundle = bundleOfBytes(13 * 1024 * 1024); // about 17.5 MB
    assertThat((long) bundle.length()).isGreaterThan(LIMIT);
    HttpResponse<String> r = app.call("POST", "/fhir/big", ehr, bundle, "application/fhir+json");
    assertThat(r.statusCode()).isEqualTo(413);
    assertThat(r.body()).contains("OperationOutcome", "over the limit of " + LIMIT + " bytes");
  }
}
