package io.carecontext.migrations;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeSet;

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

  // Checked on every request, so by hand rather than with a regex (JFR showed the regexes in every
  // request's profile); PolicySettingsTest holds the checks to the regexes they replace.
  /** A setting's name: {@code cc.} and 1 to 40 of {@code [a-z_]}. */
  static boolean validName(String name) {
    int n = name.length();
    if (n < 4 || n > 43 || !name.startsWith("cc.")) {
      return false;
    }
    for (int i = 3; i < n; i++) {
      char ch = name.charAt(i);
      if (!(ch >= 'a' && ch <= 'z' || ch == '_')) {
        return false;
      }
    }
    return true;
  }

  /**
   * A list item: 1 to 128 of {@code [A-Za-z0-9-.:_|*]}. Values are comma-joined lists of FHIR ids
   * and codes; a comma inside one would widen the list.
   */
  static boolean validItem(String item) {
    int n = item.length();
    if (n < 1 || n > 128) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      char ch = item.charAt(i);
      if (!(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9'
          || ch == '-' || ch == '.' || ch == ':' || ch == '_' || ch == '|' || ch == '*')) {
        return false;
      }
    }
    return true;
  }

  public PolicySettings {
    boolean nulls = false;
    for (Map.Entry<String, String> e : values.entrySet()) {
      if (!validName(e.getKey())) {
        throw new IllegalArgumentException("policy setting names are cc.<lowercase>");
      }
      nulls |= e.getValue() == null;
    }
    if (nulls) {
      Map<String, String> copy = new LinkedHashMap<>();
      values.forEach((k, v) -> copy.put(k, v == null ? "" : v));
      values = copy;
    }
    values = Map.copyOf(values); // the same instance when it already is one (withQualifiedNames)
  }

  public PolicySettings(Map<String, String> values) {
    this(values, false);
  }

  /**
   * The settings' names only: their values name patients ({@code cc.subject}, {@code cc.patients})
   * and carry the hash that opens the read policies ({@code cc.key_hash}), none of it for a log line.
   */
  @Override
  public String toString() {
    return "PolicySettings[names=" + new TreeSet<>(values.keySet()) + ", qualifiedNames=" + qualifiedNames + "]";
  }

  /**
   * The path these settings open ({@code cc.access}: read, research, audit, identity, fhir-read,
   * ingest), or "" for none.
   */
  public String access() {
    return values.getOrDefault("cc.access", "");
  }

  /** The same settings, for work that names its tables with {@link TenantSql}. */
  public PolicySettings withQualifiedNames() {
    return new PolicySettings(values, true);
  }

  /**
   * The same settings with the request's API key presented to the database: its id ({@code cc.key})
   * and the SHA-256 of its secret, hex ({@code cc.key_hash}), as {@code platform.api_keys} stores it.
   * The restrictive policies of tenant migrations 27 and 28 admit what the read, research,
   * identity and FHIR-read paths hand out (chunks, break-glass windows, identifying resources,
   * resources whole) only while these name a live key of the tenant; without them, none of it.
   */
  public PolicySettings withCaller(String keyId, String keySecretHash) {
    Map<String, String> withKey = new LinkedHashMap<>(values);
    withKey.put("cc.key", keyId);
    withKey.put("cc.key_hash", keySecretHash);
    return new PolicySettings(withKey, qualifiedNames);
  }

  /** The write path: sees and changes all rows of its tenant. */
  public static PolicySettings ingest() {
    return new PolicySettings(Map.of("cc.access", "ingest"));
  }

  /**
   * A FHIR write (create, update, delete, Bundle, bulk import) for the request's key: the write
   * path's settings with the key presented, which the tenant role needs to write a resource at all
   * (tenant migration 29: only a live EHR-integration key of the tenant).
   */
  public static PolicySettings fhirWrite(String keyId, String keySecretHash) {
    return ingest().withCaller(keyId, keySecretHash);
  }

  /** No settings at all: RLS admits no rows. */
  public static PolicySettings none() {
    return new PolicySettings(Map.of());
  }

  /**
   * A FHIR read (read, vread) for the request's key: resources whole, only while the key is a live
   * EHR-integration key of the tenant (tenant migration 28).
   */
  public static PolicySettings fhirRead(String keyId, String keySecretHash) {
    return new PolicySettings(Map.of("cc.access", "fhir-read")).withCaller(keyId, keySecretHash);
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
        if (!validItem(item)) {
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
