package io.berth.engine;

import io.berth.errdefs.ErrorKind;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.network.AttachRequest;
import io.berth.network.Attachment;
import io.berth.network.Endpoint;
import io.berth.network.Network;
import io.berth.network.NetworkException;
import io.berth.network.NetworkService;
import io.berth.network.NetworkSpec;
import io.berth.testing.HostNet;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The network use cases with a stand-in for the container box's hooks, on real namespaces,
 * bridges and CNI plugins (root): connect and disconnect of running and stopped containers,
 * removal refused while used, events, and reconcile only when live containers are known.
 */
class NetworkUseCasesTest {
    private Path root;
    private String defaultBridge;
    private EventBus events;
    private NetworkUseCases networks;
    private FakeContainers containers;
    private final List<String> ids = new ArrayList<>();
    private Set<String> linksBefore;

    /** The container box as the hooks see it: names, running ones, configured networks, calls. */
    static final class FakeContainers implements ContainerNetworkHooks {
        final Map<String, String> byName = new HashMap<>();
        final Set<String> running = new HashSet<>();
        final Set<String> configuredNetworks = new HashSet<>();
        final List<String> calls = new ArrayList<>();
        /** What liveContainers answers: null, unknown. */
        volatile Set<String> live;

        @Override
        public Set<String> liveContainers() {
            return live;
        }

        @Override
        public String resolveContainerId(String nameOrId) {
            if (byName.containsKey(nameOrId)) return byName.get(nameOrId);
            return byName.containsValue(nameOrId) ? nameOrId : null;
        }

        @Override
        public boolean isRunning(String containerId) {
            return running.contains(containerId);
        }

        @Override
        public boolean usesNetwork(String networkId) {
            return configuredNetworks.contains(networkId);
        }

        @Override
        public boolean namesNetwork(String containerId, String networkId) {
            return configuredNetworks.contains(networkId);
        }

        @Override
        public void connected(String containerId, Network network, Attachment attachment, Endpoint endpoint) {
            calls.add("connected " + containerId + " " + network.name() + " " + (endpoint == null ? "-" : endpoint.ifName()) + " " + attachment.aliases());
        }

        @Override
        public void disconnected(String containerId, Network network) {
            calls.add("disconnected " + containerId + " " + network.name());
        }
    }

    @BeforeEach
    void setUp() throws IOException {
        root = Files.createTempDirectory("berth-netuc-");
        defaultBridge = "bu" + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextInt()).substring(0, 6);
        linksBefore = HostNet.links();
        events = new EventBus();
        networks = open();
        containers = new FakeContainers();
        hooks = containers;
    }

    /** The container box as the network use cases see it (null: none). */
    private volatile ContainerNetworkHooks hooks;

    private NetworkUseCases open() {
        return new NetworkUseCases(new NetworkService(NetworkService.Options.defaults(root.resolve("data"), root.resolve("run"))
                .withAddressPools(List.of(new NetworkService.AddressPool("10.126.0.0/16", 24)))
                .withDefaultBridge(defaultBridge, "10.127.0.0/24")
                .withDnsUpstream(List::of)), events, () -> hooks);
    }

    @AfterEach
    void tearDown() throws Exception {
        Set<String> bridges = new LinkedHashSet<>(List.of(defaultBridge));
        if (networks != null) {
            NetworkService s = networks.service();
            for (Network n : s.list()) if (!n.isPredefined()) bridges.add(n.bridgeName());
            for (String id : ids) {
                try {
                    s.detach(id);
                } catch (RuntimeException e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            for (Network n : s.list()) {
                if (n.isPredefined()) continue;
                try {
                    s.remove(n.id(), id -> false);
                } catch (RuntimeException e) {
                    System.err.println("cleanup: " + e.getMessage());
                }
            }
            try {
                s.removeDefaultBridge();
            } catch (Exception e) {
                System.err.println("cleanup: " + e.getMessage());
            }
            networks.close();
        }
        run("ip", "link", "del", defaultBridge);
        List<String> mounts = HostNet.mountsUnder(root);
        for (String m : mounts.reversed()) run("umount", "-l", m);
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
        assertThat(mounts).as("namespaces left pinned").isEmpty();
        Set<String> added = HostNet.links();
        added.removeAll(linksBefore);
        added.retainAll(bridges);
        assertThat(added).as("bridges left").isEmpty();
        for (String id : ids) assertThat(run("iptables-save")).as("rules of " + id).doesNotContain(id);
    }

    private String container(String name, boolean running) {
        byte[] b = new byte[32];
        ThreadLocalRandom.current().nextBytes(b);
        String id = HexFormat.of().formatHex(b);
        ids.add(id);
        containers.byName.put(name, id);
        if (running) containers.running.add(id);
        return id;
    }

    private List<String> eventLines() {
        List<String> out = new ArrayList<>();
        for (Event e : events.history(0, Long.MAX_VALUE, x -> true)) {
            out.add(e.type() + " " + e.action() + " " + e.attributes().get("name") + " " + e.attributes().getOrDefault("container", "-"));
        }
        return out;
    }

    @Test
    void connectAndDisconnectARunningContainer() {
        Network front = networks.create(NetworkSpec.named("front"));
        Network back = networks.create(NetworkSpec.named("back").withPool("10.126.200.0/24", null, null));
        String web = container("web", true);
        networks.service().attach(AttachRequest.of(web, "web", Attachment.to("front")));

        networks.connect("back", "web", new Attachment("back", List.of("api"), "10.126.200.9", null, Map.of()));
        List<NetworkService.Member> members = networks.members(back);
        assertThat(members).hasSize(1);
        assertThat(members.getFirst().containerId()).isEqualTo(web);
        assertThat(members.getFirst().containerName()).isEqualTo("web");
        assertThat(members.getFirst().endpoint().ifName()).isEqualTo("eth1");
        assertThat(members.getFirst().endpoint().ipAddress()).isEqualTo("10.126.200.9");
        assertThat(members.getFirst().endpoint().aliases()).containsExactly("api");
        assertThat(run("nsenter", "--net=" + root.resolve("run/netns/" + web), "ip", "-o", "-4", "addr", "show", "dev", "eth1"))
                .contains("10.126.200.9/24");
        assertThat(containers.calls).containsExactly("connected " + web + " back eth1 [api]");
        assertThat(networks.inUse(back)).isTrue();

        assertThatThrownBy(() -> networks.connect("back", "web", Attachment.to("back")))
                .isInstanceOf(NetworkException.class).hasMessage("endpoint with name web already exists in network back");
        assertThatThrownBy(() -> networks.remove("back"))
                .hasMessage("error while removing network: network back id " + back.id() + " has active endpoints")
                .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.FORBIDDEN));
        assertThat(networks.prune(n -> true)).isEmpty();

        networks.disconnect("back", web.substring(0, 64), false);
        assertThat(networks.members(back)).isEmpty();
        assertThat(run("nsenter", "--net=" + root.resolve("run/netns/" + web), "ip", "-o", "link")).doesNotContain("eth1");
        assertThat(containers.calls).last().isEqualTo("disconnected " + web + " back");

        networks.service().detach(web);
        networks.remove("back");
        assertThat(networks.prune(n -> true)).containsExactly("front");
        assertThat(eventLines()).containsExactly(
                "network create front -",
                "network create back -",
                "network connect back " + web,
                "network prune null -",
                "network disconnect back " + web,
                "network destroy back -",
                "network destroy front -",
                "network prune null -");
        assertThat(Path.of("/sys/class/net", front.bridgeName())).doesNotExist();
    }

    @Test
    void aStoppedContainerIsConnectedInItsConfigurationOnly() {
        Network n = networks.create(NetworkSpec.named("later"));
        String db = container("db", false);
        networks.connect("later", "db", Attachment.to("later").withAliases("database"));
        assertThat(containers.calls).containsExactly("connected " + db + " later - [database]");
        assertThat(networks.members(n)).isEmpty();
        assertThat(root.resolve("run/netns/" + db)).doesNotExist();

        // the container box says the stopped container names the network: it stays
        containers.configuredNetworks.add(n.id());
        assertThat(networks.inUse(n)).isTrue();
        assertThatThrownBy(() -> networks.remove("later")).hasMessageContaining("has active endpoints");
        assertThat(networks.prune(x -> true)).isEmpty();

        networks.disconnect("later", "db", false);
        assertThat(containers.calls).last().isEqualTo("disconnected " + db + " later");
        containers.configuredNetworks.clear();
        assertThatThrownBy(() -> networks.connect("later", "nobody", Attachment.to("later"))).hasMessage("No such container: nobody")
                .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.NOT_FOUND));
        assertThatThrownBy(() -> networks.connect("nonet", "db", Attachment.to("nonet"))).hasMessage("network nonet not found");
        assertThatThrownBy(() -> networks.connect("host", "db", Attachment.to("host")))
                .hasMessage("container cannot be disconnected from host network or connected to host network");
        assertThat(eventLines()).containsExactly("network create later -", "network prune null -");
    }

    @Test
    void withoutHooksNoContainerExists() {
        hooks = null;
        networks.create(NetworkSpec.named("lonely"));
        assertThatThrownBy(() -> networks.connect("lonely", "c1", Attachment.to("lonely"))).hasMessage("No such container: c1");
        assertThatThrownBy(() -> networks.disconnect("lonely", "c1", true)).hasMessage("No such container: c1");
        assertThatThrownBy(() -> networks.create(NetworkSpec.named("host")))
                .hasMessage("operation is not permitted on predefined host network ")
                .satisfies(e -> assertThat(((NetworkException) e).kind()).isEqualTo(ErrorKind.FORBIDDEN));
    }

    @Test
    void startReconcilesOnlyWhenTheLiveContainersAreKnown() {
        Network n = networks.create(NetworkSpec.named("svc"));
        String a = container("a", true);
        networks.service().attach(AttachRequest.of(a, "a", Attachment.to("svc")));
        Path netns = root.resolve("run/netns/" + a);
        networks.close();

        // A restart without the container box: the namespace of a container that may still run stays.
        networks = open();
        networks.start();
        assertThat(HostNet.mountsUnder(root)).contains(netns.toString());
        assertThat(networks.members(n)).hasSize(1);
        assertThat(Path.of("/sys/class/net", n.bridgeName())).exists();
        networks.close();

        // With the live containers given (none run any more) the recorded networking is undone.
        networks = open();
        containers.live = Set.of();
        networks.start();
        assertThat(HostNet.mountsUnder(root)).doesNotContain(netns.toString());
        assertThat(netns).doesNotExist();
        assertThat(networks.members(n)).isEmpty();
        networks.remove("svc");
        assertThat(Path.of("/sys/class/net", n.bridgeName())).doesNotExist();
    }

    // ---------------------------------------------------------------- helpers

    private static String run(String... cmd) {
        return HostNet.run(cmd).out();
    }
}
