package io.berth.build;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * COPY/ADD sources in a root directory (the build context, or another stage's file system
 * for {@code COPY --from}): resolving the patterns to files, and the content hash the
 * build cache keys on.
 *
 * <p>Paths never leave the root: symlinks met while resolving a source path are followed
 * as if the root were {@code /} (Docker's FollowSymlinkInScope), so {@code ../../etc} and
 * a link to {@code /etc/passwd} both stay inside. Symlinks beneath a source directory are
 * not followed: they are copied as links.
 */
public final class ContextSources {
    private static final int MAX_LINKS = 255;

    private ContextSources() {}

    /**
     * A source that matched.
     *
     * @param relPath   the path inside the root as matched, '/'-separated ("." for the root)
     * @param path      the file it names, symlinks resolved within the root
     * @param directory whether that is a directory (its content is copied, not itself)
     */
    public record SourceMatch(String relPath, Path path, boolean directory) {}

    /**
     * Resolves COPY/ADD sources (as expanded) against {@code root}. A leading {@code /} or
     * {@code ./} is dropped; with {@code allowWildcards}, {@code * ? [...]} match path names
     * like Go's filepath.Match ({@code *} stays within one directory level). Sources that
     * are URLs are the builder's to fetch and must not be passed here.
     */
    public static List<SourceMatch> resolve(Path root, List<String> sources, boolean allowWildcards)
            throws IOException, BuildException {
        Path r = root.toAbsolutePath().normalize();
        List<SourceMatch> out = new ArrayList<>();
        for (String source : sources) {
            String rel = trimLeading(source);
            if (allowWildcards && hasWildcards(rel)) {
                Glob p = Glob.of(rel);
                for (String candidate : walk(r)) {
                    if (p.matches(candidate)) out.add(match(r, candidate));
                }
            } else {
                Path resolved = resolveInScope(r, rel);
                if (!Files.exists(resolved, LinkOption.NOFOLLOW_LINKS)) {
                    throw new BuildException("file not found in build context or excluded by .dockerignore: stat "
                            + rel + ": file does not exist");
                }
                out.add(match(r, rel));
            }
        }
        if (out.isEmpty()) throw new BuildException("no source files were specified");
        return out;
    }

    private static SourceMatch match(Path root, String rel) throws IOException {
        Path p = resolveInScope(root, rel);
        return new SourceMatch(rel, p, Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS));
    }

    private static String trimLeading(String source) {
        String s = source;
        while (true) {
            if (s.startsWith("./")) s = s.substring(2);
            else if (s.startsWith("/")) s = s.substring(1);
            else break;
        }
        String c = DockerIgnore.cleanPath(s);
        return c.isEmpty() ? "." : c;
    }

    /** True when the path holds an unescaped {@code *}, {@code ?} or {@code [}. */
    public static boolean hasWildcards(String path) {
        for (int i = 0; i < path.length(); i++) {
            char c = path.charAt(i);
            if (c == '\\') {
                i++;
            } else if (c == '*' || c == '?' || c == '[') {
                return true;
            }
        }
        return false;
    }

    /** Every path under root, '/'-separated and sorted, without following symlinks. */
    private static List<String> walk(Path root) throws IOException {
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.walk(root)) {
            s.forEach(p -> {
                if (!p.equals(root)) out.add(root.relativize(p).toString());
            });
        }
        out.sort(null);
        return out;
    }

    /**
     * Resolves a '/'-separated path inside root, following symlinks as if root were
     * {@code /}: the result is always root or beneath it. The last component is followed
     * too; a missing component ends the walk (the result then names a path that does not
     * exist).
     */
    public static Path resolveInScope(Path root, String path) throws IOException {
        Path r = root.toAbsolutePath().normalize();
        ArrayDeque<String> todo = new ArrayDeque<>(components(path));
        List<String> done = new ArrayList<>();
        int links = 0;
        while (!todo.isEmpty()) {
            String c = todo.removeFirst();
            if (c.equals("..")) {
                if (!done.isEmpty()) done.removeLast();
                continue;
            }
            done.add(c);
            Path p = join(r, done);
            BasicFileAttributes a;
            try {
                a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                done.addAll(todo.stream().filter(x -> !x.equals("..")).toList());
                return join(r, done);
            }
            if (a.isSymbolicLink()) {
                if (++links > MAX_LINKS) throw new IOException("too many levels of symbolic links resolving " + path);
                String target = Files.readSymbolicLink(p).toString();
                done.removeLast();
                if (target.startsWith("/")) done.clear();
                List<String> t = components(target);
                for (int i = t.size() - 1; i >= 0; i--) todo.addFirst(t.get(i));
            }
        }
        return join(r, done);
    }

    private static List<String> components(String path) {
        List<String> out = new ArrayList<>();
        for (String c : path.split("/")) {
            if (!c.isEmpty() && !c.equals(".")) out.add(c);
        }
        return out;
    }

    private static Path join(Path root, List<String> parts) {
        Path p = root;
        for (String s : parts) p = p.resolve(s);
        return p;
    }

    /**
     * The build-cache key of COPY/ADD sources: sha256 over, for each source in order, its
     * matched path, then every file beneath it sorted by relative path with type, mode,
     * owner after {@code --chown} (0:0 without), and content (files) or target (symlinks).
     * Modification times, inode numbers and directory listing order play no part.
     *
     * @param uid   the owner the files get ({@code --chown} resolved by the builder), or null for 0
     * @param gid   the group, or null for 0
     * @param chmod {@code --chmod} as given, or null
     * @return {@code sha256:<hex>}
     */
    public static String contentHash(List<SourceMatch> sources, Integer uid, Integer gid, String chmod) throws IOException {
        return contentHash(sources, uid, gid, chmod, KnownDigests.NONE);
    }

    /**
     * The sha256 of files' content already known (hashed while the build context was read),
     * so that {@link #contentHash} need not read them again.
     */
    @FunctionalInterface
    public interface KnownDigests {
        KnownDigests NONE = (path, size) -> null;

        /** The sha256 of the regular file {@code path} of {@code size} bytes, or null when not known. */
        byte[] sha256(Path path, long size);
    }

    /** Like {@link #contentHash(List, Integer, Integer, String)}, taking file digests from {@code known} where it has them. */
    public static String contentHash(List<SourceMatch> sources, Integer uid, Integer gid, String chmod, KnownDigests known) throws IOException {
        MessageDigest md = sha256();
        int u = uid == null ? 0 : uid;
        int g = gid == null ? 0 : gid;
        field(md, "chmod");
        field(md, chmod == null ? "" : chmod);
        for (SourceMatch s : sources) {
            field(md, "source");
            field(md, s.relPath());
            if (!Files.exists(s.path(), LinkOption.NOFOLLOW_LINKS)) {
                field(md, "missing");
                continue;
            }
            List<Path> entries = new ArrayList<>();
            if (s.directory()) {
                try (Stream<Path> w = Files.walk(s.path())) {
                    w.forEach(entries::add);
                }
            } else {
                entries.add(s.path());
            }
            List<String[]> sorted = new ArrayList<>();
            for (Path p : entries) {
                String rel = s.path().relativize(p).toString();
                sorted.add(new String[] {rel.isEmpty() ? "." : rel, p.toString()});
            }
            sorted.sort((a, b) -> Arrays.compare(a[0].getBytes(StandardCharsets.UTF_8), b[0].getBytes(StandardCharsets.UTF_8)));
            for (String[] e : sorted) entry(md, e[0], Path.of(e[1]), u, g, known);
        }
        return "sha256:" + HexFormat.of().formatHex(md.digest());
    }

    private static void entry(MessageDigest md, String rel, Path p, int uid, int gid, KnownDigests known) throws IOException {
        BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int mode = ((Number) Files.getAttribute(p, "unix:mode", LinkOption.NOFOLLOW_LINKS)).intValue() & 07777;
        String type = a.isSymbolicLink() ? "l" : a.isDirectory() ? "d" : a.isRegularFile() ? "f" : "o";
        field(md, type);
        field(md, rel);
        field(md, a.isSymbolicLink() ? "0777" : Integer.toOctalString(mode));
        field(md, uid + ":" + gid);
        switch (type) {
            case "f" -> {
                byte[] digest = known.sha256(p, a.size());
                if (digest == null) {
                    MessageDigest content = sha256();
                    byte[] buf = new byte[1 << 16];
                    try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                        for (int n; (n = in.read(buf)) > 0; ) content.update(buf, 0, n);
                    }
                    digest = content.digest();
                }
                field(md, Long.toString(a.size()));
                field(md, HexFormat.of().formatHex(digest));
            }
            case "l" -> field(md, Files.readSymbolicLink(p).toString());
            default -> { }
        }
    }

    private static void field(MessageDigest md, String s) {
        md.update(s.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
