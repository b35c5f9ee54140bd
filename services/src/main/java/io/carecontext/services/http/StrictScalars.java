package io.carecontext.services.http;

import io.micronaut.core.type.Argument;
import io.micronaut.serde.Decoder;
import io.micronaut.serde.Deserializer;
import io.micronaut.serde.exceptions.InvalidFormatException;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.math.BigInteger;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Request bodies are bound without type coercion. Micronaut Serde, like Jackson, reads
 * {@code "k": "5"} as 5, {@code 2.5} as 2, {@code true} as 1 and {@code "dryRun": "yes"} as false, and
 * has no setting to turn that off; a body of the wrong type is then silently a different request (a
 * mistyped {@code dryRun} sent the prompt to the model). These replace the built-in readers of
 * strings, whole numbers, booleans and instants: a string field takes only a JSON string, a whole-number
 * field only a JSON integer, a boolean only {@code true} or {@code false}, an instant only an ISO-8601
 * string. A mismatch is an
 * {@link InvalidFormatException}, which Serde ties to the field and {@link ApiErrorProcessor} answers
 * with a 400 naming the field and the type it needs, never the value.
 *
 * <p>Only request bodies are read through Serde here (stored settings are read as untyped maps, the
 * CLI and the model gateways use their own parsers), so the strictness reaches nothing else.
 */
final class StrictScalars {

  private StrictScalars() {}

  @Singleton
  static final class Strings implements Deserializer<String> {
    @Override
    public String deserialize(Decoder decoder, DecoderContext context, Argument<? super String> type)
        throws IOException {
      return decoder.decodeArbitrary() instanceof String s ? s : throw_(type);
    }
  }

  @Singleton
  static final class Integers implements Deserializer<Integer> {
    @Override
    public Integer deserialize(Decoder decoder, DecoderContext context, Argument<? super Integer> type)
        throws IOException {
      Object value = decoder.decodeArbitrary();
      if (value instanceof Integer i) {
        return i;
      }
      // A whole number out of int range is still the wrong kind of value for this field.
      if (value instanceof Long || value instanceof BigInteger) {
        throw new InvalidFormatException("whole number out of range", null, null);
      }
      return throw_(type);
    }
  }

  @Singleton
  static final class Booleans implements Deserializer<Boolean> {
    @Override
    public Boolean deserialize(Decoder decoder, DecoderContext context, Argument<? super Boolean> type)
        throws IOException {
      return decoder.decodeArbitrary() instanceof Boolean b ? b : throw_(type);
    }
  }

  /**
   * An instant ({@code expiresAt}) only as an ISO-8601 string with its offset. Serde's own reader
   * took a number as epoch seconds, and its parse error reached the caller as "the request is
   * malformed", which did not say which field or what form it takes.
   */
  @Singleton
  static final class Instants implements Deserializer<Instant> {
    @Override
    public Instant deserialize(Decoder decoder, DecoderContext context, Argument<? super Instant> type)
        throws IOException {
      if (decoder.decodeArbitrary() instanceof String s) {
        try {
          return OffsetDateTime.parse(s).toInstant();
        } catch (DateTimeParseException e) {
          throw new InvalidFormatException("not an ISO-8601 instant", null, null); // its message quotes the value
        }
      }
      return throw_(type);
    }
  }

  /** Never carries the value: it may be PHI. */
  private static <T> T throw_(Argument<?> type) throws InvalidFormatException {
    throw new InvalidFormatException("a JSON value of another type where " + type.getType().getSimpleName()
        + " was expected", null, null);
  }
}
