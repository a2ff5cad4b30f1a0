package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/** Testcontainers, a real Docker client library, runs a container on berthd and waits for its log line. */
class TestcontainersTest {
    static BerthdProcess daemon;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = BerthdProcess.start();
        var r = daemon.docker().run("load", "-i", TestImages.busybox().tag("bb:tc").writeTo(tmp.resolve("bb.tar")).archive().toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
        // docker-java (inside Testcontainers) takes DOCKER_HOST from system properties as from the environment
        System.setProperty("DOCKER_HOST", daemon.dockerHost());
    }

    @AfterAll
    static void stop() throws Exception {
        System.clearProperty("DOCKER_HOST");
        if (daemon != null) {
            ContainerOpsCliTest.removeAll(daemon.docker());
            daemon.close();
        }
    }

    @Test
    void genericContainerWaitsForItsLogLine() {
        try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse("bb:tc"))
                .withCommand("sh", "-c", "echo ready; sleep 60")
                .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofSeconds(30)))) {
            c.start();
            assertThat(c.isRunning()).isTrue();
            assertThat(c.getLogs()).contains("ready");
            String id = c.getContainerId();
            assertThat(daemon.docker().run("ps", "-q", "--no-trunc").toString()).contains(id);
        }
    }
}
