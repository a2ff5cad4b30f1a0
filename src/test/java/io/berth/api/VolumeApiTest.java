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

/** `docker volume` against a real berthd. Needs: docker CLI, root (the daemon's data root). */
class VolumeApiTest {
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
    void createInspectListRemove() throws Exception {
        DockerCli.Result created = docker.run("volume", "create", "--label", "team=a", "data1");
        assertThat(created.exitCode()).as(created.toString()).isZero();
        assertThat(created.stdout().trim()).isEqualTo("data1");

        JsonNode inspect = Json.MAPPER.readTree(docker.run("volume", "inspect", "data1").stdout()).get(0);
        assertThat(inspect.get("Name").asString()).isEqualTo("data1");
        assertThat(inspect.get("Driver").asString()).isEqualTo("local");
        assertThat(inspect.get("Scope").asString()).isEqualTo("local");
        assertThat(inspect.get("Labels").get("team").asString()).isEqualTo("a");
        Path mountpoint = Path.of(inspect.get("Mountpoint").asString());
        assertThat(mountpoint).isEqualTo(daemon.dataRoot().resolve("volumes/data1/_data"));
        assertThat(Files.isDirectory(mountpoint)).isTrue();
        assertThat(inspect.get("CreatedAt").asString()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ");

        // A second create of the same name answers the existing volume, as dockerd does.
        assertThat(docker.run("volume", "create", "data1").exitCode()).isZero();

        docker.run("volume", "create", "other");
        assertThat(docker.run("volume", "ls", "-q").stdout().lines().toList()).contains("data1", "other");
        assertThat(docker.run("volume", "ls", "-q", "--filter", "label=team=a").stdout().trim()).isEqualTo("data1");
        assertThat(docker.run("volume", "ls", "-q", "--filter", "name=oth").stdout().trim()).isEqualTo("other");

        assertThat(docker.run("volume", "rm", "data1", "other").exitCode()).isZero();
        assertThat(mountpoint.getParent()).doesNotExist();
        DockerCli.Result gone = docker.run("volume", "inspect", "data1");
        assertThat(gone.exitCode()).isNotZero();
        assertThat(gone.stderr()).contains("no such volume");
    }

    @Test
    void badNamesAndDriversAreRefused() throws Exception {
        DockerCli.Result bad = docker.run("volume", "create", "../etc");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("includes invalid characters for a local volume name");
        DockerCli.Result driver = docker.run("volume", "create", "-d", "nfs-magic", "v");
        assertThat(driver.exitCode()).isNotZero();
        assertThat(driver.stderr()).contains("plugin \"nfs-magic\" not found");
        DockerCli.Result option = docker.run("volume", "create", "-o", "colour=red", "v2");
        assertThat(option.exitCode()).isNotZero();
        assertThat(option.stderr()).contains("invalid option: \"colour\"");
        assertThat(docker.run("volume", "ls", "-q").stdout()).doesNotContain("v2");
    }

    @Test
    void pruneRemovesUnusedVolumesAndSurvivesARestart() throws Exception {
        Path dir = Files.createTempDirectory("berthd-vol");
        try (BerthdProcess d = BerthdProcess.start(dir)) {
            DockerCli cli = d.docker();
            cli.run("volume", "create", "keep");
            Files.writeString(d.dataRoot().resolve("volumes/keep/_data/file"), "x".repeat(1000));
            d.stop();
            try (BerthdProcess again = BerthdProcess.start(dir)) {
                DockerCli cli2 = again.docker();
                assertThat(cli2.run("volume", "ls", "-q").stdout().trim()).isEqualTo("keep");
                DockerCli.Result pruned = cli2.run("volume", "prune", "-f");
                assertThat(pruned.exitCode()).as(pruned.toString()).isZero();
                assertThat(pruned.stdout()).contains("keep").contains("Total reclaimed space: 1kB");
                assertThat(cli2.run("volume", "ls", "-q").stdout()).isBlank();
            }
        }
    }
}
