package io.berth.build;

import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BuildContextTest {
    @TempDir
    Path tmp;

    /** One tar entry to write: a file (content), dir (content null), symlink or hard link (link). */
    record E(String name, TarEntry.Type type, int mode, String content, String link, Instant mtime) {
        static E file(String name, String content) {
            return new E(name, TarEntry.Type.FILE, 0644, content, "", Instant.ofEpochSecond(1_700_000_000));
        }

        static E dir(String name) {
            return new E(name, TarEntry.Type.DIR, 0755, null, "", Instant.ofEpochSecond(1_700_000_000));
        }

        static E symlink(String name, String target) {
            return new E(name, TarEntry.Type.SYMLINK, 0777, null, target, Instant.ofEpochSecond(1_700_000_000));
        }

        static E hardlink(String name, String target) {
            return new E(name, TarEntry.Type.HARDLINK, 0644, null, target, Instant.ofEpochSecond(1_700_000_000));
        }

        E mode(int m) {
            return new E(name, type, m, content, link, mtime);
        }

        E mtime(Instant t) {
            return new E(name, type, mode, content, link, t);
        }
    }

    static byte[] tar(List<E> entries, boolean gzip) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (var out = gzip ? new GZIPOutputStream(bytes) : bytes; TarWriter w = new TarWriter(out)) {
            for (E e : entries) {
                byte[] data = e.content() == null ? new byte[0] : e.content().getBytes(StandardCharsets.UTF_8);
                w.writeEntry(new TarEntry(e.name(), e.type(), e.mode(), 1000, 1000, "", "", data.length, e.mtime(),
                        e.link(), 0, 0, Map.of()), data);
            }
            w.finish();
        }
        return bytes.toByteArray();
    }

    BuildContext extract(List<E> entries, boolean gzip, String dockerfile) throws Exception {
        return BuildContext.extract(new ByteArrayInputStream(tar(entries, gzip)), tmp.resolve("contexts"), dockerfile);
    }

    static List<String> tree(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.filter(p -> !p.equals(root)).forEach(p -> out.add(root.relativize(p) + (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "/" : "")));
        }
        Collections.sort(out);
        return out;
    }

    static final List<E> PROJECT = List.of(
            E.file("Dockerfile", "FROM scratch\nCOPY . /\n"),
            E.file(".dockerignore", "# ignore\n**/*.go\n!important.go\ndocs/**\n!docs/keep.md\nDockerfile\n.dockerignore\nnode_modules\n"),
            E.file("main.go", "package main"),
            E.file("important.go", "package important"),
            E.dir("cmd/"),
            E.file("cmd/tool.go", "package tool"),
            E.file("cmd/README", "readme"),
            E.dir("docs"),
            E.file("docs/index.md", "index"),
            E.file("docs/keep.md", "keep"),
            E.dir("node_modules/x"),
            E.file("node_modules/x/a.js", "js"),
            E.file("run.sh", "#!/bin/sh\n").mode(0755),
            E.symlink("link", "run.sh"),
            E.hardlink("hard", "run.sh"));

    @Test
    void extractsAppliesDockerignoreAndReadsTheDockerfileAnyway() throws Exception {
        for (boolean gzip : new boolean[] {false, true}) {
            try (BuildContext c = extract(PROJECT, gzip, null)) {
                assertThat(new String(c.dockerfile(), StandardCharsets.UTF_8)).isEqualTo("FROM scratch\nCOPY . /\n");
                assertThat(c.dockerfileName()).isEqualTo("Dockerfile");
                assertThat(tree(c.root())).containsExactly("cmd/", "cmd/README", "docs/", "docs/keep.md", "hard",
                        "important.go", "link", "run.sh");
                Path run = c.root().resolve("run.sh");
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(run))).isEqualTo("rwxr-xr-x");
                assertThat(Files.getLastModifiedTime(run).toInstant()).isEqualTo(Instant.ofEpochSecond(1_700_000_000));
                assertThat(Files.readSymbolicLink(c.root().resolve("link"))).isEqualTo(Path.of("run.sh"));
                assertThat(Files.isSameFile(run, c.root().resolve("hard"))).isTrue();
                assertThat(c.ignore().patterns()).contains("!important.go");
                Path root = c.root();
                c.close();
                assertThat(root).doesNotExist();
            }
        }
    }

    @Test
    void namedAndLowercaseDockerfiles() throws Exception {
        try (BuildContext c = extract(List.of(E.dir("build"), E.file("build/app.Dockerfile", "FROM a\n")), false, "./build/app.Dockerfile")) {
            assertThat(c.dockerfile()).isEqualTo("FROM a\n".getBytes(StandardCharsets.UTF_8));
        }
        try (BuildContext c = extract(List.of(E.file("dockerfile", "FROM b\n")), false, "")) {
            assertThat(c.dockerfile()).isEqualTo("FROM b\n".getBytes(StandardCharsets.UTF_8));
        }
        assertThatThrownBy(() -> extract(List.of(E.file("x", "")), false, "Containerfile"))
                .isInstanceOf(BuildException.class).hasMessage("Cannot locate specified Dockerfile: Containerfile");
        assertThat(Files.list(tmp.resolve("contexts"))).isEmpty();
    }

    @Test
    void hostileContextsAreRefusedAndLeaveNothing() throws Exception {
        List<List<E>> hostile = List.of(
                List.of(E.file("Dockerfile", "FROM a"), E.file("../escape", "x")),
                List.of(E.file("Dockerfile", "FROM a"), E.file("a/../../escape", "x")),
                List.of(E.file("Dockerfile", "FROM a"), E.symlink("out", "/tmp"), E.file("out/escape", "x")),
                List.of(E.file("Dockerfile", "FROM a"), E.symlink("up", ".."), E.file("up/escape", "x")),
                List.of(E.file("Dockerfile", "FROM a"), E.hardlink("h", "/etc/passwd")),
                List.of(E.file("Dockerfile", "FROM a"), E.hardlink("h", "../outside")),
                List.of(E.file("Dockerfile", "FROM a"), E.symlink("s", "/etc/passwd"), E.hardlink("h", "s")));
        for (List<E> entries : hostile) {
            assertThatThrownBy(() -> extract(entries, false, null)).isInstanceOf(BuildException.class);
            assertThat(tmp.resolve("escape")).doesNotExist();
            assertThat(tmp.resolve("contexts/escape")).doesNotExist();
            assertThat(Files.list(tmp.resolve("contexts"))).as("temp dir removed").isEmpty();
        }
        // a symlink pointing out is kept as data, and a Dockerfile symlink is resolved inside the context
        try (BuildContext c = extract(List.of(E.symlink("Dockerfile", "/etc/passwd"), E.file("etc/passwd", "FROM inside\n")), false, null)) {
            assertThat(new String(c.dockerfile(), StandardCharsets.UTF_8)).isEqualTo("FROM inside\n");
        }
        assertThatThrownBy(() -> BuildContext.extract(new ByteArrayInputStream("BZh91AY".getBytes(StandardCharsets.US_ASCII)),
                tmp.resolve("contexts"), null)).hasMessageContaining("bzip2");
    }

    // ---- sources ----------------------------------------------------------------------

    @Test
    void resolvesSourcesWithWildcardsAndScopedSymlinks() throws Exception {
        try (BuildContext c = extract(List.of(
                E.file("Dockerfile", "FROM a"), E.file("a.go", "a"), E.file("b.go", "b"), E.file("c.txt", "c"),
                E.dir("src/pkg"), E.file("src/pkg/x.go", "x"), E.file("src/y.go", "y"),
                E.symlink("escape", "../../../../etc"), E.symlink("abs", "/src"), E.file("my file", "spaces")), false, null)) {
            Path r = c.root();
            assertThat(ContextSources.resolve(r, List.of("*.go"), true)).extracting(ContextSources.SourceMatch::relPath)
                    .containsExactly("a.go", "b.go");
            assertThat(ContextSources.resolve(r, List.of("src/*/*.go", "[bc].*"), true))
                    .extracting(ContextSources.SourceMatch::relPath).containsExactly("src/pkg/x.go", "b.go", "c.txt");
            assertThat(ContextSources.resolve(r, List.of("/src/", "./my file"), true)).satisfiesExactly(
                    m -> {
                        assertThat(m.relPath()).isEqualTo("src");
                        assertThat(m.directory()).isTrue();
                    },
                    m -> assertThat(m.path()).isEqualTo(r.resolve("my file")));
            assertThat(ContextSources.resolve(r, List.of("."), true).getFirst().path()).isEqualTo(r);
            // symlinks resolve as if the context were /
            assertThat(ContextSources.resolveInScope(r, "escape")).isEqualTo(r.resolve("etc"));
            assertThat(ContextSources.resolveInScope(r, "abs/pkg/x.go")).isEqualTo(r.resolve("src/pkg/x.go"));
            assertThat(ContextSources.resolveInScope(r, "../../x")).isEqualTo(r.resolve("x"));
            assertThat(ContextSources.resolve(r, List.of("abs"), true).getFirst().directory()).isTrue();
            assertThatThrownBy(() -> ContextSources.resolve(r, List.of("missing.txt"), true))
                    .hasMessage("file not found in build context or excluded by .dockerignore: stat missing.txt: file does not exist");
            assertThatThrownBy(() -> ContextSources.resolve(r, List.of("*.none"), true))
                    .hasMessage("no source files were specified");
            assertThatThrownBy(() -> ContextSources.resolve(r, List.of("escape"), true))
                    .hasMessageContaining("file not found");
        }
    }

    static final List<E> SOURCES = List.of(
            E.file("Dockerfile", "FROM a"),
            E.dir("app"),
            E.file("app/main.py", "print(1)"),
            E.dir("app/lib"),
            E.file("app/lib/util.py", "def f(): pass"),
            E.file("app/run.sh", "#!/bin/sh").mode(0755),
            E.symlink("app/current", "lib"));

    /** The hash from the digests taken while the tar was read; checked against the one that reads the files. */
    String hash(List<E> entries, List<String> sources, Integer uid, Integer gid, String chmod) throws Exception {
        try (BuildContext c = extract(entries, false, null)) {
            List<ContextSources.SourceMatch> matches = ContextSources.resolve(c.root(), sources, true);
            String known = ContextSources.contentHash(matches, uid, gid, chmod, c);
            assertThat(known).as("with the digests of the tar").isEqualTo(ContextSources.contentHash(matches, uid, gid, chmod));
            return known;
        }
    }

    @Test
    void digestsTakenWhileReadingMatchTheFilesWrittenWhateverTheTarReplaced() throws Exception {
        List<E> entries = List.of(
                E.file("Dockerfile", "FROM a"),
                E.file("a.txt", "first"),
                E.file("a.txt", "second, longer"),   // a later entry replaces the file
                E.file("b", "was a file"),
                E.dir("b"),                            // then a directory
                E.file("b/c.txt", "inside"),
                E.file("d.txt", "linked"),
                E.hardlink("e.txt", "d.txt"),          // a hard link shares the target's digest
                E.file("f.txt", "old"),
                E.hardlink("f.txt", "d.txt"));         // a hard link over a file
        try (BuildContext c = extract(entries, false, null)) {
            Path root = c.root();
            for (String f : List.of("a.txt", "b/c.txt", "d.txt", "e.txt", "f.txt")) {
                Path p = root.resolve(f);
                byte[] content = Files.readAllBytes(p);
                assertThat(c.sha256(p, content.length)).as(f).isEqualTo(java.security.MessageDigest.getInstance("SHA-256").digest(content));
                assertThat(c.sha256(p, content.length + 1)).as("a size that does not match").isNull();
            }
            assertThat(c.sha256(root.resolve("b"), 10)).as("now a directory").isNull();
            assertThat(c.sha256(tmp.resolve("elsewhere.txt"), 5)).as("outside the context").isNull();
            List<ContextSources.SourceMatch> all = ContextSources.resolve(root, List.of("."), true);
            assertThat(ContextSources.contentHash(all, null, null, null, c)).isEqualTo(ContextSources.contentHash(all, null, null, null));
        }
    }

    @Test
    void contentHashIsStableAndSensitive() throws Exception {
        String base = hash(SOURCES, List.of("app"), null, null, null);
        assertThat(base).startsWith("sha256:").hasSize(71);
        // tar order and modification times do not matter
        List<E> reordered = new ArrayList<>(SOURCES);
        Collections.reverse(reordered.subList(1, reordered.size()));
        reordered.replaceAll(e -> e.mtime(Instant.ofEpochSecond(42)));
        List<E> withParents = new ArrayList<>(List.of(E.dir("app/lib"), E.dir("app")));
        withParents.addAll(reordered);
        assertThat(hash(withParents, List.of("app"), null, null, null)).isEqualTo(base);
        assertThat(hash(SOURCES, List.of("app"), null, null, null)).as("again").isEqualTo(base);
        assertThat(hash(SOURCES, List.of("app"), 0, 0, null)).as("no --chown is 0:0").isEqualTo(base);

        // content, mode, link target, a new file, owner and chmod all change it
        assertThat(hash(replace(SOURCES, E.file("app/main.py", "print(2)")), List.of("app"), null, null, null)).isNotEqualTo(base);
        assertThat(hash(replace(SOURCES, E.file("app/run.sh", "#!/bin/sh").mode(0700)), List.of("app"), null, null, null)).isNotEqualTo(base);
        assertThat(hash(replace(SOURCES, E.symlink("app/current", "main.py")), List.of("app"), null, null, null)).isNotEqualTo(base);
        List<E> more = new ArrayList<>(SOURCES);
        more.add(E.file("app/new.txt", ""));
        assertThat(hash(more, List.of("app"), null, null, null)).isNotEqualTo(base);
        assertThat(hash(SOURCES, List.of("app"), 1000, 1000, null)).isNotEqualTo(base);
        assertThat(hash(SOURCES, List.of("app"), null, null, "0755")).isNotEqualTo(base);
        // which sources, and their order
        assertThat(hash(SOURCES, List.of("app/main.py", "app/run.sh"), null, null, null))
                .isNotEqualTo(hash(SOURCES, List.of("app/run.sh", "app/main.py"), null, null, null));
        // files outside the sources do not matter
        List<E> other = new ArrayList<>(SOURCES);
        other.add(E.file("unrelated.txt", "x"));
        assertThat(hash(other, List.of("app"), null, null, null)).isEqualTo(base);
    }

    @Test
    void contextHashFollowsDockerignore() throws Exception {
        List<E> withIgnore = new ArrayList<>(SOURCES);
        withIgnore.add(E.file(".dockerignore", "app/lib\n"));
        String ignored = hash(withIgnore, List.of("app"), null, null, null);
        List<E> changedIgnored = replace(withIgnore, E.file("app/lib/util.py", "changed"));
        assertThat(hash(changedIgnored, List.of("app"), null, null, null)).isEqualTo(ignored);
        assertThat(ignored).isNotEqualTo(hash(SOURCES, List.of("app"), null, null, null));
    }

    static List<E> replace(List<E> entries, E e) {
        List<E> out = new ArrayList<>();
        for (E x : entries) out.add(x.name().equals(e.name()) ? e : x);
        return out;
    }
}
