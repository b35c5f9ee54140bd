package io.carecontext.migrations;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The row-level-security settings of one tenant transaction ({@code cc.*}). The RLS policies of the
 * tenant template read them; an unset setting admits no rows.
 *
 * @param values           the {@code cc.*} settings
 * @param qualifiedNames   the work names every table with its tenant schema ({@link TenantSql}), so
 *                         the transaction keeps one search path for all tenants: PostgreSQL drops a
 *                         cached plan whenever the search path changes, and a pooled connection
 *                         serves many tenants. The hot read path runs this way.
 */
public record PolicySettings(Map<String, String> values, boolean qualifiedNames) {

  private static final Pattern NAME = Pattern.compile("^cc\\.[a-z_]{1,40}$");
  // Values are comma-joined lists of FHIR ids and codes; a comma inside one would widen the list.
  private static final Pattern ITEM = Pattern.compile("^[A-Za-z0-9\\-.:_|*]{1,128}$");

  public PolicySettings {
    Map<String, String> copy = new LinkedHashMap<>();
    values.forEach((k, v) -> {
      if (!NAME.matcher(k).matches()) {
        throw new IllegalArgumentException("policy setting names are cc.<lowercase>");
      }
      copy.put(k, v == null ? "" : v);
    });
    values = Map.copyOf(copy);
  }

  public PolicySettings(Map<String, String> values) {
    this(values, false);
  }

  /** The path these settings open ({@code cc.access}: read, research, audit, identity, ingest), or "" for none. */
  public String access() {
    return values.getOrDefault("cc.access", "");
  }

  /** The same settings, for work that names its tables with {@link TenantSql}. */
  public PolicySettings withQualifiedNames() {
    return new PolicySettings(values, true);
  }

  /** The write path: sees and changes all rows of its tenant. */
  public static PolicySettings ingest() {
    return new PolicySettings(Map.of("cc.access", "ingest"));
  }

  /** No settings at all: RLS admits no rows. */
  public static PolicySettings none() {
    return new PolicySettings(Map.of());
  }

  /** Reading the known identifiers of these patients, for de-identification. */
  public static PolicySettings identity(Collection<String> patientIds) {
    return new Builder().set("cc.access", "identity").patients(patientIds).build();
  }

  public static Builder read() {
    return new Builder().set("cc.access", "read");
  }

  public static final class Builder {
    private final Map<String, String> values = new LinkedHashMap<>();

    public Builder set(String name, String value) {
      values.put(name, value);
      return this;
    }

    public Builder list(String name, Collection<String> items) {
      for (String item : items) {
        if (!ITEM.matcher(item).matches()) {
          throw new IllegalArgumentException("policy list items must be ids or codes without commas");
        }
      }
      values.put(name, String.join(",", items));
      return this;
    }

    public Builder patients(Collection<String> ids) {
      return list("cc.patients", ids);
    }

    public Builder categories(Collection<String> codes) {
      return list("cc.categories", codes);
    }

    public Builder labels(Collection<String> codes) {
      return list("cc.labels", codes);
    }

    public PolicySettings build() {
      return new PolicySettings(values);
    }
  }
}
