package io.carecontext.services.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetSocketAddress;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The client address an audit row records: the socket's peer, unless the peer is a trusted proxy, and then the
 * nearest address it forwarded that is not a trusted proxy; always an address literal in its canonical form.
 */
class ClientAddressesTest {

  private static InetSocketAddress peer(String address) {
    return new InetSocketAddress(address, 40_000); // a literal: no lookup
  }

  private static final ClientAddresses PROXIES = ClientAddresses.parse("10.0.0.0/8, fd00::/8,192.0.2.1");

  @Test
  void withoutTrustedProxiesTheHeadersAreIgnored() {
    assertThat(ClientAddresses.NONE.resolve(peer("203.0.113.9"), List.of("for=198.51.100.1"), List.of("198.51.100.2")))
        .isEqualTo("203.0.113.9");
    // a spoofed header from a peer that is not trusted, with trusted proxies configured: ignored as well
    assertThat(PROXIES.resolve(peer("203.0.113.9"), List.of(), List.of("198.51.100.2"))).isEqualTo("203.0.113.9");
    assertThat(PROXIES.resolve(null, List.of(), List.of("198.51.100.2"))).isNull();
  }

  @Test
  void aTrustedProxysForwardedAddressIsTheClient() {
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("198.51.100.2"))).isEqualTo("198.51.100.2");
    // the rightmost address not a trusted proxy: what the client wrote at the left does not count over it
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("6.6.6.6, 198.51.100.2, 10.9.9.9")))
        .isEqualTo("198.51.100.2");
    // several headers are one list, in order
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("6.6.6.6", "198.51.100.2"))).isEqualTo("198.51.100.2");
    // every hop trusted: the leftmost
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("10.0.0.7"))).isEqualTo("10.0.0.7");
    // no header: the proxy itself
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of())).isEqualTo("10.1.2.3");
  }

  @Test
  void whenTheTwoHeadersDisagreeNeitherIsBelievedAndTheirNodesAreParsed() {
    // a proxy that writes X-Forwarded-For passes a client's own Forwarded through, and one that writes Forwarded
    // (Envoy, HAProxy set so) a client's own X-Forwarded-For: which one the proxy wrote cannot be told, so when
    // they name different clients the peer stands for it, never the address a client may have written
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=6.6.6.6"), List.of("198.51.100.7")))
        .isEqualTo("192.0.2.1");
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=198.51.100.7"), List.of("6.6.6.6")))
        .isEqualTo("192.0.2.1");
    // a client's empty header of the other kind: the peer as well (it names no client, the proxy's header does)
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=198.51.100.7"), List.of(""))).isEqualTo("192.0.2.1");
    // a proxy that writes both (or two proxies, one each): they agree, and that is the client
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=6.6.6.6, for=\"[::ffff:198.51.100.7]:80\""),
        List.of("6.6.6.6 ,198.51.100.7"))).isEqualTo("198.51.100.7");
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=198.51.100.7;proto=https"), List.of()))
        .isEqualTo("198.51.100.7");
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("for=\"[2001:DB8:0:0::17]:4711\""), List.of()))
        .isEqualTo("2001:db8::17");
    assertThat(PROXIES.resolve(peer("192.0.2.1"), List.of("For=\"198.51.100.8:47011\", for=10.0.0.2"), List.of()))
        .isEqualTo("198.51.100.8");
    assertThat(PROXIES.resolve(peer("fd00::5"), List.of("for=198.51.100.9"), List.of())).isEqualTo("198.51.100.9");
  }

  @Test
  void aHopThatIsNoAddressIsNeverTakenAsText() {
    // the nearest address known stands for the client: never the header's text, never a name looked up
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("Zebulon Quixote 1947-03-19"))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("evil.example.org"))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=unknown"), List.of())).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=_hidden, for=10.0.0.4"), List.of())).isEqualTo("10.0.0.4");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("fe80::1%eth0"))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("1.2.3.4.5"))).isEqualTo("10.1.2.3");
  }

  @Test
  void spacesPortsChainsAndLongHeadersAreReadFromTheRight() {
    // a chain of several trusted proxies: past all of them, whatever the spacing
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("6.6.6.6 ,  198.51.100.2 ,10.0.0.9,\t10.2.3.4")))
        .isEqualTo("198.51.100.2");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("198.51.100.2:4711"))).isEqualTo("198.51.100.2");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("[2001:db8::1]:443"))).isEqualTo("2001:db8::1");
    // a client's address written as an IPv4-mapped one of a trusted range is that range's: passed like it
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("198.51.100.3, ::ffff:10.0.0.3")))
        .isEqualTo("198.51.100.3");
    // a very long list: the hop the proxy appended, at the right
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("6.6.6.6,".repeat(2_000) + "198.51.100.4")))
        .isEqualTo("198.51.100.4");
    // a quoted comma in an obfuscated Forwarded node never lets text to the right of the proxy's hop count
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"6.6.6.6,for=7.7.7.7\", for=198.51.100.6"), List.of()))
        .isEqualTo("198.51.100.6");
    // a peer trusted, the list empty or blank: the peer
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of(""))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(" "), List.of())).isEqualTo("10.1.2.3");
    // a zone id, bracketed or not, and garbage in brackets: no address
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"[fe80::1%25eth0]:80\""), List.of())).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("[::1"))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("[::1]x"))).isEqualTo("10.1.2.3");
  }

  @Test
  void anIpv4MappedAddressIsItsIpv4() {
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("::ffff:198.51.100.3"))).isEqualTo("198.51.100.3");
    assertThat(ClientAddresses.NONE.resolve(peer("::ffff:203.0.113.9"), List.of(), List.of())).isEqualTo("203.0.113.9");
  }

  @Test
  void theListIsCidrsOrAddressesOnly() {
    assertThat(ClientAddresses.parse("").trustsAny()).isFalse();
    assertThat(ClientAddresses.parse(null).trustsAny()).isFalse();
    assertThat(ClientAddresses.parse("0.0.0.0/0").resolve(peer("203.0.113.9"), List.of(), List.of("198.51.100.2")))
        .isEqualTo("198.51.100.2");
    for (String bad : List.of("fe80::1%eth0", "fe80::%eth0/64", "[fd00::1]", "[fd00::]/8", "10.0.0.0/33",
        "proxy.internal", "10.0.0.0/", "10.0.0.0/8,", "fd00::/129", "*")) {
      assertThatThrownBy(() -> ClientAddresses.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(ClientAddresses.CIDR_FORM);
    }
  }

  /** Only IPv6 is bracketed in a forwarded node (RFC 7239): a bracketed IPv4 was taken as the client's address. */
  @Test
  void aBracketedIpv4IsNoAddress() {
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"[198.51.100.7]\""), List.of())).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"[198.51.100.7]:80\""), List.of())).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("[198.51.100.7]"))).isEqualTo("10.1.2.3");
    // the walk ends at the nearest address known, a trusted hop here
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("198.51.100.7, [10.0.0.1], 10.0.0.2")))
        .isEqualTo("10.0.0.2");
    // bracketed IPv6, an IPv4-mapped one included, is as it was
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"[::ffff:198.51.100.7]\""), List.of()))
        .isEqualTo("198.51.100.7");
  }

  /** Ranges on no byte boundary, of both families, and the whole of one family. */
  @Test
  void rangesMatchTheirAddressesOnly() {
    ClientAddresses upperHalf = ClientAddresses.parse("192.0.2.128/25,2001:db8:8000::/33");
    assertThat(upperHalf.resolve(peer("192.0.2.200"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(upperHalf.resolve(peer("192.0.2.100"), List.of(), List.of("198.51.100.1"))).isEqualTo("192.0.2.100");
    assertThat(upperHalf.resolve(peer("2001:db8:8000::1"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(upperHalf.resolve(peer("2001:db8:7fff::1"), List.of(), List.of("198.51.100.1"))).isEqualTo("2001:db8:7fff::1");
    ClientAddresses allIpv6 = ClientAddresses.parse("::/0");
    assertThat(allIpv6.resolve(peer("fd00::9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(allIpv6.resolve(peer("2001:db8::9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(allIpv6.resolve(peer("203.0.113.9"), List.of(), List.of("198.51.100.1"))).isEqualTo("203.0.113.9");
  }

  /**
   * An IPv4-mapped range counts IPv6's 128 bits, as every CIDR of an IPv6 address does: ::ffff:10.0.0.0/104 is
   * 10.0.0.0/8, for mapped peers and plain IPv4 ones alike; ::ffff:10.0.0.0/8 (which is ::/8, every IPv4 address in
   * it) was read as 10.0.0.0/8 and /104 refused. A prefix under 96 is refused: no reading of it is safe.
   */
  @Test
  void anIpv4MappedRangeCountsIpv6Bits() {
    ClientAddresses mapped = ClientAddresses.parse("::ffff:10.0.0.0/104");
    assertThat(mapped.resolve(peer("10.9.9.9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(mapped.resolve(peer("::ffff:10.9.9.9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(mapped.resolve(peer("11.0.0.1"), List.of(), List.of("198.51.100.1"))).isEqualTo("11.0.0.1");
    assertThat(ClientAddresses.parse("::ffff:10.0.0.1").resolve(peer("10.0.0.1"), List.of(), List.of("198.51.100.1")))
        .isEqualTo("198.51.100.1");
    assertThat(ClientAddresses.parse("::ffff:0.0.0.0/96").resolve(peer("203.0.113.9"), List.of(),
        List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    for (String bad : List.of("::ffff:10.0.0.0/8", "::ffff:10.0.0.0/95", "::ffff:10.0.0.0/129")) {
      assertThatThrownBy(() -> ClientAddresses.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
          .hasMessage(ClientAddresses.CIDR_FORM);
    }
    // a peer socket's Inet6Address of mapped bytes (the JDK turns a parsed one into IPv4; a socket's need not be)
    java.net.InetSocketAddress mappedPeer = new java.net.InetSocketAddress(mapped6(10, 0, 0, 1), 40_000);
    assertThat(mappedPeer.getAddress()).isInstanceOf(java.net.Inet6Address.class);
    assertThat(PROXIES.resolve(mappedPeer, List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(mapped.resolve(mappedPeer, List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(ClientAddresses.NONE.resolve(mappedPeer, List.of(), List.of())).isEqualTo("10.0.0.1");
    // an IPv4 range holds a mapped peer, and an IPv6 range no IPv4 peer
    assertThat(PROXIES.resolve(peer("::ffff:10.0.0.1"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(ClientAddresses.parse("fd00::/8").resolve(peer("::ffff:10.0.0.1"), List.of(), List.of("198.51.100.1")))
        .isEqualTo("10.0.0.1");
  }

  private static java.net.InetAddress mapped6(int a, int b, int c, int d) {
    try {
      return java.net.Inet6Address.getByAddress(null,
          new byte[] {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, (byte) 0xff, (byte) 0xff, (byte) a, (byte) b, (byte) c, (byte) d}, -1);
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A range with host bits set is its network's; /0 is the whole family; a zone id is no hop. */
  @Test
  void hostBitsZonesAndTheWholeFamily() {
    ClientAddresses hostBits = ClientAddresses.parse("10.0.0.1/8,2001:db8::1/32");
    assertThat(hostBits.resolve(peer("10.200.0.9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(hostBits.resolve(peer("2001:db8:ffff::9"), List.of(), List.of("198.51.100.1"))).isEqualTo("198.51.100.1");
    assertThat(hostBits.resolve(peer("11.0.0.1"), List.of(), List.of("198.51.100.1"))).isEqualTo("11.0.0.1");
    ClientAddresses all = ClientAddresses.parse("0.0.0.0/0");
    assertThat(all.resolve(peer("203.0.113.9"), List.of(), List.of("198.51.100.2"))).isEqualTo("198.51.100.2");
    assertThat(all.resolve(peer("::ffff:203.0.113.9"), List.of(), List.of("198.51.100.2"))).isEqualTo("198.51.100.2");
    assertThat(all.resolve(peer("2001:db8::9"), List.of(), List.of("198.51.100.2"))).isEqualTo("2001:db8::9");
    // a forwarded hop with a zone id is no address: the walk ends at the nearest one known
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of(), List.of("fe80::1%eth0"))).isEqualTo("10.1.2.3");
    assertThat(PROXIES.resolve(peer("10.1.2.3"), List.of("for=\"[fe80::1%eth0]\""), List.of())).isEqualTo("10.1.2.3");
  }
}
