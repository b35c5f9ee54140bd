package io.carecontext.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Resource;

/**
 * The one shared R4 {@link FhirContext} (creating one costs ~1.4 s) and the parsing entry points.
 * Parse errors never quote the payload: they name what is wrong and where.
 */
public final class Fhir {

  private static volatile FhirContext context;

  private Fhir() {}

  public static FhirContext context() {
    FhirContext c = context;
    if (c == null) {
      synchronized (Fhir.class) {
        c = context;
        if (c == null) {
          c = FhirContext.forR4();
          context = c;
        }
      }
    }
    return c;
  }

  public static IParser jsonParser() {
    return jsonParser(new NamedErrors(Handling.LENIENT));
  }

  private static IParser jsonParser(NamedErrors errors) {
    return context().newJsonParser().setParserErrorHandler(errors);
  }

  /** Where the parser put what it skipped: {@link #skipped}. */
  private static final String SKIPPED = Fhir.class.getName() + ".skipped";

  static final Pattern ELEMENT = Pattern.compile("^[A-Za-z][A-Za-z0-9_]{0,63}$");
  private static final Pattern UNKNOWN_CODE = Pattern.compile("^Unknown ([A-Za-z]{1,64}) code");

  /**
   * Unknown elements are skipped, as before (a newer or extended feed still loads), unless the write
   * asked for {@link Handling#STRICT}: then the first one fails the parse, and the fault carries
   * neither its name nor its value (a sender's JSON key can be anything, a patient's name included);
   * its parent's path is found afterwards ({@link ElementLocator#unknownParents}). Skipped ones are
   * only noted here. The shape slips HAPI repairs without losing anything are taken too (an object
   * where FHIR wants an array of them, a one-element array where it wants one value). Anything HAPI would drop fails the parse, naming
   * the element and what it needs: a value its type cannot hold, a second value for an element that
   * takes one, a JSON scalar where the element is an object. HAPI's own messages quote the value,
   * which may be PHI: only the element's name (from the FHIR model) and the kind of problem are kept.
   */
  private static final class NamedErrors extends LenientErrorHandler {
    private final Handling handling;
    private boolean skipped;

    NamedErrors(Handling handling) {
      super(false); // never log: HAPI's log lines quote the values
      this.handling = handling;
    }

    @Override
    public void unknownElement(IParseLocation where, String element) {
      if (handling == Handling.STRICT) {
        throw ParseFault.unknown();
      }
      skipped = true;
    }

    @Override
    public void invalidValue(IParseLocation where, String value, String error) {
      String name = where == null ? null : where.getParentElementName();
      throw new ParseFault(ParseFault.Kind.VALUE, name, value, null, needs(error));
    }

    @Override
    public void incorrectJsonType(IParseLocation where, String element, BaseJsonLikeValue.ValueType expected,
                                  BaseJsonLikeValue.ScalarType expectedScalar, BaseJsonLikeValue.ValueType found,
                                  BaseJsonLikeValue.ScalarType foundScalar) {
      if (expected == BaseJsonLikeValue.ValueType.ARRAY && found == BaseJsonLikeValue.ValueType.OBJECT) {
        return; // HAPI keeps it as a list of one
      }
      throw new ParseFault(ParseFault.Kind.JSON_TYPE, element, null, found,
          "expected a JSON " + kind(expected, expectedScalar) + ", found a JSON " + kind(found, foundScalar));
    }

    @Override
    public void unexpectedRepeatingElement(IParseLocation where, String element) {
      throw new ParseFault(ParseFault.Kind.REPEATED, element, null, null, "takes one value, not a list of several");
    }

    private static String kind(BaseJsonLikeValue.ValueType type, BaseJsonLikeValue.ScalarType scalar) {
      if (type == null) {
        return "value";
      }
      return type == BaseJsonLikeValue.ValueType.SCALAR && scalar != null
          ? scalar.name().toLowerCase(Locale.ROOT) : type.name().toLowerCase(Locale.ROOT);
    }

    private static final Pattern SENT_DATE = Pattern.compile("^Invalid date/time format: \"([^\"]*)\"");
    private static final Pattern DATE_FORM = Pattern.compile(
        "^\\d{4}(-\\d{2}(-\\d{2}(T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?)?)?)?$");

    /** What the element needs, from the kind of HAPI's error alone. */
    private static String needs(String error) {
      String e = error == null ? "" : error;
      Matcher code = UNKNOWN_CODE.matcher(e);
      if (code.find()) {
        return "not a code of the FHIR " + code.group(1) + " value set";
      }
      if (e.startsWith("Attribute value must not be empty")) {
        return "an empty string is not a FHIR value: leave the element out instead";
      }
      if (e.startsWith("Invalid date/time format")) {
        // The value (which may be a birth date) is read here and never repeated: a value in the right
        // form that names no real day (1947-02-30) was told its form was wrong.
        Matcher sent = SENT_DATE.matcher(e);
        if (sent.find() && DATE_FORM.matcher(sent.group(1)).matches()) {
          return "in the form of a FHIR date or dateTime, but no such day or time exists (check the month's days "
              + "and the hours and minutes)";
        }
        return "not a FHIR date or dateTime (YYYY, YYYY-MM, YYYY-MM-DD, or YYYY-MM-DDThh:mm:ss with a time zone)";
      }
      if (e.startsWith("Invalid boolean")) {
        return "must be true or false";
      }
      return "not a valid value for the element's type (a number, date, code or other FHIR primitive)";
    }
  }

  /** Parses one R4 resource from JSON; XML, malformed JSON and unknown types are refused. */
  public static Resource parseResource(String json) {
    return parseResource(json, Handling.LENIENT);
  }

  /**
   * {@link #parseResource(String)} with the write's handling of elements R4 does not define: strict
   * refuses the resource naming the element that holds one; lenient skips them and leaves their
   * parents' paths for {@link #skipped}.
   */
  public static Resource parseResource(String json, Handling handling) {
    return parse(json, false, Integer.MAX_VALUE, handling);
  }

  /**
   * Parses a body posted to the base URL. Like {@link #parseResource}, except that a Bundle entry
   * the parser refuses does not fail the whole parse: it is kept as an empty entry carrying its
   * issues, which {@link BundleValidator} reports under the entry's index, so that a batch can
   * answer that entry alone while a transaction is still refused whole.
   */
  public static Resource parseBundleBody(String json) {
    return parse(json, true, Integer.MAX_VALUE, Handling.LENIENT);
  }

  /**
   * {@link #parseBundleBody}, refusing a Bundle of more than {@code maxEntries} entries before it is
   * parsed: the parser holds every entry of the body at once, and the 50 MB body limit let through
   * Bundles of millions of empty entries ({@code {}}, three bytes each), whose parse ran the service out
   * of memory for every tenant. Counted in one streaming pass that stops past the limit.
   */
  public static Resource parseBundleBody(String json, int maxEntries) {
    return parseBundleBody(json, maxEntries, Handling.LENIENT);
  }

  /**
   * {@link #parseBundleBody(String, int)} with the write's handling: under strict, an entry holding an
   * element R4 does not define is refused as any other entry the parser refuses (a transaction whole,
   * a batch that entry alone); under lenient, each entry's skipped parents are left for {@link #skipped}.
   */
  public static Resource parseBundleBody(String json, int maxEntries, Handling handling) {
    return parse(json, true, maxEntries, handling);
  }

  private static Resource parse(String json, boolean entriesApart, int maxEntries, Handling handling) {
    // A UTF-8 byte order mark, as some Windows feeds send one before the JSON (RFC 8259 lets a parser
    // ignore it): it was refused as "not a JSON object", though the admin API took such bodies.
    String trimmed = json == null ? "" : (json.startsWith("\uFEFF") ? json.substring(1) : json).stripLeading();
    if (trimmed.startsWith("<")) {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, null,
          "XML is not supported: send FHIR JSON (application/fhir+json)"));
    }
    if (!trimmed.startsWith("{")) {
      throw FhirInputException.of(FhirIssue.error("structure", null, null,
          "the body is not a JSON object: send one FHIR resource as JSON"));
    }
    if (maxEntries < Integer.MAX_VALUE && JsonBody.topLevelEntries(trimmed, maxEntries) > maxEntries) {
      throw FhirInputException.of(BundleValidator.overEntryCap(maxEntries));
    }
    JsonBody.Scan scan = JsonBody.scan(trimmed);
    if (scan.outside() != null) {
      throw FhirInputException.of(scan.outside());
    }
    if (!scan.inEntries().isEmpty()) { // only a Bundle's entries get here
      return BundleEntries.parse((ObjectNode) JsonBody.tree(trimmed), entriesApart, scan.inEntries(), handling);
    }
    String type = scan.type();
    try {
      Resource r = parseChecked(trimmed, handling, scan.unknownInExtras());
      if (r instanceof Bundle b && !skipped(b).isEmpty()) {
        BundleEntries.spread(b);
      }
      return r;
    } catch (ParseFault | DataFormatException | ClassCastException e) {
      JsonNode tree = JsonBody.tree(trimmed);
      if ("Bundle".equals(type) && tree.path("entry").isArray()) {
        return BundleEntries.parse((ObjectNode) tree, entriesApart, Map.of(), handling);
      }
      throw new FhirInputException(List.of(refusal(e, tree, type)));
    }
  }

  /** HAPI's parse of JSON whose syntax and top-level resourceType are already known to be sound. */
  static Resource parseChecked(String json) {
    return parseChecked(json, Handling.LENIENT);
  }

  /**
   * {@link #parseChecked(String)} with the write's handling. When lenient handling skipped an element,
   * the paths of the elements that held one are kept on the resource ({@link #skipped}): found by
   * walking the JSON again, which only such a parse pays for.
   */
  static Resource parseChecked(String json, Handling handling) {
    // the parse of a Bundle's entries one at a time, after the whole one failed: not scanned, so any
    // body with a _name object (or the text "_ somewhere) is looked at
    return parseChecked(json, handling, json.contains("\"_"));
  }

  /**
   * {@code unknownInExtras}: whether the body may hold a key R4 does not define in a primitive's {@code _name}
   * object beside its id and extensions ({@link JsonShapes#unknownInExtras}), which HAPI drops without calling
   * the error handler: strict took it and lenient did not warn. Only then is the body walked for it.
   */
  private static Resource parseChecked(String json, Handling handling, boolean unknownInExtras) {
    NamedErrors errors = new NamedErrors(handling);
    Resource r = (Resource) jsonParser(errors).parseResource(json);
    if (errors.skipped || unknownInExtras) {
      List<String> dropped = ElementLocator.unknownParents(JsonBody.tree(json));
      if (handling == Handling.STRICT && !dropped.isEmpty()) {
        // dropped without a word by the parser (a strict parse that reported one has thrown already)
        throw ParseFault.unknown();
      }
      setSkipped(r, dropped);
    }
    return r;
  }

  /**
   * The FHIRPaths of the elements in which the lenient parse of {@code parsed} (a resource, or an entry
   * of a parsed Bundle, whose paths are the Bundle's) skipped an element R4 does not define; empty when
   * nothing was skipped. Paths only: the skipped element's name is the sender's and is not kept.
   */
  @SuppressWarnings("unchecked")
  public static List<String> skipped(org.hl7.fhir.r4.model.Base parsed) {
    Object paths = parsed.getUserData(SKIPPED);
    return paths instanceof List<?> l ? (List<String>) l : List.of();
  }

  static void setSkipped(org.hl7.fhir.r4.model.Base parsed, List<String> paths) {
    parsed.setUserData(SKIPPED, paths.isEmpty() ? null : List.copyOf(paths));
  }

  /**
   * The warning of a lenient write for one path {@link #skipped} gave, for a Bundle response entry's
   * outcome. Names the path, never the element skipped there.
   */
  public static FhirIssue skippedWarning(Integer entryIndex, String path) {
    return new FhirIssue(FhirIssue.Severity.WARNING, "structure", entryIndex, path, path + " held an element "
        + "FHIR R4 does not define there; it was skipped and not stored. Remove it, or send its data as an "
        + "extension; send Prefer: handling=strict to have such a resource refused instead");
  }

  /**
   * The issue for a resource the parser refused: the element's FHIRPath, in the expression and the
   * message alike, when it can be found in {@code tree}; else the resource type as the expression
   * (the element may be nested anywhere in it, so no guess at a path) and the element's name in
   * the message. Names only, never values.
   */
  static FhirIssue refusal(RuntimeException e, JsonNode tree, String type) {
    if (e instanceof ParseFault f) {
      String located = ElementLocator.locate(tree, f);
      return FhirIssue.error(f.code(), null, located != null ? located : type, f.message(located));
    }
    return ParseDiagnosis.of(tree, type, null, "").orElseGet(() -> FhirIssue.error("structure", null, type,
        "the " + type + " is not valid FHIR JSON: check the JSON syntax and element types"));
  }

  public static String toJson(IBaseResource resource) {
    return context().newJsonParser().encodeResourceToString(resource);
  }

  public static List<String> supportedTypes() {
    return List.copyOf(context().getResourceTypes());
  }
}
