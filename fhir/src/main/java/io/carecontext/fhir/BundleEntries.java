package io.carecontext.fhir;

import ca.uhn.fhir.parser.DataFormatException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Bundle.BundleEntryComponent;

/**
 * A Bundle the parser refused, parsed again one entry at a time, so that the issue names the entry
 * it is in, and so that a batch loses only that entry. Runs only after a failed parse: a sound
 * Bundle is parsed once, whole.
 */
final class BundleEntries {

  private static final String ISSUES = BundleEntries.class.getName() + ".issues";
  private static final String ALONE = "Bundle.entry[0]"; // where parseEntry puts each entry

  private BundleEntries() {}

  /**
   * The Bundle with every entry that parses; each one that does not is an empty entry carrying its
   * issues ({@link #issuesOf}) when {@code entriesApart}, else the issues of all such entries are
   * thrown. A fault outside the entries refuses the whole Bundle. An entry in {@code refused} (the
   * streaming pass's faults, which HAPI would not report) is not parsed: it fails with that issue.
   */
  static Bundle parse(ObjectNode tree, boolean entriesApart, Map<Integer, FhirIssue> refused, Handling handling) {
    JsonNode entries = tree.get("entry");
    ObjectNode shell = JsonBody.mapper().createObjectNode(); // a shallow copy: the entries are not copied
    shell.setAll(tree);
    shell.remove("entry");
    Bundle bundle;
    try {
      bundle = (Bundle) Fhir.parseChecked(shell.toString(), handling);
    } catch (ParseFault | DataFormatException | ClassCastException e) {
      throw new FhirInputException(List.of(Fhir.refusal(e, shell, "Bundle")));
    }
    List<FhirIssue> issues = new ArrayList<>();
    for (int i = 0; i < entries.size(); i++) {
      FhirIssue known = refused.get(i);
      BundleEntryComponent entry = known != null ? failed(known) : parseEntry(entries.get(i), i, handling);
      issues.addAll(issuesOf(entry));
      bundle.addEntry(entry);
    }
    if (!entriesApart && !issues.isEmpty()) {
      throw new FhirInputException(issues);
    }
    return bundle;
  }

  /** Issues found while parsing the entry, or none when it parsed. */
  @SuppressWarnings("unchecked")
  static List<FhirIssue> issuesOf(BundleEntryComponent entry) {
    Object issues = entry.getUserData(ISSUES);
    return issues instanceof List<?> l ? (List<FhirIssue>) l : List.of();
  }

  /**
   * Moves the paths a whole Bundle's lenient parse skipped elements in ({@link Fhir#skipped}) to the
   * entries they are in, so that each entry's response can say so; those outside every entry stay
   * on the Bundle.
   */
  static void spread(Bundle bundle) {
    List<String> outside = new ArrayList<>();
    Map<Integer, List<String>> byEntry = new java.util.TreeMap<>();
    for (String path : Fhir.skipped(bundle)) {
      java.util.regex.Matcher m = ENTRY.matcher(path);
      if (m.find() && Integer.parseInt(m.group(1)) < bundle.getEntry().size()) {
        byEntry.computeIfAbsent(Integer.parseInt(m.group(1)), k -> new ArrayList<>()).add(path);
      } else {
        outside.add(path);
      }
    }
    byEntry.forEach((i, paths) -> Fhir.setSkipped(bundle.getEntry().get(i), paths));
    Fhir.setSkipped(bundle, outside);
  }

  private static final java.util.regex.Pattern ENTRY = java.util.regex.Pattern.compile("^Bundle\\.entry\\[([0-9]{1,9})\\]");

  private static BundleEntryComponent parseEntry(JsonNode entry, int index, Handling handling) {
    // The entry alone in a Bundle of its own: the parse of one entry cannot fail on another one.
    ObjectNode one = JsonBody.mapper().createObjectNode().put("resourceType", "Bundle");
    one.putArray("entry").add(entry);
    String at = "Bundle.entry[" + index + "]";
    try {
      Bundle b = (Bundle) Fhir.parseChecked(one.toString(), handling);
      BundleEntryComponent parsed = b.getEntry().isEmpty() ? new BundleEntryComponent() : b.getEntry().get(0);
      // found in the Bundle of one, the paths are renumbered as the entry's
      Fhir.setSkipped(parsed, Fhir.skipped(b).stream()
          .map(p -> p.startsWith(ALONE) ? at + p.substring(ALONE.length()) : p).toList());
      return parsed;
    } catch (ParseFault f) {
      // found in the Bundle of one, the path is renumbered before the message names it
      String located = ElementLocator.locate(one, f);
      String path = located != null && located.startsWith(ALONE) ? at + located.substring(ALONE.length()) : null;
      return failed(FhirIssue.error(f.code(), index, path != null ? path : at,
          "bundle entry " + index + ": " + f.message(path)));
    } catch (DataFormatException | ClassCastException e) {
      // HAPI's own refusals (a resource of no R4 type, say) say nothing we may repeat: found again
      // in the tree where they can be
      Optional<FhirIssue> found = ParseDiagnosis.of(entry.get("resource"), at + ".resource", index,
          "bundle entry " + index + ": ");
      if (found.isPresent()) {
        return failed(found.get());
      }
      return failed(FhirIssue.error("structure", index, at,
          "bundle entry " + index + ": the entry is not valid FHIR JSON: check its resource's resourceType and element types"));
    }
  }

  private static BundleEntryComponent failed(FhirIssue issue) {
    BundleEntryComponent failed = new BundleEntryComponent();
    failed.setUserData(ISSUES, List.of(issue));
    return failed;
  }
}
