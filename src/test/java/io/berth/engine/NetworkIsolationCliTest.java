package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.HostNet;
import io.berth.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two user networks are isolated from each other as dockerd isolates its bridges (issue 13,
 * point 7): a container on one reaches neither the containers of the other (ping, TCP with nc) nor its
 * embedded DNS, while containers of one network reach each other by name.
 */
class NetworkIsolationCliTest {
    static final String IMAGE = "bb:iso";

    @Test
    void containersOnTwoNetworksCannotReachEachOther(@TempDir Path tmp) throws Exception {
        Set<String> rulesBefore = HostNet.iptables();
        BerthdProcess daemon = BerthdProcess.start();
        try {
            DockerCli docker = daemon.docker();
            ok(daemon, "load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
            ok(daemon, "network", "create", "--subnet", "10.199.11.0/24", "iso-a");
            ok(daemon, "network", "create", "--subnet", "10.199.12.0/24", "iso-b");
            ok(daemon, "run", "-d", "--name", "web-a", "--network", "iso-a", IMAGE, "sh", "-c",
                    "while true; do echo hello-from-a | nc -l -p 8080; done");
            String ipA = ok(daemon, "inspect", "-f", "{{(index .NetworkSettings.Networks \"iso-a\").IPAddress}}", "web-a").stdout().trim();
            assertThat(ipA).startsWith("10.199.11.");

            String same = ok(daemon, "run", "--rm", "--network", "iso-a", IMAGE, "sh", "-c",
                    "ping -c 1 -W 2 " + ipA + " >/dev/null && echo ping-ok; for i in 1 2 3 4 5 6 7 8 9 10; do nc -w 3 " + ipA + " 8080 </dev/null | grep hello && break; sleep 0.3; done; "
                            + "nslookup web-a 10.199.11.1 | grep -q " + ipA + " && echo dns-ok").stdout();
            assertThat(same).contains("ping-ok").contains("hello-from-a").contains("dns-ok");

            DockerCli.Result other = docker.run(Duration.ofSeconds(60), "run", "--rm", "--network", "iso-b", IMAGE, "sh", "-c",
                    "ping -c 1 -W 2 " + ipA + " >/dev/null && echo ping-ok; "
                            + "nc -w 3 " + ipA + " 8080 </dev/null; "
                            + "nslookup web-a 10.199.11.1 >/dev/null 2>&1 && echo dns-ok; echo done");
            assertThat(other.stdout()).as(other.toString()).contains("done")
                    .doesNotContain("ping-ok").doesNotContain("hello-from-a").doesNotContain("dns-ok");
            // The embedded DNS answers no one outside its network, the host included.
            assertThat(HostNet.run("busybox", "nslookup", "web-a", "10.199.11.1").out()).doesNotContain(ipA);

            CliDaemon.removeContainers(docker);
            ok(daemon, "network", "rm", "iso-a", "iso-b");
            assertThat(HostNet.leakedRules(rulesBefore)).as("rules left by the two networks").noneMatch(l -> l.contains("10.199.1"));
        } finally {
            CliDaemon.removeContainers(daemon.docker());
            daemon.docker().run("network", "rm", "iso-a", "iso-b");
            daemon.close();
        }
    }

    static DockerCli.Result ok(BerthdProcess d, String... args) throws Exception {
        DockerCli.Result r = d.docker().run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, d.log()).isZero();
        return r;
    }
}
