package io.carecontext.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.context.RuntimeChildChoiceDefinition;
import ca.uhn.fhir.context.RuntimeChildDirectResource;
import ca.uhn.fhir.context.RuntimeChildExtension;
import ca.uhn.fhir.context.RuntimeResourceDefinition;
import com.fasterxml.jackson.core.JsonToken;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * R4's elements as {@link JsonShapes} needs them: which JSON each takes, found from HAPI's element
 * definitions once per element name and kept, so that the walk costs one map look-up a key. Only
 * names R4 defines are kept: a key a sender made up is looked up again each time, never stored.
 */
final class ShapeModel {

  enum Kind {
    /** A JSON string, number or boolean (a list of them when the element repeats). */
    PRIMITIVE,
    /**
     * A primitive that is an attribute in FHIR's XML (an element's id, an extension's url, the
     * narrative's div): one JSON string, never a list, and no {@code _name} object.
     */
    ATTRIBUTE,
    /** A JSON object: a datatype or a backbone element (a list of them when it repeats). */
    OBJECT,
    /** One resource, a JSON object with its resourceType (Bundle.entry.resource). */
    RESOURCE,
    /** A list of resources (contained). */
    RESOURCES,
    /** {@code _name}: the id and extensions of a primitive, a JSON object (a list of them for a list). */
    EXTRAS,
    /** {@code _name} of an ATTRIBUTE, which has no id or extensions: HAPI drops whatever is sent. */
    NO_EXTRAS
  }

  /**
   * The JSON type FHIR's JSON format gives a primitive (R4, JSON representation of primitive
   * values): true or false for a boolean, a number for an integer, positiveInt, unsignedInt or
   * decimal, and a string for every other one.
   */
  enum Json {
    BOOLEAN("a JSON true or false"), NUMBER("a JSON number"), STRING("a JSON string");

    final String text;

    Json(String text) {
      this.text = text;
    }

    static Json of(String type) {
      return switch (type) {
        case "boolean" -> BOOLEAN;
        case "integer", "integer64", "decimal", "positiveInt", "unsignedInt" -> NUMBER;
        default -> STRING;
      };
    }

    /** Whether a JSON scalar (not null) is of this type. */
    boolean takes(JsonToken t) {
      return this == STRING ? t == JsonToken.VALUE_STRING : this == NUMBER ? t.isNumeric() : t.isBoolean();
    }
  }

  /**
   * One element of an object: its kind, its FHIR type's name, the JSON type of its value (for a
   * PRIMITIVE or ATTRIBUTE; else null), whether it repeats, the choice element it is one type of
   * (null when none), and for an object or EXTRAS, the elements of that object.
   */
  record Element(Kind kind, String type, Json json, boolean repeats, BaseRuntimeChildDefinition choice,
                 Fields fields) {}

  /** The elements of one kind of object, by JSON key. */
  static final class Fields {
    private final BaseRuntimeElementCompositeDefinition<?> definition;
    private final Map<String, Element> known = new ConcurrentHashMap<>();

    private Fields(BaseRuntimeElementCompositeDefinition<?> definition) {
      this.definition = definition;
    }

    /** The element a key names, or null when R4 defines none here. */
    Element get(String key) {
      Element e = known.get(key);
      if (e == null && definition != null) {
        e = build(definition, key);
        if (e != null) {
          known.put(key, e);
        }
      }
      return e;
    }
  }

  private static final Map<BaseRuntimeElementCompositeDefinition<?>, Fields> FIELDS = new ConcurrentHashMap<>();
  private static final Map<String, Fields> RESOURCES = new ConcurrentHashMap<>(); // by type name, R4's only
  private static volatile Fields extras;

  private ShapeModel() {}

  /** The elements of an R4 resource type, or null when the type is none. */
  static Fields resource(String type) {
    Fields f = RESOURCES.get(type);
    if (f == null && Fhir.context().getResourceTypes().contains(type)) {
      f = of(Fhir.context().getResourceDefinition(type));
      RESOURCES.put(type, f);
    }
    return f;
  }

  private static Fields of(BaseRuntimeElementCompositeDefinition<?> definition) {
    return FIELDS.computeIfAbsent(definition, Fields::new);
  }

  /** The elements of every primitive's {@code _name} object (FHIR's Element): its id and extensions, nothing else. */
  static Fields extrasFields() {
    return extras();
  }

  /**
   * The {@code extension} of a primitive's {@code _name} object: HAPI reads it apart from every other list of
   * extensions, and drops one sent as an object (or a string) without a word, and throws a NullPointerException
   * on an item that is not an object, where elsewhere it reports either.
   */
  static Element extrasExtension() {
    return extras().known.get("extension");
  }

  private static Fields extras() {
    Fields f = extras;
    if (f == null) {
      f = new Fields(null);
      f.known.put("id", new Element(Kind.PRIMITIVE, "string", Json.STRING, false, null, null));
      f.known.put("extension", new Element(Kind.OBJECT, "Extension", null, true, null, extension()));
      extras = f;
    }
    return f;
  }

  private static Fields extension() {
    return of((BaseRuntimeElementCompositeDefinition<?>) Fhir.context().getElementDefinition("Extension"));
  }

  private static Element build(BaseRuntimeElementCompositeDefinition<?> definition, String key) {
    boolean underscore = key.length() > 1 && key.charAt(0) == '_';
    String name = underscore ? key.substring(1) : key;
    BaseRuntimeChildDefinition child = definition.getChildByName(name);
    if (child == null) {
      return null;
    }
    if (child instanceof RuntimeChildDirectResource) { // its getChildByName builds a new definition each call
      return underscore ? null : new Element(Kind.RESOURCE, "Resource", null, false, null, null);
    }
    if (child instanceof RuntimeChildExtension) { // its getChildByName knows 'extension' only, and asserts
      return underscore ? null : new Element(Kind.OBJECT, "Extension", null, true, null, extension());
    }
    BaseRuntimeElementDefinition<?> element = child.getChildByName(name);
    if (element == null) {
      return null;
    }
    Kind kind = switch (element.getChildType()) {
      case PRIMITIVE_DATATYPE, PRIMITIVE_XHTML, PRIMITIVE_XHTML_HL7ORG, ID_DATATYPE -> Kind.PRIMITIVE;
      case RESOURCE -> Kind.RESOURCE;
      case CONTAINED_RESOURCE_LIST, CONTAINED_RESOURCES -> Kind.RESOURCES;
      default -> element instanceof BaseRuntimeElementCompositeDefinition<?> ? Kind.OBJECT : null;
    };
    if (kind == Kind.PRIMITIVE && attribute(definition, name, element)) {
      kind = Kind.ATTRIBUTE;
    }
    boolean repeats = child.getMax() != 1;
    if (underscore) { // '_' goes only before a primitive; before anything else it names no R4 element
      return kind == Kind.PRIMITIVE ? new Element(Kind.EXTRAS, element.getName(), null, repeats, null, extras())
          : kind == Kind.ATTRIBUTE ? new Element(Kind.NO_EXTRAS, element.getName(), null, false, null, null) : null;
    }
    if (kind == null) {
      return null;
    }
    return new Element(kind, element.getName(), kind == Kind.PRIMITIVE || kind == Kind.ATTRIBUTE
        ? Json.of(element.getName()) : null, repeats, child instanceof RuntimeChildChoiceDefinition ? child : null,
        kind == Kind.OBJECT ? of((BaseRuntimeElementCompositeDefinition<?>) element) : null);
  }

  private static boolean attribute(BaseRuntimeElementCompositeDefinition<?> definition, String name,
                                   BaseRuntimeElementDefinition<?> element) {
    return "id".equals(name) && !(definition instanceof RuntimeResourceDefinition) // a resource's id is an element
        || "url".equals(name) && "Extension".equals(definition.getName())
        || element.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.PRIMITIVE_XHTML
        || element.getChildType() == BaseRuntimeElementDefinition.ChildTypeEnum.PRIMITIVE_XHTML_HL7ORG;
  }
}
