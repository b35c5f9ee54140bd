package io.carecontext.services.http;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
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
    T value;
    try {
      value = json.readValue(body, Argument.of(type));
    } catch (IOException e) {
      // sound JSON past a limit of the parser (nested deeper than 1,000 levels, a number of more than
      // 1,000 digits) was answered "not valid JSON" or "malformed": the caller had no syntax to fix
      String limit = pastParserLimit(body);
      if (limit != null) {
        throw new BodyFault(limit);
      }
      // Serde refuses a member named twice at the top of some bodies with a message of its own, which the
      // callers answered "not valid JSON": the caller is told what is wrong with a body that is sound JSON
      if (namesAMemberTwice(body)) {
        throw new BodyFault(MEMBER_TWICE);
      }
      throw e;
    }
    requireOneValueNamingEachMemberOnce(body);
    return Optional.ofNullable(value);
  }

  /** The fault of a body that is sound JSON but not one object naming each member once. */
  static final String MEMBER_TWICE = "an object in the body names a member twice";
  static final String CONTENT_AFTER = "the body has content after its JSON value";

  /**
   * A body refused for its shape, not its syntax: content after the value, or a member named twice. Its
   * message is one of the fixed faults above, never the body's text, so callers put it in their 400: they
   * answered "not valid JSON or not an object" (context, chat, research) and "the request is malformed"
   * (admin) to a body that is valid JSON, and a caller could not tell what to change.
   */
  public static final class BodyFault extends JsonParseException {
    BodyFault(String fault) {
      super((JsonParser) null, fault);
    }

    /** The fault, for a 400's message: it quotes nothing of the body. */
    public String fault() {
      return getOriginalMessage();
    }
  }

  /**
   * What limit of the JSON parser {@code body} is past, as a fault for a 400 (naming the limit, never
   * the value), or null when it is within them all.
   */
  static @Nullable String pastParserLimit(byte[] body) throws IOException {
    try (JsonParser p = FACTORY.createParser(body)) {
      while (p.nextToken() != null) {
        // every token, to the end: a limit met anywhere
      }
      return null;
    } catch (StreamConstraintsException e) {
      return overLimit(e);
    } catch (JsonProcessingException e) {
      return null;
    }
  }

  private static String overLimit(StreamConstraintsException e) {
    String m = String.valueOf(e.getOriginalMessage());
    return "the body " + (m.startsWith("Document nesting depth") ? "nests objects and arrays deeper than "
        + FACTORY.streamReadConstraints().getMaxNestingDepth() + " levels"
        : m.startsWith("Number value length") ? "holds a number written with more than "
            + FACTORY.streamReadConstraints().getMaxNumberLength() + " characters"
        : m.startsWith("String value length") ? "holds a string longer than "
            + FACTORY.streamReadConstraints().getMaxStringLength() + " characters"
        : "is past a limit of the JSON parser (nesting, or the length of a number, string or name)")
        + ", which no field of it needs";
  }

  /** Sound JSON (one value, whatever follows it) of which an object names a member twice. */
  static boolean namesAMemberTwice(byte[] body) throws IOException {
    return !walksValue(body, true) && walksValue(body, false);
  }

  private static boolean walksValue(byte[] body, boolean strict) throws IOException {
    try (JsonParser p = FACTORY.createParser(body)) {
      if (strict) {
        p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      }
      if (p.nextToken() != null) {
        p.skipChildren();
      }
      return true;
    } catch (JsonProcessingException e) {
      return false;
    }
  }

  /**
   * The body is one JSON value, with whitespace alone after it, and no object of it names a member twice,
   * at any depth: one streaming pass over the body (the mapper has read the value already). Serde refused
   * a field given twice at the top of a body, but within an object read as a map (a tenant's
   * {@code settings}) the last one won: {@code {"settings":{"consentMode":"opt-in","consentMode":"opt-out"}}}
   * turned consent to opt-out, while whoever read the request (a reviewer, a change ticket) saw opt-in
   * first. RFC 8259 leaves such a body's meaning to the reader, so it is refused like one that is not one
   * JSON object. Neither refusal quotes the body: the parser's messages do (a member's name, what follows).
   */
  static void requireOneValueNamingEachMemberOnce(byte[] body) throws IOException {
    String fault = null;
    try (JsonParser p = FACTORY.createParser(body)) {
      p.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
      try {
        if (p.nextToken() != null) {
          p.skipChildren();
        }
      } catch (StreamConstraintsException e) {
        fault = overLimit(e); // the mapper read it (a map's depth is its own), the parser did not
      } catch (JsonProcessingException e) {
        fault = MEMBER_TWICE; // the value parsed: the one fault left in it
      }
      if (fault == null) {
        try {
          if (p.nextToken() != null) {
            fault = CONTENT_AFTER;
          }
        } catch (JsonProcessingException e) {
          fault = CONTENT_AFTER;
        }
      }
    }
    if (fault != null) {
      throw new BodyFault(fault);
    }
  }
}
