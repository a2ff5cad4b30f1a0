package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Values refused at create with dockerd 20.10's status and message (issue 13, point 5), and
 * nothing made for them: no container, no network, no bridge.
 */
class CreateValidationCliTest {
    static final String IMAGE = "bb:checks";
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
        DockerCli.Result r = docker.run("load", "-i", TestImages.busybox().tag(IMAGE).writeTo(tmp.resolve("bb.tar")).archive().toString());
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    @AfterEach
    void nothingWasMade() throws Exception {
        assertThat(docker.run("ps", "-aq").stdout()).as("containers").isEmpty();
        assertThat(docker.run("network", "ls", "-q", "--filter", "type=custom").stdout()).as("networks").isEmpty();
        assertThat(daemon.process().isAlive()).isTrue();
    }

    @Test
    void negativeResourcesAre400WithDockerdsMessages() throws Exception {
        assertCreate400("{\"Memory\":-5}", "Minimum memory limit allowed is 6MB");
        assertCreate400("{\"ShmSize\":-1}", "SHM size can not be less than 0");
        int cpus = Runtime.getRuntime().availableProcessors();
        assertCreate400("{\"NanoCpus\":-1}", "Range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
    }

    @Test
    void memoryWhoseDefaultSwapOverflowsIs400() throws Exception {
        assertCreate400("{\"Memory\":9223372036854775807}", "is too large");
        assertCreate400("{\"Memory\":4611686018427387904}", "is too large");
    }

    @Test
    void cgroupParentWithDotDotIs400() throws Exception {
        assertCreate400("{\"CgroupParent\":\"../../escape\"}", "invalid CgroupParent \\\"../../escape\\\": it may not contain \\\"..\\\"");
        assertCreate400("{\"CgroupParent\":\"/berth/../../x\"}", "it may not contain");
        DockerCli.Result r = docker.run("create", "--cgroup-parent", "a/../../b", IMAGE);
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("may not contain");
    }

    @Test
    void unknownBindPropagationIs400() throws Exception {
        Path src = Files.createTempDirectory("berth-prop");
        try {
            assertCreate400("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"" + src + "\",\"Target\":\"/x\",\"BindOptions\":{\"Propagation\":\"bogus\"}}]}",
                    "invalid mount config for type \\\"bind\\\": invalid propagation mode: bogus");
            DockerCli.Result r = docker.run("create", "--mount", "type=bind,src=" + src + ",dst=/x,bind-propagation=rshared", IMAGE);
            assertThat(r.exitCode()).as(r.toString()).isZero();
            assertThat(docker.run("rm", r.stdout().trim()).exitCode()).isZero();
        } finally {
            Files.deleteIfExists(src);
        }
    }

    @Test
    void bridgeNamesThatIptablesWouldMisreadAreRefused() throws Exception {
        for (String bad : new String[] {"br+", "-jACCEPT", "abcdefghijklmnop", "a b", "a/b"}) {
            DockerCli.Result r = docker.run("network", "create", "-o", "com.docker.network.bridge.name=" + bad, "n-bad");
            assertThat(r.exitCode()).as(bad).isNotZero();
            assertThat(r.stderr()).as(bad).contains("invalid bridge name");
            assertThat(Path.of("/sys/class/net", bad.replace('/', '_'))).doesNotExist();
        }
        DockerCli.Result ok = docker.run("network", "create", "-o", "com.docker.network.bridge.name=brchk0", "n-ok");
        assertThat(ok.exitCode()).as(ok.toString()).isZero();
        assertThat(docker.run("network", "rm", "n-ok").exitCode()).isZero();
    }

    @Test
    void portsOutOfRangeOrNotNumbersAre400AsDockerd() throws Exception {
        assertCreate400("{\"PortBindings\":{\"80/tcp\":[{\"HostPort\":\"99999\"}]}}", "invalid port specification: \\\"99999\\\"");
        assertCreate400("{\"PortBindings\":{\"abc/tcp\":[{\"HostPort\":\"1\"}]}}", "invalid port specification: \\\"abc\\\"");
        DockerCli.Result r = docker.run("create", "-p", "8080-8081:80-81", IMAGE);
        assertThat(r.exitCode()).as("a range is fine: %s", r).isZero();
        assertThat(docker.run("rm", r.stdout().trim()).exitCode()).isZero();
    }

    static void assertCreate400(String hostConfig, String message) throws Exception {
        String body = "{\"Image\":\"" + IMAGE + "\",\"HostConfig\":" + hostConfig + "}";
        String answer = daemon.raw("POST /v1.41/containers/create HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body);
        assertThat(answer).as(hostConfig).startsWith("HTTP/1.1 400").contains(message);
        assertThat(docker.run(Duration.ofSeconds(30), "ps", "-aq").stdout()).as("after %s", hostConfig).isEmpty();
    }
}
