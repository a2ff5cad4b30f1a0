package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import io.berth.sys.Cgroups;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Cgroup limits, OOM kills, stats, top and update, read back from the kernel's files. */
class ContainerResourcesCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final Cgroups CG = Cgroups.detect();
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag("bb:res").writeTo(tmp.resolve("bb.tar")));
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainers();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli != null) cli.close();
    }

    static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    static String knob(String controller, String id, String v1File, String v2File) throws Exception {
        Path p = CG.version() == 2 ? CG.root().resolve("berth").resolve(id).resolve(v2File)
                : CG.root().resolve(controller).resolve("berth").resolve(id).resolve(v1File);
        return Files.readString(p).trim();
    }

    @Test
    void limitsReachTheCgroupAndUpdateChangesThem() throws Exception {
        String id = ok("run", "-d", "--cpu-shares", "512", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5",
                "bb:res", "sleep", "1000").stdout().trim();
        assertThat(knob("memory", id, "memory.limit_in_bytes", "memory.max")).isEqualTo(Long.toString(64L << 20));
        if (CG.version() == 1) {
            assertThat(knob("cpu", id, "cpu.shares", "")).isEqualTo("512");
            assertThat(knob("cpu", id, "cpu.cfs_quota_us", "")).isEqualTo("50000");
        }
        assertThat(knob("pids", id, "pids.max", "pids.max")).isEqualTo("50");
        JsonNode hc = JSON.readTree(ok("inspect", id).stdout()).get(0).get("HostConfig");
        assertThat(hc.get("CpuShares").asLong()).isEqualTo(512);
        assertThat(hc.get("Memory").asLong()).isEqualTo(64L << 20);
        assertThat(hc.get("NanoCpus").asLong()).isEqualTo(500_000_000L);
        assertThat(hc.get("PidsLimit").asLong()).isEqualTo(50);

        ok("update", "--memory", "96m", "--memory-swap", "192m", "--cpu-shares", "256", "--pids-limit", "60", id);
        assertThat(knob("memory", id, "memory.limit_in_bytes", "memory.max")).isEqualTo(Long.toString(96L << 20));
        if (CG.version() == 1) assertThat(knob("cpu", id, "cpu.shares", "")).isEqualTo("256");
        assertThat(knob("pids", id, "pids.max", "pids.max")).isEqualTo("60");
        assertThat(JSON.readTree(ok("inspect", id).stdout()).get(0).get("HostConfig").get("Memory").asLong()).isEqualTo(96L << 20);

        // the pids limit holds: a fork bomb of 100 sleeps cannot pass it
        DockerCli.Result forks = docker.run("exec", id, "sh", "-c", "for i in $(seq 1 100); do sleep 30 & done 2>&1; echo done");
        assertThat(forks.stdout() + forks.stderr()).containsIgnoringCase("can't fork");

        String stats = ok("stats", "--no-stream", "--format", "{{.MemUsage}} {{.PIDs}}", id).stdout();
        assertThat(stats).matches("(?s)[0-9.]+(KiB|MiB|B) / 96MiB \\d+\\s*");
        // stats carry the counters of the container's interfaces (not loopback), as dockerd's "networks"
        JsonNode sample = JSON.readTree(daemon.httpGet("/containers/" + id + "/stats?stream=false&one-shot=true").replaceFirst("(?s)^.*?\r\n\r\n", ""));
        assertThat(sample.get("networks").has("eth0")).as(sample.toString()).isTrue();
        assertThat(sample.get("networks").has("lo")).isFalse();
        assertThat(sample.get("networks").get("eth0").has("rx_bytes")).isTrue();
        JsonNode top = JSON.readTree(daemon.httpGet("/containers/" + id + "/top").replaceFirst("(?s)^.*?\r\n\r\n", ""));
        assertThat(top.get("Titles").toString()).contains("PID").contains("CMD");
        assertThat(top.get("Processes").toString()).contains("sleep 1000");
        assertThat(ok("top", id).stdout()).contains("sleep 1000");
    }

    /** The real-time CPU figures read back in inspect as create was given them, 0 when not given (docker-py's check). */
    @Test
    void cpuRealtimeFiguresReadBackAsGiven() throws Exception {
        ok("create", "--name", "rt", "--cpu-rt-period", "1000", "--cpu-rt-runtime", "500", "bb:res", "true");
        JsonNode hc = JSON.readTree(ok("inspect", "rt").stdout()).get(0).get("HostConfig");
        assertThat(hc.get("CpuRealtimePeriod").asLong()).as(hc.toString()).isEqualTo(1000);
        assertThat(hc.get("CpuRealtimeRuntime").asLong()).isEqualTo(500);
        ok("create", "--name", "plain", "bb:res", "true");
        JsonNode plain = JSON.readTree(ok("inspect", "plain").stdout()).get(0).get("HostConfig");
        assertThat(plain.get("CpuRealtimePeriod").asLong()).isZero();
        assertThat(plain.get("CpuRealtimeRuntime").asLong()).isZero();
    }

    @Test
    void oomKillIsReported() throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), "run", "--name", "hog", "--memory", "16m", "--memory-swap", "16m", "bb:res",
                "tail", "/dev/zero");
        assertThat(r.exitCode()).as(r.toString()).isEqualTo(137);
        JsonNode s = JSON.readTree(ok("inspect", "hog").stdout()).get(0).get("State");
        assertThat(s.get("OOMKilled").asBoolean()).isTrue();
        assertThat(s.get("ExitCode").asInt()).isEqualTo(137);
    }
}
