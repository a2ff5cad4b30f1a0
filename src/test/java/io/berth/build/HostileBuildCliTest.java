package io.berth.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inputs that once cost the builder minutes of CPU, a stack overflow or gigabytes (issue 13.3),
 * sent by the real {@code docker build}: each is answered at once, and a client that leaves
 * mid-RUN leaves nothing behind. Needs root (a real daemon and RUN containers).
 */
class HostileBuildCliTest {
    static BerthdProcess daemon;
    static DockerCli docker;
    static Path base;

    @TempDir Path tmp;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "needs root");
        daemon = BerthdProcess.start();
        docker = daemon.docker().withEnv(Map.of("DOCKER_BUILDKIT", "0"));
        base = Files.createTempDirectory("berth-hostile-build");
        TestImages.Built b = TestImages.busybox().tag("busybox:latest").writeTo(base.resolve("busybox.tar"));
        assertThat(docker.run("load", "-i", b.archive().toString()).exitCode()).isZero();
    }

    @AfterAll
    static void stop() throws Exception {
        if (daemon != null) daemon.close();
        if (base != null) BerthdProcess.deleteTree(base);
    }

    private Path context(String dockerfile, Map<String, String> files) throws Exception {
        Path dir = Files.createTempDirectory(tmp, "ctx");
        Files.writeString(dir.resolve("Dockerfile"), dockerfile);
        for (var e : files.entrySet()) Files.writeString(dir.resolve(e.getKey()), e.getValue());
        return dir;
    }

    /** Runs a build, returning its result and how long it took in ms. */
    private record Timed(DockerCli.Result result, long millis) {}

    private Timed build(Path ctx) throws Exception {
        long t0 = System.nanoTime();
        DockerCli.Result r = docker.run(Duration.ofSeconds(120), "build", "-q", ctx.toString());
        return new Timed(r, (System.nanoTime() - t0) / 1_000_000);
    }

    @Test
    void backtrackingIgnorePatternAndWildcardAreMatchedAtOnce() throws Exception {
        String evil = "*a".repeat(16) + "b";
        Path ctx = context("FROM busybox\nCOPY " + evil + " /none/\n",
                Map.of(".dockerignore", evil + "\n", "a".repeat(34), "x"));
        Timed t = build(ctx);
        // the name matches neither pattern: nothing to copy, answered with Docker's message
        assertThat(t.result().exitCode()).as(t.result().toString()).isNotZero();
        assertThat(t.result().stderr() + t.result().stdout()).contains("no source files were specified");
        assertThat(t.millis()).as("took").isLessThan(10_000);
    }

    @Test
    void deeplyNestedSubstitutionIsRefused() throws Exception {
        String deep = "${a:-".repeat(20_000) + "x" + "}".repeat(20_000);
        Timed t = build(context("FROM busybox\nENV v=" + deep + "\n", Map.of()));
        assertThat(t.result().exitCode()).isNotZero();
        assertThat(t.result().stderr()).contains("dockerfile line greater than max allowed size of 65535");
        assertThat(t.millis()).isLessThan(10_000);

        String nested = "${a:-".repeat(1000) + "x" + "}".repeat(1000);
        t = build(context("FROM busybox\nENV v=" + nested + "\n", Map.of()));
        assertThat(t.result().exitCode()).isNotZero();
        assertThat(t.result().stderr()).contains("nested deeper than");
        assertThat(daemon.docker().run("version").exitCode()).as("daemon still answers").isZero();
    }

    @Test
    void argChainDoublingToHundredsOfMegabytesIsRefused() throws Exception {
        StringBuilder df = new StringBuilder("FROM busybox\nARG a0=0123456789abcdef0123456789abcdef\n");
        for (int i = 1; i <= 22; i++) df.append("ARG a").append(i).append("=${a").append(i - 1).append("}${a").append(i - 1).append("}\n");
        df.append("ENV big=${a22}\n");
        Timed t = build(context(df.toString(), Map.of()));
        assertThat(t.result().exitCode()).isNotZero();
        assertThat(t.result().stderr() + t.result().stdout()).containsAnyOf("expansion longer than", "bytes in all");
        assertThat(t.millis()).isLessThan(10_000);
        assertThat(docker.run("images").exitCode()).isZero();
    }

    @Test
    void clientLeavingMidRunStopsTheBuildAndLeavesNothing() throws Exception {
        Path ctx = context("FROM busybox\nRUN echo started && sleep 300\n", Map.of());
        Process p = docker.start("build", ctx.toString());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (sleepers() == 0 && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(sleepers()).as("the RUN step started").isPositive();
        p.destroyForcibly().waitFor();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        List<String> left = leftovers();
        while (!left.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(200);
            left = leftovers();
        }
        assertThat(left).as("left after the client went away").isEmpty();
        assertThat(sleepers()).as("RUN processes left").isZero();
        assertThat(ClassicBuildCliTest.cgroupDirs()).isEmpty();
    }

    private static List<String> leftovers() throws Exception {
        List<String> out = new java.util.ArrayList<>();
        Path bundles = daemon.dataRoot().resolve("build/c");
        if (Files.isDirectory(bundles)) {
            try (var s = Files.list(bundles)) {
                s.forEach(p -> out.add("bundle " + p));
            }
        }
        if (!io.berth.sys.MountTable.mountsUnder(daemon.dataRoot()).isEmpty()) out.add("mounts");
        return out;
    }

    /** Processes still running the build's sleep. */
    private static long sleepers() throws Exception {
        Process ps = new ProcessBuilder("pgrep", "-f", "sleep 300").start();
        String out = new String(ps.getInputStream().readAllBytes());
        ps.waitFor();
        return out.lines().filter(l -> !l.isBlank()).count();
    }
}
