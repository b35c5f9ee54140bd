package io.carecontext.ingest;

import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;

/** The words a refusal uses for a body's declared encoding, the same on every FHIR path. */
public final class DeclaredCharset {

  private DeclaredCharset() {}

  /** UTF-8, or the charset's name and where it came from. */
  public static String named(Charset charset) {
    return charset.equals(StandardCharsets.UTF_8) ? "UTF-8" : charset.name() + " (the charset its Content-Type names)";
  }
}
