package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** Containers that are created but not run: create, ps, inspect, rename, rm, and the 400/404/409 answers. */
class ContainerRecordsCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
        TestImages.Built b = TestImages.busybox().tag("bb:rec").label("from", "image").env("A=1").workingDir("/tmp")
                .writeTo(tmp.resolve("bb.tar"));
        ok("load", "-i", b.archive().toString());
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            docker.run("rm", "-f", "c1", "c2", "renamed");
            daemon.close();
        }
    }

    static DockerCli.Result ok(String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, daemon.log()).isZero();
        return r;
    }

    @Test
    void createPsInspectRenameRemove() throws Exception {
        String id = ok("create", "--name", "c1", "-e", "B=2", "--label", "k=v", "--hostname", "h1", "bb:rec", "echo", "hi").stdout().trim();
        assertThat(id).matches("[0-9a-f]{64}");
        JsonNode i = JSON.readTree(ok("inspect", "c1").stdout()).get(0);
        assertThat(i.get("Id").asString()).isEqualTo(id);
        assertThat(i.get("Name").asString()).isEqualTo("/c1");
        assertThat(i.get("Path").asString()).isEqualTo("echo");
        assertThat(i.get("Args").toString()).isEqualTo("[\"hi\"]");
        assertThat(i.get("State").get("Status").asString()).isEqualTo("created");
        assertThat(i.get("State").get("Running").asBoolean()).isFalse();
        assertThat(i.get("Config").get("Env").toString()).contains("A=1").contains("B=2");
        assertThat(i.get("Config").get("Labels").get("k").asString()).isEqualTo("v");
        assertThat(i.get("Config").get("Labels").get("from").asString()).isEqualTo("image");
        assertThat(i.get("Config").get("Hostname").asString()).isEqualTo("h1");
        assertThat(i.get("Config").get("WorkingDir").asString()).isEqualTo("/tmp");
        assertThat(i.get("HostConfig").get("NetworkMode").asString()).isEqualTo("bridge");
        assertThat(i.get("HostConfig").get("RestartPolicy").get("Name").asString()).isEqualTo("no");
        assertThat(i.get("Driver").asString()).isEqualTo("overlay2");
        assertThat(i.get("Image").asString()).startsWith("sha256:");

        String id2 = ok("create", "bb:rec", "true").stdout().trim();
        String name2 = JSON.readTree(ok("inspect", id2.substring(0, 10)).stdout()).get(0).get("Name").asString();
        assertThat(name2).matches("/[a-z]+_[a-z]+");
        assertThat(JSON.readTree(ok("inspect", id2).stdout()).get(0).get("Config").get("Hostname").asString()).isEqualTo(id2.substring(0, 12));

        assertThat(ok("ps").stdout()).doesNotContain("c1");
        assertThat(ok("ps", "-a", "--format", "{{.Names}} {{.Status}}").stdout()).contains("c1 Created");
        assertThat(ok("ps", "-aq", "--no-trunc", "--filter", "label=k=v").stdout().trim()).isEqualTo(id);
        assertThat(ok("ps", "-aq", "--no-trunc", "--filter", "name=c1").stdout().trim()).isEqualTo(id);
        assertThat(ok("ps", "-aq", "--no-trunc", "--filter", "status=created", "--filter", "ancestor=bb:rec").stdout()).contains(id, id2);
        assertThat(ok("ps", "-aq", "--no-trunc", "--filter", "status=running").stdout()).isBlank();

        DockerCli.Result dup = docker.run("create", "--name", "c1", "bb:rec", "true");
        assertThat(dup.exitCode()).isNotZero();
        assertThat(dup.stderr()).contains("Conflict. The container name \"/c1\" is already in use by container \"" + id + "\"");

        ok("rename", "c1", "renamed");
        assertThat(ok("inspect", "--format", "{{.Name}}", id).stdout().trim()).isEqualTo("/renamed");

        ok("rm", "renamed", id2);
        assertThat(ok("ps", "-aq").stdout()).isBlank();
        DockerCli.Result gone = docker.run("inspect", id);
        assertThat(gone.exitCode()).isNotZero();
        assertThat(gone.stderr()).contains("No such object");
        // the writable layers are gone with them
        assertThat(daemon.dataRoot().resolve("containers").toFile().list()).isEmpty();
    }

    @Test
    void clearRefusals() throws Exception {
        DockerCli.Result bad = docker.run("create", "--name", "bad name", "bb:rec", "true");
        assertThat(bad.exitCode()).isNotZero();
        assertThat(bad.stderr()).contains("Invalid container name (bad name), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed");
        DockerCli.Result rt = docker.run("create", "--runtime", "nosuch", "bb:rec", "true");
        assertThat(rt.exitCode()).isNotZero();
        assertThat(rt.stderr()).contains("Unknown runtime specified nosuch");
        DockerCli.Result img = docker.run("create", "--pull", "never", "nosuchimage:1", "true");
        assertThat(img.exitCode()).isNotZero();
        assertThat(img.stderr()).contains("No such image: nosuchimage:1");
        String raw = daemon.raw("POST /v1.41/containers/create?name=x%20y HTTP/1.1\r\nHost: b\r\nContent-Type: application/json\r\n"
                + "Content-Length: 17\r\nConnection: close\r\n\r\n{\"Image\":\"bb:rec\"}");
        assertThat(raw).startsWith("HTTP/1.1 400");
        DockerCli.Result restart = docker.run("create", "--restart", "always", "--rm", "bb:rec", "true");
        assertThat(restart.exitCode()).isNotZero();
    }
}
