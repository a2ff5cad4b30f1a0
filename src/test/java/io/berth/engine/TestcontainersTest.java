package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

/**
 * Testcontainers, a real Docker client library, runs a container on berthd and waits for its
 * log line. It runs in a JVM of its own: Testcontainers takes DOCKER_HOST and its host override
 * from the environment, which a running JVM cannot change.
 */
class TestcontainersTest {
    static BerthdProcess daemon;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = BerthdProcess.start();
        var r = daemon.docker().run("load", "-i", TestImages.busybox().tag("bb:tc").writeTo(tmp.resolve("bb.tar")).archive().toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) {
            CliDaemon.removeContainers(daemon.docker());
            daemon.close();
        }
    }

    @Test
    void genericContainerWaitsForItsLogLine() throws Exception {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(List.of(java.toString(), "-cp", System.getProperty("java.class.path"), Probe.class.getName()));
        pb.environment().put("DOCKER_HOST", daemon.dockerHost());
        pb.environment().put("TESTCONTAINERS_RYUK_DISABLED", "true");
        // Testcontainers believes it runs in a container here (/.dockerenv) and would ask for the bridge network's gateway
        pb.environment().put("TESTCONTAINERS_HOST_OVERRIDE", "localhost");
        // its start-up check wants a server Version of at least 1.6.0; /version says 0.1.0-SNAPSHOT (see the report)
        pb.environment().put("TESTCONTAINERS_CHECKS_DISABLE", "true");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).contains("PROBE OK");
        // the container is gone again
        assertThat(daemon.docker().run("ps", "-aq").stdout()).isBlank();
    }

    /** Runs in the child JVM. */
    public static final class Probe {
        public static void main(String[] args) {
            try (GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse("bb:tc"))
                    .withCommand("sh", "-c", "echo ready; sleep 60")
                    .waitingFor(Wait.forLogMessage("ready\\n", 1).withStartupTimeout(Duration.ofSeconds(30)))) {
                c.start();
                if (!c.isRunning() || !c.getLogs().contains("ready")) throw new IllegalStateException("not running or no log: " + c.getLogs());
                System.out.println("PROBE OK " + c.getContainerId());
            }
            System.exit(0);
        }
    }
}
