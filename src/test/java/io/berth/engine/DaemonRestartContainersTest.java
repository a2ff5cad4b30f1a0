package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** kill -9 of the daemon: conmon keeps containers alive; a new daemon adopts them and learns the true exits. */
class DaemonRestartContainersTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    static DockerCli.Result ok(DockerCli d, BerthdProcess p, String... args) throws Exception {
        DockerCli.Result r = d.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, p.log()).isZero();
        return r;
    }

    @Test
    void containersSurviveAKilledDaemon() throws Exception {
        Path dir = Files.createTempDirectory("berthd-restart");
        BerthdProcess first = BerthdProcess.start(dir);
        BerthdProcess second = null;
        try {
            DockerCli d = first.docker();
            ok(d, first, "load", "-i", TestImages.busybox().tag("bb:survive").writeTo(dir.resolve("bb.tar")).archive().toString());
            ok(d, first, "run", "-d", "--name", "keeps", "bb:survive", "sh", "-c", "echo before; sleep 2; echo meanwhile; sleep 1000");
            ok(d, first, "run", "-d", "--name", "ends", "bb:survive", "sh", "-c", "sleep 2; exit 5");
            ok(d, first, "run", "-d", "--name", "always", "--restart", "always", "bb:survive", "sh", "-c", "sleep 1; exit 3");
            long pid = JSON.readTree(ok(d, first, "inspect", "keeps").stdout()).get(0).get("State").get("Pid").asLong();

            first.signal("KILL");
            first.process().waitFor();
            Thread.sleep(3500);

            second = BerthdProcess.start(dir);
            DockerCli d2 = second.docker();
            JsonNode keeps = JSON.readTree(ok(d2, second, "inspect", "keeps").stdout()).get(0).get("State");
            assertThat(keeps.get("Status").asString()).isEqualTo("running");
            assertThat(keeps.get("Pid").asLong()).isEqualTo(pid);
            assertThat(ok(d2, second, "logs", "keeps").stdout()).isEqualTo("before\nmeanwhile\n");
            assertThat(ok(d2, second, "exec", "keeps", "echo", "alive").stdout()).isEqualTo("alive\n");

            JsonNode ends = JSON.readTree(ok(d2, second, "inspect", "ends").stdout()).get(0).get("State");
            assertThat(ends.get("Status").asString()).isEqualTo("exited");
            assertThat(ends.get("ExitCode").asInt()).isEqualTo(5);

            // the always-restart container comes back on its own
            final DockerCli dd = d2;
            final BerthdProcess ss = second;
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    JSON.readTree(ok(dd, ss, "inspect", "always").stdout()).get(0).get("RestartCount").asInt() >= 1);

            // and the adopted one still stops cleanly, with its exit seen
            ok(d2, second, "stop", "-t", "1", "keeps");
            assertThat(JSON.readTree(ok(d2, second, "inspect", "keeps").stdout()).get(0).get("State").get("ExitCode").asInt()).isEqualTo(137);
        } finally {
            BerthdProcess live = second != null ? second : first;
            if (second == null && !first.process().isAlive()) live = BerthdProcess.start(dir);
            CliDaemon.removeContainers(live.docker());
            live.close();
        }
    }
}
