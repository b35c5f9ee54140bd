package io.carecontext.fhir;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.Map;

/**
 * The JSON syntax of a body, its top-level resourceType and what HAPI would silently drop from it,
 * checked in one streaming pass before HAPI sees it: HAPI cannot tell a body cut short from one
 * without a resourceType, and its messages quote the input. Messages here give the line and
 * column, or the element's path, never the text.
 */
final class JsonBody {

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final JsonFactory FACTORY = MAPPER.getFactory();

  private JsonBody() {}

  /**
   * What the one streaming pass over a body found: its top-level resourceType, and what HAPI would
   * drop from it without a word ({@link JsonShapes}): the first such fault outside the entries of a
   * Bundle, or null, and the first in each entry, by index.
   */
  record Scan(String type, FhirIssue outside, Map<Integer, FhirIssue> inEntries, boolean unknownInExtras) {}

  /**
   * Reads a JSON object in one streaming pass: malformed JSON, a resourceType that is not a string
   * or not an R4 type answer 400, a missing one 422; the rest is walked along the type's definition.
   */
  static Scan scan(String json) {
    JsonShapes shapes = new JsonShapes();
    JsonShapes.TypeField top;
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw notJson(null);
      }
      top = shapes.top(p);
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        throw notJson(p.currentLocation());
      }
    } catch (com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
      throw overParserLimit(e);
    } catch (JsonProcessingException e) {
      throw notJson(e.getLocation());
    } catch (IOException e) {
      throw notJson(null);
    }
    if (!top.present()) {
      throw FhirInputException.of(FhirIssue.error("required", null, "resourceType", "resourceType is required"));
    }
    String type = top.text();
    if (type == null) {
      throw FhirInputException.of(FhirIssue.error("structure", null, "resourceType",
          "resourceType must be a JSON string naming an R4 resource type"));
    }
    if (!Fhir.context().getResourceTypes().contains(type)) {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, "resourceType",
          StoredTypes.UNKNOWN_TYPE));
    }
    return new Scan(type, shapes.outside(), shapes.inEntries(), shapes.unknownInExtras());
  }

  /**
   * How many items the top-level {@code entry} array holds, counted up to {@code max + 1} (past it the
   * count stops: the Bundle is refused whatever its size). In one streaming pass that keeps nothing of
   * the entries, whatever the position of resourceType; malformed JSON counts 0 here and is refused by
   * {@link #scan}.
   */
  static int topLevelEntries(String json, int max) {
    int count = 0;
    try (JsonParser p = FACTORY.createParser(json)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        return 0;
      }
      for (JsonToken t = p.nextToken(); t == JsonToken.FIELD_NAME; t = p.nextToken()) {
        boolean entries = "entry".equals(p.currentName());
        JsonToken v = p.nextToken();
        if (entries && v == JsonToken.START_ARRAY) {
          for (JsonToken it = p.nextToken(); it != JsonToken.END_ARRAY && it != null; it = p.nextToken()) {
            if (++count > max) {
              return count;
            }
            p.skipChildren();
          }
        } else {
          p.skipChildren();
        }
      }
    } catch (IOException e) {
      return 0; // not JSON, or past a parser limit: the scan says which
    }
    return count;
  }

  static ObjectMapper mapper() {
    return MAPPER;
  }

  /** The tree of JSON whose syntax {@link #scan} has accepted; used only on error paths. */
  static JsonNode tree(String json) {
    try {
      return MAPPER.readTree(json);
    } catch (JsonProcessingException e) {
      throw notJson(e.getLocation());
    }
  }

  /**
   * Sound JSON past one of the parser's limits: nested deeper than 1,000 levels, or a number or
   * string longer than it reads. It was "malformed JSON; check the JSON syntax", and the sender,
   * whose syntax was sound, had nothing to fix. The message names the limit, never the value.
   */
  private static FhirInputException overParserLimit(com.fasterxml.jackson.core.exc.StreamConstraintsException e) {
    String m = String.valueOf(e.getOriginalMessage());
    String what = m.startsWith("Document nesting depth") ? "nests objects and arrays deeper than "
        + FACTORY.streamReadConstraints().getMaxNestingDepth() + " levels"
        : m.startsWith("Number value length") ? "holds a number written with more than "
            + FACTORY.streamReadConstraints().getMaxNumberLength() + " characters"
        : m.startsWith("String value length") ? "holds a string longer than "
            + FACTORY.streamReadConstraints().getMaxStringLength() + " characters"
        : "is past a limit of the JSON parser (nesting, or the length of a number, string or name)";
    return FhirInputException.of(FhirIssue.error("too-costly", null, null, "the body " + what
        + ": its JSON syntax may be sound, but no FHIR resource needs that; send the resource without it"));
  }

  private static FhirInputException notJson(JsonLocation where) {
    String at = where == null || where.getLineNr() < 1 ? ""
        : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
    return FhirInputException.of(FhirIssue.error("structure", null, null,
        "the body is not valid FHIR JSON: malformed JSON" + at + "; check the JSON syntax"));
  }
}
