package io.carecontext.fhir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import java.util.*;

/**
 * Every primitive of the synthetic patients' resources, one at a time, sent with extensions alone
 * (US Core's data-absent-reason) in place of its value: the renderer, and what the write path reads,
 * must take it as absent. A coding's display or system, a criticality, an attachment's content type sent
 * so failed the embedding worker on the resource (a NullPointerException) until it parked it.
 */
class ValuelessPrimitivesTest {
  static final ObjectMapper M = new ObjectMapper();
  List<String> paths = new ArrayList<>();

  void collect(JsonNode n, String path) {
    if (n.isObject()) {
      n.fields().forEachRemaining(e -> {
        String k = e.getKey();
        if (e.getValue().isValueNode() && !k.startsWith("_") && !Set.of("resourceType", "id", "url", "reference", "div").contains(k)) {
          paths.add(path + "/" + k);
        }
        collect(e.getValue(), path + "/" + k);
      });
    } else if (n.isArray()) {
      for (int i = 0; i < n.size(); i++) collect(n.get(i), path + "/" + i);
    }
  }

  @Test
  void aPrimitiveWithExtensionsAloneIsTakenAsAbsentEverywhere() throws Exception {
    Set<String> seen = new TreeSet<>();
    int tried = 0;
    var ps = io.carecontext.fhir.synthetic.SyntheticPatients.generate(7, 3);
    ChunkRenderer renderer = new ChunkRenderer();
    for (var gp : ps) {
      for (var e : gp.bundle().getEntry()) {
        String json = Fhir.toJson(e.getResource());
        JsonNode root = M.readTree(json);
        paths.clear();
        collect(root, "");
        for (String p : paths) {
          JsonNode copy = root.deepCopy();
          int slash = p.lastIndexOf('/');
          JsonNode parent = copy.at(p.substring(0, slash));
          String k = p.substring(slash + 1);
          ObjectNode po = (ObjectNode) parent;
          po.remove(k);
          ObjectNode ext = po.putObject("_" + k);
          ext.putArray("extension").addObject().put("url", "http://hl7.org/fhir/StructureDefinition/data-absent-reason").put("valueCode", "unknown");
          org.hl7.fhir.r4.model.Resource r;
          try {
            r = Fhir.parseResource(M.writeValueAsString(copy));
          } catch (RuntimeException x) {
            continue;
          }
          tried++;
          try {
            renderer.render(r);
            ChunkRenderer.voidsEarlierText(r);
            CareLinks.of(r);
            PatientCompartment.patientIdOf(r);
            if (r instanceof org.hl7.fhir.r4.model.Consent c) ConsentInterpreter.interpret(c);
          } catch (RuntimeException x) {
            StackTraceElement at = Arrays.stream(x.getStackTrace()).filter(s -> s.getClassName().startsWith("io.carecontext")).findFirst().orElse(null);
            seen.add(r.fhirType() + " " + p.replaceAll("/\\d+", "[]") + " " + x.getClass().getSimpleName() + " at " + at);
          }
        }
      }
    }
    org.assertj.core.api.Assertions.assertThat(tried).isGreaterThan(200);
    // each failure names the type, the element's path and where it failed, never a value
    org.assertj.core.api.Assertions.assertThat(seen).isEmpty();
  }
}
