package io.berth.engine;

import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.berth.testing.BerthdProcess;
import io.berth.testing.CliDaemon;
import io.berth.testing.DockerCli;
import io.berth.testing.TestImages;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** docker cp against a real berthd: in and out, directories, stopped containers, volumes, symlinks that point out. */
class ContainerCopyCliTest {
    static final JsonMapper JSON = JsonMapper.builder().build();
    static final String IMAGE = "berth-test/busybox:latest";
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
        if (cli != null) {
            Path root = daemon.dataRoot();
            cli.close();
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(root.toString());
        }
    }

    static DockerCli.Result ok(String... args) throws Exception {
        return cli.ok(args);
    }

    @Test
    void aFileGoesInAndComesOut() throws Exception {
        ok("run", "-d", "--name", "box", IMAGE, "sleep", "300");
        Path in = Files.writeString(tmp.resolve("in.txt"), "payload\n");
        ok("cp", in.toString(), "box:/tmp/");
        assertThat(ok("exec", "box", "cat", "/tmp/in.txt").stdout()).isEqualTo("payload\n");
        ok("cp", in.toString(), "box:/tmp/renamed.txt");
        assertThat(ok("exec", "box", "cat", "/tmp/renamed.txt").stdout()).isEqualTo("payload\n");

        ok("exec", "box", "sh", "-c", "echo made inside > /etc/inside.txt");
        ok("cp", "box:/etc/inside.txt", tmp.resolve("out.txt").toString());
        assertThat(Files.readString(tmp.resolve("out.txt"))).isEqualTo("made inside\n");

        // the stat header of HEAD
        String head = daemon.raw("HEAD /containers/box/archive?path=/etc/inside.txt HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
        assertThat(head).startsWith("HTTP/1.1 200");
        String stat = head.lines().filter(l -> l.toLowerCase().startsWith("x-docker-container-path-stat:")).findFirst().orElseThrow();
        JsonNode s = JSON.readTree(Base64.getDecoder().decode(stat.substring(stat.indexOf(':') + 1).trim()));
        assertThat(s.get("name").asString()).isEqualTo("inside.txt");
        assertThat(s.get("size").asLong()).isEqualTo(12);
        assertThat(s.get("linkTarget").asString()).isEmpty();

        String missing = daemon.raw("HEAD /containers/box/archive?path=/no/such HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
        assertThat(missing).startsWith("HTTP/1.1 404");
        DockerCli.Result r = docker.run("cp", "box:/no/such", tmp.toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Could not find the file /no/such in container box");
    }

    @Test
    void aDirectoryTreeBothWays() throws Exception {
        ok("run", "-d", "--name", "box", IMAGE, "sleep", "300");
        Path src = Files.createDirectories(tmp.resolve("tree/sub"));
        Files.writeString(src.resolve("a.txt"), "a\n");
        Files.writeString(tmp.resolve("tree/top.txt"), "top\n");
        Files.createSymbolicLink(tmp.resolve("tree/link"), Path.of("sub/a.txt"));
        ok("exec", "box", "mkdir", "/opt");
        ok("cp", tmp.resolve("tree").toString(), "box:/opt/");
        // a destination that does not exist takes the directory's place, as in dockerd
        ok("cp", tmp.resolve("tree").toString(), "box:/renamed");
        assertThat(ok("exec", "box", "cat", "/renamed/top.txt").stdout()).isEqualTo("top\n");
        assertThat(ok("exec", "box", "sh", "-c", "cat /opt/tree/top.txt /opt/tree/sub/a.txt /opt/tree/link; readlink /opt/tree/link").stdout())
                .isEqualTo("top\na\na\nsub/a.txt\n");

        ok("exec", "box", "sh", "-c", "mkdir -p /srv/d/e && echo deep > /srv/d/e/f && ln -s e/f /srv/d/l");
        Path out = tmp.resolve("out");
        ok("cp", "box:/srv/d", out.toString());
        assertThat(Files.readString(out.resolve("e/f"))).isEqualTo("deep\n");
        assertThat(Files.readSymbolicLink(out.resolve("l")).toString()).isEqualTo("e/f");
    }

    @Test
    void aSymlinkPointingOutsideStaysInsideTheContainer() throws Exception {
        ok("run", "-d", "--name", "box", IMAGE, "sleep", "300");
        String marker = "berth-cp-escape-" + System.nanoTime();
        ok("exec", "box", "sh", "-c", "ln -s / /tmp/up && ln -s ../../../../../../tmp /tmp/rel && mkdir -p /tmp/" + marker);
        Path in = Files.writeString(tmp.resolve("evil.txt"), "evil\n");
        ok("cp", in.toString(), "box:/tmp/up/tmp/" + marker + "/");
        ok("cp", in.toString(), "box:/tmp/rel/" + marker + "/rel.txt");
        assertThat(Path.of("/tmp", marker)).doesNotExist();
        assertThat(ok("exec", "box", "cat", "/tmp/" + marker + "/evil.txt", "/tmp/" + marker + "/rel.txt").stdout()).isEqualTo("evil\nevil\n");
        // reading through the links reads the container's files, not the host's
        ok("exec", "box", "sh", "-c", "echo container-hostname > /etc/hostname.berth; ln -s /etc/hostname.berth /tmp/hn");
        ok("cp", "box:/tmp/up/etc/hostname.berth", tmp.resolve("hn.txt").toString());
        assertThat(Files.readString(tmp.resolve("hn.txt"))).isEqualTo("container-hostname\n");
        // a tar entry climbing out is refused by the daemon
        String body = tarWithEntry("../../../../tmp/" + marker + "-tar", "x");
        String answer = daemon.raw("PUT /containers/box/archive?path=/tmp HTTP/1.1\r\nHost: b\r\nConnection: close\r\n"
                + "Content-Type: application/x-tar\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
        assertThat(Path.of("/tmp", marker + "-tar")).doesNotExist();
        assertThat(answer).doesNotStartWith("HTTP/1.1 5");
    }

    /** A one-entry ustar archive, as ISO-8859-1 text. */
    private static String tarWithEntry(String name, String content) {
        byte[] header = new byte[512];
        put(header, 0, name);
        put(header, 100, "0000644");
        put(header, 108, "0000000");
        put(header, 116, "0000000");
        put(header, 124, String.format("%011o", content.length()));
        put(header, 136, "00000000000");
        header[156] = '0';
        put(header, 257, "ustar");
        header[262] = 0;
        put(header, 263, "00");
        for (int i = 148; i < 156; i++) header[i] = ' ';
        int sum = 0;
        for (byte b : header) sum += b & 0xff;
        put(header, 148, String.format("%06o", sum));
        header[154] = 0;
        header[155] = ' ';
        StringBuilder b = new StringBuilder(new String(header, StandardCharsets.ISO_8859_1));
        b.append(content);
        b.append("\0".repeat(512 - content.length()));
        b.append("\0".repeat(1024));
        return b.toString();
    }

    private static void put(byte[] h, int at, String s) {
        byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
        System.arraycopy(b, 0, h, at, b.length);
    }

    @Test
    void aStoppedContainerWithAVolume() throws Exception {
        ok("create", "--name", "cold", "-v", "coldvol:/data", IMAGE, "sh", "-c", "cat /data/in.txt /etc/put.txt");
        Path in = Files.writeString(tmp.resolve("in.txt"), "into the volume\n");
        ok("cp", in.toString(), "cold:/data/");
        Path put = Files.writeString(tmp.resolve("put.txt"), "into the rootfs\n");
        ok("cp", put.toString(), "cold:/etc/");
        ok("start", "-a", "cold");
        assertThat(ok("logs", "cold").stdout()).isEqualTo("into the volume\ninto the rootfs\n");
        ok("cp", "cold:/data/in.txt", tmp.resolve("back.txt").toString());
        assertThat(Files.readString(tmp.resolve("back.txt"))).isEqualTo("into the volume\n");
        // the client has the whole tar once its end blocks arrive, a moment before the daemon unmounts
        String containers = daemon.dataRoot().resolve("containers").toString();
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.readString(Path.of("/proc/self/mountinfo")).contains(containers));
    }

    @Test
    void aReadOnlyRootfsRefusesCopiesButNotIntoAVolume() throws Exception {
        ok("run", "-d", "--name", "ro", "--read-only", "-v", "rw:/data", IMAGE, "sleep", "300");
        Path in = Files.writeString(tmp.resolve("in.txt"), "x\n");
        DockerCli.Result r = docker.run("cp", in.toString(), "ro:/tmp/");
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("container rootfs is marked read-only");
        ok("cp", in.toString(), "ro:/data/");
        assertThat(ok("exec", "ro", "cat", "/data/in.txt").stdout()).isEqualTo("x\n");
        DockerCli.Result notDir = docker.run("cp", in.toString(), "ro:/data/in.txt/");
        assertThat(notDir.exitCode()).isNotZero();
    }
}
