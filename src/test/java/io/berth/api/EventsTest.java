package io.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * `docker events` against a real berthd. The events come from a real feature: SIGHUP makes
 * berthd reload daemon.json and publish `daemon reload`, as dockerd does.
 */
class EventsTest {
    static BerthdProcess daemon;
    static DockerCli docker;
    static String daemonId;

    @BeforeAll
    static void start() throws Exception {
        daemon = BerthdProcess.start();
        docker = daemon.docker();
        daemonId = docker.run("info", "--format", "{{.ID}}").stdout().trim();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
    }

    private static String nowStamp() {
        long nanos = System.currentTimeMillis() * 1_000_000L;
        return String.format("%d.%09d", nanos / 1_000_000_000L, nanos % 1_000_000_000L);
    }

    @Test
    void sinceAndUntilReplayThePast() throws Exception {
        String before = nowStamp();
        Thread.sleep(20);
        daemon.signal("HUP");
        Thread.sleep(500); // the reload happens on the daemon's own time
        String after = nowStamp();

        DockerCli.Result r = docker.run("events", "--since", before, "--until", after);
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).containsPattern("daemon reload " + daemonId + " \\(.*default-runtime=");

        DockerCli.Result typed = docker.run("events", "--since", before, "--until", after, "--filter", "type=daemon",
                "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}");
        assertThat(typed.stdout().trim()).isEqualTo("daemon reload " + daemonId);

        DockerCli.Result none = docker.run("events", "--since", before, "--until", after, "--filter", "type=container");
        assertThat(none.exitCode()).isZero();
        assertThat(none.stdout()).isEmpty();

        // Up to `before` there is one reload fewer than up to `after` (other tests reload too).
        long upToBefore = docker.run("events", "--since", "1", "--until", before).stdout().lines().filter(l -> l.contains(" reload ")).count();
        long upToAfter = docker.run("events", "--since", "1", "--until", after).stdout().lines().filter(l -> l.contains(" reload ")).count();
        assertThat(upToAfter).isEqualTo(upToBefore + 1);
    }

    @Test
    void liveEventsStreamUntilTheClientLeaves() throws Exception {
        Process cli = docker.start("events", "--filter", "event=reload", "--format", "{{.Action}} {{.Type}}");
        BlockingQueue<String> lines = new ArrayBlockingQueue<>(10);
        Thread.ofVirtual().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(cli.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) lines.add(line);
            } catch (Exception ignored) {
                // the CLI was stopped
            }
        });
        try {
            awaitListeners(1);
            daemon.signal("HUP");
            assertThat(lines.poll(10, TimeUnit.SECONDS)).isEqualTo("reload daemon");
        } finally {
            cli.destroy();
            cli.waitFor(5, TimeUnit.SECONDS);
        }
        awaitListeners(0); // the daemon notices the client left and lets go of the subscription
    }

    @Test
    void badFiltersAreRefusedClearly() throws Exception {
        DockerCli.Result r = docker.run("events", "--since", "1", "--until", "2", "--filter", "colour=red");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("invalid filter 'colour'");
        String raw = daemon.httpGet("/events?filters=%7Bnot-json&until=1");
        assertThat(raw).startsWith("HTTP/1.1 400").contains("\"message\":\"invalid filters: malformed JSON");
    }

    private static void awaitListeners(int expected) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        String last = "";
        while (System.nanoTime() < deadline) {
            last = docker.run("info", "--format", "{{.NEventsListener}}").stdout().trim();
            if (last.equals(Integer.toString(expected))) return;
            Thread.sleep(100);
        }
        throw new AssertionError("NEventsListener stayed " + last + ", expected " + expected);
    }
}
