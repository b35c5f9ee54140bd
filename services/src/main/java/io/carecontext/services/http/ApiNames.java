package io.carecontext.services.http;

import io.micronaut.core.annotation.Introspected;
import io.micronaut.core.beans.BeanIntrospection;
import io.micronaut.core.beans.BeanIntrospector;
import io.micronaut.core.beans.BeanProperty;
import java.util.Collection;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Names a caller sent that the API does not take (a body's field, a query parameter, a setting) are
 * never repeated in the answer unless they are the API's own words: a name is free text, and a feed
 * that built one from a patient's name or MRN ({@code "mrn4711"}, {@code "JaneDoe"}) had it copied into
 * the error message, which clients log. A near miss of a name the API takes is suggested instead,
 * which says what to fix without repeating anything.
 */
public final class ApiNames {

  private ApiNames() {}

  /** Every property name of the service's own request and answer bodies. */
  private static final Set<String> OWN = ownNames();

  private static Set<String> ownNames() {
    Set<String> names = new TreeSet<>();
    for (BeanIntrospection<Object> i : BeanIntrospector.SHARED.findIntrospections(Introspected.class, "io.carecontext")) {
      for (BeanProperty<Object, Object> p : i.getBeanProperties()) {
        names.add(p.getName());
      }
    }
    return Set.copyOf(names);
  }

  /**
   * {@code 'name'} when it is one of {@code known} or of the API's own names; otherwise a phrase that
   * does not repeat it, with the nearest of {@code known} (at most two edits away) as a suggestion.
   */
  public static String describe(String name, Collection<String> known) {
    if (known.contains(name) || OWN.contains(name)) {
      return "'" + name + "'";
    }
    String near = nearest(name, known);
    return near == null ? "(not repeated here: only the API's own names are)" : "(not repeated here; did you mean '" + near + "'?)";
  }

  static String nearest(String name, Collection<String> known) {
    String best = null;
    int bestDistance = 3;
    String lower = name.toLowerCase(Locale.ROOT);
    if (lower.length() > 64) {
      return null;
    }
    for (String k : known) {
      int d = distance(lower, k.toLowerCase(Locale.ROOT));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best;
  }

  /** Levenshtein distance. */
  private static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }

  /** The API's own names, for tests. */
  static Set<String> own() {
    return OWN;
  }
}
