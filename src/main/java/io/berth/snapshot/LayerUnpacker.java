package io.berth.snapshot;

import io.berth.archive.TarEntry;
import io.berth.archive.TarReader;
import io.berth.content.Digest;
import io.berth.sys.FileTrees;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies one OCI or Docker layer (tar, tar+gzip) to a directory, the layer's {@code diff}
 * for overlayfs. AUFS-style whiteouts become overlay whiteouts: {@code .wh.NAME} a 0/0
 * character device NAME, {@code .wh..wh..opq} the xattr {@code trusted.overlay.opaque=y}.
 *
 * <p>Nothing is written outside the root: a leading '/' is dropped (as Docker does), a
 * name that climbs out with '..' is refused, every parent directory is checked not to be a
 * symlink, nothing is created through a symlink, hard links point only at entries already
 * in the root. A refused layer is an {@link UnsafeLayerException}.
 */
public final class LayerUnpacker {
    private static final Logger LOG = LoggerFactory.getLogger(LayerUnpacker.class);
    private static final String WHITEOUT = ".wh.";
    private static final String OPAQUE = ".wh..wh..opq";
    private static final String WHITEOUT_META = ".wh..wh.";
    private static final int COPY_BUFFER = 1 << 20;

    /**
     * @param diffId         sha256 of the uncompressed tar stream
     * @param tarBytes       size of the uncompressed tar stream
     * @param bytesUnpacked  bytes of file content written
     * @param entries        tar entries applied (whiteouts included)
     */
    public record Result(Digest diffId, long tarBytes, long bytesUnpacked, int entries) {}

    private LayerUnpacker() {}

    /**
     * Unpacks a layer blob (compression detected) into {@code destination}, which must not
     * exist: the layer goes to a temp dir beside it that is renamed into place on success and
     * deleted on failure, so the caller sees all of the layer or nothing.
     */
    public static Result unpack(InputStream blob, Path destination) throws IOException {
        Path dest = destination.toAbsolutePath().normalize();
        if (Files.exists(dest, LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(dest.toString(), null, "cannot unpack a layer into an existing path");
        }
        Path parent = dest.getParent();
        Files.createDirectories(parent);
        Path temp = parent.resolve("." + dest.getFileName() + ".unpack-" + Long.toHexString(ThreadLocalRandom.current().nextLong()));
        Files.createDirectory(temp);
        Syscalls.chmod(temp, 0755);
        boolean ok = false;
        try {
            Result r = unpackInto(Decompression.open(blob), temp);
            Files.move(temp, dest, StandardCopyOption.ATOMIC_MOVE);
            ok = true;
            return r;
        } finally {
            if (!ok) FileTrees.deleteTree(temp);
        }
    }

    /** Applies an uncompressed tar stream to an existing directory (not atomic; the tar is read to its end). */
    public static Result unpackInto(InputStream tar, Path root) throws IOException {
        MessageDigest sha = Digest.newSha256();
        try (TarReader reader = new TarReader(new DigestInputStream(tar, sha))) {
            Applier a = new Applier(root.toAbsolutePath().normalize(), reader);
            for (TarEntry e; (e = reader.next()) != null; ) a.apply(e);
            a.finishDirectories();
            reader.drain();
            return new Result(Digest.ofSha256(sha), reader.offset(), a.bytes, a.count);
        }
    }

    /**
     * Turns a tar member name into a clean relative path: '/' prefixes, '.' and empty
     * components dropped, '..' applied lexically; a name that climbs above the root is
     * refused. The empty string means the root itself.
     */
    static String clean(String name, String what) throws UnsafeLayerException {
        try {
            return io.berth.archive.TarNames.clean(name);
        } catch (io.berth.archive.TarNames.UnsafeNameException e) {
            throw new UnsafeLayerException(what + " \"" + name.replace('\0', '?') + "\" " + e.describe("escapes the layer root"));
        }
    }

    private record DirTime(Path dir, Instant mtime) {}

    private static final class Applier {
        final Path root;
        final TarReader reader;
        final List<DirTime> dirTimes = new ArrayList<>();
        final byte[] buffer = new byte[COPY_BUFFER];
        long bytes;
        int count;

        Applier(Path root, TarReader reader) {
            this.root = root;
            this.reader = reader;
        }

        void apply(TarEntry e) throws IOException {
            count++;
            String rel = clean(e.name(), "layer entry");
            if (rel.isEmpty()) {
                if (e.type() != TarEntry.Type.DIR) {
                    throw new UnsafeLayerException("layer entry \"" + e.name() + "\" names the layer root but is a " + e.type());
                }
                applyMetadata(root, e);
                dirTimes.add(new DirTime(root, e.mtime()));
                return;
            }
            int slash = rel.lastIndexOf('/');
            String parentRel = slash < 0 ? "" : rel.substring(0, slash);
            String base = rel.substring(slash + 1);
            Path parent = safeParent(parentRel, e.name());

            if (base.startsWith(WHITEOUT)) {
                whiteout(parent, base, e);
                return;
            }
            Path target = parent.resolve(base);
            BasicFileAttributes existing = attrs(target);
            if (existing != null && !(existing.isDirectory() && e.type() == TarEntry.Type.DIR)) {
                // a later entry replaces an earlier one, as tar does; a directory only by a directory
                if (existing.isDirectory()) FileTrees.deleteTree(target); else Files.delete(target);
            }
            switch (e.type()) {
                case DIR -> {
                    if (existing == null || !existing.isDirectory()) Files.createDirectory(target);
                    applyMetadata(target, e);
                    dirTimes.add(new DirTime(target, e.mtime()));
                }
                case FILE -> {
                    writeFile(target, e);
                    applyMetadata(target, e);
                    Syscalls.utimensat(target, null, e.mtime());
                }
                case SYMLINK -> {
                    if (e.linkName().isEmpty()) throw new UnsafeLayerException("symlink \"" + e.name() + "\" has an empty target");
                    Files.createSymbolicLink(target, Path.of(e.linkName()));
                    applyOwnerAndXattrs(target, e, true);
                    Syscalls.utimensat(target, null, e.mtime());
                }
                case HARDLINK -> hardlink(target, e);
                case CHAR, BLOCK, FIFO -> {
                    int type = switch (e.type()) {
                        case CHAR -> Syscalls.S_IFCHR;
                        case BLOCK -> Syscalls.S_IFBLK;
                        default -> Syscalls.S_IFIFO;
                    };
                    Syscalls.mknod(target, type | (e.mode() & 0777), Syscalls.makedev(e.devMajor(), e.devMinor()));
                    applyMetadata(target, e);
                    Syscalls.utimensat(target, null, e.mtime());
                }
            }
        }

        /** Resolves the parent directory inside the root, creating missing ones and refusing symlinks on the way. */
        Path safeParent(String parentRel, String entryName) throws IOException {
            Path p = root;
            if (parentRel.isEmpty()) return p;
            for (String c : parentRel.split("/")) {
                p = p.resolve(c);
                BasicFileAttributes a = attrs(p);
                if (a == null) {
                    Files.createDirectory(p);
                    Syscalls.chmod(p, 0755);
                } else if (a.isSymbolicLink()) {
                    throw new UnsafeLayerException("layer entry \"" + entryName + "\" goes through the symlink \""
                            + root.relativize(p) + "\" -> " + Files.readSymbolicLink(p) + "; refusing to follow symlinks while unpacking");
                } else if (!a.isDirectory()) {
                    throw new UnsafeLayerException("layer entry \"" + entryName + "\" needs \"" + root.relativize(p)
                            + "\" to be a directory, but the layer made it a file");
                }
            }
            return p;
        }

        void whiteout(Path parent, String base, TarEntry e) throws IOException {
            if (base.equals(OPAQUE)) {
                Syscalls.lsetxattr(parent, "trusted.overlay.opaque", new byte[] {'y'});
                return;
            }
            if (base.startsWith(WHITEOUT_META)) {
                LOG.debug("skipping AUFS metadata entry {}", e.name());
                return;
            }
            String hidden = base.substring(WHITEOUT.length());
            if (hidden.isEmpty() || hidden.equals(".") || hidden.equals("..")) {
                throw new UnsafeLayerException("whiteout \"" + e.name() + "\" names no file");
            }
            Path target = parent.resolve(hidden);
            BasicFileAttributes a = attrs(target);
            if (a != null) {
                if (a.isDirectory()) FileTrees.deleteTree(target); else Files.delete(target);
            }
            Syscalls.mknod(target, Syscalls.S_IFCHR, Syscalls.makedev(0, 0));
            Syscalls.lchown(target, e.uid(), e.gid());
        }

        void hardlink(Path target, TarEntry e) throws IOException {
            String to = clean(e.linkName(), "hard link target of \"" + e.name() + "\":");
            if (to.isEmpty()) throw new UnsafeLayerException("hard link \"" + e.name() + "\" points at the layer root");
            int slash = to.lastIndexOf('/');
            Path p = root;
            if (slash > 0) {
                for (String c : to.substring(0, slash).split("/")) {
                    p = p.resolve(c);
                    BasicFileAttributes a = attrs(p);
                    if (a != null && a.isSymbolicLink()) {
                        throw new UnsafeLayerException("hard link \"" + e.name() + "\" -> \"" + e.linkName() + "\" goes through the symlink \""
                                + root.relativize(p) + "\"; refusing to follow symlinks while unpacking");
                    }
                    if (a == null || !a.isDirectory()) {
                        throw new UnsafeLayerException("hard link \"" + e.name() + "\" -> \"" + e.linkName()
                                + "\": the target is not an earlier entry of this layer");
                    }
                }
            }
            Path source = p.resolve(to.substring(slash + 1));
            BasicFileAttributes a = attrs(source);
            if (a == null) {
                throw new UnsafeLayerException("hard link \"" + e.name() + "\" -> \"" + e.linkName()
                        + "\": the target is not an earlier entry of this layer");
            }
            if (a.isDirectory()) throw new UnsafeLayerException("hard link \"" + e.name() + "\" points at a directory");
            if (source.equals(target)) return;
            Files.createLink(target, source); // link(2) does not follow a symlink source
        }

        void writeFile(Path target, TarEntry e) throws IOException {
            InputStream in = reader.content();
            try (FileChannel ch = FileChannel.open(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                    LinkOption.NOFOLLOW_LINKS)) {
                long left = e.size();
                while (left > 0) {
                    int n = in.read(buffer, 0, (int) Math.min(buffer.length, left));
                    if (n < 0) throw new IOException("layer entry " + e.name() + " ended early");
                    ByteBuffer bb = ByteBuffer.wrap(buffer, 0, n);
                    while (bb.hasRemaining()) ch.write(bb);
                    left -= n;
                    bytes += n;
                }
            }
        }

        void applyMetadata(Path target, TarEntry e) throws IOException {
            applyOwnerAndXattrs(target, e, false);
        }

        /** Owner first (chown clears setuid and capabilities), then mode, then xattrs. */
        void applyOwnerAndXattrs(Path target, TarEntry e, boolean symlink) throws IOException {
            Syscalls.lchown(target, e.uid(), e.gid());
            if (!symlink) Syscalls.chmod(target, e.mode());
            for (var x : e.xattrs().entrySet()) {
                String name = x.getKey();
                if (name.startsWith("trusted.overlay.")) {
                    LOG.warn("layer entry {}: ignoring xattr {}, which would change what overlayfs shows", e.name(), name);
                    continue;
                }
                try {
                    Syscalls.lsetxattr(target, name, x.getValue());
                } catch (Syscalls.ErrnoException ex) {
                    boolean refused = ex.errno() == Syscalls.EPERM || ex.errno() == Syscalls.ENOTSUP;
                    boolean privileged = name.startsWith("trusted.") || name.startsWith("security.");
                    if (refused && (privileged || symlink)) {
                        LOG.warn("layer entry {}: the kernel refused xattr {}, skipped: {}", e.name(), name, ex.getMessage());
                    } else {
                        throw ex;
                    }
                }
            }
        }

        void finishDirectories() throws IOException {
            for (int i = dirTimes.size() - 1; i >= 0; i--) {
                DirTime d = dirTimes.get(i);
                if (attrs(d.dir()) instanceof BasicFileAttributes a && a.isDirectory()) Syscalls.utimensat(d.dir(), null, d.mtime());
            }
        }

        static BasicFileAttributes attrs(Path p) throws IOException {
            try {
                return Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                return null;
            }
        }
    }

}
