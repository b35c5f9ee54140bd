package io.carecontext.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.util.TokenBuffer;
import io.carecontext.fhir.ShapeModel.Element;
import io.carecontext.fhir.ShapeModel.Fields;
import io.carecontext.fhir.ShapeModel.Kind;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What HAPI's lenient parser drops without calling its error handler, found in the one streaming
 * pass over the body that checks its syntax. Probing HAPI with every R4 primitive kind sent as an
 * object, a list and the other JSON types found these, each refused here:
 * <ul>
 *   <li>a primitive sent as another JSON type than FHIR's JSON format gives it (a number or a
 *       boolean where FHIR wants a string, {@code "true"} for a boolean, {@code "2"} for an integer or
 *       a decimal): HAPI converts most without a word ({@code "family": 12345} is stored as "12345",
 *       a number as the narrative's div becomes markup), so a feed's wrong type is never seen;
 *   <li>a JSON object, or a list inside a list, where FHIR wants a primitive ({@code "gender": {…}},
 *       {@code "family": [{…}]}): HAPI reads it as nothing;
 *   <li>an element's id, an extension's url or the narrative's div sent as a list or with a
 *       {@code _name} object (they take no extensions);
 *   <li>a {@code _name} object beside a list of values, a {@code _name} list longer than the values,
 *       and a primitive's id without extensions (HAPI does not write it back);
 *   <li>a resource that is not one JSON object or has no resourceType (a Bundle entry vanishes), and
 *       an entry's or a parameter's resource sent as null (HAPI fails on it);
 *   <li>a key twice in one object, and two types of one choice element (the last one wins);
 *   <li>base64 that HAPI's decoder cuts short;
 *   <li>a string holding a control character other than tab, line feed or carriage return (FHIR
 *       allows none; a NUL reached PostgreSQL, which refuses it in text, as a 500).
 * </ul>
 * The walk follows the R4 model, so a path's steps are element names R4 defines, never a key the
 * sender made up; elements R4 does not define are skipped unread, as HAPI skips them. What HAPI does
 * report (a string where FHIR wants an object, a value its type cannot hold) is left to it. Nothing
 * here keeps or reports a value.
 */
final class JsonShapes {

  /** A resource's resourceType as sent: absent, present but not a JSON string (text null), or its text. */
  record TypeField(boolean present, String text) {
    static final TypeField ABSENT = new TypeField(false, null);
  }

  private static final int MAX_DEPTH = 100; // deeper than any R4 resource; beyond it only the syntax is checked

  private final String[] names = new String[MAX_DEPTH + 2];
  private final int[] indexes = new int[MAX_DEPTH + 2];
  private final Keys[] keys = new Keys[MAX_DEPTH + 2];
  private int depth;
  private boolean topBundle;
  private int entry = -1;
  private FhirIssue outside;
  private final Map<Integer, FhirIssue> inEntries = new TreeMap<>();

  /** The first fault outside the entries of a top-level Bundle (or anywhere in another resource), or null. */
  FhirIssue outside() {
    return outside;
  }

  /** The first fault of each entry of a top-level Bundle, by entry index. */
  Map<Integer, FhirIssue> inEntries() {
    return inEntries;
  }

  /** Walks the body's top-level resource, with p at its START_OBJECT, through its END_OBJECT. */
  TypeField top(JsonParser p) throws IOException {
    return resource(p, true);
  }

  /**
   * The resource object p is at (START_OBJECT), walked along the definition of its resourceType
   * through its END_OBJECT. A resourceType that is not the first key (FHIR writes it first, and so
   * does every encoder we know) costs a copy of the object's tokens to read it before the rest.
   */
  private TypeField resource(JsonParser p, boolean top) throws IOException {
    JsonToken t = p.nextToken();
    if (t == JsonToken.FIELD_NAME && "resourceType".equals(p.currentName())) {
      TypeField type = typeField(p, p.nextToken());
      p.skipChildren();
      Keys seen = keys(depth);
      seen.add("resourceType");
      Fields fields = definition(type, top);
      if (fields == null) {
        skipRest(p);
      } else {
        fields(p, fields, seen, p.nextToken());
      }
      return type;
    }
    TypeField type = TypeField.ABSENT;
    TokenBuffer copy = new TokenBuffer(p, null);
    copy.writeStartObject();
    for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
      String name = p.currentName();
      copy.writeFieldName(name);
      JsonToken value = p.nextToken();
      if (!type.present() && "resourceType".equals(name)) {
        type = typeField(p, value);
      }
      copy.copyCurrentStructure(p);
    }
    copy.writeEndObject();
    Fields fields = definition(type, top);
    if (fields != null) {
      try (JsonParser again = copy.asParser()) {
        again.nextToken();
        fields(again, fields, keys(depth), again.nextToken());
      }
    }
    return type;
  }

  private static TypeField typeField(JsonParser p, JsonToken value) throws IOException {
    return new TypeField(true, value == JsonToken.VALUE_STRING ? p.getText() : null);
  }

  private Fields definition(TypeField type, boolean top) {
    String text = type.text();
    Fields fields = text == null ? null : ShapeModel.resource(text);
    if (fields == null) {
      if (!top) {
        if (!type.present()) {
          fault("required", "resourceType is required");
        } else if (text == null) {
          fault("structure", "resourceType must be a JSON string naming an R4 resource type");
        }
        // an unknown type is HAPI's to refuse, and it does
      }
      return null;
    }
    if (top) {
      names[0] = text;
      topBundle = "Bundle".equals(text);
    }
    return fields;
  }

  /**
   * Whether a primitive's {@code _name} object holds a key besides its id and extensions, which HAPI drops
   * without calling its error handler (an unknown key anywhere else it reports): {@link Fhir#parseChecked}
   * then looks for where, for strict handling to refuse it and lenient to warn of it.
   */
  boolean unknownInExtras() {
    return unknownInExtras;
  }

  private boolean unknownInExtras;

  /** The keys of an object whose elements are {@code fields}, from {@code t} through its END_OBJECT. */
  private void fields(JsonParser p, Fields fields, Keys seen, JsonToken t) throws IOException {
    List<BaseRuntimeChildDefinition> choices = null;
    for (; t == JsonToken.FIELD_NAME; t = p.nextToken()) {
      String name = p.currentName();
      JsonToken value = p.nextToken();
      Element element = fields.get(name);
      if (!seen.add(name)) {
        duplicate(element != null || "resourceType".equals(name) ? name : null);
      }
      if (element == null && !"fhir_comments".equals(name)
          && (fields == ShapeModel.extrasFields() || name.length() > 1 && name.charAt(0) == '_')) {
        // a key in a primitive's '_' object besides its id and extensions, or a '_' before an element that is
        // not a primitive (_name before a HumanName, _contained): HAPI drops what they hold without a word
        unknownInExtras = true;
      }
      if (element == null || depth >= MAX_DEPTH) {
        p.skipChildren(); // not an R4 element here: HAPI skips it too
        continue;
      }
      push(name);
      if (element.choice() != null) {
        if (choices == null) {
          choices = new ArrayList<>(2);
        }
        if (choices.contains(element.choice())) {
          fault("structure", "a choice element takes one value: send only one of its types");
        }
        choices.add(element.choice());
      }
      int items = value(p, value, element);
      if (element.kind() == Kind.EXTRAS || element.kind() == Kind.PRIMITIVE && value == JsonToken.START_ARRAY) {
        seen.shape(name, value == JsonToken.START_ARRAY, items);
      }
      pop();
    }
    if (seen.extras > 0) {
      pairs(seen);
    }
  }

  /**
   * Each {@code _name} against its primitive's value: HAPI pairs them by place, and drops without a
   * word the extensions of a place where there is no value and a {@code _name} object beside a list.
   */
  private void pairs(Keys seen) {
    for (int e = 0; e < seen.shapes; e++) {
      String extras = seen.shapeNames[e];
      if (extras.charAt(0) != '_') {
        continue;
      }
      String name = extras.substring(1);
      int values = seen.has(name) ? 1 : 0;
      boolean valueList = false;
      for (int v = 0; v < seen.shapes; v++) {
        if (seen.shapeNames[v].equals(name)) {
          values = seen.shapeItems[v];
          valueList = seen.shapeLists[v];
        }
      }
      push(extras);
      if (valueList && !seen.shapeLists[e] && seen.shapeItems[e] > 0) {
        fault("structure", "is one JSON object, but '" + name + "' is a list: send '" + extras
            + "' as a list too, with each item's id and extensions at the place of its value");
      } else if (seen.shapeLists[e] && seen.shapeItems[e] > values) {
        fault("structure", "has an item after the last of '" + name + "', which would be dropped: an item's id and "
            + "extensions go at the same place in '" + extras + "' as its value in '" + name
            + "' (null in either list where there is none)");
      }
      pop();
    }
  }

  /**
   * One element's value, p at its first token; a list is walked item by item. Answers how many
   * places it fills: the items of a list up to its last one that is not null, else 1, or 0 for null.
   */
  private int value(JsonParser p, JsonToken t, Element element) throws IOException {
    if (t != JsonToken.START_ARRAY && t != JsonToken.VALUE_NULL && element.kind() == Kind.OBJECT && element.repeats()
        && element == ShapeModel.extrasExtension()) { // a list sent as one: rare, so the only bodies that look it up
      fault("structure", "expected a JSON list (of extensions), found " + found(t, false));
      p.skipChildren();
      return 1;
    }
    if (t != JsonToken.START_ARRAY) {
      item(p, t, element, false);
      return t == JsonToken.VALUE_NULL ? 0 : 1;
    }
    if (element.kind() == Kind.RESOURCE || element.kind() == Kind.ATTRIBUTE || element.kind() == Kind.NO_EXTRAS) {
      item(p, t, element, false); // never a list: HAPI drops a list of these without a word
      return 1;
    }
    boolean entries = topBundle && depth == 1 && "entry".equals(names[1]);
    int i = 0;
    int filled = 0;
    for (JsonToken it = p.nextToken(); it != JsonToken.END_ARRAY; it = p.nextToken(), i++) {
      indexes[depth] = i;
      if (entries) {
        entry = i;
      }
      if (it != JsonToken.VALUE_NULL) {
        filled = i + 1;
      }
      item(p, it, element, true);
    }
    if (entries) {
      entry = -1;
    }
    return element.kind() == Kind.EXTRAS ? filled : i; // a null value still holds the place of its extensions
  }

  private void item(JsonParser p, JsonToken t, Element element, boolean inList) throws IOException {
    switch (element.kind()) {
      case PRIMITIVE, ATTRIBUTE -> primitive(p, t, element, inList);
      case NO_EXTRAS -> {
        if (t != JsonToken.VALUE_NULL) {
          String name = names[depth].substring(1);
          fault("structure", "'" + name + "' takes no id or extensions in FHIR JSON: leave '_" + name + "' out");
          p.skipChildren();
        }
      }
      case RESOURCE, RESOURCES -> {
        if (t == JsonToken.START_OBJECT && element.kind() == Kind.RESOURCES && insideContained()) {
          // HAPI moves a contained resource's own contained ones up into the container without a word,
          // where the container's references then name them: FHIR forbids the nesting (dom-2)
          fault("invariant", "a contained resource SHALL NOT contain further resources (FHIR invariant dom-2): "
              + "send them all in the containing resource's own 'contained'");
          p.skipChildren();
        } else if (t == JsonToken.START_OBJECT) {
          resource(p, false);
        } else if (t == JsonToken.VALUE_NULL && element.kind() == Kind.RESOURCE) { // a NullPointerException in HAPI
          fault("structure", "expected a JSON object (a resource with its resourceType), found JSON null: "
              + "leave '" + names[depth] + "' out when there is none");
        } else if (t != JsonToken.VALUE_NULL) {
          fault("structure", "expected a JSON object (a resource with its resourceType), found " + found(t, inList));
          p.skipChildren();
        }
      }
      case EXTRAS -> {
        if (t == JsonToken.START_OBJECT) {
          Keys seen = keys(depth);
          fields(p, element.fields(), seen, p.nextToken());
          if (seen.has("id") && !seen.has("extension")) { // HAPI writes a primitive's id only with extensions
            fault("not-supported", "a primitive's id is kept only with its extensions: send the extensions it "
                + "identifies, or leave the id out");
          }
        } else if (t != JsonToken.VALUE_NULL) {
          fault("structure", "expected a JSON object (the id and extensions of '" + names[depth].substring(1)
              + "'), found " + found(t, inList));
          p.skipChildren();
        }
      }
      case OBJECT -> {
        if (t == JsonToken.START_OBJECT) {
          fields(p, element.fields(), keys(depth), p.nextToken());
        } else if (element == ShapeModel.extrasExtension()) { // HAPI threw a NullPointerException on it
          fault("structure", "expected a JSON object (an extension), found " + found(t, inList));
          p.skipChildren();
        } else {
          p.skipChildren(); // a scalar or list where FHIR wants an object: HAPI reports it
        }
      }
    }
  }

  private void primitive(JsonParser p, JsonToken t, Element element, boolean inList) throws IOException {
    if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
      String problem = expected(element) + found(t, inList);
      fault("structure", t == JsonToken.START_OBJECT && element.kind() == Kind.PRIMITIVE
          ? problem + "; its id and extensions go in '_" + names[depth] + "'" : problem);
      p.skipChildren();
    } else if (t != JsonToken.VALUE_NULL && !element.json().takes(t)) {
      fault("structure", expected(element) + found(t, inList)); // HAPI would convert it, or turn it into markup
    } else if (t == JsonToken.VALUE_STRING && "id".equals(element.type()) && !FhirId.isValid(p.getText())) {
      // HAPI keeps the last segment of a URL or a path ("https://other.example/fhir/Patient/7", "../7")
      // as the id: written, it replaced this store's Patient/7, another person's record
      fault("value", "must be a FHIR id, " + FhirId.RULE + (p.getText().contains("/") ? ": not a URL or a path, of "
          + "which only the last segment would be kept (and could name another resource here)" : ""));
    } else if (t == JsonToken.VALUE_STRING && "base64Binary".equals(element.type()) && !wholeBase64(p.getText())) {
      fault("value", "not whole base64: characters after the '=' padding, or a last group of one character, "
          + "would be dropped when it is decoded");
    } else if (t == JsonToken.VALUE_NUMBER_FLOAT && tooLongWrittenOut(p)) {
      // HAPI writes a decimal out in full: 1e99999 was stored as 100,000 digits, which this parser
      // then refused on every read (the worker parked it, chat failed on the patient), and a larger
      // exponent would fill the heap while it was written
      fault("value", "a number that written out takes more than 1,000 digits, which FHIR JSON cannot carry: "
          + "send it with fewer");
    } else if (t == JsonToken.VALUE_STRING && "date".equals(element.type()) && DAY_AND_TIME.matcher(p.getText()).matches()) {
      // HAPI keeps a time of day in a date ("birthDate": "1961-03-04T10:00:00Z") and stores it as sent
      fault("value", "a FHIR date takes no time of day (YYYY, YYYY-MM or YYYY-MM-DD)");
    } else if (t == JsonToken.VALUE_STRING && ("dateTime".equals(element.type()) || "instant".equals(element.type()))
        && DAY_AND_TIME.matcher(p.getText()).matches() && !FULL_TIME.matcher(p.getText()).matches()) {
      // R4: "if hours and minutes are specified, a time zone SHALL be populated", and seconds are part of a
      // time; HAPI keeps one without either, a moment no reader can place
      fault("value", "a FHIR " + element.type() + " with a time of day needs its seconds and a time zone "
          + "(YYYY-MM-DDThh:mm:ss followed by Z or +hh:mm/-hh:mm)");
    } else if (t == JsonToken.VALUE_STRING && hasControlCharacter(p)) {
      // FHIR strings hold no control characters but tab, line feed and carriage return; PostgreSQL
      // refuses a NUL in text outright, which was a 500 for a label code that held one
      fault("value", "holds a control character (U+0000 to U+001F other than tab, line feed and carriage "
          + "return), which no FHIR string may hold");
    } else if (t == JsonToken.VALUE_STRING && hasLoneSurrogate(p)) {
      // a JSON escape of half a surrogate pair, without the other half, is valid JSON but no character:
      // written as UTF-8 it became "?", and the value was stored changed without a word
      fault("value", "holds a \\uD800-\\uDFFF escape without its pair (half of a UTF-16 surrogate pair), which "
          + "is no character: send the character itself, or both halves of its pair");
    }
  }

  /**
   * A day and a time of day in the form FHIR writes them, whatever follows the hours and minutes; a
   * value of another form is left to HAPI, which names it as no date at all.
   */
  private static final java.util.regex.Pattern DAY_AND_TIME =
      java.util.regex.Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:\\d{2})?$");
  /** A time of day as a dateTime or instant must carry it: seconds and a zone. */
  private static final java.util.regex.Pattern FULL_TIME =
      java.util.regex.Pattern.compile("^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$");

  /** The longest JSON number the parser reads (Jackson's default), and so the longest a stored body may hold. */
  static final int MAX_NUMBER_LENGTH = 1000;

  /** Whether the number in hand takes more than {@link #MAX_NUMBER_LENGTH} characters written out. */
  private static boolean tooLongWrittenOut(JsonParser p) throws IOException {
    try {
      return writtenOutLength(p.getDecimalValue()) > MAX_NUMBER_LENGTH;
    } catch (NumberFormatException e) { // an exponent past what BigDecimal holds (its message quotes the number)
      return true;
    }
  }

  /** The characters of {@code d} written out without an exponent, as HAPI writes it, counted without writing it. */
  static long writtenOutLength(java.math.BigDecimal d) {
    long precision = d.precision();
    long scale = d.scale();
    long digits = scale <= 0 ? precision - scale : Math.max(precision, scale + 1);
    return digits + (scale > 0 ? 1 : 0) + (d.signum() < 0 ? 1 : 0);
  }

  private static boolean hasControlCharacter(JsonParser p) throws IOException {
    char[] text = p.getTextCharacters();
    int end = p.getTextOffset() + p.getTextLength();
    for (int i = p.getTextOffset(); i < end; i++) {
      char c = text[i];
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
        return true;
      }
    }
    return false;
  }

  private static boolean hasLoneSurrogate(JsonParser p) throws IOException {
    char[] text = p.getTextCharacters();
    int end = p.getTextOffset() + p.getTextLength();
    for (int i = p.getTextOffset(); i < end; i++) {
      char c = text[i];
      if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(text[i + 1])) {
        i++; // a pair: one character
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private void duplicate(String knownName) {
    if (knownName == null) {
      fault("structure", "a key appears more than once in this JSON object: send each key once");
    } else {
      push(knownName);
      fault("structure", "appears more than once in its JSON object: send it once");
      pop();
    }
  }

  /**
   * Whether HAPI's lenient decoder keeps every character: it stops at the first '=' and drops a
   * last group of one character (six bits, less than a byte). Whitespace is allowed, as in FHIR.
   */
  static boolean wholeBase64(String s) {
    int chars = 0;
    boolean padded = false;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
        continue;
      }
      if (c == '=') {
        padded = true;
      } else if (padded) {
        return false;
      } else {
        chars++;
      }
    }
    return chars % 4 != 1;
  }

  private static String expected(Element element) {
    return "expected " + element.json().text + " (a FHIR " + element.type() + "), found ";
  }

  private static String found(JsonToken t, boolean inList) {
    String kind = switch (t) {
      case START_OBJECT -> "a JSON object";
      case START_ARRAY -> "a JSON list";
      case VALUE_STRING -> "a JSON string";
      case VALUE_TRUE, VALUE_FALSE -> "a JSON boolean";
      case VALUE_NULL -> "JSON null";
      default -> "a JSON number";
    };
    return inList ? kind + " in the list" : kind;
  }

  /** Whether the list being walked (at {@link #depth}) is a {@code contained} inside a contained resource. */
  private boolean insideContained() {
    if (!"contained".equals(names[depth])) {
      return false;
    }
    for (int d = 1; d < depth; d++) {
      if ("contained".equals(names[d])) {
        return true;
      }
    }
    return false;
  }

  private void fault(String code, String problem) {
    String path = path();
    if (entry >= 0) {
      inEntries.putIfAbsent(entry, new FhirIssue(FhirIssue.Severity.ERROR, code, entry, path,
          "bundle entry " + entry + ": element '" + path + "': " + problem));
    } else if (outside == null) {
      outside = FhirIssue.error(code, null, path, "element '" + path + "': " + problem);
    }
  }

  private String path() {
    StringBuilder b = new StringBuilder(names[0]);
    for (int d = 1; d <= depth; d++) {
      b.append('.').append(names[d]);
      if (indexes[d] >= 0) {
        b.append('[').append(indexes[d]).append(']');
      }
    }
    return b.toString();
  }

  private void push(String name) {
    depth++;
    names[depth] = name;
    indexes[depth] = -1;
  }

  private void pop() {
    depth--;
  }

  private Keys keys(int d) {
    Keys k = keys[d];
    if (k == null) {
      k = new Keys();
      keys[d] = k;
    }
    k.clear();
    return k;
  }

  private static void skipRest(JsonParser p) throws IOException {
    while (p.nextToken() == JsonToken.FIELD_NAME) {
      p.nextToken();
      p.skipChildren();
    }
  }

  /**
   * The keys of one object so far, and how its primitives' lists and their '_' objects were sent.
   * FHIR objects have a handful of keys, which Jackson interns, so a short list compared by identity
   * first is cheaper than hashing every key; past that, a set, so that an object of many keys costs
   * no quadratic time.
   */
  private static final class Keys {
    private static final int LIST = 24;
    private final String[] list = new String[LIST];
    private int size;
    private Set<String> set;
    private String[] shapeNames = new String[4];
    private int[] shapeItems = new int[4];
    private boolean[] shapeLists = new boolean[4];
    private int shapes;
    private int extras;

    void clear() {
      size = 0;
      set = null;
      shapes = 0;
      extras = 0;
    }

    /** False when the key is already there. */
    boolean add(String name) {
      if (set != null) {
        return set.add(name);
      }
      for (int i = 0; i < size; i++) {
        String n = list[i];
        if (n == name || n.equals(name)) {
          return false;
        }
      }
      if (size < LIST) {
        list[size++] = name;
      } else {
        set = new HashSet<>(Arrays.asList(list));
        set.add(name);
      }
      return true;
    }

    boolean has(String name) {
      if (set != null) {
        return set.contains(name);
      }
      for (int i = 0; i < size; i++) {
        if (list[i].equals(name)) {
          return true;
        }
      }
      return false;
    }

    /** Records how a primitive's value or its '_' object was sent: a list or not, and the places it fills. */
    void shape(String name, boolean isList, int items) {
      if (shapes == shapeNames.length) {
        shapeNames = Arrays.copyOf(shapeNames, shapes * 2);
        shapeItems = Arrays.copyOf(shapeItems, shapes * 2);
        shapeLists = Arrays.copyOf(shapeLists, shapes * 2);
      }
      shapeNames[shapes] = name;
      shapeItems[shapes] = items;
      shapeLists[shapes++] = isList;
      if (name.charAt(0) == '_') {
        extras++;
      }
    }
  }
}
