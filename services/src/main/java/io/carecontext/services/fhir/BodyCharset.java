package io.carecontext.services.fhir;

import io.micronaut.http.HttpRequest;
import io.micronaut.http.MediaType;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.Locale;
import java.util.Map;

/**
 * The character encoding of a FHIR request body: the {@code charset} its Content-Type names, else
 * UTF-8. FHIR bodies are UTF-8, but an interface engine that labels a Latin-1 body as such
 * ({@code application/fhir+json; charset=ISO-8859-1}) had it read as UTF-8: refused when a byte
 * was not UTF-8, and silently changed when its bytes happened to be ("Ã©" stored as "é").
 */
final class BodyCharset {

  private BodyCharset() {
  }

  /** The encoding the request declares; {@link Unsupported} for a name this JVM does not decode. */
  static Charset of(HttpRequest<?> request) {
    Map<CharSequence, String> parameters = request.getContentType().map(MediaType::getParametersMap).orElse(Map.of());
    for (Map.Entry<CharSequence, String> p : parameters.entrySet()) {
      if (p.getKey().toString().strip().equalsIgnoreCase(MediaType.CHARSET_PARAMETER)) {
        String name = p.getValue() == null ? "" : p.getValue().strip().replaceAll("^\"|\"$", "");
        try {
          return Charset.forName(name);
        } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
          throw new Unsupported(name);
        }
      }
    }
    return StandardCharsets.UTF_8;
  }

  /**
   * Whether lines can be split on the byte 0x0A before decoding (as {@code $import} does): true of
   * UTF-8 and the single-byte and ASCII-based encodings, false of UTF-16 and UTF-32.
   */
  static boolean keepsAsciiLines(Charset charset) {
    String probe = "{\"a\":1}\r\n";
    return charset.canEncode() && java.util.Arrays.equals(probe.getBytes(charset), probe.getBytes(StandardCharsets.US_ASCII));
  }

  /** A charset name this server cannot decode; the 415's message names it only when it is a plain name. */
  static final class Unsupported extends RuntimeException {
    private final String name;

    Unsupported(String name) {
      super(null, null, false, false);
      this.name = name;
    }

    String message() {
      String shown = name.matches("[A-Za-z0-9._:+-]{1,40}") ? name.toLowerCase(Locale.ROOT) : "that Content-Type names";
      return "the charset " + shown + " is not one this server reads: send the body as UTF-8 (charset=utf-8)";
    }
  }
}
