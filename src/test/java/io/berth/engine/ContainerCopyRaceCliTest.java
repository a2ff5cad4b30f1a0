package io.berth.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * docker cp against a container that fights back (the CVE-2018-15664 class): while the copy
 * runs, the container swaps a directory or a file for a symlink to the host. The host's
 * root-only file must never change, and its content must never come out. Also: a body that
 * is no tar, or a cut tar, is answered 400 and changes nothing in the container.
 */
class ContainerCopyRaceCliTest {
    static final String IMAGE = "berth-test/busybox:latest";
    static final Duration RACE_TIME = Duration.ofSeconds(30);
    static final int RACE_TRIES = 500;
    static final String SECRET = "host-secret-not-for-containers\n";
    static CliDaemon cli;
    static BerthdProcess daemon;
    static DockerCli docker;
    @TempDir
    Path tmp;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        cli = CliDaemon.start();
        daemon = cli.daemon();
        docker = cli.docker();
        cli.load(TestImages.busybox().tag(IMAGE).writeTo(dir.resolve("bb.tar")));
    }

    @AfterEach
    void removeAll() throws Exception {
        cli.removeContainersAndVolumes();
    }

    @AfterAll
    static void stop() throws Exception {
        if (cli != null) cli.close();
    }

    /** A host directory holding a root-owned 0600 file, as an attacker would aim at. */
    private Path hostVictim() throws Exception {
        Path victim = Files.createDirectories(tmp.resolve("victim"));
        Files.setPosixFilePermissions(victim, PosixFilePermissions.fromString("rwx------"));
        Path secret = victim.resolve("secret");
        Files.writeString(secret, SECRET);
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-------"));
        return victim;
    }

    private static void assertUntouched(Path victim) throws Exception {
        Path secret = victim.resolve("secret");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(secret))).isEqualTo("rw-------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(victim))).isEqualTo("rwx------");
        assertThat(Files.readString(secret)).isEqualTo(SECRET);
        assertThat(Files.getAttribute(secret, "unix:uid")).isEqualTo(0);
        try (Stream<Path> s = Files.list(victim)) {
            assertThat(s.map(p -> p.getFileName().toString())).containsExactly("secret");
        }
    }

    @Test
    void copyInWhileTheContainerSwapsTheDirectoryForAHostSymlink() throws Exception {
        Path victim = hostVictim();
        // the payload: a directory "d" (0777) holding "secret" (0777, other content), copied into /w
        Path payload = Files.createDirectories(tmp.resolve("payload/d"));
        Files.writeString(payload.resolve("secret"), "written-by-docker-cp\n");
        Files.setPosixFilePermissions(payload.resolve("secret"), PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.setPosixFilePermissions(payload, PosixFilePermissions.fromString("rwxrwxrwx"));
        String swap = "mkdir -p /w; while :; do "
                + "rm -rf /w/d.n; mkdir /w/d.n; rm -rf /w/d; mv /w/d.n /w/d; "
                + "ln -s " + victim + " /w/d.l; rm -rf /w/d; mv /w/d.l /w/d; done";
        cli.ok("run", "-d", "--name", "swapper", IMAGE, "sh", "-c", swap);

        long deadline = System.nanoTime() + RACE_TIME.toNanos();
        int tries = 0;
        int copied = 0;
        while (tries < RACE_TRIES && System.nanoTime() < deadline) {
            tries++;
            DockerCli.Result r = docker.run("cp", payload.toString(), "swapper:/w/");
            if (r.exitCode() == 0) copied++;
            assertUntouched(victim);
        }
        System.out.printf("copy-in race: %d tries, %d copies succeeded, host file untouched%n", tries, copied);
        assertThat(copied).as("copies that went through while the container swapped").isPositive();
        // what went in stayed in the container
        assertThat(cli.ok("exec", "swapper", "sh", "-c", "ls /w").stdout()).isNotEmpty();
        assertUntouched(victim);
    }

    @Test
    void copyOutWhileTheContainerSwapsPathsForHostSymlinks() throws Exception {
        Path victim = hostVictim();
        // two loops, each a cycle of renames: a directory (or file) of the container's own and a
        // symlink to the host's take turns under the same name
        String swap = "mkdir -p /w/d/sub; echo inside > /w/d/sub/secret; echo inside > /w/d/f; "
                + "ln -s " + victim + " /w/d/.lnk; ln -s " + victim + "/secret /w/d/.flnk; "
                + "while :; do mv /w/d/sub /w/d/.real; mv /w/d/.lnk /w/d/sub; mv /w/d/sub /w/d/.lnk; mv /w/d/.real /w/d/sub; done & "
                + "while :; do mv /w/d/f /w/d/.freal; mv /w/d/.flnk /w/d/f; mv /w/d/f /w/d/.flnk; mv /w/d/.freal /w/d/f; done";
        cli.ok("run", "-d", "--name", "swapper", IMAGE, "sh", "-c", swap);

        String[] sources = {"swapper:/w/d", "swapper:/w/d/sub/secret", "swapper:/w/d/f", "swapper:/w/d/sub/"};
        long deadline = System.nanoTime() + RACE_TIME.toNanos();
        int tries = 0;
        int copied = 0;
        while (tries < RACE_TRIES && System.nanoTime() < deadline) {
            String source = sources[tries % sources.length];
            tries++;
            Path out = tmp.resolve("out" + tries);
            DockerCli.Result r = docker.run("cp", source, out.toString());
            if (r.exitCode() == 0) copied++;
            // a symlink copied out is the link itself (as dockerd does); it is not read here, on the host
            if (Files.exists(out, LinkOption.NOFOLLOW_LINKS)) {
                try (Stream<Path> all = Files.walk(out)) {
                    for (Path p : all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                        assertThat(Files.readString(p)).as("%s copied out of %s", p, source).doesNotContain("host-secret");
                    }
                }
            }
            // docker cp - writes the tar to stdout: the secret must not be in there either
            if (tries % 5 == 0) {
                DockerCli.Result t = docker.run("cp", "swapper:/w/d", "-");
                assertThat(t.stdout()).doesNotContain("host-secret");
            }
        }
        System.out.printf("copy-out race: %d tries, %d copies succeeded, no host content returned%n", tries, copied);
        assertThat(copied).as("copies that went through while the container swapped").isPositive();
        assertUntouched(victim);
    }

    @Test
    void aBodyThatIsNoTarIsRefusedAndChangesNothing() throws Exception {
        cli.ok("run", "-d", "--name", "box", IMAGE, "sh", "-c", "mkdir -p /data && echo keep > /data/keep && sleep 300");
        String before = listing("box");
        String body = "this is not a tar archive at all\n".repeat(40);
        String answer = put("box", "/data", body);
        assertThat(answer).startsWith("HTTP/1.1 400");
        assertThat(answer).contains("not a tar archive");
        assertThat(listing("box")).isEqualTo(before);
        // and a short one (under one block)
        String shortAnswer = put("box", "/data", "hello");
        assertThat(shortAnswer).startsWith("HTTP/1.1 400").contains("truncated tar archive");
        assertThat(listing("box")).isEqualTo(before);
        assertNoSpoolLeft();
    }

    @Test
    void aCutTarIsRefusedAndNothingIsHalfExtracted() throws Exception {
        cli.ok("run", "-d", "--name", "box", IMAGE, "sh", "-c", "mkdir -p /data && echo keep > /data/keep && sleep 300");
        String before = listing("box");
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.putEntry(TarEntry.dir("tree/"));
            byte[] first = "first file, complete\n".getBytes(StandardCharsets.UTF_8);
            w.writeEntry(TarEntry.file("tree/first.txt", first.length), first);
            byte[] keep = "overwritten\n".getBytes(StandardCharsets.UTF_8);
            w.writeEntry(TarEntry.file("keep", keep.length), keep);
            byte[] big = new byte[10_000];
            Arrays.fill(big, (byte) 'x');
            w.writeEntry(TarEntry.file("tree/second.bin", big.length), big);
        }
        byte[] whole = buf.toByteArray();
        byte[] cut = Arrays.copyOf(whole, whole.length - 1024 - 5000); // inside the content of second.bin
        String answer = put("box", "/data", new String(cut, StandardCharsets.ISO_8859_1));
        assertThat(answer).startsWith("HTTP/1.1 400");
        assertThat(answer).contains("truncated tar archive");
        assertThat(listing("box")).isEqualTo(before);
        assertThat(cli.ok("exec", "box", "cat", "/data/keep").stdout()).isEqualTo("keep\n");
        assertNoSpoolLeft();

        // the same tar whole goes in
        String ok = put("box", "/data", new String(whole, StandardCharsets.ISO_8859_1));
        assertThat(ok).startsWith("HTTP/1.1 200");
        assertThat(cli.ok("exec", "box", "sh", "-c", "cat /data/keep /data/tree/first.txt; wc -c < /data/tree/second.bin").stdout())
                .isEqualTo("overwritten\nfirst file, complete\n10000\n");
        assertNoSpoolLeft();
    }

    @Test
    void aWorkdirThroughAnImageSymlinkIsMadeInsideTheRoot() throws Exception {
        Path hostDir = tmp.resolve("host-workdir");
        TestImages.Layer links = TestImages.writeLayer(tmp.resolve("links.tar"), w -> {
            w.putEntry(TarEntry.symlink("app", hostDir.toString()));
        });
        cli.load(TestImages.busybox().layer(links).workingDir("/app/sub").tag("berth-test/linked-workdir:latest")
                .writeTo(tmp.resolve("linked.tar")));
        // the link is followed inside the container: the directory exists there, under the link's target
        DockerCli.Result r = cli.ok("run", "--rm", "berth-test/linked-workdir:latest", "sh", "-c", "pwd; ls -d " + hostDir + "/sub");
        assertThat(r.stdout()).isEqualTo(hostDir + "/sub\n" + hostDir + "/sub\n");
        assertThat(hostDir).doesNotExist();
    }

    private static String listing(String container) throws Exception {
        return cli.ok("exec", container, "sh", "-c", "find /data | sort | xargs stat -c '%n %s %Y %a %u'").stdout();
    }

    private static String put(String container, String path, String body) throws Exception {
        return daemon.raw("PUT /containers/" + container + "/archive?path=" + path + " HTTP/1.1\r\nHost: b\r\nConnection: close\r\n"
                + "Content-Type: application/x-tar\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
    }

    private static void assertNoSpoolLeft() throws Exception {
        try (Stream<Path> all = Files.walk(daemon.dataRoot().resolve("containers"), 2)) {
            assertThat(all.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("cp-upload-"))).isEmpty();
        }
    }
}
