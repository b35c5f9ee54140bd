package io.carecontext.ingest.embedding;

import dev.langchain4j.model.embedding.EmbeddingModel;
import java.util.List;

/**
 * all-MiniLM-L6-v2 (quantized, 384 dimensions) run in-process through ONNX Runtime: no network,
 * so PHI never leaves the process. The default provider.
 *
 * <p>The model loads (about 0.6 s) on the first {@link #embedAll}, not at construction; it is
 * loaded once per JVM. Each call runs on the calling thread, and ONNX Runtime adds no threads
 * of its own ({@link SingleThreadedMiniLm}): parallelism belongs to {@link BatchingEmbedder},
 * whose pool is bounded, whereas LangChain4j's default pool for this model has an unbounded queue.
 */
public final class InProcessMiniLmProvider implements EmbeddingProvider {

  public static final String MODEL_ID = "all-minilm-l6-v2-q";
  public static final int DIMENSIONS = 384;

  @Override
  public String modelId() {
    return MODEL_ID;
  }

  @Override
  public int dimensions() {
    return DIMENSIONS;
  }

  @Override
  public List<float[]> embedAll(List<String> texts) {
    Texts.requireValid(texts);
    if (texts.isEmpty()) {
      return List.of(); // LangChain4j rejects an empty list; an empty batch is not an error for us
    }
    try {
      return Texts.vectors(Model.INSTANCE.embedAll(Texts.segments(texts)).content(), texts.size(),
          DIMENSIONS, MODEL_ID);
    } catch (EmbeddingException e) {
      throw e;
    } catch (RuntimeException | LinkageError e) {
      // LinkageError: the model failed to load (e.g. no native ONNX Runtime for this platform).
      throw new EmbeddingException("in-process model '" + MODEL_ID + "' failed on " + texts.size()
          + " texts: " + Redacted.describe(e), "the in-process model failed (" + e.getClass().getSimpleName()
          + "): see the service's log", Redacted.cause(e), e instanceof LinkageError); // not loaded: fails for all
    }
  }

  @Override
  public String toString() {
    return "InProcessMiniLmProvider[" + MODEL_ID + "]";
  }

  /** Holder idiom: the JVM loads the model on first access, exactly once, without locks of ours. */
  private static final class Model {
    static final EmbeddingModel INSTANCE = new SingleThreadedMiniLm();
  }
}
