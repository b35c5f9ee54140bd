package io.carecontext.migrations;

import java.util.Arrays;
import java.util.List;

/**
 * A list the platform operator sets in an environment variable (or the system property of the same
 * name in lower case with dots, which wins): comma-separated {@code tenant:value} pairs, as
 * {@link SecretNames} grants variables and {@link ModelHosts} approves hosts.
 */
final class OperatorList {

  /** One pair as written (stripped); {@code tenant} is "" when nothing stands before a colon. */
  record Entry(String tenant, String value, String written) {}

  private OperatorList() {}

  /** The list's text, or null when it is not set. */
  static String read(String variable) {
    String property = System.getProperty(variable.toLowerCase(java.util.Locale.ROOT).replace('_', '.'));
    return property != null ? property : System.getenv(variable);
  }

  /** The list's pairs, empty ones left out; the value is as written after the first colon. */
  static List<Entry> entries(String list) {
    if (list == null) {
      return List.of();
    }
    return Arrays.stream(list.split(",")).map(String::strip).filter(e -> !e.isEmpty()).map(e -> {
      int colon = e.indexOf(':');
      return colon <= 0 ? new Entry("", colon < 0 ? "" : e.substring(colon + 1), e)
          : new Entry(e.substring(0, colon), e.substring(colon + 1), e);
    }).toList();
  }
}
