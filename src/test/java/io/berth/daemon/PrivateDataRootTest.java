package io.berth.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The data root and exec root are root's alone (issue 13, point 2): a local unprivileged user
 * reads no container's config, lists nothing and runs no setuid binary out of a layer; a tree
 * left 0755/0644 by older code is tightened at start, without touching layer contents.
 */
class PrivateDataRootTest {
    static final String IMAGE = "bb:private";
    static final String SECRET = "SECRET_TOKEN=s3cr3t-4711";

    @Test
    void anUnprivilegedUserReadsNothingAndRunsNoSetuidBinary() throws Exception {
        Path dir = Files.createTempDirectory("berthd-private");
        // Reachable by anyone down to the data root, as /var/lib is.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        BerthdProcess daemon = BerthdProcess.start(dir);
        try {
            DockerCli docker = daemon.docker();
            ok(daemon, docker, "load", "-i", TestImages.busybox().tag(IMAGE).writeTo(dir.resolve("bb.tar")).archive().toString());
            // A setuid-root copy of busybox in the container's writable layer: CVE-2021-41091's way in.
            String id = ok(daemon, docker, "run", "-d", "--network", "none", "-e", SECRET, IMAGE, "sh", "-c",
                    "mkdir -p /srv && cp /bin/busybox /srv/busybox && chmod 4755 /srv/busybox && touch /ready && sleep 600").stdout().trim();
            Path upper = awaitFile(daemon.dataRoot(), "srv/busybox");
            assertThat(Files.getPosixFilePermissions(upper)).contains(java.nio.file.attribute.PosixFilePermission.OWNER_EXECUTE);
            Path config = daemon.dataRoot().resolve("containers").resolve(id).resolve("config.json");
            assertThat(Files.readString(config)).contains(SECRET);

            assertThat(asNobody("cat " + config)).as("config.json as nobody").doesNotContain(SECRET).contains("Permission denied");
            assertThat(asNobody("grep -r SECRET_TOKEN " + daemon.dataRoot() + " " + dir.resolve("run") + "; ls " + daemon.dataRoot()))
                    .doesNotContain("s3cr3t").contains("Permission denied");
            assertThat(asNobody(upper + " id -u")).as("setuid binary in a layer run by nobody")
                    .doesNotContain("\n0\n").doesNotStartWith("0").contains("Permission denied");
            // Root itself still can, and the container itself is fine.
            assertThat(run(List.of(upper.toString(), "id", "-u"))).isEqualTo("0\n");
            assertThat(ok(daemon, docker, "exec", "-u", "65534", id, "cat", "/etc/hosts").stdout()).contains("localhost");

            assertPrivate(daemon.dataRoot());
            assertPrivate(dir.resolve("run"));

            // Made by older code: everything 0755/0644, layer contents with their own modes.
            daemon.stop();
            String layerModes = modes(upper.getParent().getParent());
            chmodAll(daemon.dataRoot(), "rwxr-xr-x", "rw-r--r--");
            Files.delete(daemon.dataRoot().resolve(PrivateRoots.MARKER));
            assertThat(asNobody("cat " + config)).contains(SECRET);
            daemon = BerthdProcess.start(dir);
            assertThat(asNobody("cat " + config)).doesNotContain(SECRET).contains("Permission denied");
            assertPrivate(daemon.dataRoot());
            assertThat(modes(upper.getParent().getParent())).as("a layer's contents keep their modes").isEqualTo(layerModes);
            assertThat(Files.getPosixFilePermissions(daemon.dataRoot().resolve("containers").resolve(id).resolve("hosts")))
                    .as("the container's /etc/hosts stays readable inside").isEqualTo(PosixFilePermissions.fromString("rw-r--r--"));
        } finally {
            // Containers outlive a stopped daemon: one is brought back to remove them.
            if (!daemon.process().isAlive()) daemon = BerthdProcess.start(dir);
            try {
                CliDaemon.removeContainers(daemon.docker());
            } finally {
                daemon.close();
            }
        }
    }

    /** The top 0710, and every folder and file of berthd's own below it 0700 and 0600. */
    static void assertPrivate(Path root) throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(root, LinkOption.NOFOLLOW_LINKS))).as("%s", root).isEqualTo("rwx--x---");
        List<String> open = new ArrayList<>();
        try (Stream<Path> top = Files.list(root)) {
            for (Path p : top.toList()) {
                if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) && !Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) continue;
                String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS));
                if (!mode.equals(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwx------" : "rw-------")) open.add(p + " " + mode);
            }
        }
        Path containers = root.resolve("containers");
        if (Files.isDirectory(containers)) {
            try (Stream<Path> files = Files.walk(containers, 2)) {
                for (Path p : files.filter(f -> f.getFileName().toString().equals("config.json")).toList()) {
                    String mode = PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
                    if (!mode.equals("rw-------")) open.add(p + " " + mode);
                }
            }
        }
        assertThat(open).as("open to others under %s", root).isEmpty();
    }

    static String modes(Path tree) throws IOException {
        StringBuilder sb = new StringBuilder();
        try (Stream<Path> s = Files.walk(tree)) {
            for (Path p : s.sorted().toList()) {
                if (Files.isSymbolicLink(p)) continue;
                sb.append(tree.relativize(p)).append(' ').append(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).append('\n');
            }
        }
        return sb.toString();
    }

    /** What older code left: berthd's own folders 0755, files 0644 (layer contents untouched). */
    static void chmodAll(Path root, String dirMode, String fileMode) throws IOException {
        Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
            @Override
            public java.nio.file.FileVisitResult preVisitDirectory(Path d, java.nio.file.attribute.BasicFileAttributes a) throws IOException {
                if (!d.equals(root) && PrivateRoots.foreign(root.relativize(d))) return java.nio.file.FileVisitResult.SKIP_SUBTREE;
                Files.setPosixFilePermissions(d, PosixFilePermissions.fromString(dirMode));
                return java.nio.file.FileVisitResult.CONTINUE;
            }

            @Override
            public java.nio.file.FileVisitResult visitFile(Path f, java.nio.file.attribute.BasicFileAttributes a) throws IOException {
                if (a.isRegularFile()) Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(fileMode));
                return java.nio.file.FileVisitResult.CONTINUE;
            }
        });
    }

    static Path awaitFile(Path dataRoot, String name) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Stream<Path> s = Files.list(dataRoot.resolve("snapshots"))) {
                for (Path snap : s.toList()) {
                    if (Files.exists(snap.resolve("diff/ready"))) return snap.resolve("diff").resolve(name);
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no writable layer with " + name);
    }

    static String asNobody(String script) throws Exception {
        return run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                "sh", "-c", script + " 2>&1; true"));
    }

    static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    static DockerCli.Result ok(BerthdProcess daemon, DockerCli docker, String... args) throws Exception {
        DockerCli.Result r = docker.run(Duration.ofSeconds(60), args);
        assertThat(r.exitCode()).as("docker %s\n%s\n--- daemon log\n%s", String.join(" ", args), r, daemon.log()).isZero();
        return r;
    }
}
