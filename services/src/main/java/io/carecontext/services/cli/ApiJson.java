package io.carecontext.services.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads the fields the command line needs from the service's JSON answers (admin views,
 * transaction-response Bundles, OperationOutcomes), with a JSON parser: a body that is not JSON
 * (a proxy's error page, say) reads as empty, never as a wrong count.
 */
public final class ApiJson {

  private static final ObjectMapper JSON = new ObjectMapper();

  private ApiJson() {}

  static JsonNode parse(String body) {
    try {
      return body == null || body.isBlank() ? MissingNode.getInstance() : JSON.readTree(body);
    } catch (JsonProcessingException e) {
      return MissingNode.getInstance();
    }
  }

  /** A whole-number field of the object, 0 if it has none. */
  public static long number(String json, String field) {
    return parse(json).path(field).asLong(0);
  }

  /** A text field of the object. */
  public static String text(String json, String field) {
    JsonNode v = parse(json).path(field);
    if (!v.isTextual()) {
      throw new IllegalStateException("response has no " + field);
    }
    return v.asText();
  }

  /** A text field of the object, or null when it has none (a field an older server does not send). */
  public static String optionalText(String json, String field) {
    JsonNode v = parse(json).path(field);
    return v.isTextual() ? v.asText() : null;
  }

  /**
   * Whether a 200 body is what the FHIR endpoint answers: a response Bundle for a Bundle, the
   * import report (an OperationOutcome with the counts) for NDJSON.
   */
  static boolean isFhirAnswer(String body, boolean ndjson) {
    return (ndjson ? "OperationOutcome" : "Bundle").equals(parse(body).path("resourceType").asText(""));
  }

  /** The entries of a transaction-response Bundle whose status is 2xx. */
  static long succeededEntries(String bundleJson) {
    long n = 0;
    for (JsonNode entry : parse(bundleJson).path("entry")) {
      if (entry.path("response").path("status").asText("").startsWith("2")) {
        n++;
      }
    }
    return n;
  }

  /**
   * The entries of a batch- or transaction-response Bundle whose status is not 2xx, one line each:
   * index (the request Bundle's, as the response keeps its order), status, and the error issues of
   * the entry's OperationOutcome (diagnostics, and the expression where the diagnostics do not
   * already name it). The server's outcomes name elements, never values.
   */
  static List<String> refusedEntries(String bundleJson) {
    List<String> out = new ArrayList<>();
    int index = 0;
    for (JsonNode entry : parse(bundleJson).path("entry")) {
      JsonNode response = entry.path("response");
      String status = response.path("status").asText("");
      if (!status.startsWith("2")) {
        // the server's diagnostics say "bundle entry N: …"; the line already starts with the index
        String named = "bundle entry " + index + ": ";
        List<String> why = reasons(response.path("outcome")).stream()
            .map(r -> r.startsWith(named) ? r.substring(named.length()) : r).toList();
        out.add("entry " + index + ": " + (status.isEmpty() ? "no status" : status) + ": "
            + (why.isEmpty() ? "the server gave no reason" : String.join("; ", why)));
      }
      index++;
    }
    return out;
  }

  private static List<String> reasons(JsonNode outcome) {
    List<String> out = new ArrayList<>();
    for (JsonNode issue : outcome.path("issue")) {
      String severity = issue.path("severity").asText("");
      if (!severity.equals("error") && !severity.equals("fatal")) {
        continue;
      }
      String diagnostics = issue.path("diagnostics").asText("");
      List<String> unnamed = new ArrayList<>();
      for (JsonNode e : issue.path("expression")) {
        if (!diagnostics.contains(e.asText())) {
          unnamed.add(e.asText());
        }
      }
      String where = String.join(", ", unnamed);
      if (where.isEmpty()) {
        out.add(diagnostics);
      } else {
        out.add(diagnostics.isEmpty() ? "at " + where : diagnostics + " (at " + where + ")");
      }
    }
    return out;
  }

  /** The id of the first resource of that type in a transaction-response Bundle's locations. */
  public static String location(String bundleJson, String type) {
    for (JsonNode entry : parse(bundleJson).path("entry")) {
      String location = entry.path("response").path("location").asText("");
      if (location.startsWith(type + "/")) {
        return location.substring(type.length() + 1).split("/", 2)[0];
      }
    }
    throw new IllegalStateException("no " + type + " in the transaction response");
  }

  /** The diagnostics of an OperationOutcome's error issues (the server's messages never carry PHI). */
  static List<String> errors(String outcomeJson) {
    List<String> out = new ArrayList<>();
    for (JsonNode issue : parse(outcomeJson).path("issue")) {
      String severity = issue.path("severity").asText("");
      if (severity.equals("error") || severity.equals("fatal")) {
        out.add(issue.path("diagnostics").asText(""));
      }
    }
    return out;
  }

  /** The first diagnostics of an OperationOutcome, or the {@code message} of an {@code {"error","message"}} body. */
  static String diagnostics(String body) {
    JsonNode root = parse(body);
    for (JsonNode issue : root.path("issue")) {
      if (issue.hasNonNull("diagnostics")) {
        return issue.get("diagnostics").asText();
      }
    }
    return root.path("message").asText("");
  }

  private static final Pattern COUNT = Pattern.compile("\\b(\\w+) (\\d+)");

  /**
   * The lines of an {@code $import} that are stored: written, or already stored with that content,
   * as a Bundle's 2xx entries are (an unchanged entry answers 200), so one summary counts both alike.
   */
  static long importStored(String outcomeJson) {
    return importCount(outcomeJson, "written") + importCount(outcomeJson, "unchanged");
  }

  /**
   * A count of {@code $import}'s summary ("lines 3, written 2, unchanged 0, failed 1, 12 ms"), the
   * diagnostics of its information issue; 0 if it has none.
   */
  static long importCount(String outcomeJson, String name) {
    for (JsonNode issue : parse(outcomeJson).path("issue")) {
      if (issue.path("severity").asText("").equals("information")) {
        Matcher m = COUNT.matcher(issue.path("diagnostics").asText(""));
        while (m.find()) {
          if (m.group(1).equals(name)) {
            return Long.parseLong(m.group(2));
          }
        }
      }
    }
    return 0;
  }

  /**
   * The server's own message in a refusal: an API error's {@code message}, an OperationOutcome's first
   * diagnostics, else the start of the body. Read with a JSON parser: a pattern stopped at the first escaped
   * quote of the message, cutting off what it says to do (the operator key's 403 ended "(roles [\").
   */
  public static String refusal(String body) {
    com.fasterxml.jackson.databind.JsonNode json = parse(body);
    return json.path("message").isTextual() ? json.path("message").asText()
        : json.path("issue").path(0).path("diagnostics").isTextual() ? json.path("issue").path(0).path("diagnostics").asText()
        : body == null ? "" : body.length() > 300 ? body.substring(0, 300) : body;
  }
}
