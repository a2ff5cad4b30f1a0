package io.berth.engine;

import io.berth.errdefs.Kinded;
import io.berth.errdefs.ErrorKind;
import io.berth.archive.TreeCopy;
import io.berth.container.Container;
import io.berth.container.ContainerRecord;
import io.berth.container.Operation;
import io.berth.snapshot.Mount;
import io.berth.sys.Fd;
import io.berth.sys.MountTable;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * docker cp's side of the engine: a container's files seen as the container sees them. A
 * running container is reached through {@code /proc/<pid>/root} (its volumes and binds in
 * place); a stopped one has its rootfs mounted, with its volumes and binds on top, for the
 * time of the copy (a start waits meanwhile). That root is opened once as a directory
 * descriptor and every path is resolved inside it with openat2 (RESOLVE_IN_ROOT) and acted on
 * by descriptor ({@link TreeCopy}): nothing outside the container is read or written, even
 * when the container swaps a directory for a symlink meanwhile.
 */
public final class ContainerFiles {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerFiles.class);

    private final ContainerService containers;
    private final Wiring wiring;

    public ContainerFiles(ContainerService containers, Wiring wiring) {
        this.containers = containers;
        this.wiring = wiring;
    }

    /** Names of the spool files of copies into a container, beside its rootfs in its private folder. */
    private static final String SPOOL_PREFIX = "cp-upload-";
    private static final String SPOOL_SUFFIX = ".tar";

    /**
     * Deletes the spool files that copies into containers left when the daemon died (or the
     * disk filled) in the middle: at daemon start, when no copy runs. Returns the bytes freed.
     */
    static long reapSpools(io.berth.container.ContainerStore store) {
        long freed = 0;
        for (io.berth.container.Container c : store.list()) {
            try (java.nio.file.DirectoryStream<Path> ds = java.nio.file.Files.newDirectoryStream(store.directory(c.id()),
                    SPOOL_PREFIX + "*" + SPOOL_SUFFIX)) {
                for (Path p : ds) {
                    long size = java.nio.file.Files.size(p);
                    if (java.nio.file.Files.deleteIfExists(p)) freed += size;
                }
            } catch (IOException e) {
                LOG.debug("cannot reap copy spools of {}: {}", c.id(), e.toString());
            }
        }
        return freed;
    }

    /** A missing path: dockerd's 404 text. */
    public static final class NotFound extends IOException implements Kinded {
        public NotFound(String message) {
            super(message);
        }

        @Override
        public ErrorKind kind() {
            return ErrorKind.NOT_FOUND;
        }
    }

    /** What to do with the container's root, given as a directory descriptor to resolve in. */
    public interface Action<T> {
        T run(Fd root) throws IOException;
    }

    /** Stats {@code path} (a final symlink not followed). */
    public TreeCopy.PathStat stat(String ref, String path) throws IOException {
        Container c = containers.get(ref);
        return withRoot(c, root -> statIn(c, root, path));
    }

    private static TreeCopy.PathStat statIn(Container c, Fd root, String path) throws IOException {
        try {
            TreeCopy.PathStat s = TreeCopy.stat(root, absolute(path));
            if (path.endsWith("/") && (s.mode() & (1L << 31)) == 0) throw new TreeCopy.NotADirectoryException("not a directory: " + path);
            return s;
        } catch (NoSuchFileException e) {
            throw notFound(c, path);
        }
    }

    private static NotFound notFound(Container c, String path) {
        return new NotFound("Could not find the file " + path + " in container " + c.record().plainName());
    }

    /**
     * GET archive: stats the path, hands the stat to {@code head} (which answers the headers),
     * then writes the tar of the path to the stream {@code head} returned.
     */
    public void pack(String ref, String path, java.util.function.Function<TreeCopy.PathStat, OutputStream> head) throws IOException {
        Container c = containers.get(ref);
        withRoot(c, root -> {
            TreeCopy.PathStat stat = statIn(c, root, path);
            OutputStream out = head.apply(stat);
            TreeCopy.pack(root, absolute(path), out);
            return null;
        });
    }

    /**
     * PUT archive: extracts a tar into the directory {@code path}. Refused when the container's
     * rootfs is read-only and the path is not on a writable volume or bind, as dockerd refuses it.
     * The body is spooled into the container's private directory and checked whole before the
     * first file is written, so a malformed tar changes nothing in the container.
     */
    public void extract(String ref, String path, InputStream tar, boolean noOverwriteDirNonDir) throws IOException {
        Container c = containers.get(ref);
        ContainerRecord r = c.record();
        if (r.settings().security().readonlyRootfs() && !onWritableMount(r.id(), absolute(path))) {
            throw new ReadOnly("container rootfs is marked read-only");
        }
        Path spool = containers.rootfsDir(r.id()).resolveSibling(SPOOL_PREFIX + System.nanoTime() + SPOOL_SUFFIX);
        withRoot(c, root -> {
            try {
                TreeCopy.extract(root, absolute(path), tar, noOverwriteDirNonDir, spool);
            } catch (NoSuchFileException e) {
                throw notFound(c, path);
            }
            return null;
        });
    }

    /** The container's rootfs is read-only here: dockerd's refusal. */
    public static final class ReadOnly extends IOException implements Kinded {
        public ReadOnly(String message) {
            super(message);
        }

        @Override
        public ErrorKind kind() {
            return ErrorKind.FORBIDDEN;
        }
    }

    private boolean onWritableMount(String id, String path) {
        String best = null;
        boolean rw = false;
        for (MountPoint m : wiring.mounts(id)) {
            String d = m.destination();
            if ((path.equals(d) || path.startsWith(d.endsWith("/") ? d : d + "/")) && (best == null || d.length() > best.length())) {
                best = d;
                rw = m.rw();
            }
        }
        return best != null && rw;
    }

    private static String absolute(String path) {
        return path.startsWith("/") ? path : "/" + path;
    }

    /**
     * The root of a running container, opened once: {@code /proc/PID/root} is a magic link to
     * the directory its process sees as "/", with its volumes and binds mounted in it.
     */
    private static <T> T inProcRoot(ContainerRecord r, Action<T> action) throws IOException {
        try (Fd root = Fd.openHost(Path.of("/proc", Long.toString(r.state().pid()), "root"), Fd.O_PATH | Fd.O_DIRECTORY)) {
            return action.run(root);
        }
    }

    /** Runs {@code action} on the container's root: /proc/PID/root while it runs, else its rootfs mounted for the time being. */
    public <T> T withRoot(Container c, Action<T> action) throws IOException {
        ContainerRecord r = c.record();
        if (r.state().status().hasProcess() && r.state().pid() > 0) return inProcRoot(r, action);
        c.begin(Operation.UPDATE, Duration.ofSeconds(60));
        try {
            r = c.record();
            if (r.state().status().hasProcess() && r.state().pid() > 0) return inProcRoot(r, action);
            Path rootfs = containers.rootfsDir(r.id());
            boolean mountedHere = false;
            List<Fd> binds = new ArrayList<>();
            try {
                if (!MountTable.mountsUnder(rootfs).contains(rootfs.toString())) {
                    Files.createDirectories(rootfs);
                    Mount.mountAll(containers.images().snapshots().mounts(r.snapshotKey()), rootfs);
                    mountedHere = true;
                    List<MountPoint> mounts = new ArrayList<>(wiring.mounts(r.id()));
                    mounts.sort(Comparator.comparingInt(m -> m.destination().length()));
                    try (Fd root = TreeCopy.openRoot(rootfs)) {
                        for (MountPoint m : mounts) {
                            if (m.isTmpfs() || m.source() == null || !Files.exists(Path.of(m.source()))) continue;
                            binds.add(bindInRoot(root, m));
                        }
                    }
                }
                try (Fd root = TreeCopy.openRoot(rootfs)) {
                    return action.run(root);
                }
            } finally {
                for (Fd b : binds.reversed()) {
                    try (b) {
                        Syscalls.umount2(procFd(b), Syscalls.MNT_DETACH);
                    } catch (IOException e) {
                        LOG.warn("cannot unmount {}: {}", b.name(), e.toString());
                    }
                }
                if (mountedHere) Mount.unmount(rootfs);
            }
        } finally {
            c.end(Operation.UPDATE);
        }
    }

    /**
     * Binds a volume or bind source onto its destination in a mounted rootfs: the destination
     * is resolved and made inside the root by descriptor, and the mount is made onto that
     * descriptor ({@code /proc/self/fd/N} of an O_PATH descriptor, the way runc mounts into a
     * rootfs), so a symlink in the image cannot send the mount elsewhere on the host. The
     * descriptor of the new mount comes back, to unmount it by.
     */
    private static Fd bindInRoot(Fd root, MountPoint m) throws IOException {
        boolean directory = Files.isDirectory(Path.of(m.source()));
        try (Fd target = TreeCopy.makeInRoot(root, m.destination(), directory)) {
            Syscalls.mount(m.source(), procFd(target), null, Syscalls.MS_BIND | Syscalls.MS_REC, null);
        }
        Fd mounted = root.resolve(m.destination(), Fd.O_PATH);
        try {
            if (!m.rw()) {
                Syscalls.mount(null, procFd(mounted), null, Syscalls.MS_BIND | Syscalls.MS_REMOUNT | Syscalls.MS_RDONLY, null);
            }
            return mounted;
        } catch (IOException | RuntimeException e) {
            try (mounted) {
                Syscalls.umount2(procFd(mounted), Syscalls.MNT_DETACH);
            }
            throw e;
        }
    }

    private static String procFd(Fd fd) {
        return "/proc/self/fd/" + fd.number();
    }
}
