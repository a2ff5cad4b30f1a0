package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.RegistryProcess;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * daemon.json's "registry-host-mirrors": images named after registries this machine cannot
 * reach (registry.k8s.io, gcr.io: kubelet's) are pulled from the mirror given for their host,
 * under the same repository path, as containerd's hosts.toml does. Needs root and Debian's
 * docker-registry, as the other registry tests.
 */
class RegistryHostMirrorsCliTest {
    @Test
    void aRegistryWithAMirrorIsPulledFromTheMirror(@TempDir Path tmp) throws Exception {
        try (RegistryProcess registry = RegistryProcess.start()) {
            Path dir = Files.createTempDirectory("berth-host-mirrors");
            Files.writeString(dir.resolve("daemon.json"), "{\"registry-host-mirrors\": {\"registry.k8s.io\": [\"http://"
                    + registry.host() + "\"], \"gcr.io\": [\"http://" + registry.host() + "/\"]}}\n");
            try (CliDaemon cli = CliDaemon.start(dir)) { // its close deletes the folder
                DockerCli docker = cli.docker();
                cli.load(TestImages.busybox().tag("pause-src:latest").label("made", "here").writeTo(tmp.resolve("bb.tar")));
                String id = docker.run("inspect", "-f", "{{.Id}}", "pause-src:latest").stdout().trim();
                assertThat(docker.run("tag", "pause-src:latest", registry.host() + "/pause:3.9").exitCode()).isZero();
                assertThat(docker.run("push", registry.host() + "/pause:3.9").exitCode()).isZero();
                assertThat(docker.run("rmi", "pause-src:latest", registry.host() + "/pause:3.9").exitCode()).isZero();

                DockerCli.Result pulled = docker.run("pull", "registry.k8s.io/pause:3.9");
                assertThat(pulled.exitCode()).as(pulled.stderr()).isZero();
                assertThat(docker.run("inspect", "-f", "{{.Id}}", "registry.k8s.io/pause:3.9").stdout().trim()).isEqualTo(id);
                assertThat(docker.run("pull", "gcr.io/pause:3.9").exitCode()).isZero();

                // a repository the mirror lacks is an error naming it, and leaves nothing
                DockerCli.Result missing = docker.run("pull", "gcr.io/nowhere/pause:1");
                assertThat(missing.exitCode()).isNotZero();
                assertThat(missing.stderr()).contains("nowhere/pause");
                assertThat(docker.run("images", "-q", "gcr.io/nowhere/pause").stdout()).isBlank();
            }
        }
    }

    @Test
    void aMirrorThatIsNotAUrlStopsTheDaemonWithTheReason() throws Exception {
        Path dir = Files.createTempDirectory("berth-host-mirrors-bad");
        Files.writeString(dir.resolve("daemon.json"), "{\"registry-host-mirrors\": {\"gcr.io\": [\"ftp://x\"]}}\n");
        try (BerthdProcess p = BerthdProcess.launch(dir)) {
            assertThat(p.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(p.process().exitValue()).isNotZero();
            assertThat(p.log()).contains("registry-host-mirrors").contains("ftp://x");
        }
    }
}
