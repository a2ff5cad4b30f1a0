package io.berth.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.testing.BerthdProcess;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** docker cp's two directions over a container root, and its refusals to escape it. */
class TreeCopyTest {
    Path dir;
    Path root;
    Path outside;

    @BeforeEach
    void setUp() throws Exception {
        dir = Files.createTempDirectory("treecopy");
        root = Files.createDirectory(dir.resolve("rootfs"));
        outside = Files.createDirectory(dir.resolve("outside"));
        Files.createDirectories(root.resolve("etc/app"));
        Files.writeString(root.resolve("etc/app/conf"), "a=1\n");
        Files.createSymbolicLink(root.resolve("etc/app/link"), Path.of("conf"));
        Files.createSymbolicLink(root.resolve("escape-abs"), Path.of("/"));
        Files.createSymbolicLink(root.resolve("escape-rel"), Path.of("../../../../.."));
        Files.createSymbolicLink(root.resolve("out"), outside);
    }

    @AfterEach
    void tearDown() throws Exception {
        BerthdProcess.deleteTree(dir);
    }

    private static List<String> names(byte[] tar) throws Exception {
        List<String> names = new ArrayList<>();
        try (TarReader r = new TarReader(new ByteArrayInputStream(tar))) {
            TarEntry e;
            while ((e = r.next()) != null) names.add(e.name() + (e.type() == TarEntry.Type.SYMLINK ? " -> " + e.linkName() : ""));
        }
        return names;
    }

    @Test
    void packNamesEntriesAfterThePathsLastComponent() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TreeCopy.pack(root, "/etc/app", out);
        assertThat(names(out.toByteArray())).containsExactly("app/", "app/conf", "app/link -> conf");
        out.reset();
        TreeCopy.pack(root, "/etc/app/.", out);
        assertThat(names(out.toByteArray())).containsExactly("./", "conf", "link -> conf");
    }

    @Test
    void statDoesNotFollowTheLastSymlink() throws Exception {
        TreeCopy.PathStat s = TreeCopy.stat(root, "/etc/app/link");
        assertThat(s.name()).isEqualTo("link");
        assertThat(s.linkTarget()).isEqualTo("conf");
        assertThat(s.mode() & (1L << 27)).isNotZero();
        assertThat(TreeCopy.stat(root, "/etc/app").mode() & (1L << 31)).isNotZero();
        assertThatThrownBy(() -> TreeCopy.stat(root, "/nope")).hasMessageContaining("Could not find the file /nope in container");
    }

    @Test
    void symlinksThatPointOutsideStayInsideTheRoot() throws Exception {
        // /escape-abs -> / and /escape-rel -> ../../.. both mean the container's own root.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        TreeCopy.pack(root, "/escape-abs/etc/app/conf", out);
        assertThat(names(out.toByteArray())).containsExactly("conf");
        byte[] tar = tarOf("passwd", "pwned\n");
        TreeCopy.extract(root, "/escape-rel/etc", new ByteArrayInputStream(tar), true);
        assertThat(root.resolve("etc/passwd")).hasContent("pwned");
        // A link to a host folder by absolute path is read in the container's scope too.
        assertThatThrownBy(() -> TreeCopy.extract(root, "/out", new ByteArrayInputStream(tar), true))
                .hasMessageContaining("Could not find the file /out in container");
        assertThat(outside).isEmptyDirectory();
    }

    @Test
    void anExistingSymlinkIsReplacedNotWrittenThrough() throws Exception {
        Files.createSymbolicLink(root.resolve("etc/trap"), outside.resolve("victim"));
        TreeCopy.extract(root, "/etc", new ByteArrayInputStream(tarOf("trap", "data")), true);
        assertThat(Files.isSymbolicLink(root.resolve("etc/trap"))).isFalse();
        assertThat(root.resolve("etc/trap")).hasContent("data");
        assertThat(outside.resolve("victim")).doesNotExist();
    }

    @Test
    void entriesThroughSymlinkedDirectoriesStayInside() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.putEntry(TarEntry.symlink("sneaky", outside.toString()));
            w.writeEntry(TarEntry.file("sneaky/file", 2), "hi".getBytes(StandardCharsets.UTF_8));
            w.writeEntry(TarEntry.file("../../up", 2), "hi".getBytes(StandardCharsets.UTF_8));
        }
        TreeCopy.extract(root, "/", new ByteArrayInputStream(buf.toByteArray()), true);
        assertThat(outside).isEmptyDirectory();
        assertThat(dir.resolve("up")).doesNotExist();
        assertThat(root.resolve("up")).hasContent("hi");
        assertThat(root.resolve(outside.toString().substring(1)).resolve("file")).hasContent("hi");
    }

    @Test
    void dirAndNonDirDoNotReplaceEachOther() throws Exception {
        assertThatThrownBy(() -> TreeCopy.extract(root, "/etc", new ByteArrayInputStream(tarOf("app", "x")), true))
                .hasMessageContaining("cannot overwrite directory \"/etc/app\" with non-directory");
        assertThatThrownBy(() -> TreeCopy.extract(root, "/etc/app/conf", new ByteArrayInputStream(tarOf("x", "x")), true))
                .hasMessageContaining("extraction point is not a directory");
    }

    @Test
    void aSpooledExtractChecksTheWholeTarFirst() throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            w.writeEntry(TarEntry.file("fine.txt", 2), "ok".getBytes(StandardCharsets.UTF_8));
            w.writeEntry(TarEntry.file("../../climb.txt", 2), "no".getBytes(StandardCharsets.UTF_8));
        }
        Path spool = dir.resolve("spool.tar");
        try (io.berth.sys.Fd r = TreeCopy.openRoot(root)) {
            assertThatThrownBy(() -> TreeCopy.extract(r, "/etc/app", new ByteArrayInputStream(buf.toByteArray()), false, spool))
                    .isInstanceOf(TarFormatException.class).hasMessageContaining("climbs out");
            // cut inside the second entry's content
            byte[] cut = java.util.Arrays.copyOf(tarOf("whole.txt", "x".repeat(2000)), 1200);
            assertThatThrownBy(() -> TreeCopy.extract(r, "/etc/app", new ByteArrayInputStream(cut), false, spool))
                    .isInstanceOf(TarFormatException.class).hasMessageContaining("truncated");
        }
        assertThat(root.resolve("etc/app/fine.txt")).doesNotExist();
        assertThat(root.resolve("etc/app/whole.txt")).doesNotExist();
        assertThat(root.resolve("climb.txt")).doesNotExist();
        assertThat(spool).doesNotExist();
        try (var listing = Files.list(root.resolve("etc/app"))) {
            assertThat(listing.map(p -> p.getFileName().toString())).containsExactlyInAnyOrder("conf", "link");
        }
    }

    @Test
    void copyContentsKeepsLinksAsLinksAndModes() throws Exception {
        Files.createDirectories(root.resolve("seed/sub"));
        Files.writeString(root.resolve("seed/sub/f"), "f\n");
        Files.setPosixFilePermissions(root.resolve("seed/sub/f"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
        Files.createSymbolicLink(root.resolve("seed/up"), outside);
        Files.writeString(outside.resolve("secret"), "s");
        Path volume = Files.createDirectory(dir.resolve("volume"));
        try (io.berth.sys.Fd r = TreeCopy.openRoot(root);
                io.berth.sys.Fd from = r.resolve("/seed", io.berth.sys.Fd.O_RDONLY | io.berth.sys.Fd.O_DIRECTORY);
                io.berth.sys.Fd to = io.berth.sys.Fd.openHost(volume, io.berth.sys.Fd.O_RDONLY | io.berth.sys.Fd.O_DIRECTORY)) {
            TreeCopy.copyContents(from, to);
        }
        assertThat(volume.resolve("sub/f")).hasContent("f");
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(volume.resolve("sub/f")))).isEqualTo("rwxr-x---");
        assertThat(Files.isSymbolicLink(volume.resolve("up"))).isTrue();
        assertThat(Files.readSymbolicLink(volume.resolve("up"))).isEqualTo(outside);
    }

    private static byte[] tarOf(String name, String content) throws Exception {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (TarWriter w = new TarWriter(buf)) {
            byte[] data = content.getBytes(StandardCharsets.UTF_8);
            w.writeEntry(TarEntry.file(name, data.length), data);
        }
        return buf.toByteArray();
    }
}
