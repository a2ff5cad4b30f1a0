package io.berth.build;

import io.berth.archive.ScopedPath;
import io.berth.archive.TreeCopy;
import io.berth.sys.Syscalls;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;

/**
 * COPY and ADD into a stage's mounted root, with the classic builder's rules:
 * <ul>
 *   <li>a directory source copies its content, not itself;</li>
 *   <li>a file goes to {@code DEST/NAME} when DEST ends in '/' or is a directory, else to DEST;</li>
 *   <li>several sources need a DEST ending in '/';</li>
 *   <li>files keep their mode and modification time; owner 0:0 or {@code --chown};
 *       {@code --chmod} (octal) replaces the mode; directories created on the way get the
 *       same owner and 0755;</li>
 *   <li>ADD of a local tar (plain, gzip or zstd) extracts it into DEST, keeping its owners.</li>
 * </ul>
 * Every path is resolved in the root's scope; a symlink already at a place being written is
 * replaced, never written through.
 */
final class FileCopier {
    private final Path root;
    private final int uid;
    private final int gid;
    private final Integer chmod;

    FileCopier(Path root, int uid, int gid, Integer chmod) {
        this.root = root;
        this.uid = uid;
        this.gid = gid;
        this.chmod = chmod;
    }

    /** Parses {@code --chmod} (octal, as the classic builder takes it); null stays null. */
    static Integer parseChmod(String chmod) throws BuildException {
        if (chmod == null || chmod.isEmpty()) return null;
        if (!chmod.matches("[0-7]{1,4}")) throw new BuildException("invalid chmod parameter: " + chmod + ": use an octal mode such as 755");
        return Integer.parseInt(chmod, 8);
    }

    /**
     * Copies {@code sources} to {@code dest} (absolute, as written after WORKDIR was applied,
     * a trailing '/' kept).
     *
     * @param extract ADD: unpack local tar archives
     */
    void copy(List<ContextSources.SourceMatch> sources, String dest, boolean extract, String keyword) throws IOException, BuildException {
        boolean destDirSyntax = dest.endsWith("/") || dest.endsWith("/.") || dest.equals("/");
        if (sources.size() > 1 && !destDirSyntax) {
            throw new BuildException("When using " + keyword + " with more than one source file, the destination must be a directory and end with a /");
        }
        Path existing = ScopedPath.resolve(root, dest, true);
        boolean destIsDir = destDirSyntax || Files.isDirectory(existing, LinkOption.NOFOLLOW_LINKS);
        for (ContextSources.SourceMatch s : sources) {
            if (s.directory()) {
                Path dir = mkdirs(dest);
                copyTree(s.path(), dir);
            } else if (!Files.exists(s.path(), LinkOption.NOFOLLOW_LINKS)) {
                throw new BuildException("file not found in build context or excluded by .dockerignore: stat " + s.relPath()
                        + ": file does not exist");
            } else if (extract && isArchive(s.path())) {
                Path dir = mkdirs(dest);
                try (InputStream in = archiveStream(s.path())) {
                    TreeCopy.extract(root, "/" + root.relativize(dir), in, false);
                }
            } else if (destIsDir) {
                Path dir = mkdirs(dest);
                copyEntry(s.path(), dir, baseName(s.relPath(), s.path()));
            } else {
                String trimmed = dest;
                int slash = trimmed.lastIndexOf('/');
                Path parent = mkdirs(slash <= 0 ? "/" : trimmed.substring(0, slash));
                copyEntry(s.path(), parent, trimmed.substring(slash + 1));
            }
        }
    }

    private static String baseName(String rel, Path p) {
        String name = rel.contains("/") ? rel.substring(rel.lastIndexOf('/') + 1) : rel;
        if (name.isEmpty() || name.equals(".")) name = p.getFileName().toString();
        return name;
    }

    /** {@code mkdir -p} in the root's scope; new directories get 0755 and the copy's owner. */
    private Path mkdirs(String path) throws IOException {
        List<String> parts = new ArrayList<>();
        for (String c : path.split("/")) {
            if (!c.isEmpty() && !c.equals(".")) parts.add(c);
        }
        StringBuilder sofar = new StringBuilder();
        Path current = root;
        for (String c : parts) {
            sofar.append('/').append(c);
            Path p = ScopedPath.resolve(root, sofar.toString(), true);
            if (!Files.exists(p, LinkOption.NOFOLLOW_LINKS)) {
                Files.createDirectory(p);
                Syscalls.chmod(p, 0755);
                Syscalls.lchown(p, uid, gid);
            } else if (!Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("cannot copy to " + sofar + ": it exists and is not a directory");
            }
            current = p;
        }
        return current;
    }

    /** Copies a file, symlink or directory {@code src} to {@code dir/name}. */
    private void copyEntry(Path src, Path dir, String name) throws IOException {
        Path target = dir.resolve(name);
        var a = Files.readAttributes(src, "unix:mode,lastModifiedTime", LinkOption.NOFOLLOW_LINKS);
        int mode = ((Number) a.get("mode")).intValue();
        FileTime mtime = (FileTime) a.get("lastModifiedTime");
        boolean existsAsDir = Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS);
        if (Files.isSymbolicLink(src)) {
            removeNonDir(target, existsAsDir);
            Files.createSymbolicLink(target, Files.readSymbolicLink(src));
            Syscalls.lchown(target, uid, gid);
            Syscalls.utimensat(target, null, mtime.toInstant());
        } else if (Files.isDirectory(src, LinkOption.NOFOLLOW_LINKS)) {
            if (!existsAsDir) {
                if (Files.exists(target, LinkOption.NOFOLLOW_LINKS)) Files.delete(target);
                Files.createDirectory(target);
            }
            copyTree(src, target);
            finish(target, mode, mtime);
        } else if (Files.isRegularFile(src, LinkOption.NOFOLLOW_LINKS)) {
            if (existsAsDir) throw new IOException("cannot copy file " + src.getFileName() + " over the directory " + "/" + root.relativize(target));
            Path temp = dir.resolve(".berth-copy-" + name);
            Files.copy(src, temp, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
            Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            finish(target, mode, mtime);
        }
        // devices, FIFOs and sockets are not copied
    }

    private static void removeNonDir(Path target, boolean existsAsDir) throws IOException {
        if (existsAsDir) throw new IOException("cannot replace the directory " + target.getFileName() + " with a symlink");
        Files.deleteIfExists(target);
    }

    private void finish(Path target, int mode, FileTime mtime) throws IOException {
        Syscalls.lchown(target, uid, gid);
        Syscalls.chmod(target, chmod != null ? chmod : mode & 07777);
        Syscalls.utimensat(target, null, mtime.toInstant());
    }

    /** Copies the content of directory {@code src} into directory {@code dest}. */
    private void copyTree(Path src, Path dest) throws IOException {
        List<Path> children = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(src)) {
            for (Path p : ds) children.add(p);
        }
        children.sort(null);
        for (Path c : children) copyEntry(c, dest, c.getFileName().toString());
    }

    // ---- archives ---------------------------------------------------------------------------

    /** A tar, or a gzip or zstd stream holding one (ustar magic at offset 257 once decompressed). */
    static boolean isArchive(Path file) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(6);
        }
        if (head.length >= 3 && head[0] == 'B' && head[1] == 'Z' && head[2] == 'h') return refuse(file, "bzip2");
        if (head.length >= 6 && (head[0] & 0xff) == 0xfd && head[1] == '7' && head[2] == 'z' && head[3] == 'X') return refuse(file, "xz");
        try (InputStream in = archiveStream(file)) {
            byte[] block = in.readNBytes(512);
            if (block.length < 263) return false;
            return block[257] == 'u' && block[258] == 's' && block[259] == 't' && block[260] == 'a' && block[261] == 'r';
        } catch (IOException e) {
            return false; // not decompressible: a plain file
        }
    }

    private static boolean refuse(Path file, String kind) throws IOException {
        throw new IOException("ADD of " + file.getFileName() + ": " + kind + "-compressed archives are not supported; "
                + "use a plain, gzip or zstd tar, or COPY to keep the file as it is");
    }

    private static InputStream archiveStream(Path file) throws IOException {
        BufferedInputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16);
        in.mark(4);
        int b0 = in.read();
        int b1 = in.read();
        in.reset();
        if (b0 == 0x1f && b1 == 0x8b) return new GZIPInputStream(in, 1 << 16);
        return io.berth.snapshot.Decompression.open(in);
    }
}
