package io.berth.daemon;

import io.berth.sys.PrivateFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collection;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data root and the exec root are root's alone, as dockerd keeps its own: 0710 at the top,
 * 0700 folders and 0600 files below. A data root made by older code (0755/0644) is tightened
 * once, at start; container roots, layer contents and volume data keep their modes (their
 * parents, 0700, already bar the way).
 */
final class PrivateRoots {
    private static final Logger log = LoggerFactory.getLogger(PrivateRoots.class);
    /** Written once a data root has been tightened through, so later starts skip the walk. */
    static final String MARKER = ".private";
    /** Files bind-mounted into a container, read there by any user. */
    private static final Set<String> CONTAINER_ETC_FILES = Set.of("hosts", "hostname", "resolv.conf");

    private PrivateRoots() {}

    /** Before anything else is made in it: the root 0710. */
    static void lock(Path root) throws IOException {
        PrivateFiles.makeRoot(root);
    }

    /** Every top-level entry now, and the whole of berthd's own state once. */
    static void tightenDataRoot(Path dataRoot) throws IOException {
        Path root = dataRoot.toAbsolutePath().normalize();
        tightenTopLevel(root, Set.of());
        if (Files.exists(root.resolve(MARKER))) return;
        long t0 = System.nanoTime();
        PrivateFiles.tighten(root, dir -> foreign(root.relativize(dir)), file -> kept(root.relativize(file)));
        Files.write(root.resolve(MARKER), "0700 folders, 0600 files\n".getBytes(StandardCharsets.US_ASCII));
        PrivateFiles.chmod(root.resolve(MARKER), PrivateFiles.FILE);
        log.info("data root {} made private to root in {} ms", root, (System.nanoTime() - t0) / 1_000_000);
    }

    /**
     * The exec root's top level: its folders (bundles, namespaces, exit files) 0700, its files
     * 0600, except the folders that lead to an API socket and the sockets themselves.
     */
    static void tightenExecRoot(Path execRoot, Collection<Path> sockets) throws IOException {
        Path root = execRoot.toAbsolutePath().normalize();
        tightenTopLevel(root, sockets.stream().map(s -> s.toAbsolutePath().normalize())
                .filter(s -> s.startsWith(root) && s.getNameCount() > root.getNameCount() + 1)
                .map(s -> root.resolve(s.getName(root.getNameCount()).toString())).collect(java.util.stream.Collectors.toSet()));
    }

    private static void tightenTopLevel(Path root, Set<Path> leave) throws IOException {
        PrivateFiles.makeRoot(root);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                if (leave.contains(p)) continue;
                BasicFileAttributes a = Files.readAttributes(p, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                if (a.isDirectory()) PrivateFiles.chmod(p, PrivateFiles.DIR);
                else if (a.isRegularFile()) PrivateFiles.chmod(p, PrivateFiles.FILE);
            }
        }
    }

    /** Folders whose contents belong to containers and images, not to berthd: never entered. */
    static boolean foreign(Path rel) {
        int n = rel.getNameCount();
        return switch (rel.getName(0).toString()) {
            case "snapshots", "containers", "volumes" -> n >= 3; // <id>/{diff,work,merged}, <id>/rootfs, <name>/_data
            case "build" -> n >= 2;                                 // build contexts and their mounts
            default -> false;
        };
    }

    static boolean kept(Path rel) {
        return rel.getNameCount() == 3 && rel.getName(0).toString().equals("containers")
                && CONTAINER_ETC_FILES.contains(rel.getFileName().toString());
    }
}
