package io.carecontext.migrations;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;

/**
 * The hosts a tenant's model and embedding endpoints may name: those the platform operator approved
 * for it. A tenant admin's {@code baaCovered: true} is its own statement; without an approval of the
 * operator's, an admin (a role that reads no patient data) could point {@code settings.embedding} at a
 * host of its choosing and have every chunk text of the tenant, identified, sent there by the
 * re-embedding the change starts, and every chat prompt with {@code settings.llm}.
 *
 * <p>Approvals: {@code CARECONTEXT_MODEL_HOSTS} (or the system property
 * {@code carecontext.model.hosts}), a comma-separated list of {@code tenant:host} pairs, or
 * {@code *:host} for every tenant, e.g. {@code acme:acme.openai.azure.com,*:llm.internal.example}.
 * Hosts are compared whole, without port, ignoring case. Loopback hosts (this machine's, the
 * operator's) are always approved. Unset, no other host is.
 */
public final class ModelHosts {

  /** The variable in which the operator approves hosts. */
  public static final String VARIABLE = "CARECONTEXT_MODEL_HOSTS";

  static final List<String> LOOPBACK = List.of("localhost", "127.0.0.1", "[::1]");

  private ModelHosts() {}

  /** Whether {@code baseUrl}'s host is approved for {@code tenant}. */
  public static boolean isApprovedFor(String tenant, String baseUrl) {
    return isApprovedFor(tenant, baseUrl, approvals());
  }

  static boolean isApprovedFor(String tenant, String baseUrl, String approvals) {
    String host = host(baseUrl);
    if (host == null) {
      return false;
    }
    if (LOOPBACK.contains(host)) {
      return true;
    }
    if (tenant == null || approvals == null) {
      return false;
    }
    return OperatorList.entries(approvals).stream().anyMatch(a -> (a.tenant().equals("*") || a.tenant().equals(tenant))
        && a.value().strip().toLowerCase(Locale.ROOT).equals(host));
  }

  /**
   * Refuses an endpoint whose host the operator has not approved for the tenant, in words that say
   * who can fix it; the host, the admin's own input, is not repeated.
   */
  public static void requireApprovedFor(String tenant, String setting, Object baseUrl) {
    if (!(baseUrl instanceof String url) || !isApprovedFor(tenant, url)) {
      throw new HostNotApprovedException(setting + ".baseUrl names a host the platform operator has not approved for "
          + "this tenant: the operator lists it in " + VARIABLE + " as '" + tenant + ":<host>'");
    }
  }

  /**
   * The approvals that can never match a host, for a warning at start: pairs that are not
   * {@code tenant:host} (no tenant, no host), and hosts written with a scheme, port, path or space,
   * since hosts are compared whole and without port ({@code acme:https://llm.example:443} approves
   * nothing). A typo here said nothing until a tenant admin's endpoint setting was refused.
   */
  public static List<String> ineffectiveApprovals() {
    return ineffectiveApprovals(approvals());
  }

  static List<String> ineffectiveApprovals(String approvals) {
    return OperatorList.entries(approvals).stream()
        .filter(a -> a.tenant().isEmpty() || !isHostName(a.value().strip()))
        .map(OperatorList.Entry::written).toList();
  }

  /** A DNS name or IPv4 address as a URL's host would read (an IPv6 literal in brackets too). */
  private static boolean isHostName(String value) {
    return value.matches("[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?") || value.matches("\\[[0-9A-Fa-f:.]+]");
  }

  private static String host(String baseUrl) {
    try {
      String host = baseUrl == null ? null : new URI(baseUrl).getHost();
      return host == null ? null : host.toLowerCase(Locale.ROOT);
    } catch (URISyntaxException e) {
      return null;
    }
  }

  private static String approvals() {
    return OperatorList.read(VARIABLE);
  }

  /**
   * An endpoint setting names a host the operator has not approved for the tenant. Its name is what
   * the outbox's {@code last_error} shows for the rows it stops.
   */
  public static final class HostNotApprovedException extends IllegalArgumentException {
    HostNotApprovedException(String message) {
      super(message);
    }
  }
}
