package io.berth.archive;

import io.berth.errdefs.KindedIOException;
import io.berth.errdefs.Kinded;
import io.berth.errdefs.ErrorKind;
import io.berth.sys.Fd;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies between a container's filesystem and a tar stream, as {@code docker cp} needs:
 * {@link #stat}, {@link #pack} (GET /containers/{id}/archive) and {@link #extract} (PUT).
 * Paths are resolved inside the container's root with openat2 (RESOLVE_IN_ROOT) and every
 * operation is made on descriptors, so a container that swaps a directory for a symlink while
 * a copy runs cannot steer it outside its root.
 */
public final class TreeCopy {
    private TreeCopy() {}

    /** What docker cp's stat header carries. {@code mode} is Go's os.FileMode bits. */
    public record PathStat(String name, long size, long mode, Instant mtime, String linkTarget) {}

    private static final long GO_DIR = 1L << 31;
    private static final long GO_SYMLINK = 1L << 27;
    private static final long GO_DEVICE = 1L << 26;
    private static final long GO_PIPE = 1L << 25;
    private static final long GO_SETUID = 1L << 23;
    private static final long GO_SETGID = 1L << 22;
    private static final long GO_CHARDEV = 1L << 21;
    private static final long GO_STICKY = 1L << 20;

    /** Stats {@code path} inside {@code root} without following a final symlink; 404-style error if missing. */
    public static PathStat stat(Path root, String path) throws IOException {
        try (Fd r = openRoot(root)) {
            return stat(r, path);
        }
    }

    /** The directory {@code root} as a descriptor to resolve in (a host path the daemon trusts). */
    public static Fd openRoot(Path root) throws IOException {
        return Fd.openHost(root, Fd.O_PATH | Fd.O_DIRECTORY);
    }

    /**
     * Stats {@code path} inside the root {@code root}: the parents are resolved in the root's scope,
     * the last component is not followed unless the path ends in "/" or "/." (dockerd's rule).
     */
    public static PathStat stat(Fd root, String path) throws IOException {
        Located at = locate(root, path, Fd.O_PATH);
        try (at) {
            Fd.Stat s = at.stat();
            String link = s.isSymlink() ? readLink(at) : "";
            return new PathStat(basename(path), s.size(), goMode(s.mode()), s.mtime(), link);
        }
    }

    private static String readLink(Located at) throws IOException {
        try {
            return at.parent.readlinkAt(at.leaf);
        } catch (Syscalls.ErrnoException e) {
            throw missing(at.path); // swapped for a non-link meanwhile
        }
    }

    private static long goMode(int unixMode) {
        long mode = unixMode & 0777;
        if ((unixMode & 04000) != 0) mode |= GO_SETUID;
        if ((unixMode & 02000) != 0) mode |= GO_SETGID;
        if ((unixMode & 01000) != 0) mode |= GO_STICKY;
        switch (unixMode & Fd.S_IFMT) {
            case Fd.S_IFDIR -> mode |= GO_DIR;
            case Fd.S_IFLNK -> mode |= GO_SYMLINK;
            case 0010000 -> mode |= GO_PIPE;
            case 0020000 -> mode |= GO_DEVICE | GO_CHARDEV;
            case 0060000 -> mode |= GO_DEVICE;
            default -> { }
        }
        return mode;
    }

    /**
     * Where a container path lands: either a directory opened whole (a path ending in "/" or
     * "/.", or the root itself, which must then be a directory), or a parent directory and one
     * name in it, not yet followed.
     */
    private static final class Located implements AutoCloseable {
        final String path;
        final Fd whole;
        final Fd parent;
        final String leaf;

        Located(String path, Fd whole, Fd parent, String leaf) {
            this.path = path;
            this.whole = whole;
            this.parent = parent;
            this.leaf = leaf;
        }

        Fd.Stat stat() throws IOException {
            if (whole != null) return whole.stat();
            try {
                return parent.statAt(leaf);
            } catch (Syscalls.ErrnoException e) {
                if (e.errno() == Fd.ENOENT) throw missing(path);
                throw e;
            }
        }

        @Override
        public void close() {
            if (whole != null) whole.close();
            if (parent != null) parent.close();
        }
    }

    private static NoSuchFileException missing(String path) {
        return new NoSuchFileException(path, null, "Could not find the file " + path + " in container");
    }

    /** The components of {@code path} made absolute and cleaned lexically, as Go's filepath.Clean; ".." stops at "/". */
    static List<String> components(String path) {
        List<String> parts = new ArrayList<>();
        for (String p : path.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (!parts.isEmpty()) parts.removeLast();
                continue;
            }
            parts.add(p);
        }
        return parts;
    }

    private static String joined(List<String> parts) {
        return "/" + String.join("/", parts);
    }

    /** {@code wholeFlags} open a followed directory (O_PATH for a stat, O_RDONLY to list it). */
    private static Located locate(Fd root, String path, int wholeFlags) throws IOException {
        List<String> parts = components(path);
        boolean followLast = parts.isEmpty() || path.endsWith("/") || path.endsWith("/.");
        try {
            if (followLast) return new Located(path, root.resolve(joined(parts), wholeFlags | Fd.O_DIRECTORY), null, null);
            Fd parent = root.resolve(joined(parts.subList(0, parts.size() - 1)), Fd.O_PATH | Fd.O_DIRECTORY);
            return new Located(path, null, parent, parts.getLast());
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == Fd.ENOTDIR && followLast && !parts.isEmpty()) {
                // the last component exists but is no directory: dockerd's "not a directory"
                try (Fd parent = root.resolve(joined(parts.subList(0, parts.size() - 1)), Fd.O_PATH | Fd.O_DIRECTORY)) {
                    if (parent.statAtOrNull(parts.getLast()) != null) throw new NotADirectoryException("not a directory: " + path);
                } catch (Syscalls.ErrnoException ignored) {
                    // fall through to "not found"
                }
            }
            if (e.errno() == Fd.ENOENT || e.errno() == Fd.ENOTDIR) throw missing(path);
            throw e;
        }
    }

    /**
     * Writes {@code path} (a file, a link or a whole directory tree) as a tar whose top entry
     * is named after the path's last component, as dockerd does; a path ending in {@code /.}
     * makes the directory's contents the top entries' parent ".".
     */
    public static void pack(Path root, String path, OutputStream out) throws IOException {
        try (Fd r = openRoot(root)) {
            pack(r, path, out);
        }
    }

    /**
     * {@link #pack} inside the root {@code root}. Every directory is read through its own
     * descriptor, every child opened relative to it without following a link, and what is
     * opened is checked to be what was stat-ed: a container that swaps a path for a symlink
     * meanwhile gets that symlink copied, never its target.
     */
    public static void pack(Fd root, String path, OutputStream out) throws IOException {
        TarWriter tar = new TarWriter(out);
        Map<String, String> hardLinks = new HashMap<>();
        try (Located at = locate(root, path, Fd.O_RDONLY)) {
            if (at.whole != null) {
                walkDirectory(tar, at.whole, at.whole.stat(), basename(path), hardLinks);
            } else {
                at.stat(); // a missing path is a 404 before any byte is written
                walk(tar, at.parent, at.leaf, basename(path), hardLinks);
            }
        }
        tar.finish();
        out.flush();
    }

    private static void walk(TarWriter tar, Fd parent, String child, String name, Map<String, String> hardLinks) throws IOException {
        Fd.Stat s = parent.statAtOrNull(child);
        if (s == null) return; // gone meanwhile
        if (s.isSymlink()) {
            String target;
            try {
                target = parent.readlinkAt(child);
            } catch (Syscalls.ErrnoException e) {
                return; // no longer a link
            }
            tar.putEntry(entry(name, TarEntry.Type.SYMLINK, s, 0, target));
        } else if (s.isDirectory()) {
            Fd dir;
            try {
                dir = parent.openAt(child, Fd.O_RDONLY | Fd.O_DIRECTORY, 0);
            } catch (Syscalls.ErrnoException e) {
                return; // swapped for a link or a file, or gone: not followed
            }
            try (dir) {
                walkDirectory(tar, dir, dir.stat(), name, hardLinks);
            }
        } else if (s.isRegular()) {
            Fd file;
            try {
                // O_NONBLOCK: a fifo swapped in meanwhile must not hang the copy (it is then skipped)
                file = parent.openAt(child, Fd.O_RDONLY | Fd.O_NONBLOCK | Fd.O_NOCTTY, 0);
            } catch (Syscalls.ErrnoException e) {
                return;
            }
            try (file) {
                Fd.Stat f = file.stat();
                if (!f.isRegular() || !f.sameFile(s)) return;
                String key = f.dev() + ":" + f.ino();
                if (f.nlink() > 1 && hardLinks.containsKey(key)) {
                    tar.putEntry(entry(name, TarEntry.Type.HARDLINK, f, 0, hardLinks.get(key)));
                    return;
                }
                if (f.nlink() > 1) hardLinks.put(key, name);
                tar.putEntry(entry(name, TarEntry.Type.FILE, f, f.size(), ""));
                copyExactly(file.inputStream(), tar.content(), f.size());
            }
        }
        // Sockets, devices and fifos are left out, as dockerd's archiver skips sockets.
    }

    private static void walkDirectory(TarWriter tar, Fd dir, Fd.Stat s, String name, Map<String, String> hardLinks) throws IOException {
        tar.putEntry(entry(name.endsWith("/") ? name : name + "/", TarEntry.Type.DIR, s, 0, ""));
        String prefix = name.equals(".") ? "" : (name.endsWith("/") ? name : name + "/");
        for (String child : dir.list()) walk(tar, dir, child, prefix + child, hardLinks);
    }

    /** Copies {@code size} bytes: a file that shrank meanwhile is padded with zeros, one that grew is cut. */
    private static void copyExactly(InputStream in, OutputStream out, long size) throws IOException {
        byte[] buf = new byte[1 << 16];
        long left = size;
        while (left > 0) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, left));
            if (n < 0) break;
            out.write(buf, 0, n);
            left -= n;
        }
        java.util.Arrays.fill(buf, (byte) 0);
        while (left > 0) {
            int n = (int) Math.min(buf.length, left);
            out.write(buf, 0, n);
            left -= n;
        }
    }

    private static TarEntry entry(String name, TarEntry.Type type, Fd.Stat s, long size, String link) {
        return new TarEntry(name, type, s.permissions(), s.uid(), s.gid(), "", "", size, s.mtime(), link, 0, 0, Map.of());
    }

    /** Extracts a tar into {@code dir} inside {@code root}, in one pass (see {@link #extract(Fd, String, InputStream, boolean, Path)}). */
    public static int extract(Path root, String dir, InputStream tarStream, boolean noOverwriteDirNonDir) throws IOException {
        try (Fd r = openRoot(root)) {
            return extract(r, dir, tarStream, noOverwriteDirNonDir, null);
        }
    }

    /**
     * Extracts a tar into the directory {@code dir} inside {@code root}. Each entry's parent is
     * resolved in the root's scope (openat2 RESOLVE_IN_ROOT), and everything is done on
     * descriptors: files are created O_EXCL|O_NOFOLLOW under a temporary name, owned, moded and
     * timed through their descriptor, then renamed into place; an existing symlink in an entry's
     * place is replaced, never written through. {@code noOverwriteDirNonDir} refuses to replace
     * a directory with a non-directory or the reverse, as dockerd does for docker cp.
     *
     * <p>With a {@code spool} file (under the daemon's private data root), the whole stream is
     * first read into it and checked (every header, every size, every name staying under
     * {@code dir}) before the container is touched: a malformed or truncated tar changes nothing.
     */
    public static int extract(Fd root, String dir, InputStream tarStream, boolean noOverwriteDirNonDir, Path spool) throws IOException {
        String base = joined(components(dir));
        try (Fd target = root.resolve(base, Fd.O_PATH)) {
            if (!target.stat().isDirectory()) throw new NotADirectoryException("extraction point is not a directory");
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() == Fd.ENOENT) throw missing(dir);
            if (e.errno() == Fd.ENOTDIR) throw new NotADirectoryException("extraction point is not a directory");
            throw e;
        }
        if (spool == null) return extractEntries(root, base, new TarReader(tarStream), noOverwriteDirNonDir, false);
        try {
            try (OutputStream copy = Files.newOutputStream(spool, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                TarReader check = new TarReader(new TeeInputStream(tarStream, copy));
                TarEntry e;
                while ((e = check.next()) != null) {
                    entryPath(base, e.name(), true);
                    if (e.type() == TarEntry.Type.HARDLINK) entryPath(base, e.linkName(), true);
                    check.content().transferTo(OutputStream.nullOutputStream());
                }
            }
            try (InputStream in = Files.newInputStream(spool)) {
                return extractEntries(root, base, new TarReader(new java.io.BufferedInputStream(in, 1 << 16)), noOverwriteDirNonDir, true);
            }
        } finally {
            Files.deleteIfExists(spool);
        }
    }

    /** Copies what is read into {@code copy}. */
    private static final class TeeInputStream extends java.io.FilterInputStream {
        private final OutputStream copy;

        TeeInputStream(InputStream in, OutputStream copy) {
            super(in);
            this.copy = copy;
        }

        @Override
        public int read() throws IOException {
            int b = in.read();
            if (b >= 0) copy.write(b);
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = in.read(b, off, len);
            if (n > 0) copy.write(b, off, n);
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            byte[] buf = new byte[(int) Math.min(n, 1 << 16)];
            int r = read(buf, 0, buf.length);
            return Math.max(r, 0);
        }
    }

    /**
     * The entry's components under {@code base}. With {@code strict} (docker cp) a name that
     * climbs out of it is refused, as dockerd refuses it; otherwise ".." stops at the root.
     */
    private static List<String> entryPath(String base, String name, boolean strict) throws IOException {
        if (!strict) return components(base + "/" + name);
        List<String> parts = new ArrayList<>(components(base));
        int floor = parts.size();
        for (String p : name.split("/")) {
            if (p.isEmpty() || p.equals(".")) continue;
            if (p.equals("..")) {
                if (parts.size() == floor) throw new TarFormatException("refusing tar entry " + name + ": it climbs out of " + base);
                parts.removeLast();
                continue;
            }
            parts.add(p);
        }
        return parts;
    }

    private static int extractEntries(Fd root, String base, TarReader tar, boolean noOverwriteDirNonDir, boolean strict) throws IOException {
        List<Map.Entry<String, Instant>> dirTimes = new ArrayList<>();
        List<String> baseParts = components(base);
        int count = 0;
        TarEntry e;
        while ((e = tar.next()) != null) {
            List<String> parts = entryPath(base, e.name(), strict);
            if (parts.isEmpty() || parts.equals(baseParts)) continue; // "." or "./": the extraction point itself // "." or "./": the extraction point itself
            String leaf = parts.getLast();
            List<String> parentParts = parts.subList(0, parts.size() - 1);
            try (Fd parent = directories(root, parentParts)) {
                String shown = joined(parts);
                Fd.Stat existing = parent.statAtOrNull(leaf);
                boolean existsAsDir = existing != null && existing.isDirectory();
                if (noOverwriteDirNonDir && existing != null) {
                    if (existsAsDir && e.type() != TarEntry.Type.DIR) {
                        throw new KindedIOException(ErrorKind.INVALID_ARGUMENT, "cannot overwrite directory \"" + shown + "\" with non-directory \"" + e.name() + "\"");
                    }
                    if (!existsAsDir && e.type() == TarEntry.Type.DIR) {
                        throw new KindedIOException(ErrorKind.INVALID_ARGUMENT, "cannot overwrite non-directory \"" + shown + "\" with directory \"" + e.name() + "\"");
                    }
                }
                switch (e.type()) {
                    case DIR -> {
                        if (!existsAsDir) {
                            if (existing != null) parent.unlinkAt(leaf, false);
                            parent.mkdirAt(leaf, 0700);
                        }
                        try (Fd d = parent.openAt(leaf, Fd.O_RDONLY | Fd.O_DIRECTORY, 0)) {
                            owner(d, e);
                            d.chmod(e.mode());
                        }
                        dirTimes.add(Map.entry(shown, e.mtime()));
                    }
                    case FILE -> {
                        String temp = ".berth-cp-" + Long.toHexString(RANDOM.nextLong());
                        try (Fd f = parent.openAt(temp, Fd.O_WRONLY | Fd.O_CREAT | Fd.O_EXCL, 0600)) {
                            OutputStream content = new java.io.BufferedOutputStream(f.outputStream(), 1 << 16);
                            tar.content().transferTo(content);
                            content.flush();
                            owner(f, e); // before the mode: a chown clears setuid bits
                            f.chmod(e.mode());
                            f.setMtime(e.mtime());
                        } catch (IOException | RuntimeException failure) {
                            try {
                                parent.unlinkAt(temp, false);
                            } catch (IOException ignored) {
                                // the failure above is the one to report
                            }
                            throw failure;
                        }
                        if (existsAsDir) parent.removeTreeAt(leaf);
                        parent.renameAt(temp, parent, leaf);
                    }
                    case SYMLINK -> {
                        if (existing != null) parent.removeTreeAt(leaf);
                        parent.symlinkAt(e.linkName(), leaf);
                        try {
                            parent.chownAt(leaf, e.uid(), e.gid());
                        } catch (IOException ignored) {
                            // owners are kept where the filesystem allows
                        }
                        parent.setMtimeAt(leaf, e.mtime());
                    }
                    case HARDLINK -> {
                        List<String> linkParts = entryPath(base, e.linkName(), strict);
                        if (linkParts.isEmpty() || linkParts.equals(baseParts)) throw new TarFormatException("refusing tar entry " + e.name() + ": hard link to the extraction point");
                        try (Fd linkParent = root.resolve(joined(linkParts.subList(0, linkParts.size() - 1)), Fd.O_PATH | Fd.O_DIRECTORY)) {
                            if (existing != null) parent.removeTreeAt(leaf);
                            parent.linkAt(linkParent, linkParts.getLast(), leaf);
                        }
                    }
                    default -> {
                        continue; // devices and fifos are not copied into containers
                    }
                }
            }
            count++;
        }
        for (int i = dirTimes.size() - 1; i >= 0; i--) {
            List<String> parts = components(dirTimes.get(i).getKey());
            try (Fd parent = root.resolve(joined(parts.subList(0, parts.size() - 1)), Fd.O_PATH | Fd.O_DIRECTORY);
                    Fd d = parent.openAt(parts.getLast(), Fd.O_RDONLY | Fd.O_DIRECTORY, 0)) {
                d.setMtime(dirTimes.get(i).getValue());
            } catch (Syscalls.ErrnoException ignored) {
                // removed or replaced by the container meanwhile: nothing of ours to time
            }
        }
        return count;
    }

    /**
     * Copies what the directory {@code from} holds into the directory {@code to}, descriptor
     * to descriptor: directories, regular files and symlinks with their owners, modes and
     * modification times (devices, fifos and sockets left out, hard links copied apart). Nothing
     * is followed on the source side and everything on the target side is made O_EXCL, so a tree
     * someone else controls cannot steer the copy elsewhere. For a volume's copy-up.
     */
    public static void copyContents(Fd from, Fd to) throws IOException {
        for (String child : from.list()) {
            Fd.Stat s = from.statAtOrNull(child);
            if (s == null) continue;
            if (s.isSymlink()) {
                String target;
                try {
                    target = from.readlinkAt(child);
                } catch (Syscalls.ErrnoException e) {
                    continue;
                }
                to.symlinkAt(target, child);
                try {
                    to.chownAt(child, s.uid(), s.gid());
                } catch (IOException ignored) {
                    // owners are kept where the filesystem allows
                }
                to.setMtimeAt(child, s.mtime());
            } else if (s.isDirectory()) {
                Fd source;
                try {
                    source = from.openAt(child, Fd.O_RDONLY | Fd.O_DIRECTORY, 0);
                } catch (Syscalls.ErrnoException e) {
                    continue;
                }
                try (source) {
                    Fd.Stat d = source.stat();
                    to.mkdirAt(child, 0700);
                    try (Fd target = to.openAt(child, Fd.O_RDONLY | Fd.O_DIRECTORY, 0)) {
                        copyContents(source, target);
                        copyAttributes(d, target);
                    }
                }
            } else if (s.isRegular()) {
                Fd source;
                try {
                    source = from.openAt(child, Fd.O_RDONLY | Fd.O_NONBLOCK | Fd.O_NOCTTY, 0);
                } catch (Syscalls.ErrnoException e) {
                    continue;
                }
                try (source) {
                    Fd.Stat f = source.stat();
                    if (!f.isRegular()) continue;
                    try (Fd target = to.openAt(child, Fd.O_WRONLY | Fd.O_CREAT | Fd.O_EXCL, 0600)) {
                        OutputStream out = new java.io.BufferedOutputStream(target.outputStream(), 1 << 16);
                        source.inputStream().transferTo(out);
                        out.flush();
                        copyAttributes(f, target);
                    }
                }
            }
        }
    }

    /** Owner, then mode (a chown clears setuid bits), then modification time, through the descriptor. */
    public static void copyAttributes(Fd.Stat from, Fd to) throws IOException {
        try {
            to.chown(from.uid(), from.gid());
        } catch (IOException ignored) {
            // owners are kept where the filesystem allows
        }
        to.chmod(from.permissions());
        to.setMtime(from.mtime());
    }

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private static void owner(Fd f, TarEntry e) {
        try {
            f.chown(e.uid(), e.gid());
        } catch (IOException ignored) {
            // owners are kept where the filesystem allows
        }
    }

    /**
     * An O_PATH descriptor of {@code path} inside the root (a final symlink followed in the
     * root's scope), made first when missing: a directory with its parents, or an empty file
     * (created O_EXCL|O_NOFOLLOW) in made parents. For mount points.
     */
    public static Fd makeInRoot(Fd root, String path, boolean directory) throws IOException {
        List<String> parts = components(path);
        try {
            return root.resolve(joined(parts), Fd.O_PATH);
        } catch (Syscalls.ErrnoException e) {
            if (e.errno() != Fd.ENOENT) throw e;
        }
        if (directory || parts.isEmpty()) {
            try (Fd made = directories(root, parts)) {
                return root.resolve(joined(parts), Fd.O_PATH);
            }
        }
        try (Fd parent = directories(root, parts.subList(0, parts.size() - 1))) {
            try {
                parent.openAt(parts.getLast(), Fd.O_WRONLY | Fd.O_CREAT | Fd.O_EXCL, 0644).close();
            } catch (Syscalls.ErrnoException e) {
                if (e.errno() != Fd.EEXIST) throw e;
            }
            return parent.openAt(parts.getLast(), Fd.O_PATH, 0);
        }
    }

    /**
     * The directory {@code parts} inside the root, made where missing (0755, as dockerd makes
     * an entry's missing parents). Resolved in the root's scope; a missing component is made
     * with mkdirat in its opened parent, and a dangling symlink on the way is followed in the
     * root's scope (its target made), as the old path walk did. Nothing leaves the root.
     */
    private static Fd directories(Fd root, List<String> parts) throws IOException {
        List<String> wanted = new ArrayList<>(parts);
        for (int hops = 0; hops < 40; hops++) {
            try {
                return root.resolve(joined(wanted), Fd.O_PATH | Fd.O_DIRECTORY);
            } catch (Syscalls.ErrnoException e) {
                if (e.errno() != Fd.ENOENT) throw e;
            }
            List<String> redirected = makeUntilLink(root, wanted);
            if (redirected == null) return root.resolve(joined(wanted), Fd.O_PATH | Fd.O_DIRECTORY);
            wanted = redirected;
        }
        throw new IOException("too many levels of symbolic links making " + joined(parts));
    }

    /**
     * Makes the missing directories of {@code parts} one by one; null when all exist, or, when a
     * component is a symlink leading nowhere, the path to make instead (its target, then the rest).
     */
    private static List<String> makeUntilLink(Fd root, List<String> parts) throws IOException {
        Fd current = root.resolve("/", Fd.O_PATH | Fd.O_DIRECTORY);
        try {
            for (int i = 0; i < parts.size(); i++) {
                String name = parts.get(i);
                Fd next;
                try {
                    next = root.resolve(joined(parts.subList(0, i + 1)), Fd.O_PATH | Fd.O_DIRECTORY);
                } catch (Syscalls.ErrnoException e) {
                    if (e.errno() != Fd.ENOENT) throw e;
                    Fd.Stat s = current.statAtOrNull(name);
                    if (s != null && s.isSymlink()) {
                        String target = current.readlinkAt(name);
                        String base = target.startsWith("/") ? "" : joined(parts.subList(0, i));
                        List<String> rest = parts.subList(i + 1, parts.size());
                        return components(base + "/" + target + (rest.isEmpty() ? "" : "/" + String.join("/", rest)));
                    }
                    try {
                        current.mkdirAt(name, 0755);
                    } catch (Syscalls.ErrnoException exists) {
                        if (exists.errno() != Fd.EEXIST) throw exists;
                    }
                    next = current.openAt(name, Fd.O_PATH | Fd.O_DIRECTORY, 0);
                }
                current.close();
                current = next;
            }
            return null;
        } finally {
            current.close();
        }
    }

    private static String basename(String path) {
        if (path.endsWith("/.")) return ".";
        String p = path;
        while (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
        int slash = p.lastIndexOf('/');
        String b = slash < 0 ? p : p.substring(slash + 1);
        return b.isEmpty() ? "/" : b;
    }

    /** The target of an extraction exists but is a file. */
    public static final class NotADirectoryException extends IOException implements Kinded {
        public NotADirectoryException(String message) {
            super(message);
        }

        @Override
        public ErrorKind kind() {
            return ErrorKind.INVALID_ARGUMENT;
        }
    }
}
