package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Volumes, binds and tmpfs mounts of containers through the docker CLI against a real berthd. */
class ContainerVolumesCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String IMAGE = "berth-test/busybox:latest";
    static final String SEEDED = "berth-test/seeded:latest";
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;
    @TempDir
    Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag(IMAGE).writeTo(dir.resolve("bb.tar")));
        cli.load(TestImages.busybox().files(Map.of("seed/data.txt", "from the image\n")).volumes("/seed").tag(SEEDED)
                .writeTo(dir.resolve("seeded.tar")));
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainersAndVolumes();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli != null) {
            String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
            cli.close();
            assertThat(mounts).as("mounts under the data root while idle").doesNotContain(daemon.dataRoot().resolve("volumes").toString());
        }
    }

    static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    static JsonNode inspect(String name) throws Exception {
        return cli.inspect(name);
    }

    @Test
    void aNamedVolumeKeepsAFileAcrossTwoContainersAndIsRefusedRemovalWhileUsed() throws Exception {
        ok("run", "--rm", "-v", "keep:/data", IMAGE, "sh", "-c", "echo kept > /data/file");
        assertThat(ok("volume", "ls", "-q").stdout().trim()).isEqualTo("keep");
        assertThat(ok("run", "--rm", "-v", "keep:/data", IMAGE, "cat", "/data/file").stdout()).isEqualTo("kept\n");

        String id = ok("create", "--name", "holder", "-v", "keep:/data", IMAGE, "true").stdout().trim();
        DockerCli.Result refused = docker.run("volume", "rm", "keep");
        assertThat(refused.exitCode()).isNotZero();
        assertThat(refused.stderr()).contains("volume is in use - [" + id + "]");
        JsonNode m = inspect("holder").get("Mounts").get(0);
        assertThat(m.get("Type").asString()).isEqualTo("volume");
        assertThat(m.get("Name").asString()).isEqualTo("keep");
        assertThat(m.get("Destination").asString()).isEqualTo("/data");
        assertThat(m.get("Driver").asString()).isEqualTo("local");
        assertThat(m.get("RW").asBoolean()).isTrue();
        assertThat(m.get("Source").asString()).isEqualTo(ok("volume", "inspect", "-f", "{{.Mountpoint}}", "keep").stdout().trim());
        ok("rm", "holder");
        ok("volume", "rm", "keep");
    }

    @Test
    void aReadOnlyBindRefusesWritesAndAMissingHostFolderIsMade() throws Exception {
        Path host = Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(host.resolve("hello.txt"), "from the host\n");
        DockerCli.Result r = ok("run", "--rm", "-v", host + ":/mnt/h:ro", IMAGE, "sh", "-c",
                "cat /mnt/h/hello.txt; if echo x > /mnt/h/new.txt; then echo wrote; else echo refused; fi");
        assertThat(r.stdout()).isEqualTo("from the host\nrefused\n");
        assertThat(host.resolve("new.txt")).doesNotExist();

        ok("run", "--rm", "-v", host + ":/mnt/h", IMAGE, "sh", "-c", "echo back > /mnt/h/back.txt");
        assertThat(Files.readString(host.resolve("back.txt"))).isEqualTo("back\n");

        Path missing = tmp.resolve("made/by/run");
        ok("run", "--rm", "-v", missing + ":/m", IMAGE, "true");
        assertThat(missing).isDirectory();

        DockerCli.Result noSource = docker.run("run", "--rm", "--mount", "type=bind,src=" + tmp.resolve("nope") + ",dst=/m", IMAGE, "true");
        assertThat(noSource.exitCode()).isNotZero();
        assertThat(noSource.stderr()).contains("bind source path does not exist");
    }

    @Test
    void anImageVolumeIsAnAnonymousVolumeFilledFromTheImage() throws Exception {
        ok("run", "--name", "seeded", SEEDED, "sh", "-c", "cat /seed/data.txt; echo more > /seed/more.txt");
        assertThat(ok("logs", "seeded").stdout()).isEqualTo("from the image\n");
        JsonNode m = inspect("seeded").get("Mounts").get(0);
        assertThat(m.get("Destination").asString()).isEqualTo("/seed");
        String name = m.get("Name").asString();
        assertThat(name).matches("[0-9a-f]{64}");
        Path data = Path.of(m.get("Source").asString());
        assertThat(Files.readString(data.resolve("data.txt"))).isEqualTo("from the image\n");
        assertThat(Files.readString(data.resolve("more.txt"))).isEqualTo("more\n");
        // a named volume on the same path is filled too, once
        ok("run", "--rm", "-v", "named-seed:/seed", SEEDED, "true");
        assertThat(ok("run", "--rm", "-v", "named-seed:/seed", IMAGE, "cat", "/seed/data.txt").stdout()).isEqualTo("from the image\n");
        // rm -v takes the anonymous volume along, the named one stays
        ok("rm", "-v", "seeded");
        assertThat(ok("volume", "ls", "-q").stdout()).doesNotContain(name).contains("named-seed");
        // docker run --rm removes its anonymous volumes too
        ok("run", "--rm", "-v", "/anon", IMAGE, "touch", "/anon/x");
        assertThat(ok("volume", "ls", "-q").stdout().trim()).isEqualTo("named-seed");
    }

    @Test
    void mountFlagTmpfsAndVolumesFrom() throws Exception {
        String out = ok("run", "--rm", "--mount", "type=volume,src=mv,dst=/v", "--mount", "type=tmpfs,dst=/t,tmpfs-size=1048576",
                "--tmpfs", "/run/scratch:size=2m", IMAGE, "sh", "-c", "echo v > /v/f; cat /proc/mounts").stdout();
        assertThat(out).containsPattern("tmpfs /t tmpfs [^ ]*size=1024k");
        assertThat(out).containsPattern("tmpfs /run/scratch tmpfs [^ ]*size=2048k");
        ok("run", "-d", "--name", "source", "-v", "mv:/v", "-v", "/anon2", IMAGE, "sleep", "300");
        ok("exec", "source", "sh", "-c", "echo shared > /anon2/s");
        String seen = ok("run", "--rm", "--volumes-from", "source:ro", IMAGE, "sh", "-c",
                "cat /v/f /anon2/s; touch /v/x 2>/dev/null && echo wrote || echo ro").stdout();
        assertThat(seen).isEqualTo("v\nshared\nro\n");
        JsonNode mounts = inspect("source").get("Mounts");
        assertThat(mounts.size()).isEqualTo(2);
    }

    @Test
    void duplicateMountPointsAndBadSpecsAreRefused() throws Exception {
        DockerCli.Result dup = docker.run("create", "-v", "va:/x", "-v", "vb:/x", IMAGE, "true");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.stderr()).contains("Duplicate mount point: /x");
        DockerCli.Result mode = docker.run("create", "-v", "va:/x:bogus", IMAGE, "true");
        assertThat(mode.exitCode()).isNotZero();
        assertThat(ok("ps", "-aq").stdout()).isBlank();
        assertThat(ok("volume", "ls", "-q").stdout()).isBlank();
    }
}
