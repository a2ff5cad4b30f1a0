package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * An upgrade keeps every container: records written by the previous daemon (format 1, Docker's
 * HostConfig; the fixtures under io/berth/upgrade/v0 were written by main's berthd at 40bd6ec
 * for these very commands) are read by this one, shown by inspect exactly as the old daemon
 * showed them, and start. The images, networks and volumes around them are this daemon's own.
 */
class DataRootUpgradeCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();

    /** The commands the fixtures were made with; the old ids in them are replaced by the ones these give. */
    static final List<List<String>> CREATES = List.of(
            List.of("create", "--name", "web", "--restart", "on-failure:3", "-e", "FOO=bar", "-v", "oldvol:/data", "-v", "/tmp:/hosttmp:ro",
                    "--cap-add", "NET_ADMIN", "--cap-drop", "MKNOD", "--memory", "64m", "--cpus", "0.5", "--pids-limit", "50",
                    "--security-opt", "no-new-privileges", "--tmpfs", "/run:size=1m", "--network", "oldnet", "-p", "8080:80",
                    "--ulimit", "nofile=100:200", "--sysctl", "net.ipv4.ip_forward=1", "--shm-size", "32m", "--init", "--label", "x=y",
                    "--log-opt", "max-size=1m", "oldbox:1", "sleep", "1000"),
            List.of("create", "--name", "plain", "oldbox:1", "true"),
            List.of("create", "--name", "secu", "--read-only", "--ipc", "shareable", "--security-opt", "seccomp=unconfined", "--cpu-shares",
                    "512", "--cpuset-cpus", "0", "--memory-reservation", "10m", "--device", "/dev/null:/dev/mynull", "--mount",
                    "type=tmpfs,target=/t,tmpfs-size=1000000", "--dns", "1.1.1.1", "--add-host", "a:1.2.3.4", "--restart", "unless-stopped",
                    "--group-add", "10", "oldbox:1", "sleep", "5"));

    static DockerCli.Result ok(DockerCli d, BerthdProcess p, String... args) throws Exception {
        DockerCli.Result r = d.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, p.log()).isZero();
        return r;
    }

    static String resource(String name) throws Exception {
        try (InputStream in = DataRootUpgradeCliTest.class.getResourceAsStream("/io/berth/upgrade/v0/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void recordsOfThePreviousDaemonAreKeptShownAndStarted() throws Exception {
        Path dir = Files.createTempDirectory("berthd-upgrade");
        BerthdProcess first = BerthdProcess.start(dir);
        BerthdProcess second = null;
        try {
            DockerCli d = first.docker();
            TestImages.Built image = TestImages.busybox().tag("oldbox:1").writeTo(dir.resolve("bb.tar"));
            ok(d, first, "load", "-i", image.archive().toString());
            ok(d, first, "network", "create", "oldnet");
            ok(d, first, "volume", "create", "oldvol");
            String imageId = JSON.readTree(ok(d, first, "image", "inspect", "oldbox:1").stdout()).get(0).get("Id").asString();
            java.util.Map<String, String> ids = new java.util.LinkedHashMap<>();
            for (List<String> create : CREATES) ids.put(create.get(2), ok(d, first, create.toArray(String[]::new)).stdout().strip());
            first.stop();
            for (var e : ids.entrySet()) {
                // the record as the previous daemon wrote it, for this container, image and snapshot
                String id = e.getValue();
                JsonNode old = JSON.readTree(resource(e.getKey() + ".config.json"));
                String oldId = old.get("id").asString();
                String text = resource(e.getKey() + ".config.json").replace(old.get("image").asString(), imageId)
                        .replace(oldId, id).replace(oldId.substring(0, 12), id.substring(0, 12));
                Path file = first.dataRoot().resolve("containers").resolve(id).resolve("config.json");
                Files.writeString(file, text);
                assertThat(JSON.readTree(Files.readString(file)).has("format")).isFalse();
                assertThat(JSON.readTree(Files.readString(file)).has("hostConfig")).isTrue();
            }

            second = BerthdProcess.start(dir);
            DockerCli d2 = second.docker();
            assertThat(ok(d2, second, "ps", "-a", "--format", "{{.Names}}").stdout().lines().sorted().toList())
                    .containsExactly("plain", "secu", "web");
            for (String name : List.of("web", "plain", "secu")) {
                JsonNode shown = JSON.readTree(ok(d2, second, "inspect", name).stdout()).get(0);
                // inspect shows what the previous daemon showed, field for field
                assertThat(shown.get("HostConfig")).as(name).isEqualTo(JSON.readTree(resource(name + ".inspect-hostconfig.json")));
                assertThat(shown.get("Image").asString()).isEqualTo(imageId);
            }
            JsonNode web = JSON.readTree(ok(d2, second, "inspect", "web").stdout()).get(0);
            assertThat(web.get("Config").get("Env").toString()).contains("FOO=bar");
            assertThat(web.get("Config").get("Labels").get("x").asString()).isEqualTo("y");
            assertThat(web.get("HostConfig").get("RestartPolicy").get("Name").asString()).isEqualTo("on-failure");
            assertThat(web.get("HostConfig").get("CapAdd").toString()).contains("CAP_NET_ADMIN");
            assertThat(web.get("HostConfig").get("Memory").asLong()).isEqualTo(64L << 20);
            assertThat(ok(d2, second, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}").stdout()).contains("oldbox:1");
            assertThat(ok(d2, second, "network", "ls", "--format", "{{.Name}}").stdout().lines().toList()).contains("oldnet");
            assertThat(ok(d2, second, "volume", "ls", "--format", "{{.Name}}").stdout().lines().toList()).contains("oldvol");

            // they start, with their options, and their records move to the new format
            ok(d2, second, "start", "-a", "plain");
            assertThat(JSON.readTree(ok(d2, second, "inspect", "plain").stdout()).get(0).get("State").get("ExitCode").asInt()).isZero();
            ok(d2, second, "start", "secu");
            JsonNode secu = JSON.readTree(ok(d2, second, "inspect", "secu").stdout()).get(0);
            assertThat(secu.get("State").get("Running").asBoolean()).isTrue();
            assertThat(ok(d2, second, "exec", "secu", "sh", "-c", "touch /x 2>&1; echo $?").stdout().strip()).isNotEqualTo("0");
            String id = secu.get("Id").asString();
            JsonNode record = JSON.readTree(Files.readString(second.dataRoot().resolve("containers").resolve(id).resolve("config.json")));
            assertThat(record.get("format").asInt()).isEqualTo(2);
            assertThat(record.has("hostConfig")).isFalse();
        } finally {
            BerthdProcess live = second != null ? second : first;
            if (live.process().isAlive()) {
                CliDaemon.removeContainers(live.docker());
                live.docker().run("network", "rm", "oldnet");
                live.docker().run("volume", "rm", "oldvol");
            }
            live.close();
        }
    }
}
