package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/** `docker version` and `docker info` from the real CLI against a real berthd. Needs: docker CLI. */
class SystemApiTest {
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start() throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    @Test
    void dockerVersionNegotiatesApi141() throws Exception {
        DockerCli.Result r = docker.run("version");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .contains("Server: Berth Engine")
                .containsPattern("API version:\\s+1\\.41 \\(minimum version 1\\.24\\)")
                .containsPattern("API version:\\s+1\\.41 \\(downgraded from");
        String serverKernel = docker.run("version", "--format", "{{.Server.KernelVersion}}").stdout().trim();
        assertThat(serverKernel).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
    }

    @Test
    void dockerInfoReportsTheHostTruly() throws Exception {
        DockerCli.Result r = docker.run("info", "--format", "{{json .}}");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        JsonNode info = Json.MAPPER.readTree(r.stdout());
        assertThat(info.get("Driver").asString()).isEqualTo("overlay2");
        assertThat(info.get("DockerRootDir").asString()).isEqualTo(daemon.dataRoot().toString());
        assertThat(info.get("NCPU").asInt()).isEqualTo(Runtime.getRuntime().availableProcessors());
        long memTotalKb = Files.readAllLines(Path.of("/proc/meminfo")).stream()
                .filter(l -> l.startsWith("MemTotal:")).map(l -> Long.parseLong(l.replaceAll("[^0-9]", ""))).findFirst().orElseThrow();
        assertThat(info.get("MemTotal").asLong()).isEqualTo(memTotalKb * 1024);
        assertThat(info.get("KernelVersion").asString()).isEqualTo(Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim());
        assertThat(info.get("OSType").asString()).isEqualTo("linux");
        assertThat(info.get("CgroupDriver").asString()).isEqualTo("cgroupfs");
        String expectedCgroupVersion = Files.exists(Path.of("/sys/fs/cgroup/cgroup.controllers")) ? "2" : "1";
        assertThat(info.get("CgroupVersion").asString()).isEqualTo(expectedCgroupVersion);
        assertThat(info.get("Containers").asInt()).isZero();
        assertThat(info.get("Images").asInt()).isZero();
        // The backing filesystem as `stat -f` names it (ext2/ext3 is what stat says for ext4).
        String statType = new String(new ProcessBuilder("stat", "-f", "-c", "%T", daemon.dataRoot().toString())
                .start().getInputStream().readAllBytes()).trim();
        String backing = info.get("DriverStatus").get(0).get(1).asString();
        if (statType.startsWith("ext")) assertThat(backing).isEqualTo("extfs");
        else assertThat(statType).startsWith(backing.replace("fs", ""));
        // Runtimes found on PATH are listed, and the default is one of them.
        JsonNode runtimes = info.get("Runtimes");
        for (String name : new String[] {"runc", "crun"}) {
            boolean installed = Files.isExecutable(Path.of("/usr/bin", name)) || Files.isExecutable(Path.of("/usr/sbin", name));
            assertThat(runtimes.has(name)).as(name).isEqualTo(installed);
        }
        String defaultRuntime = info.get("DefaultRuntime").asString();
        if (runtimes.size() > 0) assertThat(runtimes.has(defaultRuntime)).isTrue();
        assertThat(info.get("ID").asString()).isNotBlank();
    }

    @Test
    void dockerInfoPrintsTheServerSection() throws Exception {
        DockerCli.Result r = docker.run("info");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout())
                .contains("Storage Driver: overlay2")
                .contains("Docker Root Dir: " + daemon.dataRoot())
                .contains("Cgroup Driver: cgroupfs")
                .containsPattern("CPUs: " + Runtime.getRuntime().availableProcessors());
    }

    @Test
    void daemonIdSurvivesARestart() throws Exception {
        String id = docker.run("info", "--format", "{{.ID}}").stdout().trim();
        Path dir = Files.createTempDirectory("berthd-id");
        try (BerthdProcess first = BerthdProcess.start(dir)) {
            String firstId = first.docker().run("info", "--format", "{{.ID}}").stdout().trim();
            assertThat(firstId).isNotEqualTo(id);
            first.stop();
            try (BerthdProcess second = BerthdProcess.start(dir)) {
                assertThat(second.docker().run("info", "--format", "{{.ID}}").stdout().trim()).isEqualTo(firstId);
            }
        }
    }

    /** Outside a swarm dockerd answers 503 on swarm routes; clients treat that as "not in a swarm". */
    @Test
    void swarmRoutesAnswerAsANodeOutsideASwarm() throws Exception {
        DockerCli.Result leave = docker.run("swarm", "leave", "--force");
        assertThat(leave.exitCode()).as(leave.toString()).isNotZero();
        assertThat(leave.stderr()).contains("This node is not part of a swarm");
        for (String[] cmd : new String[][] {{"node", "ls"}, {"service", "ls"}, {"secret", "ls"}, {"config", "ls"}}) {
            DockerCli.Result r = docker.run(cmd);
            assertThat(r.exitCode()).as(r.toString()).isNotZero();
            assertThat(r.stderr()).as(r.toString()).contains("This node is not a swarm manager");
        }
        String raw = daemon.raw("POST /v1.41/swarm/leave?force=1 HTTP/1.1\r\nHost: berth\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        assertThat(raw).startsWith("HTTP/1.1 503").contains("{\"message\":\"This node is not part of a swarm\"}");
        String tasks = daemon.httpGet("/v1.41/tasks");
        assertThat(tasks).startsWith("HTTP/1.1 503");
        String update = daemon.raw("POST /v1.41/services/x/update HTTP/1.1\r\nHost: berth\r\nContent-Length: 2\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{}");
        assertThat(update).startsWith("HTTP/1.1 400").contains("invalid service version");
    }
}
