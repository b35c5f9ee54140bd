package io.carecontext.ingest.embedding;

import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpClientBuilder;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpResponse;
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
 * The embedding endpoint's HTTP client: the JDK's, with every call bounded. LangChain4j's own client
 * reads the whole answer into memory, however large, and its timeout ends when the answer's headers
 * arrive: an endpoint that sent them and then trickled the body held the worker's thread (and the
 * tenant's claimed rows) for as long as it went on, and one answering gigabytes took the heap. Here
 * the timeout bounds the whole call, the answer is refused past {@code maxBytes}, and redirects are
 * never followed (the texts are PHI, and only the approved host may have them).
 */
final class BoundedHttpClient implements HttpClient {

  private final java.net.http.HttpClient jdk;
  private final Duration timeout;
  private final long maxBytes;

  private BoundedHttpClient(Duration timeout, long maxBytes) {
    this.timeout = timeout;
    this.maxBytes = maxBytes;
    this.jdk = java.net.http.HttpClient.newBuilder()
        .connectTimeout(timeout)
        .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
        .build();
  }

  /** A builder for LangChain4j's models; {@code timeout} per call, whole; answers up to {@code maxBytes}. */
  static HttpClientBuilder builder(Duration timeout, long maxBytes) {
    return new HttpClientBuilder() {
      private Duration connect = timeout;
      private Duration read = timeout;

      @Override public Duration connectTimeout() { return connect; }
      @Override public HttpClientBuilder connectTimeout(Duration d) { connect = d == null ? connect : d; return this; }
      @Override public Duration readTimeout() { return read; }
      @Override public HttpClientBuilder readTimeout(Duration d) { read = d == null ? read : d; return this; }
      @Override public HttpClient build() { return new BoundedHttpClient(read, maxBytes); }
    };
  }

  @Override
  public SuccessfulHttpResponse execute(HttpRequest request) {
    java.net.http.HttpRequest.Builder b = java.net.http.HttpRequest.newBuilder(URI.create(request.url()))
        .timeout(timeout)
        .method(request.method().name(), request.body() == null ? java.net.http.HttpRequest.BodyPublishers.noBody()
            : java.net.http.HttpRequest.BodyPublishers.ofString(request.body()));
    request.headers().forEach((name, values) -> values.forEach(v -> b.header(name, v)));
    CompletableFuture<HttpResponse<String>> call = jdk.sendAsync(b.build(), info -> new Limited(maxBytes));
    HttpResponse<String> response;
    try {
      response = call.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      call.cancel(true);
      throw new TimeoutException(e);
    } catch (InterruptedException e) {
      call.cancel(true);
      Thread.currentThread().interrupt();
      throw new RuntimeException(e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() == null ? e : e.getCause();
      if (cause instanceof java.net.http.HttpTimeoutException) {
        throw new TimeoutException(cause);
      }
      throw cause instanceof RuntimeException re ? re : new RuntimeException(cause);
    }
    if (response.statusCode() < 200 || response.statusCode() > 299) {
      throw new HttpException(response.statusCode(), response.body());
    }
    return SuccessfulHttpResponse.builder().statusCode(response.statusCode()).headers(response.headers().map())
        .body(response.body()).build();
  }

  @Override
  public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
    // embeddings are never streamed
    listener.onError(new UnsupportedOperationException("streaming is not used for embeddings"));
  }

  /** An answer longer than the limit; a failure of the answer's shape, not of the endpoint as a whole. */
  static final class AnswerTooLargeException extends IOException {
    private static final long serialVersionUID = 1L;

    AnswerTooLargeException(long maxBytes) {
      super("the endpoint's answer exceeds " + maxBytes + " bytes");
    }
  }

  /** Collects the body as text, and stops reading it past {@code maxBytes}. */
  private static final class Limited implements HttpResponse.BodySubscriber<String> {
    private final long maxBytes;
    private final CompletableFuture<String> body = new CompletableFuture<>();
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private Flow.Subscription subscription;

    Limited(long maxBytes) {
      this.maxBytes = maxBytes;
    }

    @Override public CompletionStage<String> getBody() { return body; }

    @Override
    public void onSubscribe(Flow.Subscription s) {
      subscription = s;
      s.request(Long.MAX_VALUE);
    }

    @Override
    public void onNext(List<ByteBuffer> items) {
      if (body.isDone()) {
        return;
      }
      for (ByteBuffer item : items) {
        if (out.size() + (long) item.remaining() > maxBytes) {
          subscription.cancel();
          body.completeExceptionally(new AnswerTooLargeException(maxBytes));
          return;
        }
        byte[] bytes = new byte[item.remaining()];
        item.get(bytes);
        out.write(bytes, 0, bytes.length);
      }
    }

    @Override public void onError(Throwable t) { body.completeExceptionally(t); }

    @Override public void onComplete() { body.complete(out.toString(StandardCharsets.UTF_8)); }
  }
}
