package io.berth.build;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.sys.FileTrees;
import io.berth.sys.Syscalls;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;

/**
 * The build context of one build, unpacked into a private temp directory.
 *
 * <p>{@link #extract} reads the context tar (plain or gzip) the client sent. Nothing is
 * written outside the directory: names are cleaned, a name that climbs out with '..' is
 * refused, no entry is created through a symlink, hard links point only at earlier
 * regular files of the context. Symlinks are kept as they are (data for COPY, never
 * followed here). Devices and FIFOs are skipped. Modes and modification times are kept,
 * owners are not (COPY gives files 0:0 or {@code --chown}).
 *
 * <p>Then the Dockerfile is read, and {@code .dockerignore} is applied: excluded files are
 * removed, the Dockerfile and {@code .dockerignore} included (the client always sends them,
 * and the Dockerfile is read even when excluded, as Docker does).
 */
public final class BuildContext implements AutoCloseable, ContextSources.KnownDigests {
    public static final String DEFAULT_DOCKERFILE = "Dockerfile";

    private final Path root;
    private final String dockerfileName;
    private final byte[] dockerfile;
    private final DockerIgnore ignore;
    private final List<String> skipped;
    private final Map<String, FileDigest> digests;

    /** A regular file's size and sha256 as the tar gave it. */
    private record FileDigest(long size, byte[] sha256) {}

    private BuildContext(Path root, String dockerfileName, byte[] dockerfile, DockerIgnore ignore, List<String> skipped,
                         Map<String, FileDigest> digests) {
        this.root = root;
        this.dockerfileName = dockerfileName;
        this.dockerfile = dockerfile;
        this.ignore = ignore;
        this.skipped = List.copyOf(skipped);
        this.digests = digests;
    }

    /**
     * Unpacks a context tar into a new directory under {@code parent}, reads the
     * Dockerfile and applies {@code .dockerignore}. On failure nothing is left behind.
     *
     * @param dockerfileName the {@code dockerfile} parameter: a path inside the context;
     *                       null or empty for {@code Dockerfile}
     */
    public static BuildContext extract(InputStream tar, Path parent, String dockerfileName) throws IOException, BuildException {
        Files.createDirectories(parent);
        Path root = Files.createTempDirectory(parent, "context-").toAbsolutePath().normalize();
        boolean ok = false;
        try {
            List<String> skipped = new ArrayList<>();
            Map<String, FileDigest> digests = new HashMap<>();
            unpack(decompress(tar), root, skipped, digests);
            BuildContext c = open(root, dockerfileName, skipped, digests);
            ok = true;
            return c;
        } finally {
            if (!ok) FileTrees.deleteTree(root);
        }
    }

    /**
     * Uses a directory that already holds a context (it is not copied; {@link #close()}
     * deletes it): reads the Dockerfile and applies {@code .dockerignore}.
     */
    public static BuildContext open(Path root, String dockerfileName) throws IOException, BuildException {
        return open(root.toAbsolutePath().normalize(), dockerfileName, List.of(), Map.of());
    }

    private static BuildContext open(Path root, String dockerfileName, List<String> skipped, Map<String, FileDigest> digests)
            throws IOException, BuildException {
        String name = dockerfileName == null || dockerfileName.isEmpty() ? DEFAULT_DOCKERFILE : dockerfileName;
        byte[] content = readDockerfile(root, name);
        DockerIgnore ignore = DockerIgnore.read(root);
        if (!ignore.isEmpty()) prune(root, "", ignore);
        return new BuildContext(root, name, content, ignore, skipped, digests);
    }

    /**
     * The sha256 of a regular file of the context, hashed while the tar was read (the
     * context is private to the build and nothing writes it after), or null for a path
     * outside the context or a size that does not match.
     */
    @Override
    public byte[] sha256(Path path, long size) {
        Path p = path.toAbsolutePath().normalize();
        if (!p.startsWith(root) || p.equals(root)) return null;
        FileDigest d = digests.get(root.relativize(p).toString());
        return d == null || d.size() != size ? null : d.sha256().clone();
    }

    /** The unpacked context, .dockerignore applied. */
    public Path root() {
        return root;
    }

    /** The Dockerfile's bytes, read before .dockerignore was applied. */
    public byte[] dockerfile() {
        return dockerfile.clone();
    }

    public String dockerfileName() {
        return dockerfileName;
    }

    public DockerIgnore ignore() {
        return ignore;
    }

    /** Entries of the tar that were not unpacked (devices, FIFOs), for a note in the output. */
    public List<String> skipped() {
        return skipped;
    }

    /** Deletes the unpacked context. */
    @Override
    public void close() throws IOException {
        FileTrees.deleteTree(root);
    }

    // ---- reading -------------------------------------------------------------------------

    private static InputStream decompress(InputStream in) throws IOException, BuildException {
        BufferedInputStream b = new BufferedInputStream(in, 1 << 16);
        b.mark(8);
        byte[] magic = b.readNBytes(6);
        b.reset();
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            return new BufferedInputStream(new GZIPInputStream(b, 1 << 16), 1 << 16);
        }
        if (magic.length >= 3 && magic[0] == 'B' && magic[1] == 'Z' && magic[2] == 'h') {
            throw new BuildException("the build context is bzip2-compressed, which Berth does not read; send a plain or gzip tar");
        }
        if (magic.length >= 6 && (magic[0] & 0xff) == 0xfd && magic[1] == '7' && magic[2] == 'z' && magic[3] == 'X') {
            throw new BuildException("the build context is xz-compressed, which Berth does not read; send a plain or gzip tar");
        }
        if (magic.length >= 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5 && (magic[2] & 0xff) == 0x2f
                && (magic[3] & 0xff) == 0xfd) {
            throw new BuildException("the build context is zstd-compressed, which Berth does not read; send a plain or gzip tar");
        }
        return b;
    }

    private record DirTime(Path dir, Instant mtime) {}

    private static void unpack(InputStream in, Path root, List<String> skipped, Map<String, FileDigest> digests) throws IOException, BuildException {
        List<DirTime> dirTimes = new ArrayList<>();
        byte[] buf = new byte[1 << 16];
        TarReader reader = new TarReader(in);
        for (TarEntry e; (e = reader.next()) != null; ) {
            String rel = clean(e.name());
            digests.remove(rel);
            if (rel.isEmpty()) {
                if (e.type() == TarEntry.Type.DIR) {
                    Syscalls.chmod(root, e.mode() == 0 ? 0755 : e.mode());
                    continue;
                }
                throw new BuildException("build context entry \"" + e.name() + "\" names the context root but is a " + e.type());
            }
            int slash = rel.lastIndexOf('/');
            Path parent = safeParent(root, slash < 0 ? "" : rel.substring(0, slash), e.name());
            Path target = parent.resolve(rel.substring(slash + 1));
            BasicFileAttributes existing = attrs(target);
            if (existing != null && !(existing.isDirectory() && e.type() == TarEntry.Type.DIR)) {
                if (existing.isDirectory()) FileTrees.deleteTree(target); else Files.delete(target);
            }
            switch (e.type()) {
                case DIR -> {
                    if (existing == null || !existing.isDirectory()) Files.createDirectory(target);
                    Syscalls.chmod(target, e.mode());
                    dirTimes.add(new DirTime(target, e.mtime()));
                }
                case FILE -> {
                    byte[] digest;
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW,
                            StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
                        digest = copy(reader.content(), out, e.size(), e.name(), buf);
                    }
                    digests.put(rel, new FileDigest(e.size(), digest));
                    Syscalls.chmod(target, e.mode());
                    Syscalls.utimensat(target, null, e.mtime());
                }
                case SYMLINK -> {
                    if (e.linkName().isEmpty()) throw new BuildException("symlink \"" + e.name() + "\" in the build context has an empty target");
                    Files.createSymbolicLink(target, Path.of(e.linkName()));
                    Syscalls.utimensat(target, null, e.mtime());
                }
                case HARDLINK -> {
                    String to = hardlink(root, target, e);
                    if (to != null && digests.get(to) instanceof FileDigest d) digests.put(rel, d);
                }
                case CHAR, BLOCK, FIFO -> skipped.add(rel);
            }
        }
        reader.drain();
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            DirTime d = dirTimes.get(i);
            if (attrs(d.dir()) instanceof BasicFileAttributes a && a.isDirectory()) Syscalls.utimensat(d.dir(), null, d.mtime());
        }
    }

    /** Copies {@code size} bytes of an entry to {@code out}; returns their sha256. */
    private static byte[] copy(InputStream content, OutputStream out, long size, String name, byte[] buf) throws IOException, BuildException {
        MessageDigest sha = sha256();
        long left = size;
        while (left > 0) {
            int n = content.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) throw new BuildException("build context entry \"" + name + "\" is cut short");
            out.write(buf, 0, n);
            sha.update(buf, 0, n);
            left -= n;
        }
        return sha.digest();
    }

    /** A tar name as a clean relative path; climbing above the root is refused. */
    static String clean(String name) throws BuildException {
        try {
            return io.berth.archive.TarNames.clean(name);
        } catch (io.berth.archive.TarNames.UnsafeNameException e) {
            throw new BuildException("build context entry \"" + name.replace('\0', '?') + "\" " + e.describe("escapes the context"));
        }
    }

    private static Path safeParent(Path root, String parentRel, String entryName) throws IOException, BuildException {
        Path p = root;
        if (parentRel.isEmpty()) return p;
        for (String c : parentRel.split("/")) {
            p = p.resolve(c);
            BasicFileAttributes a = attrs(p);
            if (a == null) {
                Files.createDirectory(p);
                Syscalls.chmod(p, 0755);
            } else if (a.isSymbolicLink()) {
                throw new BuildException("build context entry \"" + entryName + "\" goes through the symlink \""
                        + root.relativize(p) + "\"; refusing to follow symlinks while unpacking the context");
            } else if (!a.isDirectory()) {
                throw new BuildException("build context entry \"" + entryName + "\" needs \"" + root.relativize(p)
                        + "\" to be a directory, but it is a file");
            }
        }
        return p;
    }

    /** Makes a hard link; returns the cleaned relative path it points at, or null when it is the entry itself. */
    private static String hardlink(Path root, Path target, TarEntry e) throws IOException, BuildException {
        String to = clean(e.linkName());
        String what = "hard link \"" + e.name() + "\" -> \"" + e.linkName() + "\"";
        if (to.isEmpty()) throw new BuildException(what + " points at the context root");
        Path p = root;
        String[] parts = to.split("/");
        for (int i = 0; i < parts.length; i++) {
            p = p.resolve(parts[i]);
            BasicFileAttributes a = attrs(p);
            boolean last = i == parts.length - 1;
            if (a == null || a.isSymbolicLink() || (last ? !a.isRegularFile() : !a.isDirectory())) {
                throw new BuildException(what + ": the target is not an earlier regular file of the context");
            }
        }
        if (p.equals(target)) return null;
        Files.createLink(target, p);
        return to;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] readDockerfile(Path root, String name) throws IOException, BuildException {
        Path p = ContextSources.resolveInScope(root, name);
        if (!Files.isRegularFile(p) && name.equals(DEFAULT_DOCKERFILE)) {
            Path lower = ContextSources.resolveInScope(root, "dockerfile");
            if (Files.isRegularFile(lower)) p = lower;
        }
        if (!Files.isRegularFile(p)) throw new BuildException("Cannot locate specified Dockerfile: " + name);
        return Files.readAllBytes(p);
    }

    /** Removes what .dockerignore excludes beneath {@code dirRel} ("" for the root). */
    private static void prune(Path root, String dirRel, DockerIgnore ignore) throws IOException {
        Path dir = dirRel.isEmpty() ? root : root.resolve(dirRel);
        List<Path> children;
        try (Stream<Path> s = Files.list(dir)) {
            children = s.sorted().toList();
        }
        for (Path child : children) {
            String rel = dirRel.isEmpty() ? child.getFileName().toString() : dirRel + "/" + child.getFileName();
            BasicFileAttributes a = attrs(child);
            if (a == null) continue;
            boolean excluded = ignore.excludes(rel);
            if (a.isDirectory()) {
                if (excluded && ignore.canSkipDirectory(rel)) {
                    FileTrees.deleteTree(child);
                    continue;
                }
                prune(root, rel, ignore);
                if (excluded) {
                    try (Stream<Path> s = Files.list(child)) {
                        if (s.findAny().isEmpty()) Files.delete(child);
                    }
                }
            } else if (excluded) {
                Files.delete(child);
            }
        }
    }

    private static BasicFileAttributes attrs(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

}
