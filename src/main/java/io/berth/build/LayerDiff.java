package io.berth.build;

import io.berth.archive.TarEntry;
import io.berth.archive.TarWriter;
import io.berth.sys.Syscalls;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import io.berth.content.Digest;

/**
 * Turns an overlay upper directory (what one build step changed) into a layer tar, as
 * Docker's overlay2 differ does: files, directories, symlinks, hard links (within the layer)
 * and devices as they are, with owners, modes, times and extended attributes (overlay's own
 * {@code trusted.overlay.*} left out); a whiteout (a character device 0/0) becomes an empty
 * file {@code .wh.NAME}; an opaque directory ({@code trusted.overlay.opaque=y}) gets an
 * entry {@code DIR/.wh..wh..opq} after its own. Entries are written in name order, so the
 * same tree gives the same tar.
 */
public final class LayerDiff {
    static final String WHITEOUT_PREFIX = ".wh.";
    static final String OPAQUE = ".wh..wh..opq";
    private static final int S_IFMT = 0170000;
    private static final int S_IFSOCK = 0140000;
    private static final int S_IFLNK = 0120000;
    private static final int S_IFREG = 0100000;
    private static final int S_IFBLK = 0060000;
    private static final int S_IFDIR = 0040000;
    private static final int S_IFCHR = 0020000;
    private static final int S_IFIFO = 0010000;

    private LayerDiff() {}

    /**
     * What a diff held.
     *
     * @param diffId   sha256 of the tar written
     * @param tarBytes bytes of the tar
     * @param size     bytes of file content in it
     * @param entries  entries written (0: the step changed nothing)
     */
    public record Result(Digest diffId, long tarBytes, long size, int entries) {
        public boolean empty() {
            return entries == 0;
        }
    }

    /** True when the upper directory holds nothing: the step changed no file. */
    public static boolean isEmpty(Path upper) throws IOException {
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(upper)) {
            return !ds.iterator().hasNext();
        }
    }

    /** Writes the tar of {@code upper}'s changes to {@code out} (not closed). */
    public static Result write(Path upper, OutputStream out) throws IOException {
        return write(upper, out, true);
    }

    /**
     * Writes the tar; with {@code hash} false the result's DiffID is null (the caller hashes
     * the bytes anyway, as the content store does).
     */
    public static Result write(Path upper, OutputStream out, boolean hash) throws IOException {
        MessageDigest md = hash ? Digest.newSha256() : null;
        Counter counter = new Counter();
        CountingOutput counting = new CountingOutput(hash ? new DigestOutputStream(out, md) : out);
        BufferedOutputStream buffered = new BufferedOutputStream(counting, 1 << 16);
        TarWriter tar = new TarWriter(buffered);
        walk(upper, "", tar, new HashMap<>(), counter);
        tar.finish();
        buffered.flush();
        return new Result(hash ? Digest.ofSha256(md) : null, counting.count, counter.size, counter.entries);
    }

    private static final class Counter {
        long size;
        int entries;
    }

    private static void walk(Path dir, String rel, TarWriter tar, Map<Object, String> links, Counter counter) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) children.add(p);
        }
        children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        for (Path p : children) {
            String name = p.getFileName().toString();
            String path = rel.isEmpty() ? name : rel + "/" + name;
            Map<String, Object> a = Files.readAttributes(p, "unix:mode,uid,gid,size,lastModifiedTime,ino,dev,nlink,rdev",
                    LinkOption.NOFOLLOW_LINKS);
            int mode = ((Number) a.get("mode")).intValue();
            int uid = ((Number) a.get("uid")).intValue();
            int gid = ((Number) a.get("gid")).intValue();
            var mtime = ((FileTime) a.get("lastModifiedTime")).toInstant();
            int type = mode & S_IFMT;
            if (type == S_IFCHR && ((Number) a.get("rdev")).longValue() == 0L) {
                tar.writeEntry(entry(joinName(rel, WHITEOUT_PREFIX + name), TarEntry.Type.FILE, 0, uid, gid, 0, mtime, "", Map.of()),
                        new byte[0]);
                counter.entries++;
                continue;
            }
            Map<String, byte[]> xattrs = xattrs(p, type == S_IFLNK);
            switch (type) {
                case S_IFDIR -> {
                    boolean opaque = isOpaque(p);
                    tar.writeEntry(entry(path, TarEntry.Type.DIR, mode, uid, gid, 0, mtime, "", xattrs), new byte[0]);
                    counter.entries++;
                    if (opaque) {
                        tar.writeEntry(entry(path + "/" + OPAQUE, TarEntry.Type.FILE, mode & 0777, uid, gid, 0, mtime, "", Map.of()),
                                new byte[0]);
                        counter.entries++;
                    }
                    walk(p, path, tar, links, counter);
                }
                case S_IFREG -> {
                    long nlink = ((Number) a.get("nlink")).longValue();
                    Object key = nlink > 1 ? List.of(a.get("dev"), a.get("ino")) : null;
                    if (key != null && links.containsKey(key)) {
                        tar.writeEntry(entry(path, TarEntry.Type.HARDLINK, mode, uid, gid, 0, mtime, links.get(key), xattrs), new byte[0]);
                    } else {
                        if (key != null) links.put(key, path);
                        long size = ((Number) a.get("size")).longValue();
                        try (InputStream in = Files.newInputStream(p, LinkOption.NOFOLLOW_LINKS)) {
                            tar.writeEntry(entry(path, TarEntry.Type.FILE, mode, uid, gid, size, mtime, "", xattrs), in);
                        }
                        counter.size += size;
                    }
                    counter.entries++;
                }
                case S_IFLNK -> {
                    String target = Files.readSymbolicLink(p).toString();
                    tar.writeEntry(entry(path, TarEntry.Type.SYMLINK, 0777, uid, gid, 0, mtime, target, xattrs), new byte[0]);
                    counter.entries++;
                }
                case S_IFCHR, S_IFBLK -> {
                    long rdev = ((Number) a.get("rdev")).longValue();
                    TarEntry e = new TarEntry(path, type == S_IFCHR ? TarEntry.Type.CHAR : TarEntry.Type.BLOCK, mode, uid, gid, "", "", 0,
                            mtime, "", Syscalls.major(rdev), Syscalls.minor(rdev), xattrs);
                    tar.writeEntry(e, new byte[0]);
                    counter.entries++;
                }
                case S_IFIFO -> {
                    tar.writeEntry(entry(path, TarEntry.Type.FIFO, mode, uid, gid, 0, mtime, "", xattrs), new byte[0]);
                    counter.entries++;
                }
                case S_IFSOCK -> { } // sockets are not archived, as Docker's archiver skips them
                default -> { }
            }
        }
    }

    private static String joinName(String rel, String name) {
        return rel.isEmpty() ? name : rel + "/" + name;
    }

    private static TarEntry entry(String name, TarEntry.Type type, int mode, int uid, int gid, long size, java.time.Instant mtime,
                                  String link, Map<String, byte[]> xattrs) {
        return new TarEntry(name, type, mode & 07777, uid, gid, "", "", size, mtime, link, 0, 0, xattrs);
    }

    private static boolean isOpaque(Path dir) throws IOException {
        byte[] v = Syscalls.lgetxattr(dir, "trusted.overlay.opaque");
        return v != null && v.length == 1 && v[0] == 'y';
    }

    /** The file's extended attributes, overlay's own left out. */
    private static Map<String, byte[]> xattrs(Path p, boolean symlink) throws IOException {
        List<String> names;
        try {
            names = Syscalls.llistxattr(p);
        } catch (Syscalls.ErrnoException e) {
            return Map.of(); // a filesystem without xattrs
        }
        if (names.isEmpty()) return Map.of();
        Map<String, byte[]> out = new LinkedHashMap<>();
        for (String n : names.stream().sorted().toList()) {
            if (n.startsWith("trusted.overlay.") || (symlink && !n.startsWith("security."))) continue;
            byte[] v = Syscalls.lgetxattr(p, n);
            if (v != null) out.put(n, v);
        }
        return out;
    }

    private static final class CountingOutput extends java.io.FilterOutputStream {
        long count;

        CountingOutput(OutputStream out) {
            super(out);
        }

        @Override
        public void write(int b) throws IOException {
            out.write(b);
            count++;
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
            count += len;
        }
    }
}
