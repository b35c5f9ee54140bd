package io.carecontext.services.cli;

import io.carecontext.ingest.FhirStore;
import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/** The command line's view of a running CareContext: plain HTTP calls with a key. */
final class ApiClient {

  /**
   * What re-sending a request whose answer never came does. It said "creates no second version of what was
   * stored", which holds for Bundles (whole or nothing) and for NDJSON lines with an id, not for lines
   * without one: $import gives each a new id, so a file re-sent after the service was killed mid-import
   * stored the lines committed before the kill twice.
   */
  static final String RESEND = "an NDJSON file is committed " + FhirStore.NDJSON_LINES_PER_COMMIT
      + " lines at a time, a Bundle whole or not at all; "
      + "re-sending it creates no second version of what was stored, except of NDJSON lines without an \"id\", "
      + "which are stored again under new ids: give every line an id before re-sending, or re-send only the lines "
      + "not stored";

  private final String baseUrl;
  private final String key;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

  ApiClient(String baseUrl, String key) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
    this.key = key;
  }

  HttpResponse<String> send(String method, String path, String json) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofMinutes(2));
    if (key != null && !key.isBlank()) {
      b.header("Authorization", "Bearer " + key);
    }
    if (json != null) {
      b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(json));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (ConnectException e) {
      throw new CliException("cannot reach CareContext at " + baseUrl
          + ": start it with ./carecontext serve, or pass --url / set CARECONTEXT_URL");
    } catch (javax.net.ssl.SSLException e) {
      throw tlsFailure(e);
    } catch (IOException e) {
      throw new CliException("request to " + baseUrl + " failed: " + e.getClass().getSimpleName()
          + (baseUrl.startsWith("http://") ? " (a service started with CARECONTEXT_TLS_CERT serves HTTPS only and "
              + "closes a plain HTTP connection: then use --url https://…)" : ""));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  HttpResponse<String> sendRaw(String method, String path, String body, String contentType) {
    return sendRaw(method, path, HttpRequest.BodyPublishers.ofString(body), contentType);
  }

  private HttpResponse<String> sendRaw(String method, String path, HttpRequest.BodyPublisher body, String contentType) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofMinutes(10))
        .header("Content-Type", contentType).method(method, body);
    if (key != null && !key.isBlank()) {
      b.header("Authorization", "Bearer " + key);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    } catch (java.net.http.HttpTimeoutException e) {
      throw new CliException("CareContext at " + baseUrl + " did not answer within 10 minutes; what it stored of "
          + "this request is unknown (" + RESEND + ")");
    } catch (javax.net.ssl.SSLException e) {
      throw tlsFailure(e);
    } catch (IOException e) {
      throw new CliException("cannot reach CareContext at " + baseUrl + ": start it with ./carecontext serve");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /** How long a file upload may go without sending a byte or getting its answer. */
  static final Duration UPLOAD_STALL = Duration.ofMinutes(10);

  /**
   * A file sent as it is on disk, read while it is sent: the server judges its encoding (and answers
   * a file that is not UTF-8 with its reason), and a file larger than the heap still goes.
   * {@code progress} hears every second until the answer how many of its bytes the connection has
   * taken, and answers whether it saw the server get further (its stored resources, say). The send
   * gives up only after {@link #UPLOAD_STALL} without either or an answer: a fixed ten minutes for
   * the whole request gave up on a large load that was still being stored, and said nothing meanwhile.
   */
  HttpResponse<String> sendFile(String method, String path, java.nio.file.Path file, String contentType,
                                java.util.function.LongPredicate progress) throws java.io.FileNotFoundException {
    java.util.concurrent.atomic.AtomicLong sent = new java.util.concurrent.atomic.AtomicLong();
    HttpRequest.BodyPublisher body = counting(HttpRequest.BodyPublishers.ofFile(file), sent);
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path))
        .header("Content-Type", contentType).method(method, body);
    if (key != null && !key.isBlank()) {
      b.header("Authorization", "Bearer " + key);
    }
    var answer = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
    long lastSent = -1;
    long lastChange = System.nanoTime();
    try {
      while (true) {
        try {
          return answer.get(1, java.util.concurrent.TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException notYet) {
          long n = sent.get();
          boolean further = progress.test(n); // every second, also while the server stores what it has taken
          if (n != lastSent || further) {
            lastSent = n;
            lastChange = System.nanoTime();
          } else if (System.nanoTime() - lastChange > UPLOAD_STALL.toNanos()) {
            answer.cancel(true);
            throw new CliException("CareContext at " + baseUrl + " took no data, stored nothing more and gave no answer for "
                + UPLOAD_STALL.toMinutes() + " minutes; what it stored of this file is unknown (" + RESEND + ")");
          }
        }
      }
    } catch (java.util.concurrent.ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof javax.net.ssl.SSLException ssl) {
        throw tlsFailure(ssl);
      }
      if (cause instanceof ConnectException) {
        throw new CliException("cannot reach CareContext at " + baseUrl + ": start it with ./carecontext serve");
      }
      throw new CliException("sending the file to " + baseUrl + " failed (" + cause.getClass().getSimpleName()
          + "; the service stopped or the connection broke); what it stored of this file is unknown (" + RESEND + ")");
    } catch (InterruptedException e) {
      answer.cancel(true);
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /** {@code body}, counting into {@code sent} the bytes the connection takes from it. */
  static HttpRequest.BodyPublisher counting(HttpRequest.BodyPublisher body, java.util.concurrent.atomic.AtomicLong sent) {
    return new HttpRequest.BodyPublisher() {
      @Override
      public long contentLength() {
        return body.contentLength();
      }

      @Override
      public void subscribe(java.util.concurrent.Flow.Subscriber<? super java.nio.ByteBuffer> subscriber) {
        body.subscribe(new java.util.concurrent.Flow.Subscriber<java.nio.ByteBuffer>() {
          @Override
          public void onSubscribe(java.util.concurrent.Flow.Subscription subscription) {
            subscriber.onSubscribe(subscription);
          }

          @Override
          public void onNext(java.nio.ByteBuffer item) {
            sent.addAndGet(item.remaining());
            subscriber.onNext(item);
          }

          @Override
          public void onError(Throwable throwable) {
            subscriber.onError(throwable);
          }

          @Override
          public void onComplete() {
            subscriber.onComplete();
          }
        });
      }
    };
  }

  HttpResponse<InputStream> stream(String path) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).GET();
    if (key != null && !key.isBlank()) {
      b.header("Authorization", "Bearer " + key);
    }
    try {
      return http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new CliException("cannot reach CareContext at " + baseUrl + ": " + e.getClass().getSimpleName());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new CliException("interrupted");
    }
  }

  /**
   * A value from the command line (tenant, patient or key id) as one path segment, percent-encoded:
   * a space made the URL invalid and its error printed the whole URL, patient id included; a slash
   * or a question mark reached another endpoint.
   */
  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** The body on 2xx; otherwise a CliException carrying the server's own message. */
  static String expectOk(HttpResponse<String> r) {
    if (r.statusCode() / 100 == 2) {
      return r.body();
    }
    throw failure(r.statusCode(), r.body());
  }

  /** A refusal as the command reports it: the status and the server's message. */
  static CliException failure(int status, String body) {
    String message = ApiJson.refusal(body);
    // a key of another installation (serve started with another CARECONTEXT_HOME or CARECONTEXT_ADMIN_KEY)
    // is the usual cause, and the answer alone does not say which key the command sent
    return new CliException("HTTP " + status + ": " + message + (status != 401 ? ""
        : " (the key sent was refused: it is taken from --key, else CARECONTEXT_KEY, or for tenant and key "
            + "commands CARECONTEXT_ADMIN_KEY, else $CARECONTEXT_HOME/admin.key, never CARECONTEXT_KEY; check it is a key of the service you reach, "
            + "the one serve was started with, and not revoked or expired)"));
  }

  /**
   * A handshake that failed. A service that answers plain HTTP (serve without CARECONTEXT_TLS_CERT)
   * sends no TLS record at all, and the JDK says so; that was told to import a private CA, which
   * cannot help.
   */
  CliException tlsFailure(javax.net.ssl.SSLException e) {
    if (e.getMessage() != null && (e.getMessage().contains("plaintext connection")
        || e.getMessage().contains("Unsupported or unrecognized SSL message"))) {
      return new CliException("the service at " + baseUrl + " does not speak TLS: it serves plain HTTP (started "
          + "without CARECONTEXT_TLS_CERT), so use --url http://…");
    }
    return new CliException("the TLS handshake with " + baseUrl + " failed: if the service's certificate is signed by "
        + "a private CA, give the client its truststore, e.g. CARECONTEXT_JAVA_OPTS='-Xmx2g -Djavax.net.ssl.trustStore=ca.p12 "
        + "-Djavax.net.ssl.trustStorePassword=…' (README, TLS)");
  }
}
