package io.berth.sys;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Files and folders that are root's alone (DESIGN.md: 0710 at the top of a root, 0700 below,
 * 0600 files): made that way, and old trees tightened without following a symlink or
 * crossing into a mount.
 */
public final class PrivateFiles {
    public static final Set<PosixFilePermission> TOP = PosixFilePermissions.fromString("rwx--x---");
    public static final Set<PosixFilePermission> DIR = PosixFilePermissions.fromString("rwx------");
    public static final Set<PosixFilePermission> FILE = PosixFilePermissions.fromString("rw-------");
    private static final FileAttribute<Set<PosixFilePermission>> DIR_ATTR = PosixFilePermissions.asFileAttribute(DIR);
    private static final FileAttribute<Set<PosixFilePermission>> FILE_ATTR = PosixFilePermissions.asFileAttribute(FILE);

    private PrivateFiles() {}

    /** {@code mkdir -p} where every folder made is 0700; folders already there are left as they are. */
    public static Path createDirectories(Path dir) throws IOException {
        return Files.createDirectories(dir, DIR_ATTR);
    }

    /** {@code mkdir} of one 0700 folder. */
    public static Path createDirectory(Path dir) throws IOException {
        return Files.createDirectory(dir, DIR_ATTR);
    }

    /** The attribute that creates a file 0600. */
    public static FileAttribute<Set<PosixFilePermission>> fileAttribute() {
        return FILE_ATTR;
    }

    /**
     * Makes {@code root} (and any missing parent, 0700) and sets it 0710: only root, and root's
     * group to pass through, can reach anything below.
     */
    public static void makeRoot(Path root) throws IOException {
        if (!Files.isDirectory(root)) createDirectories(root);
        Files.setPosixFilePermissions(root, TOP);
    }

    /**
     * Tightens a tree below {@code top} (not {@code top} itself): folders 0700, regular files
     * 0600. Symlinks, sockets, fifos and devices are left alone, and so is anything on another
     * filesystem than {@code top} (a mount: a container's root, a namespace file). A folder
     * {@code foreign} names is neither changed nor entered; a file {@code keep} names keeps its mode.
     */
    public static void tighten(Path top, Predicate<Path> foreign, Predicate<Path> keep) throws IOException {
        Object device = device(top);
        if (device == null) return;
        Files.walkFileTree(top, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (dir.equals(top)) return FileVisitResult.CONTINUE;
                if (foreign.test(dir) || !device.equals(device(dir))) return FileVisitResult.SKIP_SUBTREE;
                chmod(dir, DIR);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if (attrs.isRegularFile() && !keep.test(file) && device.equals(device(file))) chmod(file, FILE);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE; // removed meanwhile
                throw e;
            }
        });
    }

    /** Sets the mode of one entry, never through a symlink; one gone meanwhile is fine. */
    public static void chmod(Path p, Set<PosixFilePermission> mode) throws IOException {
        try {
            PosixFileAttributeView view = Files.getFileAttributeView(p, PosixFileAttributeView.class, LinkOption.NOFOLLOW_LINKS);
            if (Files.isSymbolicLink(p)) return;
            if (!view.readAttributes().permissions().equals(mode)) view.setPermissions(mode);
        } catch (NoSuchFileException gone) {
            // removed meanwhile
        }
    }

    private static Object device(Path p) throws IOException {
        try {
            return Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
            return null;
        }
    }
}
