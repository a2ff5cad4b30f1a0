package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.network.DefaultBridge;
import io.berth.network.NetworkService;
import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A second berthd on the same host (issue 12): it may not share the first one's exec root,
 * and with its own --bridge and --bip it runs containers beside the first.
 */
class SecondDaemonTest {
    static final String BRIDGE = "berthsec0";
    static final String BIP = "10.223.5.1/24";

    @Test
    void aSecondDaemonOnTheSameExecRootIsRefusedAndLeavesThePidFileAlone() throws Exception {
        try (BerthdProcess first = BerthdProcess.start()) {
            Path execRoot = first.dir().resolve("run");
            Path pidFile = execRoot.resolve("berthd.pid");
            assertThat(Files.readString(pidFile).trim()).isEqualTo(Long.toString(first.pid()));
            Path other = Files.createTempDirectory("berthd-second");
            try {
                Files.writeString(other.resolve("daemon.json"), "{}\n");
                Process second = new ProcessBuilder(concat(BerthdProcess.javaCommand(), "daemon",
                        "--data-root", other.resolve("root").toString(), "--exec-root", execRoot.toString(),
                        "--config-file", other.resolve("daemon.json").toString(),
                        "-H", "unix://" + other.resolve("s.sock"))).redirectErrorStream(true).start();
                String output = new String(second.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertThat(second.waitFor(20, TimeUnit.SECONDS)).isTrue();
                assertThat(second.exitValue()).as(output).isEqualTo(1);
                assertThat(output).contains("exec root " + execRoot + " is in use by another berthd (pid " + first.pid() + ")");
                assertThat(Files.readString(pidFile).trim()).as("the first daemon's pid file").isEqualTo(Long.toString(first.pid()));
                assertThat(first.httpGet("/_ping")).endsWith("OK");
            } finally {
                BerthdProcess.deleteTree(other);
            }
        }
    }

    @Test
    void aSecondDaemonWithItsOwnBridgeAndBipRunsBesideTheFirst() throws Exception {
        assertThat(Path.of("/sys/class/net", BRIDGE)).as("a bridge left by an earlier run").doesNotExist();
        Path tmp = Files.createTempDirectory("berthd-bridges");
        BerthdProcess first = BerthdProcess.start();
        BerthdProcess second = null;
        try {
            Path dir = Files.createTempDirectory("berthd-bip");
            // From daemon.json for the bridge, from flags for the rest: both ways are read.
            Files.writeString(dir.resolve("daemon.json"), "{\"bridge\": \"" + BRIDGE + "\", \"fixed-cidr\": \"10.223.5.128/25\"}\n");
            second = BerthdProcess.start(dir, "--bip", BIP, "--ip-masq=false");
            Path archive = TestImages.busybox().tag("bb:bridges").writeTo(tmp.resolve("bb.tar")).archive();
            for (BerthdProcess d : new BerthdProcess[] {first, second}) ok(d, "load", "-i", archive.toString());

            String a = ok(first, "run", "--rm", "bb:bridges", "sh", "-c",
                    "ip -4 -o addr show eth0; ip route | grep default").stdout();
            String b = ok(second, "run", "--rm", "bb:bridges", "sh", "-c",
                    "ip -4 -o addr show eth0; ip route | grep default; ping -c 1 -W 2 10.223.5.1 >/dev/null && echo gateway-ok").stdout();
            assertThat(a).contains("inet 10.89.0.").contains("default via 10.89.0.1");
            assertThat(b).containsPattern("inet 10\\.223\\.5\\.(1[2-9][0-9]|2[0-5][0-9])/24").contains("default via 10.223.5.1").contains("gateway-ok");
            assertThat(run("ip", "-4", "-o", "addr", "show", BRIDGE)).contains("inet " + BIP);
            assertThat(ok(second, "network", "inspect", "bridge", "--format",
                    "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).IPRange}} {{index .Options \"com.docker.network.bridge.name\"}} {{index .Options \"com.docker.network.bridge.enable_ip_masquerade\"}}")
                    .stdout().trim()).isEqualTo("10.223.5.0/24 10.223.5.128/25 " + BRIDGE + " false");
            assertThat(run("iptables", "-t", "nat", "-S", "POSTROUTING")).doesNotContain("10.223.5.0/24");
            CliDaemon.removeContainers(second.docker());
            CliDaemon.removeContainers(first.docker());
        } finally {
            if (second != null) {
                second.stop();
                // The second daemon's bridge and rules outlive it, as docker0's do dockerd: handed back here.
                try (NetworkService networks = new NetworkService(NetworkService.Options.defaults(second.dataRoot(), second.dir().resolve("run"))
                        .withDefaultBridge(DefaultBridge.of(BRIDGE, BIP, "10.223.5.128/25", null, false, null)))) {
                    networks.removeDefaultBridge();
                }
                second.close();
            }
            first.close();
            BerthdProcess.deleteTree(tmp);
        }
        assertThat(Path.of("/sys/class/net", BRIDGE)).doesNotExist();
    }

    static DockerCli.Result ok(BerthdProcess d, String... args) throws Exception {
        DockerCli.Result r = d.docker().run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, d.log()).isZero();
        return r;
    }

    static String run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(20, TimeUnit.SECONDS);
        return out;
    }

    static java.util.List<String> concat(java.util.List<String> head, String... tail) {
        java.util.List<String> all = new java.util.ArrayList<>(head);
        all.addAll(java.util.List.of(tail));
        return all;
    }
}
