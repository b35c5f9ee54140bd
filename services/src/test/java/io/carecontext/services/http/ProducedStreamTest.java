package io.carecontext.services.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** A body produced while it is sent: complete, refused at the start, broken in the middle, abandoned. */
class ProducedStreamTest {

  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  private static byte[] line(int i) {
    return ("{\"line\":" + i + "}\n").getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everythingTheProducerWritesArrivesInOrder() throws IOException {
    StringBuilder expected = new StringBuilder();
    for (int i = 0; i < 100_000; i++) {
      expected.append(new String(line(i), StandardCharsets.UTF_8));
    }
    try (InputStream in = ProducedStream.start(executor, out -> {
      for (int i = 0; i < 100_000; i++) {
        out.write(line(i));
      }
    })) {
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8)).isEqualTo(expected.toString());
    }
    try (InputStream empty = ProducedStream.start(executor, out -> { })) {
      assertThat(empty.read()).isEqualTo(-1);
    }
  }

  @Test
  void aProducerThatFailsBeforeWritingFailsTheRequestWithItsOwnException() {
    IllegalStateException down = new IllegalStateException("database unreachable");
    assertThatThrownBy(() -> ProducedStream.start(executor, out -> {
      throw down;
    })).isSameAs(down);
  }

  @Test
  void aFailureAfterTheFirstBytesBreaksTheStreamInsteadOfEndingIt() throws IOException {
    try (InputStream in = ProducedStream.start(executor, out -> {
      for (int i = 0; i < 20_000; i++) {
        out.write(line(i));
      }
      throw new IllegalStateException("connection lost");
    })) {
      byte[] buffer = new byte[8192];
      long read = 0;
      IOException broken = null;
      try {
        for (int n; (n = in.read(buffer)) >= 0; ) {
          read += n;
        }
      } catch (IOException e) {
        broken = e;
      }
      assertThat(broken).as("the stream must not end as if complete").isNotNull()
          .hasMessageContaining("incomplete");
      assertThat(read).isPositive();
    }
  }

  @Test
  void aClientThatGoesAwayStopsTheProducer() throws Exception {
    CountDownLatch ended = new CountDownLatch(1);
    AtomicReference<Exception> seen = new AtomicReference<>();
    InputStream in = ProducedStream.start(executor, out -> {
      try {
        for (long i = 0; ; i++) { // endless unless the write fails
          out.write(line((int) i));
        }
      } catch (IOException e) {
        seen.set(e);
        throw e;
      } finally {
        ended.countDown();
      }
    });
    assertThat(in.read(new byte[100])).isPositive();
    in.close();
    assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(seen.get()).hasMessageContaining("client closed");
  }
}
