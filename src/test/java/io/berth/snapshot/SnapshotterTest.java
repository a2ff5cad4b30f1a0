package io.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.berth.sys.Syscalls;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotterTest {
    @TempDir Path dir;

    static final byte[] LAYER1 = new Layers().dir("etc").file("etc/motd", "welcome").file("etc/keep", "keep")
            .dir("var").dir("var/cache").file("var/cache/old", "old").dir("bin").file("bin/sh", "#!").gzip();
    static final byte[] LAYER2 = new Layers().dir("etc").file("etc/.wh.motd", "").file("etc/added", "added")
            .dir("var/cache").file("var/cache/.wh..wh..opq", "").file("var/cache/new", "new").tar();

    @Test
    void preparesMountsCommitsAndRemoves() throws Exception {
        Snapshotter s = new Snapshotter(dir);
        Snapshotter.Applied l1 = s.applyLayer("layer1", null, new ByteArrayInputStream(LAYER1));
        Snapshotter.Applied l2 = s.applyLayer("layer2", "layer1", new ByteArrayInputStream(LAYER2));
        assertThat(l2.layer().diffId()).isEqualTo(io.berth.content.Digest.sha256(LAYER2));
        assertThat(l1.info().kind()).isEqualTo(Snapshotter.Kind.COMMITTED);

        List<Mount> mounts = s.prepare("ctr", "layer2");
        assertThat(mounts).hasSize(1);
        Mount m = mounts.getFirst();
        assertThat(m.type()).isEqualTo("overlay");
        assertThat(m.options()).containsExactly(
                "lowerdir=" + s.diffDir("layer2") + ":" + s.diffDir("layer1"),
                "upperdir=" + s.diffDir("ctr"),
                "workdir=" + s.diffDir("ctr").resolveSibling("work"));

        Path merged = Files.createDirectory(dir.resolve("merged"));
        Mount.mountAll(mounts, merged);
        try {
            assertThat(Files.exists(merged.resolve("etc/motd"))).as("whited-out file").isFalse();
            assertThat(Files.readString(merged.resolve("etc/keep"))).isEqualTo("keep");
            assertThat(Files.readString(merged.resolve("etc/added"))).isEqualTo("added");
            assertThat(Files.readString(merged.resolve("bin/sh"))).isEqualTo("#!");
            try (Stream<Path> cache = Files.list(merged.resolve("var/cache"))) {
                assertThat(cache.map(p -> p.getFileName().toString())).containsExactly("new");
            }
            Files.writeString(merged.resolve("etc/written"), "by the container");
            Files.delete(merged.resolve("etc/keep"));
        } finally {
            Mount.unmount(merged);
        }
        assertThat(Files.readString(s.diffDir("ctr").resolve("etc/written"))).isEqualTo("by the container");
        assertThat(Files.getAttribute(s.diffDir("ctr").resolve("etc/keep"), "unix:mode")).isEqualTo(Syscalls.S_IFCHR);

        Snapshotter.Info c = s.commit("ctr-image", "ctr");
        assertThat(c.kind()).isEqualTo(Snapshotter.Kind.COMMITTED);
        assertThatThrownBy(() -> s.stat("ctr")).isInstanceOf(SnapshotException.class).hasMessageContaining("does not exist");
        assertThat(Files.exists(s.diffDir("ctr-image").resolveSibling("work"))).isFalse();

        // a view on three layers is an overlay without upper
        List<Mount> view = s.view("v", "ctr-image");
        assertThat(view.getFirst().options()).hasSize(1).first().asString().startsWith("lowerdir=");
        Mount.mountAll(view, merged);
        try {
            assertThat(Files.readString(merged.resolve("etc/written"))).isEqualTo("by the container");
            assertThat(Files.exists(merged.resolve("etc/keep"))).isFalse();
            assertThatThrownBy(() -> Files.writeString(merged.resolve("x"), "x")).hasMessageContaining("Read-only file system");
        } finally {
            Mount.unmount(merged);
        }

        // a view of one layer is a read-only bind
        List<Mount> one = s.view("v1", "layer1");
        assertThat(one).containsExactly(new Mount("bind", s.diffDir("layer1").toString(), List.of("rbind", "ro")));
        Mount.mountAll(one, merged);
        try {
            assertThat(Files.readString(merged.resolve("etc/motd"))).isEqualTo("welcome");
            assertThatThrownBy(() -> Files.writeString(merged.resolve("x"), "x")).hasMessageContaining("Read-only file system");
        } finally {
            Mount.unmount(merged);
        }

        assertThatThrownBy(() -> s.remove("layer1")).isInstanceOf(SnapshotException.class)
                .hasMessageContaining("cannot remove snapshot layer1: 2 snapshot(s) stand on it (layer2, v1)");
        assertThatThrownBy(() -> s.commit("x", "layer1")).hasMessageContaining("it is committed, not active");
        assertThatThrownBy(() -> s.prepare("y", "nope")).hasMessageContaining("parent nope does not exist");
        assertThatThrownBy(() -> s.prepare("z", "v")).hasMessageContaining("the parent is view, not committed");

        // the records survive a restart
        Snapshotter again = new Snapshotter(dir);
        assertThat(again.list()).containsExactlyElementsOf(s.list());

        for (String k : List.of("v", "v1", "ctr-image", "layer2", "layer1")) s.remove(k);
        assertThat(s.list()).isEmpty();
        // the removed folders are renamed out of sight at once and deleted in the background
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Path> left;
        do {
            try (Stream<Path> l = Files.list(s.directory())) {
                left = l.toList();
            }
            assertThat(left).allMatch(p -> p.getFileName().toString().startsWith(".removing-"));
            if (!left.isEmpty()) Thread.sleep(20);
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        assertThat(left).isEmpty();
    }

    @Test
    void activeWithoutParentIsABindAndCrashLeftoversGo() throws Exception {
        Snapshotter s = new Snapshotter(dir);
        assertThat(s.prepare("base", null)).containsExactly(new Mount("bind", s.diffDir("base").toString(), List.of("rbind", "rw")));
        Files.createDirectories(s.directory().resolve("77/diff"));
        Files.createDirectories(s.directory().resolve(".diff.unpack-1234"));
        Snapshotter again = new Snapshotter(dir);
        assertThat(again.list()).extracting(Snapshotter.Info::key).containsExactly("base");
        try (Stream<Path> left = Files.list(s.directory())) {
            assertThat(left.map(p -> p.getFileName().toString())).containsExactly("1");
        }
        assertThatThrownBy(() -> again.prepare("base", null)).hasMessageContaining("snapshot base exists");
        // a new snapshot never reuses the id of a leftover
        again.prepare("next", null);
        assertThat(again.stat("next").id()).isEqualTo("78");
    }

    @Test
    void aFailedLayerLeavesNoSnapshot() throws Exception {
        Snapshotter s = new Snapshotter(dir);
        byte[] evil = new Layers().symlink("l", "/").file("l/tmp/pwned", "x").tar();
        assertThatThrownBy(() -> s.applyLayer("evil", null, new ByteArrayInputStream(evil))).isInstanceOf(UnsafeLayerException.class);
        assertThat(s.list()).isEmpty();
        // the removed folders are renamed out of sight at once and deleted in the background
        long deadline = System.nanoTime() + 10_000_000_000L;
        List<Path> left;
        do {
            try (Stream<Path> l = Files.list(s.directory())) {
                left = l.toList();
            }
            assertThat(left).allMatch(p -> p.getFileName().toString().startsWith(".removing-"));
            if (!left.isEmpty()) Thread.sleep(20);
        } while (!left.isEmpty() && System.nanoTime() < deadline);
        assertThat(left).isEmpty();
    }

    @Test
    void manyLayersOverflowingAPageStillMount() throws Exception {
        Snapshotter s = new Snapshotter(dir.resolve("a-rather-long-data-root-name-to-fill-the-page-sooner"));
        String parent = null;
        int layers = 120;
        for (int i = 0; i < layers; i++) {
            byte[] tar = new Layers().file("f" + i, "layer " + i).file("top", "from " + i).tar();
            s.applyLayer("l" + i, parent, new ByteArrayInputStream(tar));
            parent = "l" + i;
        }
        List<Mount> mounts = s.prepare("ctr", parent);
        assertThat(String.join(",", mounts.getFirst().options()).length()).isGreaterThan(Mount.MAX_DATA);
        Path merged = Files.createDirectory(dir.resolve("merged"));
        Mount.mountAll(mounts, merged);
        try {
            assertThat(Files.readString(merged.resolve("f0"))).isEqualTo("layer 0");
            assertThat(Files.readString(merged.resolve("f" + (layers - 1)))).isEqualTo("layer " + (layers - 1));
            assertThat(Files.readString(merged.resolve("top"))).isEqualTo("from " + (layers - 1));
            Files.writeString(merged.resolve("w"), "w");
        } finally {
            Mount.unmount(merged);
        }
        assertThat(Files.readString(s.diffDir("ctr").resolve("w"))).isEqualTo("w");
    }

    @Test
    void tooLongBindOptionsAreAClearError() {
        Mount m = new Mount("tmpfs", "tmpfs", List.of("x=" + "/x".repeat(2100)));
        assertThatThrownBy(() -> m.mountAt(dir)).hasMessageContaining("more than the kernel's 4095");
    }
}
