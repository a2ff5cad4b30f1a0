package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.network.Endpoint;
import io.berth.network.Network;
import io.berth.network.NetworkService;
import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.HostNet;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * `docker network` against a real berthd (root: bridges, embedded DNS on the gateway). The
 * daemon's daemon.json sets default-address-pools to 10.124.0.0/16 in /24s; explicit subnets
 * are 10.123.x. Every network a test makes is removed after it, and the host is checked to
 * hold none of this test's bridges or rules at the end.
 */
class NetworkApiTest {
    private static final String POOLS = "{\"default-address-pools\": [{\"base\": \"10.124.0.0/16\", \"size\": 24}]}\n";

    static BerthdProcess daemon;
    static DockerCli docker;
    static Set<String> linksBefore;
    static Set<String> rulesBefore;
    /** Every network ID made here, across daemons, for the final sweep. */
    static final Set<String> made = new LinkedHashSet<>();

    @BeforeAll
    static void start() throws Exception {
        linksBefore = HostNet.links();
        rulesBefore = HostNet.iptables();
        Path dir = Files.createTempDirectory("berthd-net");
        Files.writeString(dir.resolve("daemon.json"), POOLS);
        daemon = BerthdProcess.start(dir);
        docker = daemon.docker();
    }

    @AfterEach
    void removeUserNetworks() throws Exception {
        if (daemon != null && daemon.process().isAlive()) {
            for (String id : docker.run("network", "ls", "-q", "--no-trunc", "--filter", "type=custom").stdout().lines().toList()) {
                docker.run("network", "rm", id);
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (daemon != null) daemon.close();
        } finally {
            for (String id : made) {
                String dev = bridge(id);
                if (Files.exists(Path.of("/sys/class/net", dev))) run("ip", "link", "del", dev);
            }
        }
        List<String> leakedLinks = new ArrayList<>();
        for (String l : HostNet.links()) {
            if (!linksBefore.contains(l) && made.stream().anyMatch(id -> l.equals(bridge(id)))) leakedLinks.add(l);
        }
        assertThat(leakedLinks).as("bridges left on the host").isEmpty();
        assertThat(ours(HostNet.iptables())).as("iptables rules of this test's networks").isEqualTo(ours(rulesBefore));
    }

    @Test
    void createWithSubnetInspectAndRemove() throws Exception {
        DockerCli.Result created = docker.run("network", "create", "--subnet", "10.123.0.0/24", "--gateway", "10.123.0.1",
                "--label", "team=a", "-o", "com.docker.network.driver.mtu=1400", "n1");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        String id = created.stdout().trim();
        made.add(id);
        assertThat(id).matches("[0-9a-f]{64}");

        JsonNode n = inspect("n1");
        assertThat(n.get("Name").asString()).isEqualTo("n1");
        assertThat(n.get("Id").asString()).isEqualTo(id);
        assertThat(n.get("Created").asString()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(n.get("Scope").asString()).isEqualTo("local");
        assertThat(n.get("Driver").asString()).isEqualTo("bridge");
        assertThat(n.get("EnableIPv6").asBoolean()).isFalse();
        assertThat(n.get("IPAM").get("Driver").asString()).isEqualTo("default");
        assertThat(n.get("IPAM").get("Config")).hasSize(1);
        assertThat(n.get("IPAM").get("Config").get(0).get("Subnet").asString()).isEqualTo("10.123.0.0/24");
        assertThat(n.get("IPAM").get("Config").get(0).get("Gateway").asString()).isEqualTo("10.123.0.1");
        assertThat(n.get("Internal").asBoolean()).isFalse();
        assertThat(n.get("Attachable").asBoolean()).isFalse();
        assertThat(n.get("Ingress").asBoolean()).isFalse();
        assertThat(n.get("ConfigFrom").get("Network").asString()).isEmpty();
        assertThat(n.get("ConfigOnly").asBoolean()).isFalse();
        assertThat(n.get("Containers").isObject()).isTrue();
        assertThat(n.get("Containers").size()).isZero();
        assertThat(n.get("Options").get("com.docker.network.driver.mtu").asString()).isEqualTo("1400");
        assertThat(n.get("Labels").get("team").asString()).isEqualTo("a");
        // by ID prefix and full ID too
        assertThat(inspect(id.substring(0, 10)).get("Name").asString()).isEqualTo("n1");
        assertThat(inspect(id).get("Name").asString()).isEqualTo("n1");

        // The host side exists while the network does: the bridge with the gateway, the DNS on it.
        String dev = bridge(id);
        assertThat(run("ip", "-o", "-4", "addr", "show", "dev", dev)).contains("inet 10.123.0.1/24");
        assertThat(dnsListening("10.123.0.1")).isTrue();

        DockerCli.Result rm = docker.run("network", "rm", "n1");
        assertThat(rm.exitCode()).as(rm.toString()).isZero();
        assertThat(Path.of("/sys/class/net", dev)).doesNotExist();
        assertThat(dnsListening("10.123.0.1")).isFalse();
        DockerCli.Result gone = docker.run("network", "inspect", "n1");
        assertThat(gone.exitCode()).isNotZero();
        assertThat(gone.stderr()).contains("network n1 not found");
        assertThat(daemon.dataRoot().resolve("networks/" + id + ".json")).doesNotExist();
    }

    @Test
    void refusals() throws Exception {
        made.add(create("n1", "--subnet", "10.123.0.0/24"));

        DockerCli.Result overlap = docker.run("network", "create", "--subnet", "10.123.0.128/25", "n2");
        assertThat(overlap.exitCode()).isNotZero();
        assertThat(overlap.stderr()).contains("Error response from daemon: invalid pool request: Pool overlaps with other one on this address space");

        DockerCli.Result dup = docker.run("network", "create", "n1");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.stderr()).contains("network with name n1 already exists");

        DockerCli.Result predefined = docker.run("network", "create", "bridge");
        assertThat(predefined.exitCode()).isNotZero();
        assertThat(predefined.stderr()).contains("operation is not permitted on predefined bridge network");

        DockerCli.Result plugin = docker.run("network", "create", "-d", "weave", "w");
        assertThat(plugin.exitCode()).isNotZero();
        assertThat(plugin.stderr()).contains("plugin \"weave\" not found");

        DockerCli.Result host = docker.run("network", "create", "-d", "host", "h2");
        assertThat(host.exitCode()).isNotZero();
        assertThat(host.stderr()).contains("only one instance of \"host\" network is allowed");

        DockerCli.Result v6 = docker.run("network", "create", "--ipv6", "six");
        assertThat(v6.exitCode()).isNotZero();
        assertThat(v6.stderr()).contains("could not find an available, non-overlapping IPv6 address pool"); // no default IPv6 pools, as dockerd 20.10

        DockerCli.Result gw = docker.run("network", "create", "--subnet", "10.123.5.0/24", "--gateway", "10.123.6.1", "g");
        assertThat(gw.exitCode()).isNotZero();
        assertThat(gw.stderr()).contains("no matching subnet for gateway 10.123.6.1");

        for (String name : List.of("bridge", "host", "none")) {
            DockerCli.Result rm = docker.run("network", "rm", name);
            assertThat(rm.exitCode()).isNotZero();
            assertThat(rm.stderr()).contains(name + " is a pre-defined network and cannot be removed");
        }
        DockerCli.Result missing = docker.run("network", "rm", "nosuch");
        assertThat(missing.exitCode()).isNotZero();
        assertThat(missing.stderr()).contains("network nosuch not found");

        // Until the container box provides its hooks no container exists to connect.
        DockerCli.Result connect = docker.run("network", "connect", "n1", "somebox");
        assertThat(connect.exitCode()).isNotZero();
        assertThat(connect.stderr()).contains("No such container: somebox");

        assertThat(docker.run("network", "ls", "--format", "{{.Name}}").stdout().lines().toList())
                .containsExactlyInAnyOrder("bridge", "host", "none", "n1");
    }

    @Test
    void statusCodesAreDockerd() throws Exception {
        made.add(create("n1", "--subnet", "10.123.0.0/24"));
        assertThat(status(request("DELETE", "/v1.41/networks/bridge", null))).isEqualTo(403);
        assertThat(status(request("GET", "/v1.41/networks/nosuch", null))).isEqualTo(404);
        assertThat(status(request("DELETE", "/v1.41/networks/nosuch", null))).isEqualTo(404);
        assertThat(status(request("POST", "/v1.41/networks/create", "{\"Name\":\"n1\"}"))).isEqualTo(409);
        assertThat(status(request("POST", "/v1.41/networks/create",
                "{\"Name\":\"n9\",\"IPAM\":{\"Config\":[{\"Subnet\":\"10.123.0.0/16\"}]}}"))).isEqualTo(403);
        assertThat(status(request("POST", "/v1.41/networks/create", "{\"Name\":\"none\"}"))).isEqualTo(403);
        assertThat(status(request("POST", "/v1.41/networks/create", "{\"Name\":\"x\",\"Driver\":\"macvlan\"}"))).isEqualTo(404);
        assertThat(status(request("POST", "/v1.41/networks/create", "{\"Name\":\"x\",\"EnableIPv6\":true}"))).isEqualTo(404);
        assertThat(status(request("POST", "/v1.41/networks/n1/connect", "{\"Container\":\"c\"}"))).isEqualTo(404);
        assertThat(status(request("GET", "/v1.41/networks?filters=%7B%22colour%22%3A%7B%22red%22%3Atrue%7D%7D", null))).isEqualTo(400);
        String created = request("POST", "/v1.41/networks/create", "{\"Name\":\"n2\",\"CheckDuplicate\":true}");
        assertThat(status(created)).isEqualTo(201);
        JsonNode body = Json.MAPPER.readTree(created.substring(created.indexOf("\r\n\r\n") + 4).lines()
                .filter(l -> l.startsWith("{")).findFirst().orElseThrow());
        made.add(body.get("Id").asString());
        assertThat(body.get("Warning").asString()).isEmpty();
        String deleted = request("DELETE", "/v1.41/networks/n2", null);
        assertThat(status(deleted)).isEqualTo(204);
    }

    @Test
    void defaultAddressPoolsFromDaemonJsonAndInternal() throws Exception {
        String a = create("auto1", "--internal");
        made.add(a);
        String b = create("auto2");
        made.add(b);
        JsonNode n = inspect("auto1");
        assertThat(n.get("Internal").asBoolean()).isTrue();
        String s1 = n.get("IPAM").get("Config").get(0).get("Subnet").asString();
        String s2 = inspect("auto2").get("IPAM").get("Config").get(0).get("Subnet").asString();
        assertThat(s1).matches("10\\.124\\.\\d+\\.0/24");
        assertThat(s2).matches("10\\.124\\.\\d+\\.0/24").isNotEqualTo(s1);
        String gw = n.get("IPAM").get("Config").get(0).get("Gateway").asString();
        assertThat(gw).isEqualTo(s1.replace(".0/24", ".1"));
        assertThat(run("ip", "-o", "-4", "addr", "show", "dev", bridge(a))).contains("inet " + gw + "/24");
        assertThat(dnsListening(gw)).isTrue();
    }

    @Test
    void listFilters() throws Exception {
        String x = create("alpha", "--subnet", "10.123.1.0/24", "--label", "tier=web", "--label", "flag");
        made.add(x);
        made.add(create("beta", "--subnet", "10.123.2.0/24", "--label", "tier=db"));

        assertThat(names()).contains("bridge", "host", "none", "alpha", "beta");
        DockerCli.Result table = docker.run("network", "ls");
        assertThat(table.stdout()).contains("NETWORK ID", "NAME", "DRIVER", "SCOPE");
        assertThat(table.stdout().lines().filter(l -> l.contains(" host ")).findFirst().orElseThrow()).contains("host", "local");
        assertThat(table.stdout().lines().filter(l -> l.contains(" none ")).findFirst().orElseThrow()).contains("null");

        assertThat(names("--filter", "type=custom")).containsExactlyInAnyOrder("alpha", "beta");
        assertThat(names("--filter", "type=builtin")).containsExactlyInAnyOrder("bridge", "host", "none");
        assertThat(names("--filter", "driver=bridge")).containsExactlyInAnyOrder("bridge", "alpha", "beta");
        assertThat(names("--filter", "driver=null")).containsExactly("none");
        assertThat(names("--filter", "label=tier=web")).containsExactly("alpha");
        assertThat(names("--filter", "label=tier")).containsExactlyInAnyOrder("alpha", "beta");
        assertThat(names("--filter", "label=flag")).containsExactly("alpha");
        assertThat(names("--filter", "name=alp")).containsExactly("alpha");
        assertThat(names("--filter", "name=^bet")).containsExactly("beta");
        assertThat(names("--filter", "id=" + x.substring(0, 8))).containsExactly("alpha");
        assertThat(names("--filter", "scope=local")).contains("alpha", "bridge");
        assertThat(names("--filter", "scope=swarm")).isEmpty();
        assertThat(names("--filter", "dangling=true")).containsExactlyInAnyOrder("alpha", "beta");
        assertThat(names("--filter", "dangling=false")).containsExactlyInAnyOrder("bridge", "host", "none");
        assertThat(docker.run("network", "ls", "-q", "--filter", "name=alpha").stdout().trim()).isEqualTo(x.substring(0, 12));

        DockerCli.Result badType = docker.run("network", "ls", "--filter", "type=weird");
        assertThat(badType.exitCode()).isNotZero();
        assertThat(badType.stderr()).contains("invalid filter: 'type'='weird'");
        DockerCli.Result badKey = docker.run("network", "ls", "--filter", "colour=red");
        assertThat(badKey.exitCode()).isNotZero();
        assertThat(badKey.stderr()).contains("invalid filter 'colour'");
    }

    @Test
    void pruneAndEvents() throws Exception {
        long since = System.currentTimeMillis() / 1000 - 1;
        String keep = create("keep", "--subnet", "10.123.3.0/24", "--label", "keep=yes");
        made.add(keep);
        String drop1 = create("drop1", "--subnet", "10.123.4.0/24");
        made.add(drop1);
        String drop2 = create("drop2");
        made.add(drop2);

        DockerCli.Result none = docker.run("network", "prune", "-f", "--filter", "until=1h");
        assertThat(none.exitCode()).as(none.toString()).isZero();
        assertThat(names("--filter", "type=custom")).containsExactlyInAnyOrder("keep", "drop1", "drop2");

        DockerCli.Result pruned = docker.run("network", "prune", "-f", "--filter", "label!=keep=yes");
        assertThat(pruned.exitCode()).as(pruned.toString()).isZero();
        assertThat(pruned.stdout()).contains("Deleted Networks:", "drop1", "drop2").doesNotContain("keep");
        assertThat(names("--filter", "type=custom")).containsExactly("keep");
        assertThat(Path.of("/sys/class/net", bridge(drop1))).doesNotExist();
        assertThat(Path.of("/sys/class/net", bridge(drop2))).doesNotExist();
        assertThat(names()).contains("bridge", "host", "none");

        assertThat(docker.run("network", "prune", "-f").exitCode()).isZero();
        assertThat(names("--filter", "type=custom")).isEmpty();
        assertThat(Path.of("/sys/class/net", bridge(keep))).doesNotExist();

        // An --until in the past makes the daemon answer from its history at once.
        long until = System.currentTimeMillis() / 1000 + 1;
        while (System.currentTimeMillis() <= until * 1000) Thread.sleep(50);
        DockerCli.Result events = docker.run("events", "--since", Long.toString(since), "--until", Long.toString(until),
                "--filter", "type=network", "--format", "{{.Action}} {{.Actor.ID}} {{index .Actor.Attributes \"name\"}} {{index .Actor.Attributes \"type\"}}");
        assertThat(events.exitCode()).as(events.toString()).isZero();
        assertThat(events.stdout().lines().toList()).contains(
                "create " + keep + " keep bridge",
                "create " + drop1 + " drop1 bridge",
                "destroy " + drop1 + " drop1 bridge",
                "destroy " + drop2 + " drop2 bridge",
                "destroy " + keep + " keep bridge");
        assertThat(events.stdout()).contains("prune ");
    }

    @Test
    void networksSurviveARestartWithTheirHostSide() throws Exception {
        Path dir = Files.createTempDirectory("berthd-net-restart");
        Files.writeString(dir.resolve("daemon.json"), "{\"default-address-pools\": [{\"base\": \"10.125.0.0/16\", \"size\": 24}]}\n");
        BerthdProcess d = BerthdProcess.start(dir);
        try {
            DockerCli cli = d.docker();
            DockerCli.Result c = cli.run("network", "create", "--subnet", "10.123.7.0/24", "--label", "x=y", "kept");
            assertThat(c.exitCode()).as(c.toString()).isZero();
            String id = c.stdout().trim();
            made.add(id);
            DockerCli.Result auto = cli.run("network", "create", "pooled");
            String pooledId = auto.stdout().trim();
            made.add(pooledId);
            assertThat(cli.run("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "pooled").stdout().trim())
                    .isEqualTo("10.125.0.0/24");
            assertThat(dnsListening("10.123.7.1")).isTrue();

            d.stop();
            // The daemon's DNS stops with it; the bridge stays (containers outlive the daemon).
            assertThat(dnsListening("10.123.7.1")).isFalse();
            assertThat(Path.of("/sys/class/net", bridge(id))).exists();

            d = BerthdProcess.start(dir);
            cli = d.docker();
            JsonNode n = Json.MAPPER.readTree(cli.run("network", "inspect", "kept").stdout()).get(0);
            assertThat(n.get("Id").asString()).isEqualTo(id);
            assertThat(n.get("Labels").get("x").asString()).isEqualTo("y");
            assertThat(n.get("IPAM").get("Config").get(0).get("Subnet").asString()).isEqualTo("10.123.7.0/24");
            assertThat(dnsListening("10.123.7.1")).isTrue();
            assertThat(cli.run("network", "ls", "--format", "{{.Name}}").stdout().lines().toList())
                    .containsExactlyInAnyOrder("bridge", "host", "none", "kept", "pooled");
            // predefined networks keep their IDs across the restart
            assertThat(cli.run("network", "rm", "kept", "pooled").exitCode()).isZero();
            assertThat(Path.of("/sys/class/net", bridge(id))).doesNotExist();
            assertThat(Path.of("/sys/class/net", bridge(pooledId))).doesNotExist();
            assertThat(dnsListening("10.123.7.1")).isFalse();
        } finally {
            d.close();
        }
    }

    @Test
    void predefinedNetworksKeepTheirIdsAcrossRestarts() throws Exception {
        Path dir = Files.createTempDirectory("berthd-net-ids");
        BerthdProcess d = BerthdProcess.start(dir);
        try {
            String before = d.docker().run("network", "ls", "-q", "--no-trunc", "--filter", "type=builtin").stdout();
            assertThat(before.lines().count()).isEqualTo(3);
            d.stop();
            d = BerthdProcess.start(dir);
            assertThat(d.docker().run("network", "ls", "-q", "--no-trunc", "--filter", "type=builtin").stdout()).isEqualTo(before);
            JsonNode bridge = Json.MAPPER.readTree(d.docker().run("network", "inspect", "bridge").stdout()).get(0);
            assertThat(bridge.get("Driver").asString()).isEqualTo("bridge");
            assertThat(bridge.get("Options").get("com.docker.network.bridge.default_bridge").asString()).isEqualTo("true");
            assertThat(bridge.get("IPAM").get("Config").get(0).get("Subnet").asString()).isNotEmpty();
            // without default-address-pools a network is carved from the built-in pool
            DockerCli.Result c = d.docker().run("network", "create", "plain");
            assertThat(c.exitCode()).as(c.toString()).isZero();
            made.add(c.stdout().trim());
            assertThat(d.docker().run("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "plain").stdout().trim())
                    .matches("10\\.90\\.\\d+\\.0/24");
            assertThat(d.docker().run("network", "rm", "plain").exitCode()).isZero();
        } finally {
            d.close();
        }
    }

    @Test
    void badAddressPoolsStopTheDaemonFromStarting() throws Exception {
        Path dir = Files.createTempDirectory("berthd-net-bad");
        Files.writeString(dir.resolve("daemon.json"), "{\"default-address-pools\": [{\"base\": \"10.128.0.0/16\", \"size\": 8}]}\n");
        try (BerthdProcess d = BerthdProcess.launch(dir)) {
            assertThat(d.process().waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(d.process().exitValue()).isNotZero();
            assertThat(d.log()).contains("invalid default-address-pools size 8 for base 10.128.0.0/16");
        }
    }

    @Test
    void inspectShowsTheContainersOfANetwork() throws Exception {
        Network n = new Network("app", "f".repeat(64), "2025-01-01T00:00:00Z", "local", "bridge", false,
                new Network.Ipam("default", Map.of(), List.of(new Network.IpamConfig("10.123.8.0/24", null, "10.123.8.1"))),
                false, false, Map.of("b", "2", "a", "1"), Map.of());
        String cid = "c".repeat(64);
        Endpoint ep = new Endpoint(n.id(), "app", "e".repeat(64), "eth0", "10.123.8.2", 24, "10.123.8.1", "02:42:0a:7b:08:02", List.of(), List.of());
        JsonNode shaped = Json.MAPPER.readTree(Json.bytes(NetworkRoutes.shape(n, List.of(new NetworkService.Member(cid, "web", ep)))));
        JsonNode c = shaped.get("Containers").get(cid);
        assertThat(c.get("Name").asString()).isEqualTo("web");
        assertThat(c.get("EndpointID").asString()).isEqualTo("e".repeat(64));
        assertThat(c.get("MacAddress").asString()).isEqualTo("02:42:0a:7b:08:02");
        assertThat(c.get("IPv4Address").asString()).isEqualTo("10.123.8.2/24");
        assertThat(c.get("IPv6Address").asString()).isEmpty();
        assertThat(shaped.get("IPAM").get("Config").get(0).has("IPRange")).isFalse();
        assertThat(shaped.get("Options").propertyNames()).containsExactly("a", "b");
    }

    // ---------------------------------------------------------------- helpers

    private static String create(String name, String... flags) throws Exception {
        List<String> args = new ArrayList<>(List.of("network", "create"));
        args.addAll(List.of(flags));
        args.add(name);
        DockerCli.Result r = docker.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().trim();
    }

    private static JsonNode inspect(String name) throws Exception {
        DockerCli.Result r = docker.run("network", "inspect", name);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode all = Json.MAPPER.readTree(r.stdout());
        assertThat(all).hasSize(1);
        return all.get(0);
    }

    private static List<String> names(String... filters) throws Exception {
        List<String> args = new ArrayList<>(List.of("network", "ls", "--format", "{{.Name}}"));
        args.addAll(List.of(filters));
        DockerCli.Result r = docker.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.toString()).isZero();
        return r.stdout().lines().filter(l -> !l.isBlank()).toList();
    }

    private static String request(String method, String path, String json) throws IOException {
        StringBuilder req = new StringBuilder(method + " " + path + " HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n");
        if (json != null) {
            byte[] body = json.getBytes(StandardCharsets.UTF_8);
            req.append("Content-Type: application/json\r\nContent-Length: ").append(body.length).append("\r\n\r\n").append(json);
        } else {
            req.append("\r\n");
        }
        return daemon.raw(req.toString());
    }

    private static int status(String response) {
        return Integer.parseInt(response.substring(9, 12));
    }

    static String bridge(String id) {
        return "br-" + id.substring(0, 12);
    }

    /** True when something listens on UDP {@code ip}:53 (the embedded DNS). */
    private static boolean dnsListening(String ip) {
        return run("ss", "-lnuH").lines().anyMatch(l -> l.contains(" " + ip + ":53 ") || l.contains(":" + ip + "]:53 "));
    }

    /** The rules that name this test's subnets or bridges (other engineers' tests may run beside). */
    private static Set<String> ours(Set<String> rules) {
        Set<String> out = new LinkedHashSet<>();
        for (String r : rules) {
            if (r.matches(".*10\\.12[345]\\..*") || made.stream().anyMatch(id -> r.contains(bridge(id)))) out.add(r);
        }
        return out;
    }

    private static String run(String... cmd) {
        return HostNet.run(cmd).out();
    }
}
