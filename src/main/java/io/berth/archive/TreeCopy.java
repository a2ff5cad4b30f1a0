package io.berth.archive;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Copies between a container's filesystem and a tar stream, as {@code docker cp} needs:
 * {@link #stat}, {@link #pack} (GET /containers/{id}/archive) and {@link #extract} (PUT).
 * Paths are resolved inside the container's root (see {@link ScopedPath}); nothing is read
 * or written outside it.
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
        Path host = ScopedPath.resolve(root, path, false);
        if (!Files.exists(host, LinkOption.NOFOLLOW_LINKS)) throw new NoSuchFileException(path, null, "Could not find the file " + path + " in container");
        PosixFileAttributes a = Files.readAttributes(host, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int unixMode = (Integer) Files.getAttribute(host, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        long mode = unixMode & 0777;
        if ((unixMode & 04000) != 0) mode |= GO_SETUID;
        if ((unixMode & 02000) != 0) mode |= GO_SETGID;
        if ((unixMode & 01000) != 0) mode |= GO_STICKY;
        String link = "";
        if (a.isDirectory()) mode |= GO_DIR;
        else if (a.isSymbolicLink()) {
            mode |= GO_SYMLINK;
            link = Files.readSymbolicLink(host).toString();
        } else if (a.isOther()) {
            int fmt = unixMode & 0170000;
            if (fmt == 0010000) mode |= GO_PIPE;
            else if (fmt == 0020000) mode |= GO_DEVICE | GO_CHARDEV;
            else if (fmt == 0060000) mode |= GO_DEVICE;
        }
        String name = basename(path);
        return new PathStat(name, a.size(), mode, a.lastModifiedTime().toInstant(), link);
    }

    /**
     * Writes {@code path} (a file, a link or a whole directory tree) as a tar whose top entry
     * is named after the path's last component, as dockerd does; a path ending in {@code /.}
     * makes the directory's contents the top entries' parent ".".
     */
    public static void pack(Path root, String path, OutputStream out) throws IOException {
        Path host = ScopedPath.resolve(root, path, path.endsWith("/") || path.endsWith("/."));
        if (!Files.exists(host, LinkOption.NOFOLLOW_LINKS)) throw new NoSuchFileException(path, null, "Could not find the file " + path + " in container");
        TarWriter tar = new TarWriter(out);
        Map<Object, String> hardLinks = new HashMap<>();
        walk(tar, host, basename(path), hardLinks);
        tar.finish();
        out.flush();
    }

    private static void walk(TarWriter tar, Path host, String name, Map<Object, String> hardLinks) throws IOException {
        PosixFileAttributes a = Files.readAttributes(host, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        int unixMode = (Integer) Files.getAttribute(host, "unix:mode", LinkOption.NOFOLLOW_LINKS);
        int uid = (Integer) Files.getAttribute(host, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int gid = (Integer) Files.getAttribute(host, "unix:gid", LinkOption.NOFOLLOW_LINKS);
        Instant mtime = a.lastModifiedTime().toInstant();
        if (a.isDirectory()) {
            tar.putEntry(entry(name.endsWith("/") ? name : name + "/", TarEntry.Type.DIR, unixMode, uid, gid, 0, mtime, ""));
            List<Path> children = new ArrayList<>();
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(host)) {
                ds.forEach(children::add);
            }
            children.sort(null);
            String prefix = name.equals(".") ? "" : (name.endsWith("/") ? name : name + "/");
            for (Path child : children) walk(tar, child, prefix + child.getFileName(), hardLinks);
        } else if (a.isSymbolicLink()) {
            tar.putEntry(entry(name, TarEntry.Type.SYMLINK, unixMode, uid, gid, 0, mtime, Files.readSymbolicLink(host).toString()));
        } else if (a.isRegularFile()) {
            int nlink = (Integer) Files.getAttribute(host, "unix:nlink", LinkOption.NOFOLLOW_LINKS);
            Object key = a.fileKey();
            if (nlink > 1 && key != null && hardLinks.containsKey(key)) {
                tar.putEntry(entry(name, TarEntry.Type.HARDLINK, unixMode, uid, gid, 0, mtime, hardLinks.get(key)));
                return;
            }
            if (nlink > 1 && key != null) hardLinks.put(key, name);
            try (InputStream in = Files.newInputStream(host, LinkOption.NOFOLLOW_LINKS)) {
                tar.writeEntry(entry(name, TarEntry.Type.FILE, unixMode, uid, gid, a.size(), mtime, ""), in);
            }
        }
        // Sockets and devices are left out, as dockerd's archiver skips sockets.
    }

    private static TarEntry entry(String name, TarEntry.Type type, int mode, int uid, int gid, long size, Instant mtime, String link) {
        return new TarEntry(name, type, mode & 07777, uid, gid, "", "", size, mtime, link, 0, 0, Map.of());
    }

    /**
     * Extracts a tar into {@code dir} inside {@code root}. Each entry's parents are resolved in
     * the root's scope, and an existing symlink in the entry's own place is replaced, never
     * written through. {@code noOverwriteDirNonDir} refuses to replace a directory with a
     * non-directory or the reverse, as dockerd does for docker cp.
     */
    public static int extract(Path root, String dir, InputStream tarStream, boolean noOverwriteDirNonDir) throws IOException {
        Path target = ScopedPath.resolve(root, dir, true);
        if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
            if (!Files.exists(target, LinkOption.NOFOLLOW_LINKS)) throw new NoSuchFileException(dir, null, "Could not find the file " + dir + " in container");
            throw new NotADirectoryException("extraction point is not a directory");
        }
        String base = root.relativize(target).toString();
        TarReader tar = new TarReader(tarStream);
        List<Map.Entry<Path, Instant>> dirTimes = new ArrayList<>();
        int count = 0;
        TarEntry e;
        while ((e = tar.next()) != null) {
            String name = e.name();
            while (name.startsWith("/")) name = name.substring(1);
            if (name.isEmpty() || name.equals(".") || name.equals("./")) continue;
            String inContainer = (base.isEmpty() ? "" : base + "/") + name;
            String trimmed = inContainer.endsWith("/") ? inContainer.substring(0, inContainer.length() - 1) : inContainer;
            int slash = trimmed.lastIndexOf('/');
            Path parent = ScopedPath.resolve(root, slash < 0 ? "" : trimmed.substring(0, slash), true);
            String leaf = trimmed.substring(slash + 1);
            if (leaf.equals("..")) throw new IOException("refusing tar entry " + e.name() + ": it names a parent directory");
            Files.createDirectories(parent);
            Path dest = parent.resolve(leaf);
            boolean exists = Files.exists(dest, LinkOption.NOFOLLOW_LINKS);
            boolean existsAsDir = Files.isDirectory(dest, LinkOption.NOFOLLOW_LINKS);
            if (noOverwriteDirNonDir && exists) {
                if (existsAsDir && e.type() != TarEntry.Type.DIR) {
                    throw new IOException("cannot overwrite directory \"" + "/" + trimmed + "\" with non-directory \"" + e.name() + "\"");
                }
                if (!existsAsDir && e.type() == TarEntry.Type.DIR) {
                    throw new IOException("cannot overwrite non-directory \"" + "/" + trimmed + "\" with directory \"" + e.name() + "\"");
                }
            }
            switch (e.type()) {
                case DIR -> {
                    if (!existsAsDir) {
                        if (exists) Files.delete(dest);
                        Files.createDirectory(dest);
                    }
                    dirTimes.add(Map.entry(dest, e.mtime()));
                }
                case FILE -> {
                    if (exists && !existsAsDir) Files.delete(dest);
                    Path temp = parent.resolve("." + leaf + ".berth-cp");
                    Files.copy(tar.content(), temp, StandardCopyOption.REPLACE_EXISTING);
                    Files.move(temp, dest, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                }
                case SYMLINK -> {
                    if (exists && !existsAsDir) Files.delete(dest);
                    Files.createSymbolicLink(dest, Path.of(e.linkName()));
                }
                case HARDLINK -> {
                    Path linkTarget = ScopedPath.resolve(root, (base.isEmpty() ? "" : base + "/") + e.linkName(), false);
                    if (exists && !existsAsDir) Files.delete(dest);
                    Files.createLink(dest, linkTarget);
                }
                default -> {
                    continue; // devices and fifos are not copied into containers
                }
            }
            if (e.type() != TarEntry.Type.SYMLINK) {
                io.berth.sys.Syscalls.chmod(dest, e.mode());
                Files.setLastModifiedTime(dest, FileTime.from(e.mtime()));
            }
            try {
                Files.setAttribute(dest, "unix:uid", e.uid(), LinkOption.NOFOLLOW_LINKS);
                Files.setAttribute(dest, "unix:gid", e.gid(), LinkOption.NOFOLLOW_LINKS);
            } catch (UnsupportedOperationException | IOException ignored) {
                // owners are kept where the filesystem allows
            }
            count++;
        }
        for (int i = dirTimes.size() - 1; i >= 0; i--) Files.setLastModifiedTime(dirTimes.get(i).getKey(), FileTime.from(dirTimes.get(i).getValue()));
        return count;
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
    public static final class NotADirectoryException extends IOException {
        public NotADirectoryException(String message) {
            super(message);
        }
    }
}
