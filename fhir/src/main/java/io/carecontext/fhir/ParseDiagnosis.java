package io.carecontext.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;

/**
 * What HAPI's own refusal of a resource was about, found again in the JSON tree, because its message
 * may quote the input and is never repeated: a resource of no R4 type (in an entry, or contained) or a
 * narrative that is not well-formed XHTML. Those answered "not valid FHIR JSON: check the JSON syntax",
 * for JSON that was sound, naming no element; a single resource of no R4 type is told so by its path.
 * Names and paths only, never values.
 */
final class ParseDiagnosis {

  private ParseDiagnosis() {}

  /** The first such fault of {@code resource} (a resource's JSON object) at {@code path} ("Patient", "Bundle.entry[2].resource"). */
  static Optional<FhirIssue> of(JsonNode resource, String path, Integer index, String prefix) {
    if (resource == null || !resource.isObject()) {
      return Optional.empty();
    }
    JsonNode type = resource.get("resourceType");
    if (type != null && type.isTextual() && !Fhir.context().getResourceTypes().contains(type.asText())) {
      return Optional.of(FhirIssue.error("not-supported", index, path + ".resourceType",
          prefix + "unknown resource type at " + path + ".resourceType: not an R4 resource type; "
              + StoredTypes.UNKNOWN_TYPE_ADVICE));
    }
    JsonNode div = resource.path("text").get("div");
    if (div != null && div.isTextual() && !wellFormedXhtml(div.asText())) {
      return Optional.of(FhirIssue.error("invalid", index, path + ".text.div",
          prefix + path + ".text.div is not well-formed XHTML: send the narrative as one <div "
              + "xmlns=\"http://www.w3.org/1999/xhtml\"> element, every tag closed and nested in order"));
    }
    JsonNode contained = resource.get("contained");
    if (contained != null && contained.isArray()) {
      for (int i = 0; i < contained.size(); i++) {
        Optional<FhirIssue> inner = of(contained.get(i), path + ".contained[" + i + "]", index, prefix);
        if (inner.isPresent()) {
          return inner;
        }
      }
    }
    return Optional.empty();
  }

  /**
   * Well-formed as XML, which XHTML is: HAPI's own XHTML parser closes an open tag itself, so a
   * narrative HAPI refused for one was told "check the JSON syntax". HAPI refuses HTML's named
   * entities (&nbsp;), which plain XML does not define, as this does. No DTD is read.
   */
  private static boolean wellFormedXhtml(String div) {
    try {
      javax.xml.parsers.SAXParserFactory f = javax.xml.parsers.SAXParserFactory.newInstance();
      f.setNamespaceAware(true);
      f.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      f.setFeature("http://xml.org/sax/features/external-general-entities", false);
      f.setFeature("http://xml.org/sax/features/external-parameter-entities", false);
      f.newSAXParser().parse(new org.xml.sax.InputSource(new java.io.StringReader(div)),
          new org.xml.sax.helpers.DefaultHandler() {
            @Override
            public void error(org.xml.sax.SAXParseException e) throws org.xml.sax.SAXException {
              throw e;
            }
          });
      new org.hl7.fhir.utilities.xhtml.XhtmlParser().parse(div, "div");
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
