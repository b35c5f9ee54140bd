package io.carecontext.retrieval.audit;

import io.carecontext.migrations.TenantId;
import io.carecontext.migrations.crypto.TenantCipher;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A keyed seal as it leaves the database: every sealing run logs each seal it makes as one line on
 * the logger {@value #LOGGER}, which a log shipper or SIEM keeps where the database's owner cannot
 * reach. An auditor hands such lines back to verify ({@code POST /v1/{tenant}/audit/verify},
 * {@code carecontext audit verify --anchors FILE}): an owner who cut rows from the end of a chain
 * together with the seals past the new end leaves a trail the remaining seals agree with, but not
 * one that reaches the anchors kept outside. The line holds a hash of the chain and a keyed hash,
 * the tenant id, shard and sequence number: no PHI.
 *
 * <p>{@code audit-anchor tenant=ward shard=3 seq=1042 head=<64 hex> mac=<64 hex>}
 */
public record AuditAnchor(int shard, long seq, byte[] head, byte[] mac) {

  /** The logger whose INFO lines are the anchors. */
  public static final String LOGGER = "carecontext.audit.anchor";

  /** Found anywhere in a line: a log framework's time, level and logger before it, or a JSON envelope around it. */
  private static final Pattern LINE = Pattern.compile("(?<![A-Za-z0-9_-])audit-anchor tenant=([a-z][a-z0-9_]{1,30}) "
      + "shard=(\\d{1,9}) seq=(\\d{1,18}) head=([0-9a-f]{64}) mac=([0-9a-f]{64})(?![0-9a-f])");

  /**
   * The line a tenant's deletion logs: its trail and its key are gone, and a tenant made again under the same id
   * has another key, so no anchor logged before it is the new tenant's.
   */
  private static final Pattern OFFBOARDED = Pattern.compile("(?<![A-Za-z0-9_-])audit-anchor tenant=([a-z][a-z0-9_]{1,30}) "
      + "offboarded(?![A-Za-z0-9_-])");

  public AuditAnchor {
    head = head.clone();
    mac = mac.clone();
  }

  @Override
  public byte[] head() {
    return head.clone();
  }

  @Override
  public byte[] mac() {
    return mac.clone();
  }

  /** The log line of a seal (the format the README documents). */
  public static String line(TenantId tenant, int shard, long seq, byte[] head, byte[] mac) {
    return "audit-anchor tenant=" + tenant.value() + " shard=" + shard + " seq=" + seq + " head="
        + AuditPayload.hex(head) + " mac=" + AuditPayload.hex(mac);
  }

  /** The line a tenant's deletion logs ({@code audit-anchor tenant=ward offboarded}): the anchors before it were its predecessor's. */
  public static String offboardedLine(TenantId tenant) {
    return "audit-anchor tenant=" + tenant.value() + " offboarded";
  }

  /** An anchor line found in a log line, with the tenant it names. */
  public record Found(String tenant, AuditAnchor anchor) {}

  /** The anchor in one log line, if it holds one. */
  public static Optional<Found> find(String logLine) {
    Matcher m = LINE.matcher(logLine);
    if (!m.find()) {
      return Optional.empty();
    }
    HexFormat hex = HexFormat.of();
    return Optional.of(new Found(m.group(1), new AuditAnchor(Integer.parseInt(m.group(2)), Long.parseLong(m.group(3)),
        hex.parseHex(m.group(4)), hex.parseHex(m.group(5)))));
  }

  /**
   * The tenant's latest anchor of each shard among the lines (log lines of any kind; the others are
   * skipped), by shard, after the tenant's last deletion ({@link #offboardedLine}: the anchors before it are a
   * predecessor's under the same id, whose key is gone). A line whose MAC is not the key's is not weeded out here:
   * the service reports it.
   */
  public static List<AuditAnchor> latestPerShard(TenantId tenant, Iterable<String> lines) {
    TreeMap<Integer, AuditAnchor> latest = new TreeMap<>();
    for (String line : lines) {
      Matcher off = OFFBOARDED.matcher(line);
      if (off.find() && off.group(1).equals(tenant.value())) {
        latest.clear();
        continue;
      }
      find(line).filter(f -> f.tenant().equals(tenant.value())).ifPresent(f ->
          latest.merge(f.anchor().shard(), f.anchor(), (a, b) -> b.seq() > a.seq() ? b : a));
    }
    return new ArrayList<>(latest.values());
  }

  /** Whether the tenant's key made this anchor (its MAC over tenant, shard, seq and head). */
  boolean madeBy(TenantCipher cipher, TenantId tenant) {
    return MessageDigest.isEqual(mac, AuditLog.sealMac(cipher, tenant, shard, seq, head));
  }
}
