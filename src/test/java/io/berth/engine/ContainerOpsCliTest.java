package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** exec, stop, kill, restart, restart policies and attach against a real berthd. */
class ContainerOpsCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag("bb:ops").writeTo(tmp.resolve("bb.tar")));
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
    void execWithOptions() throws Exception {
        ok("run", "-d", "--name", "ex", "-e", "BASE=1", "bb:ops", "sleep", "1000");
        assertThat(ok("exec", "ex", "echo", "hello").stdout()).isEqualTo("hello\n");
        assertThat(ok("exec", "-e", "X=y", "-w", "/tmp", "-u", "app", "ex", "sh", "-c", "echo $X $BASE; pwd; id -u").stdout())
                .isEqualTo("y 1\n/tmp\n1000\n");
        DockerCli.Result fail = docker.run("exec", "ex", "sh", "-c", "echo oops >&2; exit 4");
        assertThat(fail.exitCode()).isEqualTo(4);
        assertThat(fail.stderr()).contains("oops");
        Process p = docker.start("exec", "-i", "ex", "cat");
        p.getOutputStream().write("through stdin\n".getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)).isEqualTo("through stdin\n");
        ok("exec", "-d", "ex", "sh", "-c", "echo detached > /tmp/d");
        await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("exec", "ex", "cat", "/tmp/d").stdout().equals("detached\n"));
        assertThat(ok("exec", "--privileged", "ex", "sh", "-c", "grep CapEff /proc/self/status").stdout()).contains("000001ff");
        assertThat(inspect("ex").get("ExecIDs").size()).isGreaterThanOrEqualTo(5);

        ok("stop", "-t", "0", "ex");
        DockerCli.Result stopped = docker.run("exec", "ex", "true");
        assertThat(stopped.exitCode()).isNotZero();
        assertThat(stopped.stderr()).contains("is not running");
    }

    /** HOME from the exec user's passwd entry, TERM for a tty, as dockerd's exec gives them. */
    @Test
    void execEnvironmentAsDockerd() throws Exception {
        ok("run", "-d", "--name", "exenv", "bb:ops", "sleep", "1000");
        assertThat(ok("exec", "-u", "app", "exenv", "sh", "-c", "echo $HOME").stdout()).isEqualTo("/home/app\n");
        assertThat(ok("exec", "exenv", "sh", "-c", "echo $HOME").stdout()).isEqualTo("/root\n");
        assertThat(ok("exec", "-t", "exenv", "env").stdout()).contains("TERM=xterm");
        assertThat(ok("exec", "exenv", "env").stdout()).doesNotContain("TERM=");
    }

    /** `-e NAME` with NAME unset on the client stays in Config.Env, as dockerd keeps it, and the process has no NAME. */
    @Test
    void anEnvEntryWithoutValueIsKeptInTheConfig() throws Exception {
        ok("create", "--name", "envs", "-e", "BERTH_NOT_SET_ANYWHERE", "-e", "A=1", "bb:ops", "env");
        assertThat(inspect("envs").get("Config").get("Env").toString()).contains("\"BERTH_NOT_SET_ANYWHERE\"").contains("\"A=1\"");
        ok("start", "envs");
        assertThat(ok("wait", "envs").stdout().trim()).isEqualTo("0");
        assertThat(ok("logs", "envs").stdout()).contains("A=1").doesNotContain("BERTH_NOT_SET_ANYWHERE");
    }

    /** `docker system df` counts and (with -v) lists the containers and volumes, as against dockerd. */
    @Test
    void systemDfCountsContainersAndVolumes() throws Exception {
        ok("run", "-d", "--name", "dfc", "-v", "dfvol:/data", "bb:ops", "sh", "-c", "echo x > /data/f; sleep 1000");
        try {
            await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("exec", "dfc", "cat", "/data/f").stdout().equals("x\n"));
            String summary = ok("system", "df", "--format", "{{.Type}}={{.TotalCount}}/{{.Active}}").stdout();
            assertThat(summary).contains("Containers=1/1").contains("Local Volumes=1/1");
            String verbose = ok("system", "df", "-v").stdout();
            assertThat(verbose).contains("dfc").contains("dfvol");
        } finally {
            ok("rm", "-f", "dfc");
            ok("volume", "rm", "dfvol");
        }
    }

    /** docker commit: the container's changes on its image, with --change, --message, --author; the image records where it came from. */
    @Test
    void commitMakesAnImageOfTheContainer() throws Exception {
        ok("run", "-d", "--name", "tocommit", "bb:ops", "sh", "-c", "echo hello > /test; sleep 1000");
        await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("exec", "tocommit", "cat", "/test").stdout().equals("hello\n"));
        String id = ok("commit", "--change", "EXPOSE 8000", "--change", "CMD [\"cat\", \"/test\"]", "-m", "a message", "-a", "Someone <s@example.org>",
                "tocommit", "committed:v1").stdout().trim();
        try {
            assertThat(id).startsWith("sha256:");
            assertThat(inspect("tocommit").get("State").get("Status").asString()).isEqualTo("running"); // paused and resumed
            assertThat(ok("run", "--rm", "committed:v1").stdout()).isEqualTo("hello\n");
            JsonNode img = JSON.readTree(ok("image", "inspect", "committed:v1").stdout()).get(0);
            assertThat(img.get("Parent").asString()).isEqualTo(JSON.readTree(ok("image", "inspect", "bb:ops").stdout()).get(0).get("Id").asString());
            assertThat(img.get("Container").asString()).isEqualTo(inspect("tocommit").get("Id").asString());
            assertThat(img.get("Comment").asString()).isEqualTo("a message");
            assertThat(img.get("Author").asString()).isEqualTo("Someone <s@example.org>");
            assertThat(img.get("Config").get("ExposedPorts").has("8000/tcp")).isTrue();
            DockerCli.Result bad = docker.run("commit", "--change", "NOSUCH x", "tocommit", "committed:bad");
            assertThat(bad.exitCode()).isNotZero();
            assertThat(docker.run("image", "inspect", "committed:bad").exitCode()).isNotZero();
        } finally {
            ok("rm", "-f", "tocommit");
            docker.run("rmi", "committed:v1");
        }
    }

    /** The framing follows the start request's Tty; a detached start answers an empty body; the detach keys end an exec attach. */
    @Test
    void execStartAsDockerd() throws Exception {
        ok("run", "-d", "--name", "exraw", "bb:ops", "sleep", "1000");
        String plain = execCreate("exraw", "{\"Cmd\":[\"echo\",\"hi\"],\"AttachStdout\":true,\"AttachStderr\":true}");
        String framed = post("/v1.41/exec/" + plain + "/start", "{\"Tty\":true}");
        assertThat(framed).contains("application/vnd.docker.raw-stream").endsWith("\r\n\r\nhi\n");

        String detached = execCreate("exraw", "{\"Cmd\":[\"true\"]}");
        String answer = post("/v1.41/exec/" + detached + "/start", "{\"Detach\":true}");
        assertThat(answer).startsWith("HTTP/1.1 200").contains("Content-Length: 0").endsWith("\r\n\r\n");

        String cat = execCreate("exraw", "{\"Cmd\":[\"cat\"],\"Tty\":true,\"AttachStdin\":true,\"AttachStdout\":true}");
        try (var ch = daemon.connect()) {
            var out = java.nio.channels.Channels.newOutputStream(ch);
            String body = "{\"Tty\":true}";
            out.write(("POST /v1.41/exec/" + cat + "/start HTTP/1.1\r\nHost: berth\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                    + "Content-Type: application/json\r\nContent-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.US_ASCII));
            out.flush();
            Thread.sleep(500);
            out.write(new byte[] {'x', 16, 17});
            out.flush();
            var in = java.nio.channels.Channels.newInputStream(ch);
            var read = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            assertThat(read.get(10, TimeUnit.SECONDS)).contains("x"); // the stream ended: detached
        }
        String state = daemon.httpGet("/v1.41/exec/" + cat + "/json");
        assertThat(state).contains("\"Running\":true"); // the process goes on
    }

    private static String post(String path, String json) throws Exception {
        return daemon.raw("POST " + path + " HTTP/1.1\r\nHost: berth\r\nContent-Type: application/json\r\nContent-Length: " + json.length()
                + "\r\nConnection: close\r\n\r\n" + json);
    }

    private static String execCreate(String container, String json) throws Exception {
        String answer = post("/v1.41/containers/" + container + "/exec", json);
        assertThat(answer).startsWith("HTTP/1.1 201");
        return JSON.readTree(answer.substring(answer.indexOf("\r\n\r\n") + 4)).get("Id").asString();
    }

    @Test
    void stopWaitsTheTimeoutThenKills() throws Exception {
        ok("run", "-d", "--name", "stubborn", "bb:ops", "sh", "-c", "trap '' TERM; while true; do sleep 0.1; done");
        long t0 = System.nanoTime();
        ok("stop", "-t", "2", "stubborn");
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(ms).isBetween(1900L, 15000L);
        JsonNode s = inspect("stubborn").get("State");
        assertThat(s.get("ExitCode").asInt()).isEqualTo(137);
        assertThat(s.get("Running").asBoolean()).isFalse();
        // stop of a stopped container is a no-op (304), the CLI says nothing wrong
        ok("stop", "stubborn");
    }

    @Test
    void killWithSignalAndRestart() throws Exception {
        ok("run", "-d", "--name", "sig", "bb:ops", "sh", "-c", "trap 'echo got-usr1' USR1; while true; do sleep 0.1; done");
        ok("kill", "-s", "USR1", "sig");
        await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("logs", "sig").stdout().contains("got-usr1"));
        assertThat(inspect("sig").get("State").get("Running").asBoolean()).isTrue();
        String startedBefore = inspect("sig").get("State").get("StartedAt").asString();
        long pidBefore = inspect("sig").get("State").get("Pid").asLong();
        ok("restart", "-t", "1", "sig");
        JsonNode s = inspect("sig").get("State");
        assertThat(s.get("Running").asBoolean()).isTrue();
        assertThat(s.get("StartedAt").asString()).isNotEqualTo(startedBefore);
        assertThat(s.get("Pid").asLong()).isNotEqualTo(pidBefore);
        ok("kill", "sig");
        assertThat(inspect("sig").get("State").get("ExitCode").asInt()).isEqualTo(137);
        DockerCli.Result again = docker.run("kill", "sig");
        assertThat(again.exitCode()).isNotZero();
        assertThat(again.stderr()).contains("is not running");
        DockerCli.Result rm = docker.run("rm", "sig");
        assertThat(rm.exitCode()).isZero();
    }

    @Test
    void removeRunningNeedsForce() throws Exception {
        String id = ok("run", "-d", "--name", "busy", "bb:ops", "sleep", "1000").stdout().trim();
        DockerCli.Result rm = docker.run("rm", "busy");
        assertThat(rm.exitCode()).isNotZero();
        assertThat(rm.stderr()).contains("You cannot remove a running container " + id
                + ". Stop the container before attempting removal or force remove");
        ok("pause", "busy");
        assertThat(inspect("busy").get("State").get("Status").asString()).isEqualTo("paused");
        assertThat(ok("ps", "--format", "{{.Status}}").stdout()).contains("(Paused)");
        ok("unpause", "busy");
        assertThat(inspect("busy").get("State").get("Status").asString()).isEqualTo("running");
        ok("rm", "-f", "busy");
        assertThat(ok("ps", "-aq").stdout()).isBlank();
    }

    @Test
    void onFailureRestartsTwice() throws Exception {
        ok("run", "-d", "--name", "flaky", "--restart", "on-failure:2", "bb:ops", "sh", "-c", "echo run; exit 1");
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).until(() -> {
            JsonNode i = inspect("flaky");
            return i.get("State").get("Status").asString().equals("exited") && i.get("RestartCount").asInt() == 2;
        });
        Thread.sleep(1500); // no third try comes
        JsonNode i = inspect("flaky");
        assertThat(i.get("RestartCount").asInt()).isEqualTo(2);
        assertThat(i.get("State").get("ExitCode").asInt()).isEqualTo(1);
        assertThat(ok("logs", "flaky").stdout()).isEqualTo("run\nrun\nrun\n");
    }

    /** dockerd hands a waiter the first exit's code even when restart policy always starts the container again. */
    @Test
    void waitOnARestartAlwaysContainerReturnsTheFirstExit() throws Exception {
        ok("run", "-d", "--name", "again", "--restart", "always", "bb:ops", "sh", "-c", "sleep 1; exit 3");
        try {
            DockerCli.Result w = docker.run(Duration.ofSeconds(20), "wait", "again");
            assertThat(w.exitCode()).as(w.toString()).isZero();
            assertThat(w.stdout().trim()).isEqualTo("3");
        } finally {
            ok("rm", "-f", "again");
        }
    }

    @Test
    void attachToADetachedContainerSeesNewOutput() throws Exception {
        ok("run", "-d", "--name", "talker", "bb:ops", "sh", "-c",
                "echo old; while [ ! -f /tmp/go ]; do sleep 0.1; done; echo new-output; sleep 0.5; exit 9");
        await().atMost(Duration.ofSeconds(10)).until(() -> docker.run("logs", "talker").stdout().contains("old"));
        Process p = docker.start("attach", "--no-stdin", "talker");
        Thread.sleep(1000);
        ok("exec", "talker", "touch", "/tmp/go");
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(out).isEqualTo("new-output\n");
        assertThat(p.exitValue()).isEqualTo(9);
    }

    @Test
    void waitAndLogOptions() throws Exception {
        ok("run", "-d", "--name", "lines", "bb:ops", "sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; echo bad >&2; sleep 1; exit 2");
        assertThat(ok("wait", "lines").stdout().trim()).isEqualTo("2");
        assertThat(ok("logs", "--tail", "2", "lines").stdout()).isEqualTo("line5\n");
        assertThat(ok("logs", "--tail", "3", "lines").stdout()).isEqualTo("line4\nline5\n");
        DockerCli.Result both = ok("logs", "lines");
        assertThat(both.stdout()).isEqualTo("line1\nline2\nline3\nline4\nline5\n");
        assertThat(both.stderr()).isEqualTo("bad\n");
        assertThat(ok("logs", "--since", "2000-01-01T00:00:00Z", "--until", "2001-01-01T00:00:00Z", "lines").stdout()).isEmpty();
        Process follow = docker.start("logs", "-f", "lines");
        assertThat(follow.waitFor(10, TimeUnit.SECONDS)).isTrue(); // it ended: follow stops at the exit
    }

    @Test
    void healthCheckBecomesHealthy() throws Exception {
        ok("run", "-d", "--name", "doc", "--health-cmd", "test -f /tmp/ok", "--health-interval", "300ms", "--health-retries", "2",
                "bb:ops", "sh", "-c", "sleep 1.5; touch /tmp/ok; sleep 1000");
        assertThat(inspect("doc").get("State").get("Health").get("Status").asString()).isIn("starting", "unhealthy");
        await().atMost(Duration.ofSeconds(20)).until(() -> inspect("doc").get("State").get("Health").get("Status").asString().equals("healthy"));
        assertThat(ok("ps", "--format", "{{.Status}}").stdout()).contains("(healthy)");
        assertThat(ok("ps", "-q", "--filter", "health=healthy").stdout()).isNotBlank();
    }
    /** State.Health.Log keeps the last five probes (times, exit code, output) and FailingStreak counts the failures in a row, as dockerd's. */
    @Test
    void healthLogKeepsTheLastFiveProbes() throws Exception {
        ok("run", "-d", "--name", "probed", "--health-cmd", "echo out-$(cat /tmp/mark 2>/dev/null); echo err >&2; test -f /tmp/ok",
                "--health-interval", "200ms", "--health-retries", "100", "bb:ops", "sleep", "1000");
        await().atMost(Duration.ofSeconds(30)).until(() -> inspect("probed").get("State").get("Health").get("FailingStreak").asInt() >= 6);
        JsonNode failing = inspect("probed").get("State").get("Health");
        assertThat(failing.get("Status").asString()).isEqualTo("starting"); // fewer failures than the retries
        JsonNode log = failing.get("Log");
        assertThat(log.size()).as(failing.toString()).isEqualTo(5);
        Instant previousStart = Instant.EPOCH;
        for (JsonNode probe : log) {
            assertThat(probe.get("ExitCode").asInt()).isEqualTo(1);
            assertThat(probe.get("Output").asString()).contains("out-\n").contains("err\n");
            Instant start = Instant.parse(probe.get("Start").asString());
            Instant end = Instant.parse(probe.get("End").asString());
            assertThat(start).isAfter(previousStart);
            assertThat(end).isAfterOrEqualTo(start);
            previousStart = start;
        }

        ok("exec", "probed", "sh", "-c", "echo second > /tmp/mark; touch /tmp/ok");
        await().atMost(Duration.ofSeconds(20)).until(() -> inspect("probed").get("State").get("Health").get("Status").asString().equals("healthy"));
        JsonNode healthy = inspect("probed").get("State").get("Health");
        assertThat(healthy.get("FailingStreak").asInt()).isZero();
        JsonNode last = healthy.get("Log").get(healthy.get("Log").size() - 1);
        assertThat(last.get("ExitCode").asInt()).isZero();
        assertThat(last.get("Output").asString()).contains("out-second\n");
    }
}
