package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.HostNet;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IPv6 and dual-stack networks as dockerd makes them (issue 12): {@code --ipv6} with an IPv6
 * subnet gives the bridge the IPv6 gateway and each container an IPv6 address beside its IPv4
 * one, shown in inspect; containers reach each other over IPv6 and find each other's AAAA
 * records in the embedded DNS; ip6tables gets the network's rules while it lives and none are
 * left after. Also the /etc/hosts of a container that is connected to and disconnected from a
 * network, which dockerd edits.
 */
class NetworkIpv6CliTest {
    static final String IMAGE = "bb:v6";
    static final Path FORWARDING = Path.of("/proc/sys/net/ipv6/conf/all/forwarding");

    @Test
    void dualStackNetworkGivesContainersIpv6AddressesThatReachEachOther(@TempDir Path tmp) throws Exception {
        Set<String> v6RulesBefore = ip6tables();
        Set<String> linksBefore = HostNet.links();
        String forwardingBefore = Files.readString(FORWARDING);
        BerthdProcess daemon = BerthdProcess.start();
        try {
            ok(daemon, "load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
            ok(daemon, "network", "create", "--ipv6", "--subnet", "10.199.21.0/24", "--subnet", "fd00:b:21::/64", "v6dual");
            assertThat(ok(daemon, "network", "inspect", "-f", "{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}} {{end}}", "v6dual").stdout().trim())
                    .isEqualTo("true 10.199.21.0/24 fd00:b:21::/64");
            String bridge = "br-" + ok(daemon, "network", "inspect", "-f", "{{.Id}}", "v6dual").stdout().trim().substring(0, 12);
            assertThat(HostNet.run("ip", "-6", "addr", "show", "dev", bridge).out()).contains("fd00:b:21::1/64");

            ok(daemon, "run", "-d", "--name", "six1", "--network", "v6dual", IMAGE, "sleep", "300");
            ok(daemon, "run", "-d", "--name", "six2", "--network", "v6dual", IMAGE, "sleep", "300");
            String f = "{{with index .NetworkSettings.Networks \"v6dual\"}}{{.IPAddress}} {{.GlobalIPv6Address}} {{.GlobalIPv6PrefixLen}} {{.IPv6Gateway}}{{end}}";
            String[] one = ok(daemon, "inspect", "-f", f, "six1").stdout().trim().split(" ");
            String[] two = ok(daemon, "inspect", "-f", f, "six2").stdout().trim().split(" ");
            assertThat(one[0]).startsWith("10.199.21.");
            assertThat(one[1]).startsWith("fd00:b:21::");
            assertThat(one[2]).isEqualTo("64");
            assertThat(one[3]).isEqualTo("fd00:b:21::1");
            assertThat(two[1]).startsWith("fd00:b:21::").isNotEqualTo(one[1]);
            assertThat(ok(daemon, "network", "inspect", "-f", "{{range .Containers}}{{.IPv6Address}} {{end}}", "v6dual").stdout())
                    .contains(one[1] + "/64").contains(two[1] + "/64");

            // from inside six1's namespace: its address, its default route, and six2 over IPv6
            String netns = ok(daemon, "inspect", "-f", "{{.NetworkSettings.SandboxKey}}", "six1").stdout().trim();
            assertThat(HostNet.inNs(netns, "ip", "-6", "addr", "show", "dev", "eth0").out()).contains(one[1] + "/64");
            assertThat(HostNet.inNs(netns, "ip", "-6", "route", "show", "default").out()).contains("via fd00:b:21::1");
            HostNet.Result ping = HostNet.inNs(netns, "busybox", "ping", "-6", "-c", "1", "-W", "3", two[1]);
            assertThat(ping.exit()).as(ping.out()).isZero();
            HostNet.Result gw = HostNet.inNs(netns, "busybox", "ping", "-6", "-c", "1", "-W", "3", "fd00:b:21::1");
            assertThat(gw.exit()).as(gw.out()).isZero();

            // the embedded DNS answers both records; ping by name goes over IPv6 with -6
            String lookup = ok(daemon, "exec", "six1", "nslookup", "-type=AAAA", "six2").stdout();
            assertThat(lookup).contains(two[1]);
            assertThat(ok(daemon, "exec", "six1", "nslookup", "six2").stdout()).contains(two[0]);
            assertThat(ok(daemon, "exec", "six1", "ping", "-6", "-c", "1", "-W", "3", "six2").stdout()).contains(two[1]);
            // its own /etc/hosts names it by both addresses, as dockerd's
            String hosts = ok(daemon, "exec", "six1", "cat", "/etc/hosts").stdout();
            assertThat(hosts).contains(one[0] + "\t").contains(one[1] + "\t");

            // the network's ip6tables rules mirror its iptables ones while it lives
            assertThat(added(v6RulesBefore)).anyMatch(l -> l.contains("-s fd00:b:21::/64") && l.contains("MASQUERADE"))
                    .anyMatch(l -> l.contains("BERTH-FORWARD") && l.contains(bridge));

            CliDaemon.removeContainers(daemon.docker());
            ok(daemon, "network", "rm", "v6dual");
            assertThat(added(v6RulesBefore)).as("ip6tables rules left").isEmpty();
            assertThat(HostNet.links()).as("links left").isSubsetOf(linksBefore);
        } finally {
            CliDaemon.removeContainers(daemon.docker());
            daemon.docker().run("network", "rm", "v6dual");
            daemon.close();
            Files.writeString(FORWARDING, forwardingBefore); // the bridge plugin turns IPv6 forwarding on, as dockerd does
        }
    }

    @Test
    void ipv6SubnetsAreCheckedAndStaticAddressesKept(@TempDir Path tmp) throws Exception {
        Set<String> v6RulesBefore = ip6tables();
        String forwardingBefore = Files.readString(FORWARDING);
        BerthdProcess daemon = BerthdProcess.start();
        try {
            ok(daemon, "load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
            // no default IPv6 pool, as dockerd 20.10
            DockerCli.Result noPool = daemon.docker().run("network", "create", "--ipv6", "v6nopool");
            assertThat(noPool.exitCode()).isNotZero();
            assertThat(noPool.stderr()).contains("could not find an available, non-overlapping IPv6 address pool");
            // an IPv6 subnet alone: IPv4 comes from the default pools
            ok(daemon, "network", "create", "--ipv6", "--subnet", "fd00:b:22::/64", "--gateway", "fd00:b:22::fffe", "v6only");
            assertThat(ok(daemon, "network", "inspect", "-f", "{{range .IPAM.Config}}{{.Subnet}}={{.Gateway}} {{end}}", "v6only").stdout())
                    .contains("fd00:b:22::/64=fd00:b:22::fffe").containsPattern("\\d+\\.\\d+\\.\\d+\\.0/\\d+=");
            DockerCli.Result overlap = daemon.docker().run("network", "create", "--ipv6", "--subnet", "fd00:b:22:0:1::/80", "v6overlap");
            assertThat(overlap.exitCode()).isNotZero();
            assertThat(overlap.stderr()).contains("overlaps");

            ok(daemon, "run", "-d", "--name", "fixed6", "--network", "v6only", "--ip6", "fd00:b:22::99", IMAGE, "sleep", "300");
            assertThat(ok(daemon, "inspect", "-f",
                    "{{with index .NetworkSettings.Networks \"v6only\"}}{{.IPAMConfig.IPv6Address}} {{.GlobalIPv6Address}} {{.IPv6Gateway}}{{end}}",
                    "fixed6").stdout().trim()).isEqualTo("fd00:b:22::99 fd00:b:22::99 fd00:b:22::fffe");
            DockerCli.Result outside = daemon.docker().run("run", "--rm", "--network", "v6only", "--ip6", "fd00:b:99::9", IMAGE, "true");
            assertThat(outside.exitCode()).isNotZero();
            assertThat(outside.stderr()).contains("does not belong to any of network");

            CliDaemon.removeContainers(daemon.docker());
            ok(daemon, "network", "rm", "v6only");
            assertThat(added(v6RulesBefore)).as("ip6tables rules left").isEmpty();
        } finally {
            CliDaemon.removeContainers(daemon.docker());
            daemon.docker().run("network", "rm", "v6only");
            daemon.close();
            Files.writeString(FORWARDING, forwardingBefore);
        }
    }

    @Test
    void hostsFileFollowsConnectAndDisconnect(@TempDir Path tmp) throws Exception {
        String forwardingBefore = Files.readString(FORWARDING);
        BerthdProcess daemon = BerthdProcess.start();
        try {
            ok(daemon, "load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
            ok(daemon, "network", "create", "--ipv6", "--subnet", "10.199.23.0/24", "--subnet", "fd00:b:23::/64", "hostsnet");
            ok(daemon, "run", "-d", "--name", "hoster", "--hostname", "hoster", IMAGE, "sleep", "300");
            String bridgeIp = ok(daemon, "inspect", "-f", "{{.NetworkSettings.IPAddress}}", "hoster").stdout().trim();
            ok(daemon, "exec", "hoster", "sh", "-c", "echo '192.0.2.7\tmine' >> /etc/hosts"); // a user's edit stays
            assertThat(selfLines(ok(daemon, "exec", "hoster", "cat", "/etc/hosts").stdout())).containsExactly(bridgeIp);

            ok(daemon, "network", "connect", "hostsnet", "hoster");
            String f = "{{with index .NetworkSettings.Networks \"hostsnet\"}}{{.IPAddress}} {{.GlobalIPv6Address}}{{end}}";
            String[] added = ok(daemon, "inspect", "-f", f, "hoster").stdout().trim().split(" ");
            String hosts = ok(daemon, "exec", "hoster", "cat", "/etc/hosts").stdout();
            assertThat(selfLines(hosts)).containsExactly(bridgeIp, added[0], added[1]);
            assertThat(hosts).contains("192.0.2.7\tmine");

            ok(daemon, "network", "disconnect", "hostsnet", "hoster");
            hosts = ok(daemon, "exec", "hoster", "cat", "/etc/hosts").stdout();
            assertThat(selfLines(hosts)).containsExactly(bridgeIp);
            assertThat(hosts).contains("192.0.2.7\tmine").contains("127.0.0.1\tlocalhost");

            ok(daemon, "network", "disconnect", "bridge", "hoster");
            assertThat(selfLines(ok(daemon, "exec", "hoster", "cat", "/etc/hosts").stdout())).isEmpty();
        } finally {
            CliDaemon.removeContainers(daemon.docker());
            daemon.docker().run("network", "rm", "hostsnet");
            daemon.close();
            Files.writeString(FORWARDING, forwardingBefore);
        }
    }

    /** The addresses of the lines that name the container "hoster" itself. */
    private static List<String> selfLines(String hosts) {
        List<String> out = new ArrayList<>();
        for (String line : hosts.split("\n")) {
            String[] p = line.split("\t");
            if (p.length == 2 && p[1].equals("hoster")) out.add(p[0]);
        }
        return out;
    }

    private static Set<String> ip6tables() {
        Set<String> lines = new LinkedHashSet<>();
        for (String line : HostNet.run("ip6tables-save").out().split("\n")) {
            if (line.startsWith("#") || line.isBlank()) continue;
            lines.add(line.replaceAll(" \\[\\d+:\\d+\\]$", ""));
        }
        return lines;
    }

    /** The ip6tables lines added since {@code before}, except the shared chains the CNI plugins keep. */
    private static List<String> added(Set<String> before) {
        List<String> out = new ArrayList<>();
        for (String l : ip6tables()) {
            if (before.contains(l) || l.contains("CNI-")) continue;
            if (l.startsWith("*") || l.equals("COMMIT")) continue;
            if (l.matches(":[A-Z]+ (ACCEPT|DROP)")) continue; // a built-in chain of a table first used now: the table stays loaded
            out.add(l);
        }
        return out;
    }

    static DockerCli.Result ok(BerthdProcess d, String... args) throws Exception {
        DockerCli.Result r = d.docker().run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, d.log()).isZero();
        return r;
    }
}
