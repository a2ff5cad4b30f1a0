package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The container events `docker events` shows around kill, stop, restart, pause, rm -f and an
 * OOM kill, in order and with their attributes. The expected sequences are what dockerd
 * 20.10.24 (Debian's docker.io, runc) gave for the same commands, recorded with
 * {@code docker events --filter type=container --format '{{.Action}} {{.Actor.Attributes.signal}} {{.Actor.Attributes.exitCode}}'}:
 * <pre>
 * run -d + kill                      create, start, kill 9, die 137
 * kill -s USR1 (trapped)             kill 10
 * stop (TERM handled: exit 3)        kill 15, die 3, stop
 * stop -t 1 (TERM ignored)           kill 15, kill 9, die 137, stop
 * restart -t 1 (TERM ignored)        kill 15, kill 9, die 137, stop, start, restart
 * restart of an exited container     start, restart
 * pause, unpause, pause, stop -t 1   pause, unpause, pause, kill 15, unpause, kill 9, die 137, stop
 * rm -f of a running container       kill 9, die 137, destroy
 * out of memory                      create, start, oom, die 137
 * </pre>
 * (dockerd also tells network connect and disconnect; those are type network, filtered out.)
 */
class ContainerEventsCliTest {
    static final String FORMAT = "{{.Action}} {{.Actor.Attributes.signal}} {{.Actor.Attributes.exitCode}}";
    static CliDaemon cli;
    static DockerCli docker;

    @BeforeAll
    static void start(@TempDir Path tmp) throws Exception {
        cli = CliDaemon.start();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag("bb:events").writeTo(tmp.resolve("bb.tar")));
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainers();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli != null) cli.close();
    }

    private static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    /** A time for --since/--until, as seconds.nanoseconds. */
    private static String stamp() {
        Instant now = Instant.now();
        return String.format("%d.%09d", now.getEpochSecond(), now.getNano());
    }

    /** The container events of {@code name} between {@code since} and now, one "action signal exitCode" a line ("-" when absent). */
    private static List<String> eventsSince(String since, String name) throws Exception {
        Thread.sleep(50); // let the clock move past the last event's stamp
        DockerCli.Result r = ok("events", "--since", since, "--until", stamp(), "--filter", "type=container", "--filter",
                "container=" + name, "--format", FORMAT);
        return r.stdout().lines().map(l -> l.replace("<no value>", "-").trim()).toList();
    }

    /** sh as pid 1 ignores SIGTERM unless it traps it: only the SIGKILL after the timeout ends it, as `sleep` under runc. */
    private static final String[] IGNORES_TERM = {"sleep", "1000"};

    @Test
    void killTellsKillWithSignal9ThenDie() throws Exception {
        String since = stamp();
        ok("run", "-d", "--name", "ev-k", "bb:events", IGNORES_TERM[0], IGNORES_TERM[1]);
        ok("kill", "ev-k");
        assertThat(eventsSince(since, "ev-k")).containsExactly("create - -", "start - -", "kill 9 -", "die - 137");
    }

    @Test
    void killWithASignalTheProcessTrapsTellsOnlyKill() throws Exception {
        ok("run", "-d", "--name", "ev-u", "bb:events", "sh", "-c", "trap 'echo got-usr1' USR1; while true; do sleep 0.1; done");
        String since = stamp();
        ok("kill", "-s", "USR1", "ev-u");
        assertThat(eventsSince(since, "ev-u")).containsExactly("kill 10 -");
    }

    @Test
    void stopTellsKillDieStop() throws Exception {
        ok("run", "-d", "--name", "ev-s", "bb:events", "sh", "-c", "trap 'exit 3' TERM; while true; do sleep 0.1; done");
        String since = stamp();
        ok("stop", "ev-s");
        assertThat(eventsSince(since, "ev-s")).containsExactly("kill 15 -", "die - 3", "stop - -");
    }

    @Test
    void stopPastItsTimeoutTellsBothKills() throws Exception {
        ok("run", "-d", "--name", "ev-t", "bb:events", IGNORES_TERM[0], IGNORES_TERM[1]);
        String since = stamp();
        ok("stop", "-t", "1", "ev-t");
        assertThat(eventsSince(since, "ev-t")).containsExactly("kill 15 -", "kill 9 -", "die - 137", "stop - -");
    }

    @Test
    void restartTellsTheStopThenStartAndRestart() throws Exception {
        ok("run", "-d", "--name", "ev-r", "bb:events", IGNORES_TERM[0], IGNORES_TERM[1]);
        String since = stamp();
        ok("restart", "-t", "1", "ev-r");
        assertThat(eventsSince(since, "ev-r")).containsExactly("kill 15 -", "kill 9 -", "die - 137", "stop - -", "start - -", "restart - -");

        ok("kill", "ev-r");
        since = stamp();
        ok("restart", "ev-r");
        assertThat(eventsSince(since, "ev-r")).containsExactly("start - -", "restart - -");
    }

    @Test
    void stoppingAPausedContainerThawsIt() throws Exception {
        ok("run", "-d", "--name", "ev-p", "bb:events", IGNORES_TERM[0], IGNORES_TERM[1]);
        String since = stamp();
        ok("pause", "ev-p");
        ok("unpause", "ev-p");
        ok("pause", "ev-p");
        ok("stop", "-t", "1", "ev-p");
        assertThat(eventsSince(since, "ev-p")).containsExactly("pause - -", "unpause - -", "pause - -", "kill 15 -", "unpause - -",
                "kill 9 -", "die - 137", "stop - -");
    }

    @Test
    void forcedRemovalTellsKillDieDestroy() throws Exception {
        ok("run", "-d", "--name", "ev-f", "bb:events", IGNORES_TERM[0], IGNORES_TERM[1]);
        String since = stamp();
        ok("rm", "-f", "ev-f");
        assertThat(eventsSince(since, "ev-f")).containsExactly("kill 9 -", "die - 137", "destroy - -");
    }

    @Test
    void anOomKillTellsOomBeforeDie() throws Exception {
        String since = stamp();
        ok("run", "-d", "--name", "ev-o", "--memory", "16m", "--memory-swap", "16m", "bb:events", "tail", "/dev/zero");
        DockerCli.Result waited = docker.run(Duration.ofSeconds(60), "wait", "ev-o");
        assertThat(waited.stdout().trim()).as(waited.toString()).isEqualTo("137");
        assertThat(eventsSince(since, "ev-o")).containsExactly("create - -", "start - -", "oom - -", "die - 137");
    }
}
