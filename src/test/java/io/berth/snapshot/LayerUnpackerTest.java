package io.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.archive.TarEntry;
import io.berth.content.Digest;
import io.berth.sys.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LayerUnpackerTest {
    static final byte[] CAP = {1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}; // cap_net_bind_service, v2
    @TempDir Path dir;

    @Test
    void unpacksEveryKindWithOwnersModesTimesAndXattrs() throws Exception {
        Instant t1 = Instant.ofEpochSecond(1_000_000_000);
        Instant t2 = Instant.ofEpochSecond(1_100_000_000, 500);
        byte[] tar = new Layers()
                .entry(TarEntry.dir("./").withMode(0750).withMtime(t1), "")
                .entry(TarEntry.dir("/usr/bin").withMode(0755).withOwner(10, 20).withMtime(t1), "")
                .entry(TarEntry.file("usr/bin/ping", 4).withMode(04755).withMtime(t2)
                        .withXattr("security.capability", CAP).withXattr("user.bin", new byte[] {0, (byte) 0xff}), "ping")
                .entry(TarEntry.dir("tmp").withMode(01777).withMtime(t1), "")
                .entry(TarEntry.symlink("usr/bin/p", "ping").withOwner(7, 8).withMtime(t2), "")
                .entry(TarEntry.hardlink("usr/bin/ping2", "/usr/bin/ping"), "")
                .entry(TarEntry.device("dev/null", TarEntry.Type.CHAR, 1, 3).withMode(0666), "")
                .entry(TarEntry.device("dev/loop0", TarEntry.Type.BLOCK, 7, 0).withMode(0660), "")
                .entry(TarEntry.device("run/fifo", TarEntry.Type.FIFO, 0, 0).withMode(0600), "")
                .file("a/b/c/deep", "deep")
                .tar();
        Path dest = dir.resolve("diff");
        LayerUnpacker.Result r = LayerUnpacker.unpack(new ByteArrayInputStream(tar), dest);
        assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
        assertThat(r.tarBytes()).isEqualTo(tar.length);
        assertThat(r.bytesUnpacked()).isEqualTo(8);
        assertThat(r.entries()).isEqualTo(10);

        assertThat(mode(dest)).isEqualTo(0750);
        assertThat(Files.getLastModifiedTime(dest).toInstant()).isEqualTo(t1);
        Path ping = dest.resolve("usr/bin/ping");
        assertThat(Files.readString(ping)).isEqualTo("ping");
        assertThat(mode(ping)).isEqualTo(04755);
        assertThat(Syscalls.lgetxattr(ping, "security.capability")).containsExactly(CAP);
        assertThat(Syscalls.lgetxattr(ping, "user.bin")).containsExactly(0, 0xff);
        assertThat(Files.getLastModifiedTime(ping).toInstant()).isEqualTo(t2);
        assertThat(Files.getAttribute(dest.resolve("usr/bin"), "unix:uid")).isEqualTo(10);
        assertThat(Files.getLastModifiedTime(dest.resolve("usr/bin")).toInstant()).isEqualTo(t1);
        assertThat(mode(dest.resolve("tmp"))).isEqualTo(01777);
        Path p = dest.resolve("usr/bin/p");
        assertThat(Files.readSymbolicLink(p)).isEqualTo(Path.of("ping"));
        assertThat(Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(7);
        assertThat(Files.getLastModifiedTime(p, LinkOption.NOFOLLOW_LINKS)).isEqualTo(FileTime.from(t2));
        assertThat(Files.isSameFile(ping, dest.resolve("usr/bin/ping2"))).isTrue();
        assertThat(Files.getAttribute(dest.resolve("dev/null"), "unix:rdev")).isEqualTo(Syscalls.makedev(1, 3));
        assertThat(Files.getAttribute(dest.resolve("dev/loop0"), "unix:mode")).isEqualTo(Syscalls.S_IFBLK | 0660);
        assertThat(Files.getAttribute(dest.resolve("run/fifo"), "unix:mode")).isEqualTo(Syscalls.S_IFIFO | 0600);
        assertThat(Files.readString(dest.resolve("a/b/c/deep"))).isEqualTo("deep");
        assertThat(Files.list(dir)).containsExactly(dest); // no temp dir left
    }

    @Test
    void whiteoutsBecomeOverlayWhiteouts() throws Exception {
        byte[] gz = new Layers().dir("etc").file("etc/.wh.motd", "").dir("var/cache")
                .file("var/cache/.wh..wh..opq", "").file("var/cache/new", "n").file(".wh..wh.plnk", "").gzip();
        Path dest = dir.resolve("diff");
        LayerUnpacker.Result r = LayerUnpacker.unpack(new ByteArrayInputStream(gz), dest);
        Path wh = dest.resolve("etc/motd");
        assertThat(Files.getAttribute(wh, "unix:mode")).isEqualTo(Syscalls.S_IFCHR);
        assertThat(Files.getAttribute(wh, "unix:rdev")).isEqualTo(0L);
        assertThat(Files.exists(dest.resolve("etc/.wh.motd"))).isFalse();
        assertThat(Syscalls.lgetxattr(dest.resolve("var/cache"), "trusted.overlay.opaque")).containsExactly('y');
        assertThat(Files.exists(dest.resolve("var/cache/.wh..wh..opq"))).isFalse();
        assertThat(Files.exists(dest.resolve(".wh..wh.plnk"))).isFalse();
        // the DiffID is the digest of the uncompressed tar
        byte[] plain = new java.util.zip.GZIPInputStream(new ByteArrayInputStream(gz)).readAllBytes();
        assertThat(r.diffId()).isEqualTo(Digest.sha256(plain));
    }

    @Test
    void laterEntriesReplaceEarlierOnes() throws Exception {
        byte[] tar = new Layers().file("x", "one").file("x", "two").dir("d").file("d/f", "f")
                .file("d", "now a file").symlink("s", "x").file("s", "file over link").tar();
        Path dest = dir.resolve("diff");
        LayerUnpacker.unpack(new ByteArrayInputStream(tar), dest);
        assertThat(Files.readString(dest.resolve("x"))).isEqualTo("two");
        assertThat(Files.readString(dest.resolve("d"))).isEqualTo("now a file");
        assertThat(Files.isSymbolicLink(dest.resolve("s"))).isFalse();
        assertThat(Files.readString(dest.resolve("x"))).isEqualTo("two");
    }

    @Test
    void zstdLayersUnpackThroughTheZstdCommand() throws Exception {
        byte[] tar = new Layers().file("z/hello", "zstd!").tar();
        Path plain = Files.write(dir.resolve("l.tar"), tar);
        Process p = new ProcessBuilder("zstd", "-q", "-f", plain.toString(), "-o", dir.resolve("l.tar.zst").toString()).start();
        assertThat(p.waitFor()).isZero();
        Path dest = dir.resolve("diff");
        try (var in = Files.newInputStream(dir.resolve("l.tar.zst"))) {
            LayerUnpacker.Result r = LayerUnpacker.unpack(in, dest);
            assertThat(r.diffId()).isEqualTo(Digest.sha256(tar));
        }
        assertThat(Files.readString(dest.resolve("z/hello"))).isEqualTo("zstd!");
    }

    @Test
    void corruptInputIsAClearErrorAndLeavesNothing() throws Exception {
        Path dest = dir.resolve("diff");
        byte[] zstd = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0, 0, 0, 0};
        assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(zstd), dest))
                .hasMessageContaining("zstd failed to decompress the layer");
        byte[] tar = new Layers().file("a", "x".repeat(2000)).tar();
        byte[] cut = java.util.Arrays.copyOf(tar, 1024);
        assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(cut), dest))
                .hasMessageContaining("truncated tar archive");
        assertThat(Files.list(dir)).isEmpty();
    }

    @Test
    void streamsALargeFileWithoutHoldingIt() throws Exception {
        long size = 128L << 20; // run once with -Dnative.access="--enable-native-access=ALL-UNNAMED -Xmx64m" to prove streaming
        java.io.ByteArrayOutputStream head = new java.io.ByteArrayOutputStream();
        io.berth.archive.TarWriter w = new io.berth.archive.TarWriter(head);
        w.putEntry(TarEntry.file("big", size));
        byte[] trailer = new byte[1024];
        InputStream body = new InputStream() {
            long left = size;

            @Override
            public int read() {
                return left-- > 0 ? 7 : -1;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (left <= 0) return -1;
                int n = (int) Math.min(len, left);
                java.util.Arrays.fill(b, off, off + n, (byte) 7);
                left -= n;
                return n;
            }
        };
        InputStream tar = new java.io.SequenceInputStream(java.util.Collections.enumeration(java.util.List.of(
                new ByteArrayInputStream(head.toByteArray()), body, new ByteArrayInputStream(trailer))));
        Path dest = dir.resolve("diff");
        long t0 = System.nanoTime();
        LayerUnpacker.Result r = LayerUnpacker.unpack(tar, dest);
        long ms = (System.nanoTime() - t0) / 1_000_000;
        assertThat(r.bytesUnpacked()).isEqualTo(size);
        assertThat(r.tarBytes()).isEqualTo(512 + size + 1024);
        assertThat(Files.size(dest.resolve("big"))).isEqualTo(size);
        System.out.printf("unpacked %d MiB in %d ms%n", size >> 20, ms);
        Files.delete(dest.resolve("big"));
    }

    @Test
    void unpacksWhatGnuTarPacksTheSameAsGnuTarWould() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src/usr/bin"));
        Path ping = Files.writeString(src.resolve("ping"), "ping");
        Syscalls.chmod(ping, 04755);
        Syscalls.lsetxattr(ping, "security.capability", CAP);
        Files.createLink(src.resolve("ping6"), ping);
        Files.createSymbolicLink(src.resolve("p"), Path.of("ping"));
        Syscalls.mknod(src.resolve("fifo"), Syscalls.S_IFIFO | 0600, 0);
        Syscalls.lchown(ping, 123, 456);
        Syscalls.chmod(ping, 04755);
        Syscalls.lsetxattr(ping, "security.capability", CAP);
        Path tar = dir.resolve("gnu.tar");
        Process p = new ProcessBuilder("tar", "--xattrs", "--xattrs-include=*", "--format=pax", "--numeric-owner",
                "-C", dir.resolve("src").toString(), "-czf", tar.toString(), ".").redirectErrorStream(true).start();
        assertThat(p.waitFor()).as(new String(p.getInputStream().readAllBytes())).isZero();
        Path dest = dir.resolve("diff");
        try (var in = Files.newInputStream(tar)) {
            LayerUnpacker.unpack(in, dest);
        }
        Path got = dest.resolve("usr/bin/ping");
        assertThat(mode(got)).isEqualTo(04755);
        assertThat(Files.getAttribute(got, "unix:uid")).isEqualTo(123);
        assertThat(Files.getAttribute(got, "unix:gid")).isEqualTo(456);
        assertThat(Syscalls.lgetxattr(got, "security.capability")).containsExactly(CAP);
        assertThat(Files.isSameFile(got, dest.resolve("usr/bin/ping6"))).isTrue();
        assertThat(Files.readSymbolicLink(dest.resolve("usr/bin/p"))).isEqualTo(Path.of("ping"));
        assertThat(Files.getAttribute(dest.resolve("usr/bin/fifo"), "unix:mode")).isEqualTo(Syscalls.S_IFIFO | 0600);
        assertThat(Files.getLastModifiedTime(got)).isEqualTo(Files.getLastModifiedTime(ping));
    }

    @Test
    void refusesAnExistingDestination() throws Exception {
        Path dest = Files.createDirectory(dir.resolve("diff"));
        assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(new Layers().tar()), dest))
                .hasMessageContaining("existing path");
    }

    static int mode(Path p) throws Exception {
        return (Integer) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS) & 07777;
    }
}
