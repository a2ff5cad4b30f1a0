package io.berth.volume;

import io.berth.errdefs.ErrorKind;
import io.berth.sys.FileTrees;
import io.berth.sys.AtomicFiles;
import io.berth.sys.MountTable;
import io.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import tools.jackson.databind.json.JsonMapper;

/**
 * Volumes of the local driver under {@code <data-root>/volumes/<name>/}: a {@code _data}
 * folder (what containers see) and an {@code opts.json} record. Volumes with a {@code type}
 * or {@code device} option (tmpfs, bind, a block device) are mounted on {@code _data} while
 * at least one container uses them, as dockerd's local driver does.
 */
public final class VolumeStore {
    private static final Pattern VALID_NAME = Pattern.compile("[a-zA-Z0-9][a-zA-Z0-9_.-]+");
    private static final Set<String> KNOWN_OPTIONS = Set.of("type", "device", "o", "size");
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What the store keeps of a volume on disk. */
    record Record(String name, String createdAt, Map<String, String> labels, Map<String, String> options, boolean anonymous) {}

    private final Path root;
    private final Map<String, Volume> volumes = new TreeMap<>();
    /** Containers (by ID) using each volume; the container box reports them. */
    private final Map<String, Set<String>> users = new HashMap<>();

    public VolumeStore(Path dataRoot) throws IOException {
        this.root = dataRoot.resolve("volumes");
        io.berth.sys.PrivateFiles.createDirectories(root);
        load();
    }

    private void load() throws IOException {
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(root, Files::isDirectory)) {
            for (Path dir : dirs) {
                Path record = dir.resolve("opts.json");
                if (!Files.exists(record)) {
                    // A create that died before its record was written: nothing refers to it.
                    FileTrees.deleteTree(dir);
                    continue;
                }
                Record r = JSON.readValue(Files.readAllBytes(record), Record.class);
                volumes.put(r.name(), toVolume(r));
                // A mount left by a daemon that died is stale: no container holds it now.
                Path data = dir.resolve("_data");
                if (MountTable.mountsUnder(data).contains(data.toString())) unmountQuietly(data);
            }
        }
    }

    private Volume toVolume(Record r) {
        return new Volume(r.name(), root.resolve(r.name()).resolve("_data"), Instant.parse(r.createdAt()),
                r.labels() == null ? Map.of() : r.labels(), r.options() == null ? Map.of() : r.options(), r.anonymous());
    }

    /**
     * Creates a volume, or returns the existing one of that name (dockerd answers a repeated
     * create with the volume it has). A null or empty name makes an anonymous volume.
     */
    public synchronized Volume create(String name, Map<String, String> labels, Map<String, String> options) throws IOException {
        boolean anonymous = name == null || name.isEmpty();
        if (anonymous) name = randomName();
        if (!VALID_NAME.matcher(name).matches()) {
            throw new VolumeException(ErrorKind.INVALID_ARGUMENT, "create " + name
                    + ": \"" + name + "\" includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed."
                    + " If you intended to pass a host directory, use absolute path");
        }
        Volume existing = volumes.get(name);
        if (existing != null) return existing;
        for (String key : options.keySet()) {
            if (!KNOWN_OPTIONS.contains(key)) {
                throw new VolumeException(ErrorKind.INVALID_ARGUMENT, "create " + name + ": invalid option: \"" + key + "\"");
            }
        }
        if (options.containsKey("type") && !options.containsKey("device")) {
            throw new VolumeException(ErrorKind.INVALID_ARGUMENT, "create " + name + ": missing required option: \"device\"");
        }
        Path dir = root.resolve(name);
        io.berth.sys.PrivateFiles.createDirectories(dir);
        Files.createDirectories(dir.resolve("_data"));
        Record record = new Record(name, Instant.now().toString(), labels, options, anonymous);
        AtomicFiles.write(dir.resolve("opts.json"), JSON.writeValueAsBytes(record));
        Volume v = toVolume(record);
        volumes.put(name, v);
        return v;
    }

    public synchronized Optional<Volume> find(String name) {
        return Optional.ofNullable(volumes.get(name));
    }

    public synchronized Volume get(String name) {
        Volume v = volumes.get(name);
        if (v == null) throw new VolumeException(ErrorKind.NOT_FOUND, "get " + name + ": no such volume");
        return v;
    }

    public synchronized List<Volume> list() {
        return List.copyOf(volumes.values());
    }

    public synchronized Set<String> usersOf(String name) {
        return Set.copyOf(users.getOrDefault(name, Set.of()));
    }

    /**
     * A container starts using the volume: the first user mounts it when it needs a mount.
     * Returns the folder to bind into the container.
     */
    public synchronized Path acquire(String name, String containerId) throws IOException {
        Volume v = get(name);
        Set<String> holders = users.computeIfAbsent(name, k -> new java.util.HashSet<>());
        if (holders.isEmpty() && v.needsMount() && !isMounted(v)) mount(v);
        holders.add(containerId);
        return v.mountpoint();
    }

    /** A container stops using the volume: the last user unmounts it. */
    public synchronized void release(String name, String containerId) {
        Set<String> holders = users.get(name);
        if (holders == null || !holders.remove(containerId)) return;
        if (holders.isEmpty()) {
            users.remove(name);
            Volume v = volumes.get(name);
            if (v != null && v.needsMount()) unmountQuietly(v.mountpoint());
        }
    }

    /** Records that a container refers to the volume without running (a created or stopped container). */
    public synchronized void reference(String name, String containerId) {
        users.computeIfAbsent(name, k -> new java.util.HashSet<>()).add(containerId);
    }

    public synchronized void remove(String name, boolean force) throws IOException {
        Volume v = get(name);
        Set<String> holders = users.getOrDefault(name, Set.of());
        if (!holders.isEmpty() && !force) {
            throw new VolumeException(ErrorKind.CONFLICT, "remove " + name + ": volume is in use - " + holders.stream().sorted().toList());
        }
        if (v.needsMount()) unmountQuietly(v.mountpoint());
        volumes.remove(name);
        users.remove(name);
        Path dir = root.resolve(name);
        // Drop the record first: a crash midway leaves a folder without record, removed at load.
        Files.deleteIfExists(dir.resolve("opts.json"));
        FileTrees.deleteTree(dir);
    }

    /** Removes every volume no container uses and that {@code keep} does not protect; returns them with their sizes. */
    public synchronized Map<String, Long> prune(Function<Volume, Boolean> selected) throws IOException {
        Map<String, Long> removed = new TreeMap<>();
        for (Volume v : List.copyOf(volumes.values())) {
            if (!users.getOrDefault(v.name(), Set.of()).isEmpty() || !selected.apply(v)) continue;
            long size = sizeOf(v);
            remove(v.name(), false);
            removed.put(v.name(), size);
        }
        return removed;
    }

    /** Bytes under the volume's _data, counted without following symlinks. */
    public long sizeOf(Volume v) {
        long[] total = {0};
        try {
            Files.walkFileTree(v.mountpoint(), new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    if (attrs.isRegularFile()) total[0] += attrs.size();
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            return -1;
        }
        return total[0];
    }

    private boolean isMounted(Volume v) {
        return MountTable.mountsUnder(v.mountpoint()).contains(v.mountpoint().toString());
    }

    /** dockerd's local driver: mount -t TYPE -o O DEVICE _data; `o=bind` makes a bind mount. */
    private void mount(Volume v) throws IOException {
        String type = v.options().getOrDefault("type", "");
        String device = v.options().getOrDefault("device", "");
        String o = v.options().getOrDefault("o", "");
        List<String> data = new ArrayList<>();
        long flags = 0;
        for (String opt : o.isEmpty() ? new String[0] : o.split(",")) {
            switch (opt) {
                case "bind" -> flags |= Syscalls.MS_BIND;
                case "rbind" -> flags |= Syscalls.MS_BIND | Syscalls.MS_REC;
                case "ro" -> flags |= Syscalls.MS_RDONLY;
                case "nosuid" -> flags |= Syscalls.MS_NOSUID;
                case "nodev" -> flags |= Syscalls.MS_NODEV;
                case "noexec" -> flags |= Syscalls.MS_NOEXEC;
                default -> data.add(opt);
            }
        }
        if ((flags & Syscalls.MS_BIND) != 0) {
            Path source = Path.of(device);
            if (!Files.isDirectory(source, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException("mounting volume " + v.name() + ": bind source " + device + " is not a directory");
            }
            Syscalls.mount(device, v.mountpoint().toString(), null, flags & (Syscalls.MS_BIND | Syscalls.MS_REC), null);
            if ((flags & Syscalls.MS_RDONLY) != 0) {
                Syscalls.mount(null, v.mountpoint().toString(), null, Syscalls.MS_BIND | Syscalls.MS_REMOUNT | Syscalls.MS_RDONLY, null);
            }
            return;
        }
        Syscalls.mount(device, v.mountpoint().toString(), type.isEmpty() ? null : type, flags, data.isEmpty() ? null : String.join(",", data));
    }

    private static void unmountQuietly(Path mountpoint) {
        try {
            Syscalls.umount2(mountpoint.toString(), Syscalls.MNT_DETACH);
        } catch (IOException ignored) {
            // not mounted
        }
    }

    private static String randomName() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

}
