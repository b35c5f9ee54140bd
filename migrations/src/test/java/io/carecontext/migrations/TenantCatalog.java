package io.carecontext.migrations;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What PostgreSQL's catalog says about one tenant schema, as sorted lines per kind of object, with
 * the tenant's schema and role names replaced by placeholders so that two tenants compare. Read as
 * a superuser, which sees every definition. Table contents are not part of it.
 */
record TenantCatalog(Map<String, Set<String>> kinds) {

  // Each query takes the schema name as its one parameter. A column that is an SQL array is a set:
  // its items are compared sorted, after the names in them are replaced.
  private static final Map<String, String> QUERIES = new LinkedHashMap<>();

  static {
    QUERIES.put("schema", """
        SELECT pg_get_userbyid(n.nspowner), (SELECT array_agg(format('%s %s %s', CASE WHEN a.grantee = 0 THEN 'PUBLIC'
               ELSE pg_get_userbyid(a.grantee) END, a.privilege_type, a.is_grantable))
               FROM aclexplode(coalesce(n.nspacl, acldefault('n'::"char", n.nspowner))) a)
        FROM pg_namespace n WHERE n.nspname = ?""");
    QUERIES.put("relations", """
        SELECT c.relname, c.relkind, c.relpersistence, 'rls=' || c.relrowsecurity, 'forced=' || c.relforcerowsecurity,
               pg_get_userbyid(c.relowner), c.reloptions
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'c', 'f')""");
    // The position counts live columns only: a column dropped on one path must not shift the rest.
    QUERIES.put("columns", """
        SELECT c.relname, row_number() OVER (PARTITION BY c.oid ORDER BY a.attnum), a.attname,
               format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NOT NULL' ELSE 'NULL' END,
               'default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), ''),
               'identity=' || a.attidentity::text, 'generated=' || a.attgenerated::text,
               'storage=' || a.attstorage::text, 'collation=' || coalesce(co.collname, '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation AND a.attcollation <> 0
        WHERE n.nspname = ? AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')""");
    QUERIES.put("sequences", """
        SELECT c.relname, format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin, s.seqmax, s.seqcache,
               s.seqcycle
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ?""");
    QUERIES.put("indexes", """
        SELECT x.relname, pg_get_indexdef(i.indexrelid), 'valid=' || i.indisvalid
        FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid JOIN pg_namespace n ON n.oid = x.relnamespace
        WHERE n.nspname = ?""");
    QUERIES.put("constraints", """
        SELECT coalesce(t.relname, ty.typname), con.conname, con.contype, pg_get_constraintdef(con.oid),
               'deferrable=' || con.condeferrable, 'validated=' || con.convalidated
        FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
        LEFT JOIN pg_class t ON t.oid = con.conrelid LEFT JOIN pg_type ty ON ty.oid = con.contypid
        WHERE n.nspname = ?""");
    QUERIES.put("policies", """
        SELECT tablename, policyname, permissive, roles, cmd, 'USING ' || coalesce(qual, '-'),
               'WITH CHECK ' || coalesce(with_check, '-')
        FROM pg_policies WHERE schemaname = ?""");
    // pg_get_functiondef refuses aggregates: for those, their transition function, state and start.
    QUERIES.put("functions", """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', p.prokind,
               'security definer=' || p.prosecdef, 'owner=' || pg_get_userbyid(p.proowner), p.proconfig,
               CASE WHEN p.prokind = 'a' THEN (SELECT format('aggregate sfunc=%s stype=%s initcond=%s', g.aggtransfn,
                      format_type(g.aggtranstype, NULL), g.agginitval) FROM pg_aggregate g WHERE g.aggfnoid = p.oid)
                    ELSE pg_get_functiondef(p.oid) END
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = ?""");
    QUERIES.put("views", """
        SELECT c.relname, pg_get_viewdef(c.oid, true)
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND c.relkind IN ('v', 'm')""");
    QUERIES.put("triggers", """
        SELECT c.relname, t.tgname, t.tgenabled, pg_get_triggerdef(t.oid, true)
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = ? AND NOT t.tgisinternal""");
    QUERIES.put("rules", "SELECT tablename, rulename, definition FROM pg_rules WHERE schemaname = ?");
    QUERIES.put("types", """
        SELECT t.typname, t.typtype, pg_get_userbyid(t.typowner),
               (SELECT array_agg(e.enumlabel ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid)
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = ?""");
    // Grants: an ACL left at its default and the same rights granted explicitly are the same rights.
    QUERIES.put("table grants", """
        SELECT c.relname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
               a.privilege_type, 'grantable=' || a.is_grantable
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(coalesce(c.relacl,
                                 acldefault((CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::"char", c.relowner))) a
        WHERE n.nspname = ? AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')""");
    QUERIES.put("column grants", """
        SELECT c.relname, att.attname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END,
               a.privilege_type, 'grantable=' || a.is_grantable
        FROM pg_attribute att JOIN pg_class c ON c.oid = att.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace,
             aclexplode(att.attacl) a
        WHERE n.nspname = ? AND att.attacl IS NOT NULL""");
    QUERIES.put("function grants", """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type,
               'grantable=' || a.is_grantable
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace,
             aclexplode(coalesce(p.proacl, acldefault('f'::"char", p.proowner))) a
        WHERE n.nspname = ?""");
    QUERIES.put("type grants", """
        SELECT t.typname, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END, a.privilege_type,
               'grantable=' || a.is_grantable
        FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace,
             aclexplode(coalesce(t.typacl, acldefault('T'::"char", t.typowner))) a
        WHERE n.nspname = ?""");
    QUERIES.put("default privileges", """
        SELECT pg_get_userbyid(d.defaclrole), d.defaclobjtype, d.defaclacl::text[]
        FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = ?""");
  }

  /** Reads the catalog of {@code tenant}'s schema. */
  static TenantCatalog read(Connection superuser, DatabaseConfig config, TenantId tenant) throws SQLException {
    Names names = new Names(config, tenant);
    Map<String, Set<String>> kinds = new LinkedHashMap<>();
    for (Map.Entry<String, String> q : QUERIES.entrySet()) {
      Set<String> lines = new TreeSet<>();
      try (PreparedStatement ps = superuser.prepareStatement(q.getValue())) {
        ps.setString(1, tenant.schemaName());
        try (ResultSet rs = ps.executeQuery()) {
          int n = rs.getMetaData().getColumnCount();
          while (rs.next()) {
            List<String> fields = new ArrayList<>(n);
            for (int i = 1; i <= n; i++) {
              fields.add(field(rs.getObject(i), names));
            }
            lines.add(String.join(" | ", fields));
          }
        }
      }
      kinds.put(q.getKey(), lines);
    }
    return new TenantCatalog(kinds);
  }

  /** How many objects of a kind there are (so a test can tell that a kind was read at all). */
  int count(String kind) {
    return kinds.get(kind).size();
  }

  /**
   * The differences from {@code expected}, one block per kind, each line marked with the side it
   * is on; empty when the two are the same.
   */
  String diff(TenantCatalog expected, String expectedName, String actualName) {
    StringBuilder out = new StringBuilder();
    for (String kind : expected.kinds.keySet()) {
      Set<String> missing = new TreeSet<>(expected.kinds.get(kind));
      missing.removeAll(kinds.get(kind));
      Set<String> extra = new TreeSet<>(kinds.get(kind));
      extra.removeAll(expected.kinds.get(kind));
      if (missing.isEmpty() && extra.isEmpty()) {
        continue;
      }
      out.append("  ").append(kind).append(":\n");
      missing.forEach(l -> out.append("    only in ").append(expectedName).append(": ").append(l).append('\n'));
      extra.forEach(l -> out.append("    only in ").append(actualName).append(": ").append(l).append('\n'));
    }
    return out.toString();
  }

  // One line per object, whatever the layout of its definition, so that a diff lists objects.
  private static final Pattern WHITESPACE = Pattern.compile("\\s+");

  private static String field(Object value, Names names) throws SQLException {
    if (value == null) {
      return "-";
    }
    if (value instanceof Array array) {
      return Arrays.stream((Object[]) array.getArray()).map(v -> v == null ? "-" : names.replace(v.toString()))
          .sorted().collect(Collectors.joining(",", "{", "}"));
    }
    return names.replace(WHITESPACE.matcher(value.toString().strip()).replaceAll(" "));
  }

  /** The tenant's own names (schema, roles and id) and the placeholders that stand for them. */
  private static final class Names {
    private final Map<Pattern, String> placeholders = new LinkedHashMap<>();

    Names(DatabaseConfig config, TenantId tenant) {
      // Whole names only: the schema tenant_x is part of no other name, but must not match tenant_x2.
      put(config.tenantRole(tenant), "<tenant_role>");
      put(config.readerRole(tenant), "<reader_role>");
      put(config.researchRole(tenant), "<research_role>");
      put(config.auditRole(tenant), "<audit_role>");
      put(config.identityRole(tenant), "<identity_role>");
      put(config.fhirReaderRole(tenant), "<fhir_reader_role>");
      put(tenant.schemaName(), "<schema>");
      // The tenant id as a SQL literal (tenant migration 27's key check names its tenant).
      placeholders.put(Pattern.compile(Pattern.quote("'" + tenant.value() + "'")), "'<tenant_id>'");
    }

    private void put(String name, String placeholder) {
      placeholders.put(Pattern.compile("(?<![A-Za-z0-9_$])" + Pattern.quote(name) + "(?![A-Za-z0-9_$])"), placeholder);
    }

    String replace(String text) {
      String out = text;
      for (Map.Entry<Pattern, String> p : placeholders.entrySet()) {
        out = p.getKey().matcher(out).replaceAll(Matcher.quoteReplacement(p.getValue()));
      }
      return out;
    }
  }
}
