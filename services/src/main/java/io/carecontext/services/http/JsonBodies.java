package io.carecontext.services.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.type.Argument;
import io.micronaut.json.JsonMapper;
import java.io.IOException;
import java.util.Optional;

/**
 * Request bodies read as exactly one JSON value. Micronaut Serde reads the first value of a body and
 * ignores whatever follows it, so {@code {"principal":"p","roles":["auditor"]} {"roles":["tenant-admin"]}}
 * created an auditor key and answered 201, and {@code {…} {"maxResults":3}} slipped an undefined field
 * past the bodies that refuse them. Content after the value is refused like any other body that is not
 * one JSON object; the strict typing of {@link StrictScalars} and the refusal of unknown fields stay
 * Serde's.
 */
public final class JsonBodies {

  private static final JsonFactory FACTORY = new JsonFactory();

  private JsonBodies() {}

  /**
   * The body as {@code type}, or empty for an empty body or a JSON {@code null}. An
   * {@link IOException} for anything else that is not one JSON value of that type: the caller answers
   * 400, naming the field through {@link ApiErrorProcessor#badField} where it can, never the value.
   */
  public static <T> Optional<T> read(JsonMapper json, @Nullable byte[] body, Class<T> type) throws IOException {
    if (body == null || body.length == 0) {
      return Optional.empty();
    }
    T value = json.readValue(body, Argument.of(type));
    requireNothingAfterTheValue(body);
    requireNoMemberTwice(body);
    return Optional.ofNullable(value);
  }

  /**
   * No object of the body names a member twice, at any depth. Serde refused a field given twice at the
   * top of a body, but within an object read as a map (a tenant's {@code settings}) the last one won:
   * {@code {"settings":{"consentMode":"opt-in","consentMode":"opt-out"}}} turned consent to opt-out, while
   * whoever read the request (a reviewer, a change ticket) saw opt-in first. RFC 8259 leaves such a body's
   * meaning to the reader, so it is refused like one that is not one JSON object.
   */
  static void requireNoMemberTwice(byte[] body) throws IOException {
    boolean twice = false;
    try (JsonParser p = FACTORY.createParser(body)) {
      p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      for (int depth = 0; p.nextToken() != null; ) {
        if (p.currentToken().isStructStart()) {
          depth++;
        } else if (p.currentToken().isStructEnd() && --depth == 0) {
          break; // the value's end: what follows is requireNothingAfterTheValue's
        }
      }
    } catch (JsonProcessingException e) {
      twice = true; // the body was read already; the parser's message quotes the member's name, the caller's text
    }
    if (twice) {
      throw new JsonParseException(null, "an object of the body names one member twice");
    }
  }

  /** Whitespace may follow the body's JSON value; anything else is refused. */
  static void requireNothingAfterTheValue(byte[] body) throws IOException {
    boolean more;
    try (JsonParser p = FACTORY.createParser(body)) {
      more = p.nextToken() != null && p.skipChildren() != null && p.nextToken() != null;
    } catch (JsonProcessingException e) {
      more = true; // the parser's message quotes what follows; it must not reach an answer or a log
    }
    if (more) {
      throw new JsonParseException(null, "content after the body's JSON value");
    }
  }
}
