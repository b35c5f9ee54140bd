package io.carecontext.fhir;

import ca.uhn.fhir.context.BaseRuntimeChildDefinition;
import ca.uhn.fhir.context.BaseRuntimeElementDefinition;
import ca.uhn.fhir.util.IModelVisitor2;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.hl7.fhir.instance.model.api.IBase;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Where each populated {@link Reference} of a resource is, as a FHIRPath with list indexes from the resource
 * ({@code subject}, {@code participant[1].member}), so that an error about a reference names its element: an
 * unresolved conditional or {@code urn:uuid} reference was reported at the resource, and a feed with a dozen
 * references looked through all of them. Every step is an element name R4 defines, never the sender's text.
 * {@link #all} lists them for the write path, which resolves each.
 */
public final class ReferencePaths {

  private ReferencePaths() {}

  /**
   * Each populated Reference of {@code resource}, in the resource's order, those in an extension of a primitive
   * ({@code _authoredOn.extension[0].valueReference}) too: the terser's {@code getAllPopulatedChildElementsOfType}
   * does not look there, and a {@code urn:uuid} or conditional reference in one was stored as sent, where no read
   * could follow it, nor refused by {@code $import}.
   */
  public static List<Reference> all(Resource resource) {
    List<Reference> all = new java.util.ArrayList<>();
    eachReference(resource, (ref, containing, children) -> all.add(ref));
    return all;
  }

  /**
   * Each populated Reference of {@code resource} (by identity) and its path below the resource, without its type.
   * It builds every path: for an error's expression, not for every write.
   */
  public static Map<Reference, String> of(Resource resource) {
    Map<Reference, String> paths = new IdentityHashMap<>();
    eachReference(resource, (ref, containing, children) -> paths.put(ref, path(steps(containing), children)));
    return paths;
  }

  /** What is done with each populated Reference, given the terser's path to it. */
  private interface Found {
    void accept(Reference ref, List<IBase> containing, List<BaseRuntimeChildDefinition> children);
  }

  /** The terser's walk of the whole resource, primitives' extensions included, handing on each populated Reference. */
  private static void eachReference(Resource resource, Found found) {
    Fhir.context().newTerser().visit(resource, new IModelVisitor2() {
      @Override
      public boolean acceptElement(IBase element, List<IBase> containing, List<BaseRuntimeChildDefinition> children,
                                   List<BaseRuntimeElementDefinition<?>> definitions) {
        if (element instanceof Reference ref && ref.getReference() != null) {
          found.accept(ref, containing, children);
        }
        return true;
      }
    });
  }

  /**
   * {@code containing} without an element repeated next to itself: the terser lists a contained resource twice (as
   * the value of {@code contained} and as the resource it walks), one more element than {@code children} has steps,
   * and every step below it was read against the wrong parent: {@code contained[0].performer} lost its index.
   */
  private static List<IBase> steps(List<IBase> containing) {
    List<IBase> steps = new java.util.ArrayList<>(containing.size());
    for (IBase element : containing) {
      if (steps.isEmpty() || steps.get(steps.size() - 1) != element) {
        steps.add(element);
      }
    }
    return steps;
  }

  /** {@code containing} runs from the resource to the element; {@code children} names each step below the first. */
  private static String path(List<IBase> containing, List<BaseRuntimeChildDefinition> children) {
    StringBuilder path = new StringBuilder();
    for (int i = 0; i < children.size() && i + 1 < containing.size(); i++) {
      BaseRuntimeChildDefinition child = children.get(i);
      IBase parent = containing.get(i);
      IBase value = containing.get(i + 1);
      // a choice (value[x], an extension's value) by its name for the type, as FHIR JSON names it: valueReference
      String byType = child.getChildNameByDatatype(value.getClass());
      String name = byType != null ? byType : child.getElementName();
      if (path.length() > 0) {
        path.append('.');
      }
      path.append(name);
      List<? extends IBase> values = child.getAccessor().getValues(parent);
      if (child.getMax() != 1) {
        for (int at = 0; at < values.size(); at++) {
          if (values.get(at) == value) {
            path.append('[').append(at).append(']');
            break;
          }
        }
      }
    }
    return path.toString();
  }
}
