package io.carecontext.migrations;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.NonRetriableException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Flow;
import java.util.concurrent.TimeUnit;

/**
 * The HTTP client of every call to a model endpoint: the chat gateway's and the external embedding
 * provider's. LangChain4j's own (JDK) client reads a whole answer into memory, however large, and its
 * timeout ends when the headers arrive: an endpoint that sent a gigabyte exhausted the heap, and one
 * that trickled its answer a byte a second held the request (or the worker's thread, and the tenant's
 * claimed rows) for as long as it liked, whatever the timeout said. Here the timeout LangChain4j is
 * given bounds the whole exchange, connection to last byte, and an answer larger than the caller's
 * limit is dropped unread ({@link TooLarge}, never retried: each attempt would spend the tokens again).
 * Redirects are never followed (the host the operator approved is the only one given PHI), and TLS
 * certificates are verified as the JDK does. The two callers had a copy each.
 */
public final class ModelHttpClient implements HttpClient {

  private static final java.net.http.HttpClient CLIENT = java.net.http.HttpClient.newBuilder()
      .followRedirects(java.net.http.HttpClient.Redirect.NEVER).build();

  private final Duration timeout;
  private final long maxBytes;

  private ModelHttpClient(Duration timeout, long maxBytes) {
    this.timeout = timeout;
    this.maxBytes = maxBytes;
  }

  /**
   * The builder LangChain4j asks for ({@code httpClientBuilder}): the timeout the model's builder gives it bounds
   * the whole exchange (30 s when it gives none), and an answer over {@code maxBytes} is refused.
   */
  public static HttpClientBuilder builder(long maxBytes) {
    return new HttpClientBuilder() {
      private Duration connect;
      private Duration read;

      @Override
      public Duration connectTimeout() {
        return connect;
      }

      @Override
      public HttpClientBuilder connectTimeout(Duration d) {
        connect = d;
        return this;
      }

      @Override
      public Duration readTimeout() {
        return read;
      }

      @Override
      public HttpClientBuilder readTimeout(Duration d) {
        read = d;
        return this;
      }

      @Override
      public HttpClient build() {
        return new ModelHttpClient(read != null ? read : connect != null ? connect : Duration.ofSeconds(30), maxBytes);
      }
    };
  }

  /** The answer was larger than the limit: not retried, since each attempt spends the tokens again. */
  public static final class TooLarge extends NonRetriableException {
    private static final long serialVersionUID = 1L;

    TooLarge() {
      super("the answer was larger than the limit");
    }

    /** Whether {@code failure}, or one of its causes, is an answer over the limit. */
    public static boolean causedBy(Throwable failure) {
      for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof TooLarge) {
          return true;
        }
      }
      return false;
    }
  }

  /**
   * An answer other than 2xx, with the seconds its {@code Retry-After} asked the caller to wait (-1 when it
   * sent none or one that could not be read): LangChain4j's own exception keeps the status and the body only,
   * so a rate-limited caller could not tell "in 2 seconds" from "tomorrow". Its message is the body, which can
   * quote what was sent: never shown or logged.
   */
  public static final class Refused extends HttpException {
    private static final long serialVersionUID = 1L;
    private final long retryAfterSeconds;

    Refused(int status, String body, long retryAfterSeconds) {
      super(status, body);
      this.retryAfterSeconds = retryAfterSeconds;
    }

    /** The seconds the endpoint asked for, or -1. */
    public long retryAfterSeconds() {
      return retryAfterSeconds;
    }

    /** The first {@link Refused} among {@code failure} and its causes, if any. */
    public static java.util.Optional<Refused> in(Throwable failure) {
      for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
        if (t instanceof Refused r) {
          return java.util.Optional.of(r);
        }
      }
      return java.util.Optional.empty();
    }
  }

  /**
   * The longest wait a {@code Retry-After} reads as, about 31 years: an endpoint that asks for more (twenty
   * digits, a date in the year 9999) is asking for "not now" all the same, and every sum a caller makes with
   * it (a deadline in nanoseconds, a {@link Duration} plus an attempt) stays far from overflowing.
   */
  public static final long MAX_RETRY_AFTER_SECONDS = 1_000_000_000L;

  /**
   * The longest wait on an endpoint's Retry-After that is honoured, by the chat gateway (told to its
   * caller) and the embedding worker (its pause): a longer one (a day, a mistaken date) counts as an hour.
   */
  public static final long MAX_HONOURED_WAIT_SECONDS = 3600;

  /**
   * A {@code Retry-After} value in seconds: delta-seconds or an HTTP date (RFC 9110 10.2.3), 0 for a date
   * already past, at most {@link #MAX_RETRY_AFTER_SECONDS}, -1 for none or one that cannot be read. A
   * number too long for a long was read as none: an endpoint that asked for "99999999999999999999" seconds
   * was asked again half a second later, and the caller told nothing of when to come back.
   */
  static long retryAfter(String value) {
    if (value == null || value.isBlank()) {
      return -1;
    }
    String v = value.trim();
    if (v.matches("\\d+")) {
      String digits = v.replaceFirst("^0+(?=\\d)", "");
      return digits.length() > 10 ? MAX_RETRY_AFTER_SECONDS : Math.min(MAX_RETRY_AFTER_SECONDS, Long.parseLong(digits));
    }
    try {
      java.time.ZonedDateTime at = java.time.ZonedDateTime.parse(v, java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME);
      long seconds = Duration.between(java.time.Instant.now(), at.toInstant()).toSeconds();
      return Math.max(0, Math.min(MAX_RETRY_AFTER_SECONDS, seconds));
    } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
      return -1;
    }
  }

  /**
   * The wait an answer's {@code Retry-After} headers ask for: the longest that can be read, -1 for none. An
   * endpoint that sent two ("1" and "3600") was read by its first alone.
   */
  static long retryAfter(List<String> values) {
    long longest = -1;
    for (String v : values) {
      longest = Math.max(longest, retryAfter(v));
    }
    return longest;
  }

  @Override
  public SuccessfulHttpResponse execute(HttpRequest request) {
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create(request.url()))
        .timeout(timeout) // the headers' own deadline; the whole exchange's is below
        .method(request.method().name(), request.body() == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(request.body(), StandardCharsets.UTF_8));
    request.headers().forEach((name, values) -> values.forEach(v -> b.header(name, v)));
    // A refusal's body is read only in part: a 429 or 5xx whose body was over the limit was taken for an answer
    // too large to read, which the chat gateway charges as written, and lost its Retry-After
    CompletableFuture<java.net.http.HttpResponse<String>> sent = CLIENT.sendAsync(b.build(),
        info -> info.statusCode() / 100 == 2 ? bounded(maxBytes) : firstBytes(Math.min(maxBytes, REFUSAL_BYTES)));
    java.net.http.HttpResponse<String> response;
    try {
      response = sent.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      sent.cancel(true); // closes the exchange: the endpoint is sent nothing more and read no longer
      throw new TimeoutException(new HttpTimeoutException("no whole answer within the timeout"));
    } catch (InterruptedException e) {
      sent.cancel(true);
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for the model", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof TooLarge tooLarge) {
        throw tooLarge;
      }
      if (cause instanceof HttpTimeoutException) {
        throw new TimeoutException(cause);
      }
      throw new IllegalStateException("the model call failed", cause); // its kind is read from the cause
    }
    int status = response.statusCode();
    if (status < 200 || status > 299) {
      // a 3xx too: its Location is never followed
      throw new Refused(status, response.body(), retryAfter(response.headers().allValues("Retry-After")));
    }
    return SuccessfulHttpResponse.builder().statusCode(status).headers(response.headers().map())
        .body(response.body()).build();
  }

  @Override
  public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
    listener.onError(new UnsupportedOperationException("model answers are not streamed"));
  }

  /** The most of a refusal's (non-2xx) body that is read: what it says of the failure is at its start. */
  static final long REFUSAL_BYTES = 16 * 1024;

  /** The first {@code max} bytes of a body; the exchange is cancelled after them, and the rest never read. */
  static BodySubscriber<String> firstBytes(long max) {
    return limited(max, false);
  }

  /** A body read into memory only up to {@code max} bytes; beyond, the exchange is cancelled. */
  static BodySubscriber<String> bounded(long max) {
    return limited(max, true);
  }

  /**
   * A body read into memory up to {@code max} bytes; past them the exchange is cancelled, and the body
   * fails ({@link TooLarge}) when {@code refuseMore}, or is what was read so far when not.
   */
  private static BodySubscriber<String> limited(long max, boolean refuseMore) {
    return new BodySubscriber<>() {
      private final CompletableFuture<String> body = new CompletableFuture<>();
      private final ByteArrayOutputStream read = new ByteArrayOutputStream();
      private Flow.Subscription subscription;

      @Override
      public CompletionStage<String> getBody() {
        return body;
      }

      @Override
      public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(Long.MAX_VALUE);
      }

      @Override
      public void onNext(List<ByteBuffer> buffers) {
        if (body.isDone()) {
          return;
        }
        for (ByteBuffer buffer : buffers) {
          if (read.size() + (long) buffer.remaining() > max) {
            subscription.cancel();
            if (refuseMore) {
              body.completeExceptionally(new TooLarge());
              return;
            }
            byte[] start = new byte[(int) (max - read.size())];
            buffer.get(start);
            read.writeBytes(start);
            onComplete();
            return;
          }
          byte[] bytes = new byte[buffer.remaining()];
          buffer.get(bytes);
          read.writeBytes(bytes);
        }
      }

      @Override
      public void onError(Throwable t) {
        if (!body.isDone()) {
          body.completeExceptionally(t);
        }
      }

      @Override
      public void onComplete() {
        if (!body.isDone()) {
          body.complete(read.toString(StandardCharsets.UTF_8));
        }
      }
    };
  }
}
