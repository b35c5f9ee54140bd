package io.carecontext.fhir;

import ca.uhn.fhir.context.FhirContext;
import ca.uhn.fhir.parser.DataFormatException;
import ca.uhn.fhir.parser.IParser;
import ca.uhn.fhir.parser.LenientErrorHandler;
import java.util.List;
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
    return context().newJsonParser().setParserErrorHandler(new LenientErrorHandler(false));
  }

  /** Parses one R4 resource from JSON; XML, malformed JSON and unknown types are refused. */
  public static Resource parseResource(String json) {
    String trimmed = json == null ? "" : json.stripLeading();
    if (trimmed.startsWith("<")) {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, null,
          "XML is not supported: send FHIR JSON (application/fhir+json)"));
    }
    if (!trimmed.startsWith("{")) {
      throw FhirInputException.of(FhirIssue.error("structure", null, null,
          "the body is not a JSON object: send one FHIR resource as JSON"));
    }
    String type = resourceTypeOf(trimmed);
    if (type == null) {
      throw FhirInputException.of(FhirIssue.error("required", null, "resourceType",
          "resourceType is required"));
    }
    if (!context().getResourceTypes().contains(type)) {
      throw FhirInputException.of(FhirIssue.error("not-supported", null, "resourceType",
          "unknown resource type: not an R4 resource type"));
    }
    try {
      IBaseResource parsed = jsonParser().parseResource(trimmed);
      return (Resource) parsed;
    } catch (DataFormatException | ClassCastException e) {
      throw FhirInputException.of(FhirIssue.error("structure", null, type,
          "the " + type + " is not valid FHIR JSON: check the JSON syntax and element types"));
    }
  }

  public static String toJson(IBaseResource resource) {
    return context().newJsonParser().encodeResourceToString(resource);
  }

  /** The top-level resourceType of a JSON object, found without a full parse. */
  static String resourceTypeOf(String json) {
    java.util.regex.Matcher m = java.util.regex.Pattern
        .compile("\"resourceType\"\\s*:\\s*\"([A-Za-z]{1,64})\"").matcher(json);
    return m.find() ? m.group(1) : null;
  }

  public static List<String> supportedTypes() {
    return List.copyOf(context().getResourceTypes());
  }
}
