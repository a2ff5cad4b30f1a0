package io.berth.snapshot;

import io.berth.errdefs.ErrorKind;
import io.berth.sys.AtomicFiles;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Overlayfs snapshots with containerd's verbs: {@link #prepare} a writable snapshot on a
 * committed parent, {@link #commit} it into a named read-only one, {@link #view} a
 * read-only one, {@link #remove}. The verbs return the mounts to make; they make none.
 *
 * <pre>
 * ROOT/snapshots/&lt;id&gt;/snapshot.json   key, parent, kind (written atomically, last)
 * ROOT/snapshots/&lt;id&gt;/diff            the layer's files (overlay upperdir while active)
 * ROOT/snapshots/&lt;id&gt;/work            overlay workdir (active snapshots only)
 * </pre>
 *
 * Ids are small integers so that overlay's lowerdir list stays short. A snapshot exists
 * once its record is written; directories without one are leftovers of a crash and are
 * removed when the snapshotter opens.
 */
public final class Snapshotter {
    private static final Logger LOG = LoggerFactory.getLogger(Snapshotter.class);
    private static final String RECORD = "snapshot.json";
    private static final JsonMapper JSON = JsonMapper.builder().build();

    public enum Kind { ACTIVE, VIEW, COMMITTED }

    /** What a snapshot is. {@code parent} is a committed snapshot's key, or null. */
    public record Info(String key, String parent, Kind kind, String id, Instant created) {}

    /** A committed layer applied by {@link #applyLayer}. */
    public record Applied(Info info, LayerUnpacker.Result layer) {}

    private final Path dir;
    private final Map<String, Info> byKey = new HashMap<>();
    private long lastId;

    /** Opens (creating) the snapshots under {@code root}/snapshots and removes crash leftovers. */
    public Snapshotter(Path root) throws IOException {
        this.dir = root.toAbsolutePath().normalize().resolve("snapshots");
        io.berth.sys.PrivateFiles.createDirectories(dir);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit) || name.isEmpty()) {
                    if (name.startsWith(".")) io.berth.sys.FileTrees.deleteTree(p); // interrupted unpack or removal
                    continue;
                }
                lastId = Math.max(lastId, Long.parseLong(name));
                Path rec = p.resolve(RECORD);
                if (!Files.exists(rec)) {
                    LOG.warn("removing snapshot directory {} without a record (left by a crash)", p);
                    io.berth.sys.FileTrees.deleteTree(p);
                    continue;
                }
                Info info = JSON.readValue(Files.readAllBytes(rec), Info.class);
                byKey.put(info.key(), info);
            }
        }
    }

    /** The directory that holds the snapshots. */
    public Path directory() {
        return dir;
    }

    /** A new writable snapshot on {@code parent} (a committed key, or null for an empty base). */
    public synchronized List<Mount> prepare(String key, String parent) throws IOException {
        Info info = create(key, parent, Kind.ACTIVE);
        return mounts(info);
    }

    /** A new read-only view of {@code parent} (or of nothing). */
    public synchronized List<Mount> view(String key, String parent) throws IOException {
        Info info = create(key, parent, Kind.VIEW);
        return mounts(info);
    }

    /** The mounts of an active snapshot or a view. */
    public synchronized List<Mount> mounts(String key) throws IOException {
        Info info = get(key);
        if (info.kind() == Kind.COMMITTED) {
            throw new SnapshotException(ErrorKind.FAILED_PRECONDITION, "snapshot " + key + " is committed; prepare or view a snapshot on it to mount it");
        }
        return mounts(info);
    }

    /** Turns the active snapshot {@code key} into the committed, read-only snapshot {@code name}. */
    public synchronized Info commit(String name, String key) throws IOException {
        Info active = get(key);
        if (active.kind() != Kind.ACTIVE) {
            throw new SnapshotException(ErrorKind.FAILED_PRECONDITION, "cannot commit snapshot " + key + ": it is " + kindName(active) + ", not active");
        }
        if (byKey.containsKey(name)) throw new SnapshotException(ErrorKind.ALREADY_EXISTS, "cannot commit " + key + " as " + name + ": snapshot " + name + " exists");
        Info committed = new Info(name, active.parent(), Kind.COMMITTED, active.id(), Instant.now());
        writeRecord(committed);
        byKey.remove(key);
        byKey.put(name, committed);
        io.berth.sys.FileTrees.deleteTree(snapshotDir(committed).resolve("work"));
        return committed;
    }

    /** Removes a snapshot; refuses one that other snapshots stand on. The caller unmounts it first. */
    public void remove(String key) throws IOException {
        Path doomed;
        synchronized (this) {
            Info info = get(key);
            List<String> children = byKey.values().stream().filter(i -> key.equals(i.parent())).map(Info::key).sorted().toList();
            if (!children.isEmpty()) {
                throw new SnapshotException(ErrorKind.FAILED_PRECONDITION, "cannot remove snapshot " + key + ": " + children.size()
                        + " snapshot(s) stand on it (" + String.join(", ", children) + "); remove them first");
            }
            Path from = snapshotDir(info);
            doomed = dir.resolve(".removing-" + info.id());
            Files.move(from, doomed, StandardCopyOption.ATOMIC_MOVE);
            byKey.remove(key);
        }
        // Outside the lock: removals side by side (rm -f of many) share the journal's commit
        // instead of queueing one flush each behind the lock, and nothing else waits on it.
        AtomicFiles.syncDirectory(dir);
        io.berth.sys.FileTrees.deleteLater(doomed);
    }

    public synchronized Info stat(String key) throws IOException {
        return get(key);
    }

    public synchronized List<Info> list() {
        return byKey.values().stream().sorted((a, b) -> Long.compare(Long.parseLong(a.id()), Long.parseLong(b.id()))).toList();
    }

    /** The files of a snapshot: an active snapshot's upper directory, a committed one's layer. */
    public synchronized Path diffDir(String key) throws IOException {
        return snapshotDir(get(key)).resolve("diff");
    }

    /**
     * Unpacks a layer blob (tar, tar+gzip) straight into a new committed snapshot {@code name}
     * on {@code parent}: all of it or nothing.
     */
    public Applied applyLayer(String name, String parent, InputStream blob) throws IOException {
        Path sdir;
        String id;
        synchronized (this) {
            if (byKey.containsKey(name)) throw new SnapshotException(ErrorKind.ALREADY_EXISTS, "snapshot " + name + " exists");
            if (parent != null) requireCommitted(parent, name);
            id = Long.toString(++lastId);
            sdir = dir.resolve(id);
            io.berth.sys.PrivateFiles.createDirectory(sdir);
        }
        boolean ok = false;
        try {
            LayerUnpacker.Result r = LayerUnpacker.unpack(blob, sdir.resolve("diff"));
            Info info = new Info(name, parent, Kind.COMMITTED, id, Instant.now());
            synchronized (this) {
                if (byKey.containsKey(name)) throw new SnapshotException(ErrorKind.ALREADY_EXISTS, "snapshot " + name + " exists");
                if (parent != null) requireCommitted(parent, name);
                writeRecord(info);
                byKey.put(name, info);
            }
            ok = true;
            return new Applied(info, r);
        } finally {
            if (!ok) io.berth.sys.FileTrees.deleteTree(sdir);
        }
    }

    // ---- internals ----------------------------------------------------------------------

    private Info create(String key, String parent, Kind kind) throws IOException {
        if (key == null || key.isEmpty()) throw new IllegalArgumentException("snapshot key is empty");
        if (byKey.containsKey(key)) throw new SnapshotException(ErrorKind.ALREADY_EXISTS, "snapshot " + key + " exists");
        if (parent != null) requireCommitted(parent, key);
        String id = Long.toString(++lastId);
        Path sdir = dir.resolve(id);
        io.berth.sys.PrivateFiles.createDirectory(sdir);
        boolean ok = false;
        try {
            Files.createDirectory(sdir.resolve("diff"));
            if (kind == Kind.ACTIVE) Files.createDirectory(sdir.resolve("work"));
            Info info = new Info(key, parent, kind, id, Instant.now());
            writeRecord(info);
            byKey.put(key, info);
            ok = true;
            return info;
        } finally {
            if (!ok) io.berth.sys.FileTrees.deleteTree(sdir);
        }
    }

    private void requireCommitted(String parent, String child) throws IOException {
        Info p = byKey.get(parent);
        if (p == null) throw new SnapshotException(ErrorKind.NOT_FOUND, "cannot create snapshot " + child + ": parent " + parent + " does not exist");
        if (p.kind() != Kind.COMMITTED) {
            throw new SnapshotException(ErrorKind.FAILED_PRECONDITION, "cannot create snapshot " + child + " on " + parent + ": the parent is "
                    + kindName(p) + ", not committed");
        }
    }

    private List<Mount> mounts(Info info) throws IOException {
        List<String> lowers = new ArrayList<>();
        for (String k = info.parent(); k != null; ) {
            Info p = byKey.get(k);
            if (p == null) throw new SnapshotException(ErrorKind.NOT_FOUND, "snapshot " + info.key() + ": ancestor " + k + " is missing");
            lowers.add(snapshotDir(p).resolve("diff").toString()); // newest first
            k = p.parent();
        }
        Path sdir = snapshotDir(info);
        if (info.kind() == Kind.ACTIVE) {
            if (lowers.isEmpty()) return List.of(new Mount("bind", sdir.resolve("diff").toString(), List.of("rbind", "rw")));
            return List.of(new Mount("overlay", "overlay", List.of(
                    "lowerdir=" + String.join(":", lowers),
                    "upperdir=" + sdir.resolve("diff"),
                    "workdir=" + sdir.resolve("work"))));
        }
        // a view: no upper; overlay wants at least two lower layers without one
        if (lowers.isEmpty()) return List.of(new Mount("bind", sdir.resolve("diff").toString(), List.of("rbind", "ro")));
        if (lowers.size() == 1) return List.of(new Mount("bind", lowers.getFirst(), List.of("rbind", "ro")));
        return List.of(new Mount("overlay", "overlay", List.of("lowerdir=" + String.join(":", lowers))));
    }

    private Info get(String key) throws SnapshotException {
        Info info = byKey.get(key);
        if (info == null) throw new SnapshotException(ErrorKind.NOT_FOUND, "snapshot " + key + " does not exist");
        return info;
    }

    private Path snapshotDir(Info info) {
        return dir.resolve(info.id());
    }

    private void writeRecord(Info info) throws IOException {
        AtomicFiles.write(snapshotDir(info).resolve(RECORD), JSON.writeValueAsBytes(info));
    }

    private static String kindName(Info i) {
        return i.kind().name().toLowerCase(java.util.Locale.ROOT);
    }
}
