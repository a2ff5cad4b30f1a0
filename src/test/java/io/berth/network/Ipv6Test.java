package io.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class Ipv6Test {
    @Test
    void addressesAreWrittenInTheirCanonicalForm() {
        assertThat(Ipv6.format(Ipv6.parse("fd00:3:0:0:0:0:0:1"))).isEqualTo("fd00:3::1");
        assertThat(Ipv6.format(Ipv6.parse("2001:389::F00D"))).isEqualTo("2001:389::f00d");
        assertThat(Ipv6.format(Ipv6.parse("::"))).isEqualTo("::");
        assertThat(Ipv6.format(Ipv6.parse("::1"))).isEqualTo("::1");
        assertThat(Ipv6.format(Ipv6.parse("fd00::"))).isEqualTo("fd00::");
        // the longest run of zero groups is the one shortened; a single zero group is not
        assertThat(Ipv6.format(Ipv6.parse("1:0:0:2:0:0:0:3"))).isEqualTo("1:0:0:2::3");
        assertThat(Ipv6.format(Ipv6.parse("1:0:2:3:4:5:6:7"))).isEqualTo("1:0:2:3:4:5:6:7");
    }

    @Test
    void blocksContainAndOverlap() {
        Ipv6.Cidr net = Ipv6.Cidr.parseStrict("fd00:b:21::/64");
        assertThat(net.contains(Ipv6.parse("fd00:b:21::99"))).isTrue();
        assertThat(net.contains(Ipv6.parse("fd00:b:22::1"))).isFalse();
        assertThat(net.overlaps(Ipv6.Cidr.parse("fd00:b:21:0:1::/80"))).isTrue();
        assertThat(net.overlaps(Ipv6.Cidr.parse("fd00:b:22::/64"))).isFalse();
        assertThat(Ipv6.format(net.at(1))).isEqualTo("fd00:b:21::1");
        assertThat(Ipv6.format(net.last())).isEqualTo("fd00:b:21:0:ffff:ffff:ffff:ffff");
        assertThatThrownBy(() -> Ipv6.Cidr.parseStrict("fd00:b:21::1/64")).hasMessageContaining("it should be fd00:b:21::/64");
        assertThat(Ipv6.isAddress("10.0.0.1")).isFalse();
        assertThat(Ipv6.isAddress("fd00::zz")).isFalse();
    }
}
