package io.carecontext.services.auth;

import io.netty.handler.ipfilter.IpFilterRuleType;
import io.netty.handler.ipfilter.IpSubnetFilterRule;
import io.netty.util.NetUtil;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The client address an audit row records (BALP's agent.network): the socket's peer, or, when that peer is a
 * proxy the operator trusts ({@code CARECONTEXT_TRUSTED_PROXIES}, CIDRs; none by default), the address that proxy
 * forwarded in {@code X-Forwarded-For} or {@code Forwarded} (RFC 7239; with both, only when they name the same
 * client, else the peer: a proxy that writes one passes a client's own other one through). The forwarded chain is read
 * from its right end, the hop the trusted peer appended, leftwards past every trusted proxy: the first address
 * not trusted is the client's. What a client itself put at the left of the header is never taken over a hop a
 * trusted proxy vouched for, and a header from a peer that is not trusted is ignored (anyone can send one).
 *
 * <p>Only address literals are taken (never looked up, never a name), and kept in their canonical printed form
 * (RFC 5952 for IPv6, an IPv4-mapped address as IPv4): never a header's text. A hop that is no address
 * ({@code unknown}, an obfuscated {@code _node}, garbage) ends the walk at the last address that is one.
 */
public final class ClientAddresses {

  /** The trusted ranges, matched by Netty's subnet rule (IPv4 and IPv6, prefix 0 to the address's bits). */
  private final List<IpSubnetFilterRule> trusted;

  private ClientAddresses(List<IpSubnetFilterRule> trusted) {
    this.trusted = List.copyOf(trusted);
  }

  /** None trusted: every request's address is its socket's peer. */
  public static final ClientAddresses NONE = new ClientAddresses(List.of());

  /**
   * The trusted proxies of a comma-separated list of CIDRs or single addresses ({@code 10.0.0.0/8,fd00::/8,
   * 192.0.2.7}); blank: none.
   *
   * @throws IllegalArgumentException naming the form, not the text, for anything else
   */
  public static ClientAddresses parse(String list) {
    if (list == null || list.isBlank()) {
      return NONE;
    }
    List<IpSubnetFilterRule> out = new ArrayList<>();
    for (String part : list.split(",", -1)) {
      out.add(cidr(part.strip()));
    }
    return new ClientAddresses(out);
  }

  static final String CIDR_FORM = "CARECONTEXT_TRUSTED_PROXIES must be a comma-separated list of IP address ranges in "
      + "CIDR form or single IP addresses, e.g. 10.0.0.0/8,fd00::/8,192.0.2.7 (no host names), or unset for none";

  /**
   * The range of one entry: its address parsed here as a literal (never a name looked up: Netty's rule would look a
   * name up), an IPv4-mapped one as IPv4 (its prefix counting IPv6's bits, at least 96), and its prefix checked against the address's bits before Netty's rule takes
   * them, so that every refusal says {@link #CIDR_FORM}.
   */
  private static IpSubnetFilterRule cidr(String text) {
    int slash = text.indexOf('/');
    // Netty's parser drops a zone id (fe80::1%eth0, which names an interface, trusted on every one then) and takes
    // brackets: neither is a range's, and a forwarded hop with either is no address here
    byte[] network = text.indexOf('%') >= 0 || text.indexOf('[') >= 0 ? null
        : NetUtil.createByteArrayFromIpAddressString(slash < 0 ? text : text.substring(0, slash));
    if (network == null) {
      throw new IllegalArgumentException(CIDR_FORM);
    }
    int max = network.length * 8;
    int prefix = max;
    if (slash >= 0) {
      String bits = text.substring(slash + 1);
      if (!bits.matches("[0-9]{1,3}") || Integer.parseInt(bits) > max) {
        throw new IllegalArgumentException(CIDR_FORM);
      }
      prefix = Integer.parseInt(bits);
    }
    byte[] ipv4 = canonical(network);
    if (ipv4.length != network.length) {
      // an IPv4-mapped range (::ffff:10.0.0.0/104) counts IPv6's 128 bits: it is the IPv4 range of its last 32, which
      // the peers' mapped addresses (taken as IPv4) fall in. A prefix below 96 reaches past the mapped block
      // (::ffff:10.0.0.0/8 is ::/8, every IPv4 peer included): refused rather than read as one of IPv4's bits
      if (prefix < 96) {
        throw new IllegalArgumentException(CIDR_FORM);
      }
      network = ipv4;
      prefix -= 96;
    }
    return new IpSubnetFilterRule(address(network), prefix, IpFilterRuleType.ACCEPT);
  }

  /** Whether any proxy is trusted. */
  public boolean trustsAny() {
    return !trusted.isEmpty();
  }

  private boolean isTrusted(byte[] address) {
    InetSocketAddress hop = new InetSocketAddress(address(address), 0);
    for (IpSubnetFilterRule range : trusted) {
      if (range.matches(hop)) {
        return true;
      }
    }
    return false;
  }

  /** The address of 4 or 16 bytes, made without a lookup (an IPv4-mapped one is an Inet4Address). */
  private static InetAddress address(byte[] b) {
    try {
      return InetAddress.getByAddress(b);
    } catch (UnknownHostException e) {
      throw new IllegalStateException("an address of " + b.length + " bytes", e); // the parser gives 4 or 16
    }
  }

  /**
   * The client's address for a request from {@code peer} with these {@code Forwarded} and {@code X-Forwarded-For}
   * header values (each as many as were sent, in order), or null when the peer is unknown.
   */
  public String resolve(InetSocketAddress peer, List<String> forwarded, List<String> xForwardedFor) {
    byte[] current = peer == null || peer.getAddress() == null ? null : canonical(peer.getAddress().getAddress());
    if (current == null) {
      return null;
    }
    if (!isTrusted(current)) {
      return print(current);
    }
    // Which of the two headers the trusted proxy wrote cannot be told from the request: a proxy that writes one
    // passes a client's own other one through untouched (ingress-nginx and the cloud balancers write
    // X-Forwarded-For, Envoy or HAProxy can be set to write Forwarded), so preferring either let any client name
    // its address behind a proxy that writes the other. Each header present is walked on its own; when both name
    // the same client (a proxy that writes both, or a client that sent neither) that is the client, and when they
    // disagree the nearest hop known, the peer, stands for it: never an address only a client may have written.
    byte[] viaXForwardedFor = xForwardedFor.isEmpty() ? null : walk(current, split(xForwardedFor));
    byte[] viaForwarded = forwarded.isEmpty() ? null : walk(current, forwardedFor(forwarded));
    if (viaXForwardedFor == null) {
      return print(viaForwarded == null ? current : viaForwarded);
    }
    if (viaForwarded == null || Arrays.equals(viaXForwardedFor, viaForwarded)) {
      return print(viaXForwardedFor);
    }
    return print(current);
  }

  /**
   * The client of a forwarded chain {@code hops} received from the trusted {@code peer}: read from its right end
   * leftwards past every trusted proxy, the first address not trusted; a hop that is no address ends the walk at
   * the nearest one known.
   */
  private byte[] walk(byte[] peer, List<String> hops) {
    byte[] current = peer;
    for (int i = hops.size() - 1; i >= 0; i--) {
      byte[] hop = literal(hops.get(i));
      if (hop == null) {
        break; // a hop that is no address: the nearest one known stands for the client
      }
      current = hop;
      if (!isTrusted(hop)) {
        break;
      }
    }
    return current;
  }

  /** The comma-separated entries of every value, in order. */
  private static List<String> split(List<String> values) {
    List<String> out = new ArrayList<>();
    for (String v : values) {
      for (String part : v.split(",", -1)) {
        out.add(part.strip());
      }
    }
    return out;
  }

  /** The {@code for=} node of every element of {@code Forwarded} values (RFC 7239), in order; "" for one without. */
  private static List<String> forwardedFor(List<String> values) {
    List<String> out = new ArrayList<>();
    for (String element : split(values)) {
      String node = "";
      for (String pair : element.split(";", -1)) {
        int eq = pair.indexOf('=');
        if (eq > 0 && pair.substring(0, eq).strip().toLowerCase(Locale.ROOT).equals("for")) {
          node = pair.substring(eq + 1).strip();
        }
      }
      out.add(node);
    }
    return out;
  }

  /**
   * The bytes of a hop that is an address literal, with an optional port ({@code 192.0.2.43:47011},
   * {@code "[2001:db8::17]:4711"}, quoted or not), or null. Only an IPv6 address is bracketed (RFC 7239's node, RFC
   * 3986's IP-literal): {@code [10.0.0.1]} is no address, as no proxy writes one.
   */
  static byte[] literal(String node) {
    String s = node.strip();
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      s = s.substring(1, s.length() - 1);
    }
    if (s.startsWith("[")) {
      int close = s.indexOf(']');
      if (close < 0 || !(close == s.length() - 1 || s.charAt(close + 1) == ':')) {
        return null;
      }
      s = s.substring(1, close);
      if (s.indexOf(':') < 0) {
        return null; // an IPv4 address in brackets
      }
    } else if (s.indexOf(':') == s.lastIndexOf(':') && s.indexOf(':') > 0 && s.indexOf('.') > 0) {
      s = s.substring(0, s.indexOf(':')); // IPv4 with a port
    }
    if (s.isEmpty() || s.length() > 45 || s.indexOf('%') >= 0) {
      return null;
    }
    byte[] b = NetUtil.createByteArrayFromIpAddressString(s);
    return b == null ? null : canonical(b);
  }

  /** An IPv4-mapped IPv6 address as its IPv4 bytes; anything else as it is. */
  private static byte[] canonical(byte[] b) {
    if (b.length == 16) {
      for (int i = 0; i < 10; i++) {
        if (b[i] != 0) {
          return b;
        }
      }
      if (b[10] == (byte) 0xFF && b[11] == (byte) 0xFF) {
        return new byte[] {b[12], b[13], b[14], b[15]};
      }
    }
    return b;
  }

  /** The printed form: dotted IPv4, RFC 5952 IPv6. */
  private static String print(byte[] b) {
    try {
      return NetUtil.toAddressString(InetAddress.getByAddress(b));
    } catch (UnknownHostException e) {
      return null; // bytes of a wrong length, which the parser never gives
    }
  }
}
