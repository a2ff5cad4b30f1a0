package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** docker run and friends against a real berthd: real containers through conmon and runc. */
class ContainerRunCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag("bb:run").writeTo(tmp.resolve("bb.tar")));
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

    static JsonNode inspect(String name) throws Exception {
        return cli.inspect(name);
    }

    @Test
    void runRmPrintsAndPropagatesExitCode() throws Exception {
        DockerCli.Result r = ok("run", "--rm", "bb:run", "echo", "hi");
        assertThat(r.stdout()).isEqualTo("hi\n");
        DockerCli.Result three = docker.run("run", "--rm", "bb:run", "sh", "-c", "echo out; echo err >&2; exit 3");
        assertThat(three.exitCode()).as(three + daemon.log()).isEqualTo(3);
        assertThat(three.stdout()).isEqualTo("out\n");
        assertThat(three.stderr()).contains("err\n");
        assertThat(ok("ps", "-aq").stdout()).isBlank();
    }

    @Test
    void envWorkdirUserHostnameName() throws Exception {
        DockerCli.Result r = ok("run", "--name", "named", "-e", "FOO=bar", "-w", "/tmp/work", "-u", "app", "--hostname", "boxy", "bb:run",
                "sh", "-c", "echo $FOO; pwd; id -u; id -g; hostname; cat /etc/hostname");
        assertThat(r.stdout()).isEqualTo("bar\n/tmp/work\n1000\n1000\nboxy\nboxy\n");
        JsonNode i = inspect("named");
        assertThat(i.get("State").get("Status").asString()).isEqualTo("exited");
        assertThat(i.get("State").get("ExitCode").asInt()).isZero();
        assertThat(i.get("State").get("FinishedAt").asString()).doesNotStartWith("0001");
        assertThat(ok("run", "--rm", "-u", "65534:0", "bb:run", "id").stdout()).contains("uid=65534").contains("gid=0");
    }

    @Test
    void stdinIsPassedWithI() throws Exception {
        Process p = docker.start("run", "--rm", "-i", "bb:run", "cat");
        p.getOutputStream().write("data\nmore\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("data\nmore\n");
        assertThat(p.exitValue()).isZero();
    }

    /**
     * Binary stdin through {@code docker run -i} without a tty: every byte comes back, ctrl-p
     * ctrl-q included (the detach keys mean nothing without a tty), for a large and a small input.
     */
    @Test
    void binaryStdinRoundTripsWithoutTty() throws Exception {
        byte[] big = randomWithDetachKeys(1 << 20, 1);
        RunOutput r = runWithStdin(big, "run", "-i", "bb:run", "cat");
        assertThat(r.exitCode()).as(r.stderr() + daemon.log()).isZero();
        assertThat(r.stdout().length).as(r.stderr()).isEqualTo(1 << 20);
        assertThat(r.stdout()).isEqualTo(big);

        byte[] small = randomWithDetachKeys(4096, 2);
        RunOutput rm = runWithStdin(small, "run", "--rm", "-i", "bb:run", "cat");
        assertThat(rm.exitCode()).as(rm.stderr() + daemon.log()).isZero();
        assertThat(rm.stdout()).isEqualTo(small);
        assertThat(ok("ps", "-aq").stdout().trim().split("\\s+")).hasSize(1); // the first one; --rm removed the second
    }

    /** When the client's stdin ends the container's stdin closes, and its output is still streamed until it exits. */
    @Test
    void outputAfterStdinEndsIsStreamed() throws Exception {
        RunOutput r = runWithStdin(randomWithDetachKeys(64 * 1024, 3), "run", "--rm", "-i", "bb:run",
                "sh", "-c", "wc -c; sleep 1; echo after-eof; echo err-after >&2; exit 4");
        assertThat(r.exitCode()).as(r.stderr() + daemon.log()).isEqualTo(4);
        assertThat(new String(r.stdout(), StandardCharsets.UTF_8)).isEqualTo("65536\nafter-eof\n");
        assertThat(r.stderr()).isEqualTo("err-after\n");
    }

    /**
     * A container that exits before reading all of its stdin: the client still gets the output
     * and the exit code, not "connection reset by peer" (berthd drains the unread input before it
     * closes the connection). Three times, since the reset raced the client's last read.
     */
    @Test
    void aContainerThatLeavesStdinUnreadEndsCleanly() throws Exception {
        byte[] big = randomWithDetachKeys(1 << 20, 4);
        for (int i = 0; i < 3; i++) {
            RunOutput r = runWithStdin(big, "run", "--rm", "-i", "bb:run", "head", "-c", "10");
            assertThat(r.stderr()).as(daemon.log()).isEmpty();
            assertThat(r.exitCode()).isZero();
            assertThat(r.stdout()).isEqualTo(java.util.Arrays.copyOf(big, 10));
        }
    }

    record RunOutput(int exitCode, byte[] stdout, String stderr) {}

    /** Runs docker with {@code input} on its stdin (closed after it), collecting stdout as bytes. */
    static RunOutput runWithStdin(byte[] input, String... args) throws Exception {
        Process p = docker.start(args);
        Thread writer = Thread.ofVirtual().start(() -> {
            try (var in = p.getOutputStream()) {
                in.write(input);
            } catch (java.io.IOException e) {
                // docker exited early: the assertions on its output say why
            }
        });
        var err = new java.util.concurrent.CompletableFuture<String>();
        Thread.ofVirtual().start(() -> {
            try {
                err.complete(new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (java.io.IOException e) {
                err.complete(e.toString());
            }
        });
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("docker " + String.join(" ", args) + " did not finish");
        }
        writer.join();
        return new RunOutput(p.exitValue(), out, err.get(10, TimeUnit.SECONDS));
    }

    /** Random bytes that surely hold the default detach sequence (ctrl-p ctrl-q) in the middle. */
    static byte[] randomWithDetachKeys(int size, long seed) {
        byte[] b = new byte[size];
        new java.util.Random(seed).nextBytes(b);
        b[size / 2] = 16;
        b[size / 2 + 1] = 17;
        return b;
    }

    @Test
    void ttyUnderARealPty() throws Exception {
        ProcessBuilder pb = new ProcessBuilder("script", "-qec", "docker run --rm -t bb:run busybox tty", "/dev/null");
        pb.environment().put("DOCKER_HOST", daemon.dockerHost());
        pb.environment().put("DOCKER_CONFIG", daemon.dir().resolve("docker-config").toString());
        pb.redirectErrorStream(true);
        Process p = pb.start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(out).as(out + daemon.log()).contains("/dev/pts/");
        assertThat(p.exitValue()).isZero();
    }

    @Test
    void detachedLogsAttachStopWait() throws Exception {
        String id = ok("run", "-d", "--name", "det", "bb:run", "sh", "-c",
                "echo first; echo e1 >&2; trap 'echo got-term; exit 7' TERM; while true; do sleep 0.2; done").stdout().trim();
        assertThat(id).matches("[0-9a-f]{64}");
        JsonNode i = inspect("det");
        assertThat(i.get("State").get("Running").asBoolean()).isTrue();
        assertThat(i.get("State").get("Pid").asLong()).isPositive();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("logs", "det").stdout().contains("first"));
        DockerCli.Result logs = ok("logs", "det");
        assertThat(logs.stdout()).isEqualTo("first\n");
        assertThat(logs.stderr()).isEqualTo("e1\n");
        assertThat(ok("logs", "-t", "det").stdout()).matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z first\n");
        assertThat(ok("ps", "--format", "{{.Names}} {{.Status}}").stdout()).startsWith("det Up");
        ok("stop", "det");
        JsonNode after = inspect("det");
        assertThat(after.get("State").get("Status").asString()).isEqualTo("exited");
        assertThat(after.get("State").get("ExitCode").asInt()).isEqualTo(7);
        assertThat(ok("logs", "det").stdout()).isEqualTo("first\ngot-term\n");
        assertThat(ok("wait", "det").stdout().trim()).isEqualTo("7");
        assertThat(ok("ps", "-a", "--filter", "exited=7", "--format", "{{.Names}}").stdout().trim()).isEqualTo("det");
    }

    @Test
    void diffExportEventsInfoAndOrderFilters() throws Exception {
        long since = System.currentTimeMillis() / 1000 - 1;
        ok("run", "--name", "changer", "bb:run", "sh", "-c", "echo x > /new.txt; rm /etc/hostname.bak 2>/dev/null; echo y >> /etc/passwd");
        String diff = ok("diff", "changer").stdout();
        assertThat(diff).contains("A /new.txt").contains("C /etc/passwd");
        Process export = docker.start("export", "changer");
        byte[] tar = export.getInputStream().readAllBytes();
        assertThat(export.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(tar, StandardCharsets.ISO_8859_1)).contains("new.txt").contains("bin/busybox");
        ok("create", "--name", "later", "bb:run", "true");
        assertThat(ok("ps", "-a", "--filter", "since=changer", "--format", "{{.Names}}").stdout().trim()).isEqualTo("later");
        assertThat(ok("ps", "-a", "--filter", "before=later", "--format", "{{.Names}}").stdout().trim()).isEqualTo("changer");
        String info = ok("info", "--format", "{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}}").stdout().trim();
        assertThat(info).isEqualTo("2 0 2");
        long until = System.currentTimeMillis() / 1000 + 1;
        String events = ok("events", "--since", Long.toString(since), "--until", Long.toString(until), "--filter", "container=changer",
                "--format", "{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}").stdout();
        assertThat(events).contains("create changer", "attach changer", "start changer", "die changer 0");
    }
}
