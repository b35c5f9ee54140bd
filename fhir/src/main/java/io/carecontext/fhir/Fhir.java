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
    return context().newJsonParser().setParserErrorHandler(new NamedErrors());
  }

  static final Pattern ELEMENT = Pattern.compile("^[A-Za-z][A-Za-z0-9_]{0,63}$");
  private static final Pattern UNKNOWN_CODE = Pattern.compile("^Unknown ([A-Za-z]{1,64}) code");

  /**
   * Unknown elements are skipped, as before (a newer or extended feed still loads), and so are the
   * shape slips HAPI repairs without losing anything (an object where FHIR wants an array of them,
   * a one-element array where it wants one value). Anything HAPI would drop fails the parse, naming
   * the element and what it needs: a value its type cannot hold, a second value for an element that
   * takes one, a JSON scalar where the element is an object. HAPI's own messages quote the value,
   * which may be PHI: only the element's name (from the FHIR model) and the kind of problem are kept.
   */
  private static final class NamedErrors extends LenientErrorHandler {
    NamedErrors() {
      super(false); // never log: HAPI's log lines quote the values
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
    return parse(json, false);
  }

  /**
   * Parses a body posted to the base URL. Like {@link #parseResource}, except that a Bundle entry
   * the parser refuses does not fail the whole parse: it is kept as an empty entry carrying its
   * issues, which {@link BundleValidator} reports under the entry's index, so that a batch can
   * answer that entry alone while a transaction is still refused whole.
   */
  public static Resource parseBundleBody(String json) {
    return parse(json, true, Integer.MAX_VALUE);
  }

  /**
   * {@link #parseBundleBody}, refusing a Bundle of more than {@code maxEntries} entries before it is
   * parsed: the parser holds every entry of the body at once, and the 50 MB body limit let through
   * Bundles of millions of empty entries ({@code {}}, three bytes each), whose parse ran the service out
   * of memory for every tenant. Counted in one streaming pass that stops past the limit.
   */
  public static Resource parseBundleBody(String json, int maxEntries) {
    return parse(json, true, maxEntries);
  }

  private static Resource parse(String json, boolean entriesApart) {
    return parse(json, entriesApart, Integer.MAX_VALUE);
  }

  private static Resource parse(String json, boolean entriesApart, int maxEntries) {
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
      return BundleEntries.parse((ObjectNode) JsonBody.tree(trimmed), entriesApart, scan.inEntries());
    }
    String type = scan.type();
    try {
      return parseChecked(trimmed);
    } catch (ParseFault | DataFormatException | ClassCastException e) {
      JsonNode tree = JsonBody.tree(trimmed);
      if ("Bundle".equals(type) && tree.path("entry").isArray()) {
        return BundleEntries.parse((ObjectNode) tree, entriesApart, Map.of());
      }
      throw new FhirInputException(List.of(refusal(e, tree, type)));
    }
  }

  /** HAPI's parse of JSON whose syntax and top-level resourceType are already known to be sound. */
  static Resource parseChecked(String json) {
    return (Resource) jsonParser().parseResource(json);
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
