package io.berth.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.archive.TarWriter;
import io.berth.content.Digest;
import io.berth.sys.Syscalls;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The builder's parts without a daemon: layer diffs, users, COPY rules, cache keys, small helpers. */
class BuildStepsTest {
    @TempDir Path tmp;

    static Map<String, TarEntry> entries(byte[] tar) throws Exception {
        Map<String, TarEntry> out = new LinkedHashMap<>();
        TarReader r = new TarReader(new ByteArrayInputStream(tar));
        for (TarEntry e; (e = r.next()) != null; ) out.put(e.name(), e);
        return out;
    }

    @Test
    void layerDiffTurnsOverlayWhiteoutsIntoDockerWhiteouts() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "mknod and trusted xattrs need root");
        Path upper = Files.createDirectories(tmp.resolve("upper"));
        assertThat(LayerDiff.isEmpty(upper)).isTrue();
        Path etc = Files.createDirectories(upper.resolve("etc"));
        Files.writeString(etc.resolve("new.conf"), "x=1\n");
        Files.createLink(etc.resolve("hard.conf"), etc.resolve("new.conf"));
        Files.createSymbolicLink(etc.resolve("link"), Path.of("new.conf"));
        Syscalls.mknod(etc.resolve("gone"), Syscalls.S_IFCHR | 0600, Syscalls.makedev(0, 0));
        Path opaque = Files.createDirectories(upper.resolve("var/cache"));
        Syscalls.lsetxattr(opaque, "trusted.overlay.opaque", "y".getBytes(StandardCharsets.US_ASCII));
        Files.writeString(opaque.resolve("fresh"), "fresh\n");
        Syscalls.lchown(opaque.resolve("fresh"), 1000, 1001);
        Files.setLastModifiedTime(etc.resolve("new.conf"), FileTime.from(Instant.parse("2024-05-01T00:00:00Z")));

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        LayerDiff.Result r = LayerDiff.write(upper, bytes);
        assertThat(r.diffId()).isEqualTo(Digest.sha256(bytes.toByteArray()));
        assertThat(r.tarBytes()).isEqualTo(bytes.size());
        assertThat(r.empty()).isFalse();
        Map<String, TarEntry> e = entries(bytes.toByteArray());
        assertThat(e.keySet()).containsExactly("etc/", "etc/.wh.gone", "etc/hard.conf", "etc/link", "etc/new.conf", "var/", "var/cache/",
                "var/cache/.wh..wh..opq", "var/cache/fresh");
        assertThat(e.get("etc/.wh.gone").type()).isEqualTo(TarEntry.Type.FILE);
        assertThat(e.get("etc/new.conf").type()).isEqualTo(TarEntry.Type.HARDLINK);
        assertThat(e.get("etc/new.conf").linkName()).isEqualTo("etc/hard.conf");
        assertThat(e.get("etc/link").linkName()).isEqualTo("new.conf");
        assertThat(e.get("var/cache/").xattrs()).doesNotContainKey("trusted.overlay.opaque");
        assertThat(e.get("var/cache/fresh").uid()).isEqualTo(1000);
        assertThat(e.get("var/cache/fresh").gid()).isEqualTo(1001);

        // the same tree gives the same tar
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        assertThat(LayerDiff.write(upper, again).diffId()).isEqualTo(r.diffId());
    }

    @Test
    void usersAndGroupsResolveAsTheRuntimeAndTheClassicBuilderDo() throws Exception {
        StageUsers u = StageUsers.of("""
                root:x:0:0:root:/root:/bin/sh
                app:x:1000:1000:app:/home/app:/bin/sh
                """, """
                root:x:0:
                app:x:1000:
                docker:x:999:app,other
                web:x:33:
                """);
        StageUsers.Identity app = u.user("app");
        assertThat(app.uid()).isEqualTo(1000);
        assertThat(app.gid()).isEqualTo(1000);
        assertThat(app.additionalGids()).containsExactly(999);
        assertThat(app.home()).isEqualTo("/home/app");
        assertThat(u.user("").uid()).isZero();
        assertThat(u.user("4242").uid()).isEqualTo(4242);
        assertThat(u.user("app:web").gid()).isEqualTo(33);
        assertThat(u.user("1000:5").gid()).isEqualTo(5);
        assertThatThrownBy(() -> u.user("nobody")).hasMessage("unable to find user nobody: no matching entries in passwd file");

        assertThat(u.chown("app")).containsExactly(1000, 1000);
        assertThat(u.chown("app:web")).containsExactly(1000, 33);
        assertThat(u.chown("12:34")).containsExactly(12, 34);
        assertThatThrownBy(() -> u.chown("ghost")).hasMessageContaining("can't find uid for user ghost");
        assertThatThrownBy(() -> u.chown("app:ghosts")).hasMessageContaining("can't find gid for group ghosts");
        assertThatThrownBy(() -> u.chown("a:b:c")).hasMessageContaining("invalid chown string format");
    }

    @Test
    void copyFollowsTheClassicBuildersDestinationRules() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")), "chown needs root");
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        Files.writeString(ctx.resolve("a.txt"), "a\n");
        Files.writeString(ctx.resolve("b.txt"), "b\n");
        Files.createDirectories(ctx.resolve("dir/sub"));
        Files.writeString(ctx.resolve("dir/sub/c.txt"), "c\n");
        Files.createSymbolicLink(ctx.resolve("dir/link"), Path.of("sub/c.txt"));
        Files.setLastModifiedTime(ctx.resolve("a.txt"), FileTime.from(Instant.parse("2023-03-03T03:03:03Z")));
        Path root = Files.createDirectories(tmp.resolve("root"));
        Files.createDirectories(root.resolve("existing"));
        Files.createSymbolicLink(root.resolve("escape"), Path.of("/etc"));

        FileCopier copier = new FileCopier(root, 1000, 1000, null);
        copier.copy(ContextSources.resolve(ctx, List.of("a.txt"), true), "/named", false, "COPY");
        assertThat(root.resolve("named")).hasContent("a");
        copier.copy(ContextSources.resolve(ctx, List.of("a.txt"), true), "/existing", false, "COPY");
        assertThat(root.resolve("existing/a.txt")).hasContent("a");
        copier.copy(ContextSources.resolve(ctx, List.of("a.txt"), true), "/new/dir/", false, "COPY");
        assertThat(root.resolve("new/dir/a.txt")).hasContent("a");
        assertThat(Files.getLastModifiedTime(root.resolve("new/dir/a.txt")).toInstant()).isEqualTo(Instant.parse("2023-03-03T03:03:03Z"));
        assertThat(Files.getAttribute(root.resolve("new/dir"), "unix:uid")).isEqualTo(1000);
        assertThat(Files.getAttribute(root.resolve("new/dir/a.txt"), "unix:uid")).isEqualTo(1000);
        copier.copy(ContextSources.resolve(ctx, List.of("dir"), true), "/tree", false, "COPY");
        assertThat(root.resolve("tree/sub/c.txt")).hasContent("c");
        assertThat(Files.readSymbolicLink(root.resolve("tree/link"))).isEqualTo(Path.of("sub/c.txt"));
        copier.copy(ContextSources.resolve(ctx, List.of("*.txt"), true), "/many/", false, "COPY");
        assertThat(root.resolve("many/b.txt")).hasContent("b");
        assertThatThrownBy(() -> copier.copy(ContextSources.resolve(ctx, List.of("*.txt"), true), "/many", false, "COPY"))
                .hasMessageContaining("the destination must be a directory and end with a /");
        // a symlink to /etc in the root stays inside the root
        copier.copy(ContextSources.resolve(ctx, List.of("b.txt"), true), "/escape/", false, "COPY");
        assertThat(root.resolve("etc/b.txt")).hasContent("b");
        assertThat(Path.of("/etc/b.txt")).doesNotExist();

        new FileCopier(root, 0, 0, FileCopier.parseChmod("640")).copy(ContextSources.resolve(ctx, List.of("b.txt"), true), "/modes/", false, "COPY");
        assertThat(((Number) Files.getAttribute(root.resolve("modes/b.txt"), "unix:mode")).intValue() & 07777).isEqualTo(0640);
        assertThatThrownBy(() -> FileCopier.parseChmod("u+x")).hasMessageContaining("invalid chmod");
    }

    @Test
    void addExtractsLocalTarArchivesButCopiesOtherFiles() throws Exception {
        Path ctx = Files.createDirectories(tmp.resolve("ctx"));
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(ctx.resolve("a.tgz"))); TarWriter w = new TarWriter(o)) {
            w.writeEntry(TarEntry.dir("pkg"), new byte[0]);
            w.writeEntry(TarEntry.file("pkg/f", 2), "f\n".getBytes(StandardCharsets.UTF_8));
        }
        try (OutputStream o = Files.newOutputStream(ctx.resolve("plain.tar")); TarWriter w = new TarWriter(o)) {
            w.writeEntry(TarEntry.file("p", 2), "p\n".getBytes(StandardCharsets.UTF_8));
        }
        try (OutputStream o = new GZIPOutputStream(Files.newOutputStream(ctx.resolve("notes.gz")))) {
            o.write("just text\n".getBytes(StandardCharsets.UTF_8));
        }
        Path root = Files.createDirectories(tmp.resolve("root"));
        FileCopier c = new FileCopier(root, 0, 0, null);
        c.copy(ContextSources.resolve(ctx, List.of("a.tgz", "plain.tar", "notes.gz"), true), "/opt/", true, "ADD");
        assertThat(root.resolve("opt/pkg/f")).hasContent("f");
        assertThat(root.resolve("opt/p")).hasContent("p");
        assertThat(root.resolve("opt/notes.gz")).isRegularFile();
        assertThat(Files.exists(root.resolve("opt/a.tgz"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        // COPY keeps archives as they are
        c.copy(ContextSources.resolve(ctx, List.of("a.tgz"), true), "/copied/", false, "COPY");
        assertThat(root.resolve("copied/a.tgz")).isRegularFile();
    }

    @Test
    void smallRules() throws Exception {
        assertThat(ImageBuilder.absoluteDest("x", "/app")).isEqualTo("/app/x");
        assertThat(ImageBuilder.absoluteDest("./", "/app")).isEqualTo("/app/");
        assertThat(ImageBuilder.absoluteDest(".", null)).isEqualTo("/");
        assertThat(ImageBuilder.absoluteDest("sub/", "/app/")).isEqualTo("/app/sub/");
        assertThat(ImageBuilder.absoluteDest("/abs", "/app")).isEqualTo("/abs");
        assertThat(ImageBuilder.normalize("/a/./b/../c//")).isEqualTo("/a/c");
        assertThat(ImageBuilder.goQuote(List.of("/bin/sh", "-c", "echo \"hi\""))).isEqualTo("[\"/bin/sh\" \"-c\" \"echo \\\"hi\\\"\"]");
        assertThat(BuildCache.key("p", "RUN", "x", List.of())).isNotEqualTo(BuildCache.key("p", "RUN", "y", List.of()))
                .isEqualTo(BuildCache.key("p", "RUN", "x", List.of()));

        BuildCache cache = new BuildCache(tmp.resolve("build/cache.json"));
        Digest d = Digest.sha256("img".getBytes(StandardCharsets.UTF_8));
        cache.put("k", d);
        assertThat(new BuildCache(tmp.resolve("build/cache.json")).get("k")).isEqualTo(d);
        assertThat(cache.removeIf(x -> true)).containsExactly(d);
        assertThat(new BuildCache(tmp.resolve("build/cache.json")).size()).isZero();
    }
}
