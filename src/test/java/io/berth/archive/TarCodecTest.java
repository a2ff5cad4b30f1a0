package io.berth.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.sys.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TarCodecTest {
    static final byte[] BINARY = {0x00, (byte) 0xff, 0x01, 0x00, (byte) 0x80, '\n', '=', ' ', (byte) 0xc3};

    @TempDir Path dir;

    record Read(TarEntry entry, byte[] data) {}

    static List<Read> readAll(InputStream in) throws IOException {
        List<Read> out = new ArrayList<>();
        try (TarReader r = new TarReader(in)) {
            for (TarEntry e; (e = r.next()) != null; ) out.add(new Read(e, r.content().readAllBytes()));
        }
        return out;
    }

    @Test
    void roundTripsEveryTypeLongNamesAndBinaryXattrs() throws Exception {
        String longName = "d/" + "a".repeat(120) + "/" + "b".repeat(150) + "/file.txt";
        assertThat(longName.length()).isGreaterThan(255);
        String longLink = "/" + "t".repeat(200);
        byte[] big = new byte[3 * 512 + 17];
        for (int i = 0; i < big.length; i++) big[i] = (byte) (i * 31);
        List<TarEntry> entries = List.of(
                TarEntry.dir("d").withMode(01777).withMtime(Instant.ofEpochSecond(1_700_000_000)),
                TarEntry.file("d/small", 5).withOwner(1000, 1001).withOwnerNames("alice", "staff"),
                TarEntry.file(longName, big.length).withXattr("security.capability", BINARY).withXattr("user.x", new byte[0])
                        .withMode(04755).withMtime(Instant.ofEpochSecond(1_600_000_000, 123_456_789)),
                TarEntry.symlink("d/link", longLink),
                TarEntry.hardlink("d/hard", longName),
                TarEntry.device("dev/null", TarEntry.Type.CHAR, 1, 3),
                TarEntry.device("dev/sda", TarEntry.Type.BLOCK, 8, 0x123456),
                TarEntry.device("fifo", TarEntry.Type.FIFO, 0, 0),
                TarEntry.file("nonascii-é", 0).withOwner(5_000_000, 7),
                TarEntry.file("empty", 0));
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            for (TarEntry e : entries) {
                byte[] data = e.name().equals("d/small") ? "hello".getBytes() : e.name().equals(longName) ? big : new byte[0];
                w.writeEntry(e, data);
            }
        }
        assertThat(buf.size() % 512).isZero();
        List<Read> back = readAll(new ByteArrayInputStream(buf.toByteArray()));
        assertThat(back).hasSize(entries.size());
        for (int i = 0; i < entries.size(); i++) {
            TarEntry want = entries.get(i);
            if (want.type() == TarEntry.Type.DIR) want = want.withName(want.name() + "/");
            assertThat(back.get(i).entry().sameAs(want)).as("entry %s: %s", i, back.get(i).entry()).isTrue();
        }
        assertThat(back.get(1).data()).isEqualTo("hello".getBytes());
        assertThat(back.get(2).data()).isEqualTo(big);
        assertThat(back.get(2).entry().xattrs().get("security.capability")).containsExactly(BINARY);
    }

    @Test
    void readsUnreadContentBySkipping() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("a", 1000), new byte[1000]);
            w.writeEntry(TarEntry.file("b", 3), "xyz".getBytes());
        }
        try (TarReader r = new TarReader(new ByteArrayInputStream(buf.toByteArray()))) {
            assertThat(r.next().name()).isEqualTo("a");
            assertThat(r.content().read()).isZero();
            assertThat(r.next().name()).isEqualTo("b");
            assertThat(r.content().readAllBytes()).isEqualTo("xyz".getBytes());
            assertThat(r.next()).isNull();
            r.drain();
            assertThat(r.offset()).isEqualTo(buf.size());
        }
    }

    @Test
    void gnuTarPaxWithXattrsIsReadExactly() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        String deep = "x".repeat(90) + "/" + "y".repeat(90) + "/" + "z".repeat(90);
        Files.createDirectories(src.resolve(deep));
        Path f = Files.writeString(src.resolve(deep).resolve("f.bin"), "content");
        Syscalls.lsetxattr(f, "user.bin", BINARY);
        Syscalls.lsetxattr(f, "security.capability", new byte[] {1, 0, 0, 2, (byte) 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        Files.createSymbolicLink(src.resolve("sl"), Path.of("../" + "q".repeat(150)));
        Files.setLastModifiedTime(f, java.nio.file.attribute.FileTime.from(Instant.ofEpochSecond(1_500_000_000, 250_000_000)));
        Path tar = dir.resolve("a.tar");
        run("tar", "--xattrs", "--xattrs-include=*", "--format=pax", "-C", src.toString(), "-cf", tar.toString(), ".");
        Map<String, Read> byName = new HashMap<>();
        try (InputStream in = Files.newInputStream(tar)) {
            for (Read r : readAll(in)) byName.put(r.entry().name(), r);
        }
        Read file = byName.get("./" + deep + "/f.bin");
        assertThat(file).as("names: %s", byName.keySet()).isNotNull();
        assertThat(file.data()).isEqualTo("content".getBytes());
        assertThat(file.entry().xattrs().get("user.bin")).containsExactly(BINARY);
        assertThat(file.entry().xattrs().get("security.capability")).containsExactly(Syscalls.lgetxattr(f, "security.capability"));
        assertThat(file.entry().mtime()).isEqualTo(Instant.ofEpochSecond(1_500_000_000, 250_000_000));
        assertThat(byName.get("./sl").entry().linkName()).isEqualTo("../" + "q".repeat(150));
        assertThat(byName.get("./sl").entry().type()).isEqualTo(TarEntry.Type.SYMLINK);
        assertThat(byName.get("./" + deep + "/").entry().type()).isEqualTo(TarEntry.Type.DIR);
    }

    @Test
    void gnuFormatLongNamesAndBase256() throws Exception {
        Path src = Files.createDirectories(dir.resolve("src"));
        String name = "n".repeat(200);
        Files.writeString(src.resolve(name), "abc");
        Files.createSymbolicLink(src.resolve("l"), Path.of("m".repeat(180)));
        Path tar = dir.resolve("g.tar");
        run("tar", "--format=gnu", "--owner=:3000000", "--group=:4000000", "-C", src.toString(), "-cf", tar.toString(), name, "l");
        List<Read> all;
        try (InputStream in = Files.newInputStream(tar)) {
            all = readAll(in);
        }
        assertThat(all.get(0).entry().name()).isEqualTo(name);
        assertThat(all.get(0).entry().uid()).isEqualTo(3_000_000);
        assertThat(all.get(0).entry().gid()).isEqualTo(4_000_000);
        assertThat(all.get(0).data()).isEqualTo("abc".getBytes());
        assertThat(all.get(1).entry().linkName()).isEqualTo("m".repeat(180));
    }

    @Test
    void gnuTarReadsWhatWeWrite() throws Exception {
        String longName = "p".repeat(130) + "/" + "r".repeat(140);
        Path tar = dir.resolve("ours.tar");
        try (TarWriter w = new TarWriter(Files.newOutputStream(tar))) {
            w.writeEntry(TarEntry.dir("p".repeat(130)), new byte[0]);
            w.writeEntry(TarEntry.file(longName, 4).withXattr("user.bin", BINARY).withMode(0640)
                    .withMtime(Instant.ofEpochSecond(1_234_567_890)), "data".getBytes());
        }
        Path out = Files.createDirectories(dir.resolve("out"));
        run("tar", "--xattrs", "--xattrs-include=*", "-C", out.toString(), "-xf", tar.toString());
        Path f = out.resolve(longName);
        assertThat(Files.readString(f)).isEqualTo("data");
        assertThat(Syscalls.lgetxattr(f, "user.bin")).containsExactly(BINARY);
        assertThat(Files.getLastModifiedTime(f).toInstant()).isEqualTo(Instant.ofEpochSecond(1_234_567_890));
    }

    @Test
    void badChecksumIsAClearError() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("a", 1), new byte[] {1});
        }
        byte[] b = buf.toByteArray();
        b[10] ^= 1;
        assertThatThrownBy(() -> readAll(new ByteArrayInputStream(b)))
                .isInstanceOf(TarFormatException.class)
                .hasMessageContaining("checksum mismatch at offset 0");
        assertThatThrownBy(() -> readAll(new ByteArrayInputStream("this is not a tar".repeat(40).getBytes())))
                .isInstanceOf(TarFormatException.class).hasMessageContaining("not a tar archive");
    }

    @Test
    void truncationIsAClearError() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("big", 5000), new byte[5000]);
        }
        byte[] cut = Arrays.copyOf(buf.toByteArray(), 512 + 1000);
        assertThatThrownBy(() -> readAll(new ByteArrayInputStream(cut)))
                .isInstanceOf(TarFormatException.class)
                .hasMessageContaining("truncated tar archive").hasMessageContaining("big");
        byte[] half = Arrays.copyOf(buf.toByteArray(), 300);
        assertThatThrownBy(() -> readAll(new ByteArrayInputStream(half)))
                .isInstanceOf(TarFormatException.class).hasMessageContaining("truncated tar archive");
    }

    @Test
    void paxGlobalHeadersAndLibarchiveXattrs() throws Exception {
        Map<String, byte[]> g = new java.util.LinkedHashMap<>();
        g.put("uname", "globaluser".getBytes());
        Map<String, byte[]> x = new java.util.LinkedHashMap<>();
        x.put("LIBARCHIVE.xattr.user.a%3Db", java.util.Base64.getEncoder().withoutPadding().encodeToString(BINARY).getBytes());
        x.put("mtime", "-1.5".getBytes());
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        buf.writeBytes(rawMeta('g', TarWriter.encodePax(g)));
        buf.writeBytes(rawMeta('x', TarWriter.encodePax(x)));
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("f", 0), new byte[0]);
        }
        TarEntry e = readAll(new ByteArrayInputStream(buf.toByteArray())).getFirst().entry();
        assertThat(e.uname()).isEqualTo("globaluser");
        assertThat(e.xattrs().get("user.a=b")).containsExactly(BINARY);
        assertThat(e.mtime()).isEqualTo(Instant.ofEpochSecond(-2, 500_000_000));
    }

    /** A meta header written by hand, as another tool would. */
    private static byte[] rawMeta(char flag, byte[] data) throws IOException {
        ByteArrayOutputStream tmp = new ByteArrayOutputStream();
        TarWriter w = new TarWriter(tmp);
        w.writeEntry(TarEntry.file("meta", data.length), data);
        byte[] b = Arrays.copyOf(tmp.toByteArray(), (int) w.written());
        b[156] = (byte) flag;
        for (int i = 148; i < 156; i++) b[i] = ' ';
        long sum = 0;
        for (int i = 0; i < 512; i++) sum += b[i] & 0xff;
        byte[] ck = String.format("%06o\0 ", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(ck, 0, b, 148, 8);
        return b;
    }

    static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as("%s: %s", String.join(" ", cmd), out).isZero();
    }
}
