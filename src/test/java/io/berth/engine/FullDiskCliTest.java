package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.testing.BerthdProcess;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * A data root on a 64 MiB tmpfs that a container fills (issue 13.6), through the docker CLI:
 * the container's exit code is recorded (docker wait, inspect, and after a daemon restart on
 * the still full disk), create and rm answer with a status line, a docker load bigger than
 * the free room fails with dockerd's words and leaves nothing behind, and the partial files of
 * a load or a docker cp that a kill -9 cut short are gone after a restart. The test mounts the
 * tmpfs and unmounts it (with anything left mounted below) even when it fails.
 */
class FullDiskCliTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String NO_SPACE = "no space left on device";

    @TempDir Path tmp;

    @Test
    void aFullDataRootLosesNoExitAndAnswersEveryRequest() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mounting a tmpfs needs root");
        Path dir = Files.createTempDirectory("berthd-fulldisk");
        Path dataRoot = dir.resolve("root");
        Files.createDirectories(dataRoot);
        run("mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", dataRoot.toString());
        List<BerthdProcess> daemons = new ArrayList<>();
        Filler filler = new Filler(dataRoot);
        try {
            TestImages.Built bb = TestImages.busybox().tag("bb:full").writeTo(tmp.resolve("bb.tar"));
            TestImages.Built big = TestImages.randomImage(tmp.resolve("big.tar"), "big:full", 1, 80, 42);

            BerthdProcess d = start(dir, daemons);
            DockerCli docker = d.docker();
            ok(d, "load", "-i", bb.archive().toString());
            ok(d, "create", "--name", "victim", "bb:full", "true");
            // the container fills the disk, then waits for TERM to exit with 7
            ok(d, "run", "-d", "--name", "filler", "bb:full", "sh", "-c",
                    "trap 'exit 7' TERM; dd if=/dev/zero of=/big bs=1M; while true; do sleep 0.1; done");
            awaitFull(dataRoot);
            // keep it full while the container ends (its end frees a few files the runtime held)
            filler.start();
            Thread.sleep(300);
            ok(d, "kill", "-s", "TERM", "filler");
            DockerCli.Result waited = docker.run(Duration.ofSeconds(30), "wait", "filler");
            assertThat(waited.exitCode()).as(waited + d.log()).isZero();
            assertThat(waited.stdout().trim()).isEqualTo("7");
            JsonNode state = inspect(d, "filler").get("State");
            assertThat(state.get("Status").asString()).isEqualTo("exited");
            assertThat(state.get("ExitCode").asInt()).isEqualTo(7);

            // create on the full disk: refused with a status line and dockerd's words, nothing half made
            DockerCli.Result create = docker.run(Duration.ofSeconds(30), "create", "--name", "late", "bb:full", "true");
            if (create.exitCode() != 0) {
                assertThat(create.stderr()).as(create.toString()).contains("Error response from daemon").contains(NO_SPACE);
                assertThat(docker.run("ps", "-a", "--format", "{{.Names}}").stdout()).doesNotContain("late");
            }
            // rm gives room back: it works on a full disk
            DockerCli.Result rm = docker.run(Duration.ofSeconds(30), "rm", "victim");
            assertThat(rm.exitCode()).as(rm + d.log()).isZero();
            filler.stop();
            filler.fillOnce();
            assertThat(Files.getFileStore(dataRoot).getUsableSpace()).isLessThan(64 << 10);
            assertThat(tempFiles(dataRoot)).as("temp files of failed state writes").isEmpty();

            // whether the exit record itself met the full disk (the filler races the runtime's cleanup for the freed pages)
            System.out.println("exit record written late (the disk was full when the container ended): "
                    + d.log().contains("its record cannot be written"));
            // a restart on the still full disk shows the exit as it was
            d.stop();
            d = start(dir, daemons);
            state = inspect(d, "filler").get("State");
            assertThat(state.get("Status").asString()).isEqualTo("exited");
            assertThat(state.get("ExitCode").asInt()).as(d.log()).isEqualTo(7);
            ok(d, "rm", "-f", "filler");
            d.docker().run("rm", "-f", "late");
            filler.release();

            // a load bigger than the room fails with the reason and leaves no partial blob
            long free = Files.getFileStore(dataRoot).getUsableSpace();
            DockerCli.Result load = d.docker().run(Duration.ofSeconds(120), "load", "-i", big.archive().toString());
            assertThat(load.exitCode()).as(load.toString()).isNotZero();
            assertThat(load.stderr() + load.stdout()).contains(NO_SPACE);
            assertThat(count(dataRoot.resolve("content/ingest"))).isZero();
            ok(d, "system", "prune", "-f");
            assertThat(count(dataRoot.resolve("content/ingest"))).isZero();
            assertThat(Files.getFileStore(dataRoot).getUsableSpace()).isGreaterThanOrEqualTo(free);

            // a load and a docker cp cut short by kill -9 leave partial files; the next start reaps them
            ok(d, "create", "--name", "target", "bb:full", "true");
            String id = inspect(d, "target").get("Id").asString();
            Path copied = tmp.resolve("copied");
            try (OutputStream out = Files.newOutputStream(copied)) {
                TestImages.writeRandom(out, 40L << 20, 7);
            }
            Process cp = d.docker().start("cp", copied.toString(), "target:/copied");
            cp.getOutputStream().close();
            Path containerDir = dataRoot.resolve("containers").resolve(id);
            awaitFileOver(containerDir, "cp-upload-", 1 << 20, cp);
            d.signal("KILL");
            d.process().waitFor();
            cp.waitFor();
            assertThat(spools(containerDir)).isNotEmpty();

            d = start(dir, daemons);
            Process loading = d.docker().start("load", "-i", big.archive().toString());
            loading.getOutputStream().close();
            awaitFileOver(dataRoot.resolve("content/ingest"), "", 1 << 20, loading);
            d.signal("KILL");
            d.process().waitFor();
            loading.waitFor();
            assertThat(count(dataRoot.resolve("content/ingest"))).isNotZero();

            d = start(dir, daemons);
            assertThat(count(dataRoot.resolve("content/ingest"))).as(d.log()).isZero();
            assertThat(spools(containerDir)).isEmpty();
            ok(d, "rm", "-f", "target");
        } finally {
            filler.stop();
            for (BerthdProcess p : daemons) {
                if (p.process().isAlive()) p.stop();
            }
            for (BerthdProcess p : daemons) {
                try {
                    p.close(); // hands the default bridge back
                } catch (java.nio.file.FileSystemException busy) {
                    // its folder holds the tmpfs mount point: deleted after the unmount below
                }
            }
            unmountAllUnder(dataRoot);
            BerthdProcess.deleteTree(dir);
        }
    }

    private static BerthdProcess start(Path dir, List<BerthdProcess> daemons) throws Exception {
        BerthdProcess p = BerthdProcess.launch(dir);
        daemons.add(p);
        p.awaitPing(Duration.ofSeconds(30));
        return p;
    }

    private static DockerCli.Result ok(BerthdProcess d, String... args) throws Exception {
        DockerCli.Result r = d.docker().run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, d.log()).isZero();
        return r;
    }

    private static JsonNode inspect(BerthdProcess d, String name) throws Exception {
        return JSON.readTree(ok(d, "inspect", name).stdout()).get(0);
    }

    /** Waits until less than 1 MiB is free: the container's dd is done. */
    private static void awaitFull(Path dataRoot) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (Files.getFileStore(dataRoot).getUsableSpace() > (1 << 20)) {
            assertThat(System.nanoTime()).as("the container did not fill the disk").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Waits until a file whose name starts with {@code prefix} under {@code dir} holds more than {@code bytes}. */
    private static void awaitFileOver(Path dir, String prefix, long bytes, Process client) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (largest(dir, prefix) < bytes) {
            assertThat(client.isAlive()).as("the client ended before it could be cut short").isTrue();
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(5);
        }
    }

    private static long largest(Path dir, String prefix) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> s = Files.walk(dir)) {
            return largestOf(s, prefix);
        } catch (java.io.UncheckedIOException e) {
            return 0; // a file went away while we walked (a rootfs being unmounted): look again next time
        }
    }

    private static long largestOf(Stream<Path> s, String prefix) {
        return s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().startsWith(prefix) || prefix.isEmpty())
                .mapToLong(p -> {
                    try {
                        return Files.size(p);
                    } catch (IOException e) {
                        return 0;
                    }
                }).max().orElse(0);
    }

    private static List<Path> spools(Path containerDir) throws IOException {
        try (Stream<Path> s = Files.list(containerDir)) {
            return s.filter(p -> p.getFileName().toString().startsWith("cp-upload-")).toList();
        }
    }

    private static List<Path> tempFiles(Path root) throws IOException {
        try (Stream<Path> s = Files.walk(root)) {
            return s.filter(p -> p.getFileName().toString().contains(".tmp-")).toList();
        }
    }

    private static long count(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return 0;
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    /**
     * Takes every free page of the data root with small files of its own ({@code zz-fill-N} at
     * the top, outside anything berthd reads), once or in a loop on a thread.
     */
    private static final class Filler {
        private final Path root;
        private final AtomicBoolean running = new AtomicBoolean();
        private Thread thread;
        private int n;

        Filler(Path root) {
            this.root = root;
        }

        void start() {
            running.set(true);
            thread = Thread.ofPlatform().name("filler").start(() -> {
                while (running.get()) {
                    fillOnce();
                    Thread.onSpinWait();
                }
            });
        }

        void stop() throws InterruptedException {
            running.set(false);
            if (thread != null) thread.join();
        }

        synchronized void fillOnce() {
            byte[] page = new byte[4096];
            while (true) {
                Path f = root.resolve("zz-fill-" + n++);
                try (OutputStream out = Files.newOutputStream(f, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    out.write(page);
                } catch (IOException full) {
                    try {
                        Files.deleteIfExists(f);
                    } catch (IOException ignored) {
                        // nothing was made
                    }
                    return;
                }
            }
        }

        void release() throws IOException {
            try (Stream<Path> s = Files.list(root)) {
                for (Path p : s.filter(p -> p.getFileName().toString().startsWith("zz-fill-")).toList()) Files.delete(p);
            }
        }
    }

    /** Unmounts every mount at or below {@code dir}, deepest first (a container's rootfs left by a failure, then the tmpfs). */
    private static void unmountAllUnder(Path dir) throws Exception {
        String prefix = dir.toAbsolutePath().normalize().toString();
        List<String> points = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            String point = line.split(" ")[4].replace("\\040", " ");
            if (point.equals(prefix) || point.startsWith(prefix + "/")) points.add(point);
        }
        points.sort(Comparator.comparingInt(String::length).reversed());
        for (String p : points) run("umount", "-l", p);
    }

    private static void run(String... command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    }
}
