package io.carecontext.fhir;

import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.hl7.fhir.r4.model.DomainResource;
import org.hl7.fhir.r4.model.Resource;
import org.hl7.fhir.utilities.xhtml.NodeType;
import org.hl7.fhir.utilities.xhtml.XhtmlNode;

/**
 * FHIR R4's narrative rule (txt-1): a resource's {@code text.div} holds basic HTML formatting only,
 * no active content. A stored narrative is served back as it was sent (FHIR read) and shown by
 * EHR viewers as HTML, so a {@code <script>}, an {@code onclick}, or a {@code javascript:} link
 * stored here would run in the browser of the next clinician who opens the record. Refused with a
 * 400 that names the element and the construct, never the narrative's text (which is PHI).
 *
 * <p>Elements: those of FHIR's list (HTML 4 formatting, lists, tables, links and images);
 * attributes: any but an event handler ({@code on…}); links and image sources: relative, a
 * fragment, {@code http}, {@code https} or {@code mailto} (images also {@code data:image/png},
 * {@code jpeg} or {@code gif}).
 */
public final class NarrativeValidator {

  private static final Set<String> ELEMENTS = Set.of("a", "abbr", "acronym", "b", "big", "blockquote", "br",
      "caption", "cite", "code", "col", "colgroup", "dd", "dfn", "div", "dl", "dt", "em", "h1", "h2", "h3", "h4",
      "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre", "q", "samp", "small", "span", "strong", "sub",
      "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "ul", "var");

  /** A scheme, as a browser reads one: letters before a colon, control characters and blanks ignored. */
  private static final Pattern SCHEME = Pattern.compile("^([a-z][a-z0-9+.\\-]*):");
  private static final Pattern IGNORED = Pattern.compile("[\\x00-\\x20\\x7f]");
  private static final Set<String> LINK_SCHEMES = Set.of("http", "https", "mailto");
  private static final Pattern PATH = Pattern.compile("[/?#].*$");
  private static final Pattern IMAGE_DATA = Pattern.compile("^data:image/(png|jpeg|gif)[;,]");

  private NarrativeValidator() {}

  /** The issues of the resource's narrative and of its contained resources', one at most each. */
  static void check(Resource resource, String path, List<FhirIssue> issues) {
    if (!(resource instanceof DomainResource r)) {
      return;
    }
    if (r.hasText() && r.getText().getDiv() != null) {
      String fault = fault(r.getText().getDiv(), true);
      if (fault != null) {
        issues.add(FhirIssue.error("invalid", null, path + ".text.div", path + ".text.div may hold basic HTML "
            + "only (FHIR narrative rule txt-1): " + fault + " is not allowed; send the narrative without it"));
      }
    }
    for (int i = 0; i < r.getContained().size(); i++) {
      check(r.getContained().get(i), path + ".contained[" + i + "]", issues);
    }
  }

  /** What is wrong with the node or below it, in words that quote no text; null if nothing. */
  private static String fault(XhtmlNode node, boolean root) {
    if (node.getNodeType() == NodeType.Element) {
      String name = node.getName() == null ? "" : node.getName().toLowerCase(Locale.ROOT);
      if (!ELEMENTS.contains(name) && !(root && "div".equals(name))) {
        // element names are markup, not narrative; an unknown one is shown cut short
        return "the element <" + (name.matches("[a-z0-9:-]{1,20}") ? name : "unknown") + ">";
      }
      for (var a : node.getAttributes().entrySet()) {
        String attribute = a.getKey().toLowerCase(Locale.ROOT);
        if (attribute.startsWith("on")) {
          return "an event-handler attribute on <" + name + ">";
        }
        if (("href".equals(attribute) || "src".equals(attribute)) && !safeUrl(a.getValue(), "img".equals(name))) {
          return "the " + attribute + " of an <" + name + "> (only relative, #, http, https"
              + ("img".equals(name) ? ", data:image/png, jpeg or gif" : " or mailto") + " URLs)";
        }
      }
    } else if (node.getNodeType() == NodeType.Instruction || node.getNodeType() == NodeType.DocType) {
      return "a processing instruction or document type";
    }
    for (XhtmlNode child : node.getChildNodes()) {
      String fault = fault(child, false);
      if (fault != null) {
        return fault;
      }
    }
    return null;
  }

  /**
   * The length of what {@code v.replaceAll("[/?#].*$", "")} removes. A '/', '?' or '#' before a line separator
   * (U+0085, U+2028, U+2029) that does not end the value starts no match, and the pattern tried each, scanning
   * to the separator: 32 KiB of "/" and one took 1.2 s, quadratic. The search starts after the last such one.
   */
  static int pathLength(String v) {
    int last = v.length() - 1;
    if (v.endsWith("\r\n")) {
      last -= 2;
    } else if (last >= 0 && lineSeparator(v.charAt(last))) {
      last--;
    }
    while (last >= 0 && !lineSeparator(v.charAt(last))) {
      last--;
    }
    Matcher m = PATH.matcher(v).region(last + 1, v.length());
    return m.find() ? m.end() - m.start() : 0;
  }

  private static boolean lineSeparator(char c) {
    return c == '\n' || c == '\r' || c == '\u0085' || c == '\u2028' || c == '\u2029';
  }

  static boolean safeUrl(String value, boolean image) {
    String v = IGNORED.matcher(value == null ? "" : value).replaceAll("").toLowerCase(Locale.ROOT);
    var scheme = SCHEME.matcher(v);
    if (!scheme.find()) {
      // relative or a fragment, unless a colon before any '/', '?' or '#' makes it read as a scheme
      int colon = v.indexOf(':');
      int end = v.length() - pathLength(v);
      return colon < 0 || colon >= end;
    }
    return LINK_SCHEMES.contains(scheme.group(1)) && !(image && "mailto".equals(scheme.group(1)))
        || image && IMAGE_DATA.matcher(v).find();
  }
}
