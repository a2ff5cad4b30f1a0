package io.berth.network;

import io.berth.errdefs.ErrorKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Networks as records: no root needed, no devices made. */
class NetworkStoreTest {
    @TempDir
    Path root;

    private NetworkService service() {
        return new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run"))
                .withAddressPools(List.of(new NetworkService.AddressPool("10.196.0.0/16", 24)))
                .withDnsUpstream(List::of));
    }

    @Test
    void predefinedNetworksAndTheDefaultBridgeStayOffDockersSubnet() {
        try (NetworkService s = new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run")))) {
            assertThat(s.list()).extracting(Network::name).containsExactly("bridge", "host", "none");
            Network bridge = s.inspect("bridge");
            assertThat(bridge.driver()).isEqualTo("bridge");
            assertThat(bridge.bridgeName()).isEqualTo("berth0");
            assertThat(bridge.ipv4().subnet()).isEqualTo("10.89.0.0/24");
            assertThat(bridge.gateway()).isEqualTo("10.89.0.1");
            assertThat(Ipv4.Cidr.parse("172.17.0.0/16").overlaps(bridge.subnet())).isFalse();
            assertThat(bridge.isDefaultBridge()).isTrue();
            assertThat(s.inspect("host").driver()).isEqualTo("host");
            assertThat(s.inspect("none").driver()).isEqualTo("null");
            assertThat(bridge.id()).matches("[0-9a-f]{64}");
            assertThat(bridge.scope()).isEqualTo("local");
        }
    }

    @Test
    void userNetworksTakeSubnetsFromThePoolsAndSurviveARestart() throws Exception {
        String id;
        try (NetworkService s = service()) {
            Network a = s.create(NetworkSpec.named("alpha"));
            Network b = s.create(NetworkSpec.named("beta").withLabels(Map.of("k", "v")));
            assertThat(a.ipv4().subnet()).startsWith("10.196.");
            assertThat(a.subnet().prefix()).isEqualTo(24);
            assertThat(a.subnet().overlaps(b.subnet())).isFalse();
            assertThat(a.gateway()).isEqualTo(Ipv4.format(a.subnet().base() + 1));
            assertThat(a.bridgeName()).isEqualTo("br-" + a.id().substring(0, 12));
            id = b.id();
            assertThat(Files.exists(root.resolve("data/networks/" + id + ".json"))).isTrue();
        }
        try (NetworkService s = service()) {
            Network b = s.inspect("beta");
            assertThat(b.id()).isEqualTo(id);
            assertThat(b.labels()).containsEntry("k", "v");
            assertThat(s.inspect(id.substring(0, 6)).name()).isEqualTo("beta");
            assertThat(s.find("nosuch")).isEmpty();
            assertThatThrownBy(() -> s.inspect("nosuch")).isInstanceOf(NetworkException.class)
                    .hasMessage("network nosuch not found")
                    .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND));
        }
    }

    @Test
    void refusesOverlapsDuplicatesAndBadPools() {
        // Names that are no hex prefix: a lookup by ID prefix would otherwise match a random ID.
        try (NetworkService s = service()) {
            Network a = s.create(NetworkSpec.named("net-a").withPool("10.195.0.0/16", "10.195.0.254", "10.195.1.0/24"));
            assertThat(a.gateway()).isEqualTo("10.195.0.254");
            assertThat(a.ipv4().ipRange()).isEqualTo("10.195.1.0/24");
            assertThatThrownBy(() -> s.create(NetworkSpec.named("b").withPool("10.195.3.0/24", null, null)))
                    .hasMessage("invalid pool request: Pool overlaps with other one on this address space")
                    .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.FORBIDDEN));
            assertThatThrownBy(() -> s.create(NetworkSpec.named("net-a")))
                    .hasMessage("network with name net-a already exists")
                    .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.CONFLICT));
            assertThatThrownBy(() -> s.create(NetworkSpec.named("bridge"))).hasMessage("network with name bridge already exists");
            assertThatThrownBy(() -> s.create(NetworkSpec.named("c").withPool("10.194.0.0/24", "10.193.0.1", null)))
                    .hasMessage("no matching subnet for gateway 10.193.0.1");
            assertThatThrownBy(() -> s.create(NetworkSpec.named("c").withPool("10.194.0.0/24", null, "10.194.1.0/24")))
                    .hasMessage("no matching subnet for range 10.194.1.0/24");
            assertThatThrownBy(() -> s.create(NetworkSpec.named("c").withPool("10.194.0.1/24", null, null)))
                    .hasMessageContaining("invalid subnet");
            // dockerd takes names with blanks ("my net"); control characters are still refused
            assertThatThrownBy(() -> s.create(NetworkSpec.named("bad\nname"))).hasMessageContaining("invalid network name");
            assertThatThrownBy(() -> s.remove("bridge", id -> false)).hasMessage("bridge is a pre-defined network and cannot be removed");
            assertThatThrownBy(() -> s.remove("net-a", id -> true)).hasMessageContaining("has active endpoints");
            s.remove("net-a", id -> false);
            assertThat(s.find("net-a")).isEmpty();
            assertThat(Files.exists(root.resolve("data/networks/" + a.id() + ".json"))).isFalse();
        }
    }

    @Test
    void pruneRemovesUnusedUserNetworksOnly() {
        try (NetworkService s = service()) {
            Network keep = s.create(NetworkSpec.named("used"));
            s.create(NetworkSpec.named("unused"));
            List<String> removed = s.prune(n -> true, id -> id.equals(keep.id()));
            assertThat(removed).containsExactly("unused");
            assertThat(s.list()).extracting(Network::name).containsExactly("bridge", "host", "none", "used");
        }
    }

    @Test
    void aFullPoolIsReported() {
        try (NetworkService s = new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run"))
                .withAddressPools(List.of(new NetworkService.AddressPool("10.192.0.0/23", 24))))) {
            s.create(NetworkSpec.named("one"));
            s.create(NetworkSpec.named("two"));
            assertThatThrownBy(() -> s.create(NetworkSpec.named("three")))
                    .hasMessageContaining("could not find an available, non-overlapping IPv4 address pool");
        }
    }
}
