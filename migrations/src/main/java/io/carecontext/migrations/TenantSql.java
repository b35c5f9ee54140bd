package io.carecontext.migrations;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * SQL that names the tenant's tables with its schema: {@code {schema}} in a template becomes the
 * quoted schema name. Each tenant then has its own statement text, which PostgreSQL prepares and
 * plans once per pooled connection and keeps, instead of planning again whenever the connection
 * last served another tenant (see {@link PolicySettings#qualifiedNames()}).
 */
public final class TenantSql {

  // Keyed by the tenant id and the template (both keep their hash), and returns the same text object
  // on every request, which the driver's statement cache finds without hashing a new string.
  private static final Map<TenantId, Map<String, String>> CACHE = new ConcurrentHashMap<>();

  private TenantSql() {}

  public static String of(TenantId tenant, String template) {
    return CACHE.computeIfAbsent(tenant, s -> new ConcurrentHashMap<>())
        .computeIfAbsent(template, t -> t.replace("{schema}", Identifiers.quote(tenant.schemaName())));
  }
}
