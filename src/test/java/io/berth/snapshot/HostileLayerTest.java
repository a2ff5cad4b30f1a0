package io.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Layers that try to write outside their root; each must be refused and leave nothing behind. */
class HostileLayerTest {
    @TempDir Path dir;
    Path parent;
    Path dest;

    @BeforeEach
    void layout() throws Exception {
        // the unpack goes to a temp dir in dir/a/b, so "../../.." from it is dir
        parent = Files.createDirectories(dir.resolve("a/b"));
        dest = parent.resolve("diff");
        Files.writeString(parent.resolve("outside"), "outside");
    }

    private void assertRefused(byte[] tar, String... messageParts) throws Exception {
        var thrown = assertThatThrownBy(() -> LayerUnpacker.unpack(new ByteArrayInputStream(tar), dest))
                .isInstanceOf(UnsafeLayerException.class);
        for (String part : messageParts) thrown.hasMessageContaining(part);
        assertThat(Files.exists(dest)).as("destination after a refused layer").isFalse();
        try (Stream<Path> left = Files.list(parent)) {
            assertThat(left).as("temp dirs left").containsExactly(parent.resolve("outside"));
        }
        assertThat(Files.readString(parent.resolve("outside"))).isEqualTo("outside");
        assertNothingWrittenOutside();
    }

    private void assertNothingWrittenOutside() throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            assertThat(all.filter(p -> p.getFileName().toString().contains("pwned"))).isEmpty();
        }
        assertThat(Files.exists(Path.of("/pwned"))).isFalse();
        assertThat(Files.exists(Path.of("/etc/pwned"))).isFalse();
    }

    @Test
    void dotDotEscape() throws Exception {
        assertRefused(new Layers().file("ok", "fine").file("../pwned", "x").tar(),
                "layer entry \"../pwned\" escapes the layer root with '..'");
    }

    @Test
    void dotDotInTheMiddleEscape() throws Exception {
        assertRefused(new Layers().file("a/../../pwned", "x").tar(), "escapes the layer root");
    }

    @Test
    void absolutePathLandsInsideTheRoot() throws Exception {
        byte[] passwdBefore = Files.readAllBytes(Path.of("/etc/passwd"));
        LayerUnpacker.unpack(new ByteArrayInputStream(new Layers().file("/etc/passwd", "root::0:0:pwned:/:/bin/sh\n").tar()), dest);
        assertThat(Files.readString(dest.resolve("etc/passwd"))).contains("pwned");
        assertThat(Files.readAllBytes(Path.of("/etc/passwd"))).isEqualTo(passwdBefore);
        Files.delete(dest.resolve("etc/passwd")); // leave no "pwned" for the check below
        assertNothingWrittenOutside();
    }

    @Test
    void fileThroughSymlinkToSlash() throws Exception {
        String viaRoot = "link/" + dir.toString().substring(1) + "/pwned";
        assertRefused(new Layers().symlink("link", "/").file(viaRoot, "x").tar(),
                "goes through the symlink \"link\" -> /", "refusing to follow symlinks");
    }

    @Test
    void fileThroughRelativeSymlinkUpwards() throws Exception {
        assertRefused(new Layers().symlink("up", "../../..").file("up/pwned", "x").tar(),
                "layer entry \"up/pwned\" goes through the symlink \"up\" -> ../../..");
    }

    @Test
    void directoryThroughSymlink() throws Exception {
        assertRefused(new Layers().symlink("etc", "/etc").dir("etc/pwned.d").tar(), "goes through the symlink \"etc\"");
    }

    @Test
    void whiteoutThroughSymlink() throws Exception {
        assertRefused(new Layers().symlink("up", "../..").file("up/.wh.outside", "").tar(), "goes through the symlink \"up\"");
    }

    @Test
    void hardLinkToAbsoluteEtcPasswd() throws Exception {
        assertRefused(new Layers().hardlink("pwned", "/etc/passwd").tar(),
                "hard link \"pwned\" -> \"/etc/passwd\"", "not an earlier entry of this layer");
    }

    @Test
    void hardLinkToDotDotOutside() throws Exception {
        assertRefused(new Layers().hardlink("pwned", "../outside").tar(), "\"../outside\" escapes the layer root");
    }

    @Test
    void hardLinkThroughSymlinkedDir() throws Exception {
        assertRefused(new Layers().symlink("up", "..").hardlink("pwned", "up/outside").tar(),
                "hard link \"pwned\" -> \"up/outside\" goes through the symlink \"up\"");
    }

    @Test
    void hardLinkToSymlinkLinksTheSymlinkItself() throws Exception {
        LayerUnpacker.unpack(new ByteArrayInputStream(new Layers().symlink("s", "/nonexistent/target").hardlink("h", "s").tar()), dest);
        assertThat(Files.isSymbolicLink(dest.resolve("h"))).isTrue();
        assertThat(Files.readSymbolicLink(dest.resolve("h"))).isEqualTo(Path.of("/nonexistent/target"));
    }

    @Test
    void whiteoutOfDotDot() throws Exception {
        assertRefused(new Layers().file("d/.wh...", "").tar(), "whiteout \"d/.wh...\" names no file");
    }

    @Test
    void symlinkReplacedByDirectoryIsNotFollowed() throws Exception {
        LayerUnpacker.unpack(new ByteArrayInputStream(new Layers().symlink("d", "/etc").dir("d").file("d/pwned-not", "x").tar()), dest);
        assertThat(Files.isSymbolicLink(dest.resolve("d"))).isFalse();
        assertThat(Files.exists(Path.of("/etc/pwned-not"))).isFalse();
    }
}
