package io.carecontext.fhir;

import ca.uhn.fhir.parser.json.BaseJsonLikeValue;

/**
 * What the parser refused, as the error handler saw it: the element's name, the kind of problem
 * and, for a bad value, the value itself. The value is kept only to find the element in the JSON
 * (it is the one occurrence that carries it); it is never put in a message, and this exception is
 * caught inside {@link Fhir} and never logged.
 */
final class ParseFault extends RuntimeException {

  enum Kind { VALUE, JSON_TYPE, REPEATED }

  final Kind kind;
  final String element;
  final transient String value;
  final BaseJsonLikeValue.ValueType found;
  final String problem;

  ParseFault(Kind kind, String element, String value, BaseJsonLikeValue.ValueType found, String problem) {
    super(problem, null, false, false);
    this.kind = kind;
    this.element = element;
    this.value = value;
    this.found = found;
    this.problem = problem;
  }

  @Override
  public String toString() {
    return "ParseFault[" + kind + "]"; // never the value
  }
}
