package io.carecontext.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementCompositeDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.parser.json.BaseJsonLikeValue;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Finds where in a resource's JSON the parser's complaint is, as a FHIRPath with list indexes
 * ({@code Patient.telecom[0].system}). HAPI names only the element; the path is found by walking
 * the JSON along the FHIR model, so every step of it is an element name R4 defines, never a key
 * the sender made up (which could be anything, PHI included).
 */
final class ElementLocator {

  private static final int MAX_DEPTH = 64;
  private static final int MAX_FOUND = 16;

  private ElementLocator() {}

  /**
   * The path of the element at fault; when several elements fit (the same bad value twice, say),
   * their common path without list indexes; null when none does or they differ.
   */
  static String locate(JsonNode resource, ParseFault fault) {
    List<String> found = find(resource, fault);
    if (fault.kind == ParseFault.Kind.UNKNOWN) {
      return found.isEmpty() ? null : found.get(0); // the first in the JSON: where the parse stopped
    }
    if (found.size() == 1) {
      return found.get(0);
    }
    List<String> unindexed = found.stream().map(p -> p.replaceAll("\\[[0-9]+\\]", "")).distinct().toList();
    return found.size() <= MAX_FOUND && unindexed.size() == 1 ? unindexed.get(0) : null;
  }

  /**
   * The paths of the elements (the resource itself included) that hold a key R4 does not define there,
   * in the order of the JSON, at most {@value #MAX_FOUND}: what a lenient parse skipped. The key is
   * never part of a path.
   */
  static List<String> unknownParents(JsonNode resource) {
    List<String> found = find(resource, ParseFault.unknown());
    return found.size() > MAX_FOUND ? List.copyOf(found.subList(0, MAX_FOUND)) : found;
  }

  private static List<String> find(JsonNode resource, ParseFault fault) {
    String type = resourceType(resource);
    List<String> found = new ArrayList<>(2);
    if (type != null) {
      walk(resource, Fhir.context().getResourceDefinition(type), type, fault, found, 0);
    }
    return found;
  }

  /** A key the JSON of {@code def} may hold besides its elements: resourceType, or a primitive's {@code _name}. */
  private static boolean defined(BaseRuntimeElementCompositeDefinition<?> def, String name) {
    return name.equals("resourceType") || name.equals("fhir_comments")
        || name.startsWith("_") && def.getChildByName(name.substring(1)) != null;
  }

  private static void walk(JsonNode object, BaseRuntimeElementCompositeDefinition<?> def, String path,
                           ParseFault fault, List<String> found, int depth) {
    if (depth > MAX_DEPTH || found.size() > MAX_FOUND) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = object.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String name = field.getKey();
      BaseRuntimeChildDefinition child = def.getChildByName(name);
      if (child == null) {
        if (name.startsWith("_") && def.getChildByName(name.substring(1)) != null) {
          primitiveElement(field.getValue(), path + "." + name, fault, found, depth);
        } else if (fault.kind == ParseFault.Kind.UNKNOWN && !defined(def, name) && !found.contains(path)) {
          // not an R4 element here: HAPI skips it, so no other fault is in it
          found.add(path);
        }
        continue;
      }
      JsonNode value = field.getValue();
      String at = path + "." + name;
      if (name.equals(fault.element) && fault.kind == ParseFault.Kind.REPEATED) {
        if (value.isArray() && value.size() > 1) {
          found.add(at);
        }
        continue;
      }
      if (value.isArray()) {
        for (int i = 0; i < value.size(); i++) {
          visit(child, name, value.get(i), at + "[" + i + "]", fault, found, depth);
        }
      } else {
        visit(child, name, value, at, fault, found, depth);
      }
    }
  }

  /**
   * A primitive's {@code _name} object (or list of them, with nulls, for a repeating primitive): its
   * {@code id} and {@code extension}. A key besides those is placed at that object ({@code Patient._birthDate},
   * {@code Patient.name[0]._given[1]}, as the parse's other faults name it), as any unknown key is at the
   * element it is in: it was placed at the resource, which told the sender nothing of where.
   */
  private static void primitiveElement(JsonNode value, String at, ParseFault fault, List<String> found, int depth) {
    if (value.isArray()) {
      for (int i = 0; i < value.size(); i++) {
        primitiveElement(value.get(i), at + "[" + i + "]", fault, found, depth);
      }
      return;
    }
    if (!value.isObject() || depth > MAX_DEPTH || found.size() > MAX_FOUND) {
      return;
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> field = it.next();
      String name = field.getKey();
      if (name.equals("extension")) {
        JsonNode extensions = field.getValue();
        for (int i = 0; i < extensions.size() || (i == 0 && extensions.isObject()); i++) {
          JsonNode one = extensions.isArray() ? extensions.get(i) : extensions;
          if (one.isObject()) {
            walk(one, EXTENSION, at + ".extension[" + i + "]", fault, found, depth + 1);
          }
        }
      } else if (fault.kind == ParseFault.Kind.UNKNOWN && !name.equals("id") && !name.equals("fhir_comments")
          && !found.contains(at)) {
        found.add(at);
      }
    }
  }

  private static final BaseRuntimeElementCompositeDefinition<?> EXTENSION = (BaseRuntimeElementCompositeDefinition<?>)
      Fhir.context().getElementDefinition(org.hl7.fhir.r4.model.Extension.class);

  private static void visit(BaseRuntimeChildDefinition child, String name, JsonNode value, String at,
                            ParseFault fault, List<String> found, int depth) {
    if (name.equals(fault.element) && matches(value, fault)) {
      found.add(at);
      return;
    }
    if (!value.isObject()) {
      return;
    }
    String nested = resourceType(value); // Bundle.entry.resource, contained, …
    // an extension's definition is Extension's: HAPI's child of extensions has no child by that name
    // (it throws), which only a walk of every body with a primitive's _name object came to ask it
    BaseRuntimeElementDefinition<?> def = nested != null ? Fhir.context().getResourceDefinition(nested)
        : name.equals("extension") || name.equals("modifierExtension") ? EXTENSION : child.getChildByName(name);
    if (def instanceof BaseRuntimeElementCompositeDefinition<?> composite) {
      walk(value, composite, at, fault, found, depth + 1);
    }
  }

  private static boolean matches(JsonNode value, ParseFault fault) {
    return switch (fault.kind) {
      case VALUE -> value.isValueNode() && fault.value != null && fault.value.equals(value.asText());
      case JSON_TYPE -> fault.found == null || fault.found == kind(value);
      case REPEATED, UNKNOWN -> false;
    };
  }

  private static BaseJsonLikeValue.ValueType kind(JsonNode value) {
    if (value.isObject()) {
      return BaseJsonLikeValue.ValueType.OBJECT;
    }
    if (value.isArray()) {
      return BaseJsonLikeValue.ValueType.ARRAY;
    }
    return value.isNull() ? BaseJsonLikeValue.ValueType.NULL : BaseJsonLikeValue.ValueType.SCALAR;
  }

  private static String resourceType(JsonNode object) {
    JsonNode t = object.get("resourceType");
    return t != null && t.isTextual() && Fhir.context().getResourceTypes().contains(t.asText()) ? t.asText() : null;
  }
}
