package io.carecontext.fhir;

import ca.uhn.fhir.parser.json.BaseJsonLikeValue;

/**
 * What the parser refused, as the error handler saw it: the element's name, the kind of problem
 * and, for a bad value, the value itself. The value is kept only to find the element in the JSON
 * (it is the one occurrence that carries it); it is never put in a message, and this exception is
 * caught inside {@link Fhir} and never logged. The message waits for the element's path: HAPI
 * knows only the name, and the path is found afterwards ({@link ElementLocator}).
 */
final class ParseFault extends RuntimeException {

  /** UNKNOWN: an element R4 does not define, refused under {@link Handling#STRICT}; its name is not kept. */
  enum Kind { VALUE, JSON_TYPE, REPEATED, UNKNOWN }

  static final String UNKNOWN_PROBLEM = "holds an element that FHIR R4 does not define there (misspelt, or a "
      + "local addition), and the request asked for strict handling (Prefer: handling=strict): remove it, or "
      + "send its data as an extension (an entry of 'extension' with a url of your own)";

  final Kind kind;
  final String element;
  final transient String value;
  final BaseJsonLikeValue.ValueType found;
  /** What the element needs, without naming it: "must be true or false". */
  final String problem;

  /** An element R4 does not define, refused under strict handling: neither its name nor its value is kept. */
  static ParseFault unknown() {
    return new ParseFault(Kind.UNKNOWN, null, null, null, UNKNOWN_PROBLEM);
  }

  ParseFault(Kind kind, String element, String value, BaseJsonLikeValue.ValueType found, String problem) {
    super(problem, null, false, false);
    this.kind = kind;
    this.element = element;
    this.value = value;
    this.found = found;
    this.problem = problem;
  }

  /** The OperationOutcome issue code. */
  String code() {
    return kind == Kind.VALUE ? "value" : "structure";
  }

  /**
   * The message naming the element by {@code path}, as the faults HAPI never reports do
   * ({@link JsonShapes}); by the name HAPI gave when the path was not found (null).
   */
  String message(String path) {
    if (kind == Kind.UNKNOWN) {
      return (path != null ? path : "the resource") + " " + problem;
    }
    return (path != null ? "element '" + path + "'" : bare()) + ": " + problem;
  }

  private String bare() {
    return element != null && Fhir.ELEMENT.matcher(element).matches() ? "element '" + element + "'" : "an element";
  }

  @Override
  public String toString() {
    return "ParseFault[" + kind + "]"; // never the value
  }
}
