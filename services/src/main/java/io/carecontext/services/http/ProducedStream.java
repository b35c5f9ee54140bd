package io.carecontext.services.http;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * A response body written by a producer on another thread while the server sends it, holding at
 * most a few chunks in memory: for answers too large to build first (the whole audit trail of a
 * tenant that keeps six years of it). The producer runs until it has written everything, or the
 * client went away (its next write fails and it stops), or it fails.
 *
 * <p>{@link #start} waits until the producer has written its first bytes or finished, so a producer
 * that fails at once (the database is down) fails the request with its own exception and the
 * status that earns; once bytes went out the status is sent, and a failure after that ends the
 * stream with an {@link IOException} instead of its end, so the client sees a broken transfer,
 * never a complete-looking short one.
 */
public final class ProducedStream extends InputStream {

  /** Writes the body to the stream it is given; may throw anything, which ends the body broken. */
  @FunctionalInterface
  public interface Producer {
    void writeTo(OutputStream out) throws Exception;
  }

  private static final byte[] END = new byte[0];
  private static final int CHUNK = 64 * 1024;

  private final BlockingQueue<byte[]> chunks = new ArrayBlockingQueue<>(8);
  private final CompletableFuture<Void> started = new CompletableFuture<>();
  private volatile boolean closed;
  private volatile boolean failed;
  private byte[] current = new byte[0];
  private int position;

  private ProducedStream() {}

  /**
   * Runs {@code producer} on {@code executor} and returns the stream of what it writes, once it has
   * written something or finished.
   *
   * @throws RuntimeException the producer's own, when it failed before writing anything
   */
  public static ProducedStream start(Executor executor, Producer producer) {
    ProducedStream stream = new ProducedStream();
    executor.execute(() -> stream.run(producer));
    try {
      stream.started.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stream.close();
      throw new IllegalStateException("interrupted while the response was being produced", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException("the response could not be produced", e.getCause());
    }
    return stream;
  }

  private void run(Producer producer) {
    try (OutputStream out = new ChunkWriter()) {
      producer.writeTo(out);
    } catch (Throwable t) {
      failed = true;
      if (!started.completeExceptionally(t)) {
        offer(END);
      }
      return;
    }
    started.complete(null);
    offer(END);
  }

  /** Hands a chunk to the reader; false once the reader has closed the stream. */
  private boolean offer(byte[] chunk) {
    try {
      while (!closed) {
        if (chunks.offer(chunk, 1, TimeUnit.SECONDS)) {
          return true;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return false;
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    if (len == 0) {
      return 0;
    }
    while (position == current.length) {
      if (current == END) {
        return -1;
      }
      try {
        current = chunks.take();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
      position = 0;
      if (current == END && failed) {
        throw new IOException("the response failed while it was being sent; it is incomplete");
      }
    }
    int n = Math.min(len, current.length - position);
    System.arraycopy(current, position, b, off, n);
    position += n;
    return n;
  }

  @Override
  public void close() {
    closed = true;
    chunks.clear();
  }

  /** Collects the producer's writes into chunks and hands each full one over. */
  private final class ChunkWriter extends OutputStream {
    private byte[] buffer = new byte[CHUNK];
    private int size;

    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      while (len > 0) {
        int n = Math.min(len, buffer.length - size);
        System.arraycopy(b, off, buffer, size, n);
        size += n;
        off += n;
        len -= n;
        if (size == buffer.length) {
          flush();
        }
      }
    }

    @Override
    public void flush() throws IOException {
      if (size == 0) {
        return;
      }
      byte[] chunk = Arrays.copyOf(buffer, size);
      size = 0;
      started.complete(null);
      if (!offer(chunk)) {
        throw new IOException("the client closed the response");
      }
    }

    @Override
    public void close() throws IOException {
      flush();
    }
  }
}
