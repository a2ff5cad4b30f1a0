package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Container networking through the docker CLI against a real berthd: the default bridge,
 * published ports, user networks with names and aliases, none, host, connect and disconnect,
 * /etc files, links, leak-free cycles and a daemon killed with containers running.
 */
class ContainerNetworkCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String IMAGE = "berth-test/busybox:latest";
    static final String HTTPD = "busybox httpd -f -p 80 -h /www";
    static Set<String> linksBefore;
    static Set<String> rulesBefore;
    static Path dir;
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        linksBefore = WiringHost.links();
        rulesBefore = WiringHost.iptables();
        dir = Files.createTempDirectory("berth-net-cli");
        cli = CliDaemon.start(dir);
        daemon = cli.daemon();
        docker = cli.docker();
        TestImages.Built b = TestImages.busybox().files(Map.of("www/index.html", "served by berth\n")).exposedPorts("80/tcp")
                .tag(IMAGE).writeTo(tmp.resolve("bb.tar"));
        cli.load(b);
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainers();
        cli.removeCustomNetworks();
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (cli != null) {
                Path ipam = daemon.dataRoot().resolve("network").resolve("ipam");
                assertThat(WiringHost.leases(ipam)).as("address leases left").isEmpty();
                assertThat(WiringHost.netns(dir.resolve("run"))).as("network namespaces left").isEmpty();
                cli.close();
            }
        } finally {
            assertThat(WiringHost.leakedLinks(linksBefore)).as("links left").isEmpty();
            assertThat(WiringHost.leakedRules(rulesBefore)).as("iptables rules left").isEmpty();
        }
    }

    static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    static JsonNode inspect(String name) throws Exception {
        return cli.inspect(name);
    }

    @Test
    void aPublishedPortOnLoopbackServesAFileFromTheDefaultBridge() throws Exception {
        int port = WiringHost.freePort();
        ok("run", "-d", "--name", "web", "-p", "127.0.0.1:" + port + ":80", IMAGE, "sh", "-c", HTTPD);
        assertThat(WiringHost.httpGet(port, "/index.html")).isEqualTo("served by berth\n");

        JsonNode ns = inspect("web").get("NetworkSettings");
        assertThat(ns.get("IPAddress").asString()).startsWith("10.89.0.");
        assertThat(ns.get("Gateway").asString()).isEqualTo("10.89.0.1");
        assertThat(ns.get("IPPrefixLen").asInt()).isEqualTo(24);
        assertThat(ns.get("MacAddress").asString()).matches("([0-9a-f]{2}:){5}[0-9a-f]{2}");
        JsonNode bridge = ns.get("Networks").get("bridge");
        assertThat(bridge.get("IPAddress").asString()).isEqualTo(ns.get("IPAddress").asString());
        assertThat(bridge.get("NetworkID").asString()).isEqualTo(ok("network", "inspect", "-f", "{{.Id}}", "bridge").stdout().trim());
        assertThat(bridge.get("EndpointID").asString()).matches("[0-9a-f]{64}");
        JsonNode binding = ns.get("Ports").get("80/tcp").get(0);
        assertThat(binding.get("HostIp").asString()).isEqualTo("127.0.0.1");
        assertThat(binding.get("HostPort").asString()).isEqualTo(Integer.toString(port));
        assertThat(ok("port", "web").stdout().trim()).isEqualTo("80/tcp -> 127.0.0.1:" + port);
        assertThat(ok("ps", "--format", "{{.Ports}}").stdout().trim()).isEqualTo("127.0.0.1:" + port + "->80/tcp");

        // the container reaches the host side of the bridge, and its own name resolves in /etc/hosts
        String hosts = ok("exec", "web", "cat", "/etc/hosts").stdout();
        assertThat(hosts).contains(ns.get("IPAddress").asString() + "\t" + inspect("web").get("Config").get("Hostname").asString());
        ok("exec", "web", "ping", "-c1", "-W2", "10.89.0.1");

        // stopped: no addresses, no ports; the host port is free again
        ok("stop", "-t", "1", "web");
        JsonNode stopped = inspect("web").get("NetworkSettings");
        assertThat(stopped.get("IPAddress").asString()).isEmpty();
        assertThat(stopped.get("Ports").isEmpty()).isTrue();
        assertThat(stopped.get("Networks").get("bridge").get("IPAddress").asString()).isEmpty();
        try (var s = new java.net.ServerSocket(port, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            assertThat(s.getLocalPort()).isEqualTo(port);
        }
    }

    @Test
    void publishAllTakesTheImagesExposedPortsOnRandomHostPorts() throws Exception {
        ok("run", "-d", "--name", "pall", "-P", "--expose", "81/udp", IMAGE, "sh", "-c", HTTPD);
        String out = ok("port", "pall", "80/tcp").stdout().trim();
        assertThat(out).matches("0\\.0\\.0\\.0:\\d+");
        int port = Integer.parseInt(out.substring(out.indexOf(':') + 1));
        assertThat(port).isPositive();
        assertThat(ok("port", "pall", "81/udp").stdout().trim()).matches("0\\.0\\.0\\.0:\\d+");
        assertThat(WiringHost.httpGet(port, "/index.html")).isEqualTo("served by berth\n");
        assertThat(ok("ps", "--format", "{{.Ports}}").stdout()).contains("0.0.0.0:" + port + "->80/tcp");
    }

    @Test
    void aPortRangeAndAPortTakenAreHandledAsDockerDoes() throws Exception {
        int port = WiringHost.freePort();
        ok("run", "-d", "--name", "one", "-p", "127.0.0.1:" + port + ":80", IMAGE, "sleep", "300");
        DockerCli.Result taken = docker.run("run", "-d", "--name", "two", "-p", "127.0.0.1:" + port + ":80", IMAGE, "sleep", "300");
        assertThat(taken.exitCode()).isNotZero();
        assertThat(taken.stderr()).contains("port is already allocated");
        assertThat(inspect("two").get("State").get("Status").asString()).isIn("created", "exited");
        ok("run", "-d", "--name", "three", "-p", "127.0.0.1:" + port + "-" + (port + 5) + ":80", IMAGE, "sh", "-c", HTTPD);
        String chosen = ok("port", "three", "80").stdout().trim();
        int p = Integer.parseInt(chosen.substring(chosen.lastIndexOf(':') + 1));
        assertThat(p).isBetween(port + 1, port + 5);
        assertThat(WiringHost.httpGet(p, "/index.html")).isEqualTo("served by berth\n");
    }

    @Test
    void containersOnAUserNetworkReachEachOtherByNameAndAlias() throws Exception {
        ok("network", "create", "appnet");
        ok("run", "-d", "--name", "srv", "--network", "appnet", "--network-alias", "web-alias", IMAGE, "sh", "-c", HTTPD);
        DockerCli.Result r = ok("run", "--rm", "--network", "appnet", IMAGE, "sh", "-c",
                "wget -qO- http://srv/index.html && ping -c1 -W2 web-alias >/dev/null && echo pinged && cat /etc/resolv.conf");
        assertThat(r.stdout()).startsWith("served by berth\npinged\n");
        String gateway = ok("network", "inspect", "-f", "{{(index .IPAM.Config 0).Gateway}}", "appnet").stdout().trim();
        assertThat(r.stdout()).contains("nameserver " + gateway);

        JsonNode net = inspect("srv").get("NetworkSettings").get("Networks").get("appnet");
        assertThat(net.get("Aliases").toString()).contains("web-alias");
        assertThat(net.get("DNSNames").toString()).contains("srv").contains("web-alias");
        assertThat(inspect("srv").get("NetworkSettings").get("IPAddress").asString()).isEmpty();
        // docker network inspect lists the running container
        assertThat(ok("network", "inspect", "-f", "{{range .Containers}}{{.Name}} {{end}}", "appnet").stdout()).contains("srv");
        // a static address on the user network
        String subnet = ok("network", "inspect", "-f", "{{(index .IPAM.Config 0).Subnet}}", "appnet").stdout().trim();
        String ip = subnet.substring(0, subnet.lastIndexOf('.')) + ".77";
        ok("run", "-d", "--name", "fixed", "--network", "appnet", "--ip", ip, IMAGE, "sleep", "300");
        assertThat(ok("exec", "srv", "ping", "-c1", "-W2", "fixed").stdout()).contains(ip);
    }

    /**
     * A bridge with a kernel-chosen address takes the lowest address of its ports, so it changed
     * as containers joined, and a container that had cached the gateway's old address sent its DNS
     * queries to no one for up to a minute ("ping: bad address" in CI). Its address is set once.
     */
    @Test
    void theBridgeKeepsItsAddressAsContainersComeAndGo() throws Exception {
        ok("network", "create", "macnet");
        String bridge = "br-" + ok("network", "inspect", "-f", "{{.Id}}", "macnet").stdout().trim().substring(0, 12);
        Path address = Path.of("/sys/class/net", bridge, "address");
        String before = Files.readString(address).trim();
        assertThat(Files.readString(Path.of("/sys/class/net", bridge, "addr_assign_type")).trim()).as("set, not chosen by the kernel").isEqualTo("3");
        ok("run", "-d", "--name", "first", "--network", "macnet", IMAGE, "sleep", "300");
        for (int i = 0; i < 4; i++) ok("run", "-d", "--network", "macnet", IMAGE, "sleep", "300");
        ok("run", "--rm", "--network", "macnet", IMAGE, "true");
        assertThat(Files.readString(address).trim()).isEqualTo(before);
        // the first container's cached gateway address still reaches the embedded DNS
        assertThat(ok("exec", "first", "nslookup", "first").stdout()).contains("Name:");
    }

    @Test
    void networkNoneHasOnlyLoopbackAndHostSeesTheHostsInterfaces() throws Exception {
        String none = ok("run", "--rm", "--network", "none", IMAGE, "cat", "/proc/net/dev").stdout();
        List<String> ifaces = interfaces(none);
        assertThat(ifaces).containsExactly("lo");
        assertThat(inspect(ok("create", "--network", "none", IMAGE, "true").stdout().trim()).get("NetworkSettings").get("Networks").has("none")).isTrue();

        String host = ok("run", "--rm", "--network", "host", IMAGE, "cat", "/proc/net/dev").stdout();
        assertThat(interfaces(host)).containsExactlyInAnyOrderElementsOf(interfaces(Files.readString(Path.of("/proc/net/dev"))));
        String hostHostname = WiringHost.run("hostname").trim();
        assertThat(ok("run", "--rm", "--network", "host", IMAGE, "hostname").stdout().trim()).isEqualTo(hostHostname);
    }

    private static List<String> interfaces(String procNetDev) {
        List<String> out = new ArrayList<>();
        for (String line : procNetDev.split("\n")) {
            int colon = line.indexOf(':');
            if (colon > 0 && !line.contains("|")) out.add(line.substring(0, colon).trim());
        }
        return out;
    }

    @Test
    void containerModeSharesTheNetworkStack() throws Exception {
        ok("run", "-d", "--name", "base", IMAGE, "sh", "-c", HTTPD);
        String out = ok("run", "--rm", "--network", "container:base", IMAGE, "wget", "-qO-", "http://127.0.0.1/index.html").stdout();
        assertThat(out).isEqualTo("served by berth\n");
    }

    @Test
    void connectAndDisconnectARunningContainer() throws Exception {
        ok("network", "create", "net1");
        ok("network", "create", "net2");
        ok("run", "-d", "--name", "srv", "--network", "net1", IMAGE, "sh", "-c", HTTPD);
        ok("run", "-d", "--name", "mover", "--network", "net2", IMAGE, "sh", "-c", HTTPD);
        assertThat(docker.run("exec", "srv", "ping", "-c1", "-W1", "mover").exitCode()).isNotZero();

        ok("network", "connect", "--alias", "moved", "net1", "mover");
        JsonNode nets = inspect("mover").get("NetworkSettings").get("Networks");
        assertThat(nets.has("net1")).isTrue();
        assertThat(nets.has("net2")).isTrue();
        String ip = nets.get("net1").get("IPAddress").asString();
        assertThat(ok("exec", "mover", "ip", "addr").stdout()).contains("inet " + ip + "/");
        assertThat(ok("exec", "srv", "wget", "-qO-", "http://mover/index.html").stdout()).isEqualTo("served by berth\n");
        assertThat(ok("exec", "srv", "ping", "-c1", "-W2", "moved").stdout()).contains(ip);

        ok("network", "disconnect", "net1", "mover");
        assertThat(inspect("mover").get("NetworkSettings").get("Networks").has("net1")).isFalse();
        assertThat(ok("exec", "mover", "ip", "addr").stdout()).doesNotContain("inet " + ip + "/");
        assertThat(docker.run("exec", "srv", "ping", "-c1", "-W1", "mover").exitCode()).isNotZero();

        // a stopped container connected joins at its next start
        ok("stop", "-t", "1", "mover");
        ok("network", "connect", "net1", "mover");
        ok("start", "mover");
        assertThat(ok("exec", "srv", "wget", "-qO-", "http://mover/index.html").stdout()).isEqualTo("served by berth\n");
        DockerCli.Result inUse = docker.run("network", "rm", "net1");
        assertThat(inUse.exitCode()).isNotZero();
    }

    /** What dockerd accepts and keeps: names with spaces, IPAM options and aux addresses, endpoint driver options and link-local IPs. */
    @Test
    void networkAndEndpointDetailsKeptAsDockerdKeepsThem() throws Exception {
        ok("network", "create", "my net");
        ok("run", "-d", "--name", "spaced", "--network", "my net", IMAGE, "sleep", "300");
        assertThat(inspect("spaced").get("NetworkSettings").get("Networks").get("my net").get("IPAddress").asString()).isNotEmpty();

        ok("network", "create", "--subnet", "10.123.77.0/24", "--aux-address", "router=10.123.77.5", "--ipam-opt", "o=1", "opts");
        JsonNode ipam = JSON.readTree(ok("network", "inspect", "opts").stdout()).get(0).get("IPAM");
        assertThat(ipam.get("Options").get("o").asString()).isEqualTo("1");
        assertThat(ipam.get("Config").get(0).get("AuxiliaryAddresses").get("router").asString()).isEqualTo("10.123.77.5");
        String raw = daemon.raw(post("/v1.41/networks/create", "{\"Name\":\"plain\"}"));
        assertThat(raw).startsWith("HTTP/1.1 201");
        assertThat(JSON.readTree(ok("network", "inspect", "plain").stdout()).get(0).get("IPAM").get("Options").isNull()).isTrue();

        ok("network", "connect", "--driver-opt", "com.example.k=v", "--link-local-ip", "169.254.8.8", "opts", "spaced");
        JsonNode ep = inspect("spaced").get("NetworkSettings").get("Networks").get("opts");
        assertThat(ep.get("DriverOpts").get("com.example.k").asString()).isEqualTo("v");
        assertThat(ep.get("IPAMConfig").get("LinkLocalIPs").get(0).asString()).isEqualTo("169.254.8.8");

        String created = daemon.raw(post("/v1.41/containers/create?name=withopts", "{\"Image\":\"" + IMAGE + "\",\"Cmd\":[\"true\"],"
                + "\"HostConfig\":{\"NetworkMode\":\"opts\"},\"NetworkingConfig\":{\"EndpointsConfig\":{\"opts\":{\"DriverOpts\":{\"a\":\"b\"}}}}}"));
        assertThat(created).startsWith("HTTP/1.1 201");
        assertThat(inspect("withopts").get("NetworkSettings").get("Networks").get("opts").get("DriverOpts").get("a").asString()).isEqualTo("b");

        // the create's top-level MacAddress (API 1.41; CLI 28 sends it per network from 1.44 only) is the bridge interface's
        String withMac = daemon.raw(post("/v1.41/containers/create?name=withmac", "{\"Image\":\"" + IMAGE + "\",\"Cmd\":[\"sleep\",\"300\"],"
                + "\"MacAddress\":\"02:42:ac:11:00:0a\"}"));
        assertThat(withMac).startsWith("HTTP/1.1 201");
        ok("start", "withmac");
        assertThat(inspect("withmac").get("NetworkSettings").get("MacAddress").asString()).isEqualTo("02:42:ac:11:00:0a");
        assertThat(ok("exec", "withmac", "cat", "/sys/class/net/eth0/address").stdout().trim()).isEqualTo("02:42:ac:11:00:0a");

        ok("network", "disconnect", "--force", "opts", "spaced");
        DockerCli.Result again = docker.run("network", "disconnect", "--force", "opts", "spaced");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("is not connected to network opts");
        DockerCli.Result stopped = docker.run("network", "disconnect", "plain", "withopts");
        assertThat(stopped.exitCode()).isNotZero();
        assertThat(stopped.stderr()).contains("is not connected to the network plain");
    }

    private static String post(String path, String json) {
        return "POST " + path + " HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: "
                + json.getBytes(java.nio.charset.StandardCharsets.UTF_8).length + "\r\nConnection: close\r\n\r\n" + json;
    }

    @Test
    void aContainerOnTwoNetworksResolvesNamesOnBoth() throws Exception {
        ok("network", "create", "dnsa");
        ok("network", "create", "dnsb");
        ok("run", "-d", "--name", "only-b", "--network", "dnsb", IMAGE, "sh", "-c", HTTPD);
        ok("run", "-d", "--name", "client", "--network", "dnsa", IMAGE, "sleep", "300");
        ok("network", "connect", "dnsb", "client");
        // client's resolv.conf names dnsa's server, which answers from client's other network too
        assertThat(ok("exec", "client", "wget", "-qO-", "http://only-b/index.html").stdout()).isEqualTo("served by berth\n");
    }

    /**
     * A container started on the default bridge and then connected to a user network resolves
     * that network's names: its resolv.conf switches to the network's embedded DNS (at the
     * gateway), as dockerd switches it to 127.0.0.11; disconnected again, it goes back.
     */
    @Test
    void aBridgeContainerConnectedToAUserNetworkResolvesItsNames() throws Exception {
        ok("network", "create", "--subnet", "10.123.88.0/24", "latenet");
        ok("run", "-d", "--name", "other", "--network", "latenet", IMAGE, "sleep", "300");
        String otherIp = inspect("other").get("NetworkSettings").get("Networks").get("latenet").get("IPAddress").asString();
        ok("run", "-d", "--name", "c1", IMAGE, "sleep", "300");
        String before = ok("exec", "c1", "cat", "/etc/resolv.conf").stdout();
        assertThat(before).doesNotContain("nameserver 10.123.88.1");

        ok("network", "connect", "latenet", "c1");
        assertThat(ok("exec", "c1", "cat", "/etc/resolv.conf").stdout()).contains("nameserver 10.123.88.1\n");
        DockerCli.Result lookup = ok("exec", "c1", "nslookup", "other");
        assertThat(lookup.stdout()).contains("Address: " + otherIp);
        assertThat(ok("exec", "c1", "ping", "-c1", "-W2", "other").stdout()).contains(otherIp);

        ok("network", "disconnect", "latenet", "c1");
        assertThat(ok("exec", "c1", "cat", "/etc/resolv.conf").stdout()).isEqualTo(before);
    }

    @Test
    void etcFilesFollowAddHostDnsAndHostname() throws Exception {
        String out = ok("run", "--rm", "--hostname", "boxy", "--add-host", "db.example:10.1.2.3", "--add-host", "gw:host-gateway",
                "--dns", "10.9.9.9", "--dns-search", "corp.example", "--dns-option", "ndots:3", IMAGE,
                "sh", "-c", "cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; cat /etc/hostname; hostname").stdout();
        String[] parts = out.split("---\n");
        assertThat(parts[0]).contains("10.1.2.3\tdb.example\n").contains("10.89.0.1\tgw\n").contains("\tboxy\n").contains("127.0.0.1\tlocalhost");
        assertThat(parts[1]).contains("nameserver 10.9.9.9\n").contains("search corp.example\n").contains("options ndots:3\n");
        assertThat(parts[2]).isEqualTo("boxy\nboxy\n");
    }

    @Test
    void aLinkOnTheDefaultBridgeNamesTheTarget() throws Exception {
        ok("run", "-d", "--name", "target", IMAGE, "sh", "-c", HTTPD);
        String out = ok("run", "--rm", "--link", "target:tgt", IMAGE, "wget", "-qO-", "http://tgt/index.html").stdout();
        assertThat(out).isEqualTo("served by berth\n");
        DockerCli.Result missing = docker.run("run", "--rm", "--link", "nosuch:x", IMAGE, "true");
        assertThat(missing.exitCode()).isNotZero();
    }

    /** dockerd's legacy link variables, and `docker rm --link` forgetting a link. */
    @Test
    void aLegacyLinkGivesDockerdsVariablesAndCanBeRemoved() throws Exception {
        ok("run", "-d", "--name", "linked", "-e", "FOO=1", IMAGE, "sh", "-c", HTTPD);
        String ip = inspect("linked").get("NetworkSettings").get("IPAddress").asString();
        String env = ok("run", "--name", "linker", "--link", "linked:my-db", IMAGE, "env").stdout();
        assertThat(env).contains("MY_DB_NAME=/linker/my-db\n").contains("MY_DB_ENV_FOO=1\n")
                .contains("MY_DB_PORT=tcp://" + ip + ":80\n").contains("MY_DB_PORT_80_TCP=tcp://" + ip + ":80\n")
                .contains("MY_DB_PORT_80_TCP_ADDR=" + ip + "\n").contains("MY_DB_PORT_80_TCP_PORT=80\n").contains("MY_DB_PORT_80_TCP_PROTO=tcp\n")
                .doesNotContain("MY_DB_ENV_PATH");
        ok("rm", "--link", "linker/my-db");
        assertThat(inspect("linker").get("HostConfig").get("Links").isNull()).isTrue();
        DockerCli.Result again = docker.run("rm", "--link", "linker/my-db");
        assertThat(again.exitCode()).isNotZero();
    }

    @Test
    void anUnknownNetworkIsRefusedAtStart() throws Exception {
        // as dockerd 20.10: the create is accepted, the start answers 404 (a 404 at create
        // would make the CLI try to pull the image)
        DockerCli.Result run = docker.run("run", "--name", "lost", "--network", "nosuchnet", IMAGE, "true");
        assertThat(run.exitCode()).isEqualTo(125);
        assertThat(run.stderr()).contains("network nosuchnet not found").doesNotContain("Unable to find image");
        assertThat(ok("ps", "-a", "--filter", "name=lost", "--format", "{{.Status}}").stdout().trim()).isEqualTo("Created");
        ok("rm", "lost");
    }

    @Test
    void twentyRunCyclesLeakNothing() throws Exception {
        Set<String> links = WiringHost.links();
        Set<String> rules = WiringHost.iptables();
        ok("network", "create", "cycles");
        for (int i = 0; i < 20; i++) {
            String net = i % 2 == 0 ? "cycles" : "bridge";
            String id = ok("create", "--network", net, "-p", "127.0.0.1::80", IMAGE, "sleep", "300").stdout().trim();
            ok("start", id);
            ok("rm", "-f", id);
        }
        // a start that fails after the network was set up leaves nothing either
        DockerCli.Result bad = docker.run("run", "-d", "--name", "bad", "--network", "cycles", "-p", "127.0.0.1::80", IMAGE, "/no/such/program");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(WiringHost.netns(dir.resolve("run"))).isEmpty();
        ok("rm", "bad");
        ok("network", "rm", "cycles");
        assertThat(WiringHost.leakedLinks(links)).isEmpty();
        assertThat(WiringHost.leakedRules(rules)).isEmpty();
        assertThat(WiringHost.netns(dir.resolve("run"))).isEmpty();
        assertThat(WiringHost.leases(daemon.dataRoot().resolve("network").resolve("ipam"))).isEmpty();
        assertThat(WiringHost.run("ip", "link", "show", "master", "berth0")).isBlank();
    }

    @Test
    void manyRunningContainersRemovedAtOnceLeaveNothingBehind() throws Exception {
        Set<String> links = WiringHost.links();
        Set<String> rules = WiringHost.iptables();
        ok("network", "create", "many");
        List<String> names = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            String name = "many" + i;
            List<String> args = new ArrayList<>(List.of("run", "-d", "--name", name, "--network", i % 2 == 0 ? "many" : "bridge"));
            if (i < 2) args.addAll(List.of("-p", "127.0.0.1::80"));
            args.addAll(List.of(IMAGE, "sleep", "300"));
            ok(args.toArray(String[]::new));
            names.add(name);
        }
        assertThat(WiringHost.leakedLinks(links)).as("veths while running").hasSize(9); // 8 veths and the network's bridge
        // one command: the CLI sends the eight removals at once
        List<String> rm = new ArrayList<>(List.of("rm", "-f"));
        rm.addAll(names);
        ok(rm.toArray(String[]::new));
        assertThat(ok("ps", "-aq").stdout()).isBlank();
        // nothing of them is left the moment the removal returned: no veth on either bridge,
        // no namespace, no lease, no port rule
        assertThat(WiringHost.run("ip", "link", "show", "master", "berth0")).isBlank();
        assertThat(WiringHost.leakedLinks(links)).hasSize(1).allMatch(l -> l.startsWith("br-"));
        assertThat(WiringHost.netns(dir.resolve("run"))).isEmpty();
        assertThat(WiringHost.leases(daemon.dataRoot().resolve("network").resolve("ipam"))).isEmpty();
        assertThat(WiringHost.leakedRules(rules)).as("only the network's own rules stay while it does").noneMatch(l -> l.contains("CNI-"));
        // and the addresses serve again
        ok("run", "--rm", "--network", "many", IMAGE, "true");
        ok("network", "rm", "many");
        assertThat(WiringHost.leakedLinks(links)).isEmpty();
        assertThat(WiringHost.leakedRules(rules)).isEmpty();
    }

    @Test
    void aContainerInTheHostsPidNamespaceWithAnExecLeftRemovesItsVethToo() throws Exception {
        // init's end does not end the exec'd process here: the network namespace outlives the
        // container's process until the runtime's delete kills the rest of its cgroup
        Set<String> links = WiringHost.links();
        ok("run", "-d", "--name", "hostpid", "--pid", "host", IMAGE, "sleep", "300");
        ok("exec", "-d", "hostpid", "sleep", "301");
        ok("rm", "-f", "hostpid");
        assertThat(WiringHost.run("ip", "link", "show", "master", "berth0")).isBlank();
        assertThat(WiringHost.leakedLinks(links)).isEmpty();
        assertThat(WiringHost.netns(dir.resolve("run"))).isEmpty();
        assertThat(WiringHost.run("pgrep", "-f", "sleep 301")).isBlank();
    }

    @Test
    void containersThatOutliveADaemonKilledWithSigkillKeepTheirNetwork() throws Exception {
        ok("network", "create", "crashnet");
        int port = WiringHost.freePort();
        ok("run", "-d", "--name", "srv", "--network", "crashnet", "-p", "127.0.0.1:" + port + ":80", IMAGE, "sh", "-c", HTTPD);
        ok("run", "-d", "--name", "client", "--network", "crashnet", IMAGE, "sleep", "300");
        daemon.signal("KILL");
        daemon.process().waitFor();
        cli = CliDaemon.start(dir);
        daemon = cli.daemon();
        docker = cli.docker();
        assertThat(WiringHost.httpGet(port, "/index.html")).isEqualTo("served by berth\n");
        assertThat(ok("exec", "client", "wget", "-qO-", "http://srv/index.html").stdout()).isEqualTo("served by berth\n");
        assertThat(ok("port", "srv").stdout().trim()).isEqualTo("80/tcp -> 127.0.0.1:" + port);
        // a new container still gets its own address and the others' names
        assertThat(ok("run", "--rm", "--network", "crashnet", IMAGE, "wget", "-qO-", "http://srv/index.html").stdout())
                .isEqualTo("served by berth\n");
    }
}
