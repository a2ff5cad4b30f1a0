package io.berth.engine;

import io.berth.archive.TreeCopy;
import io.berth.container.ContainerException;
import io.berth.container.HostConfig;
import io.berth.image.ImageConfig;
import io.berth.runtime.ContainerSpec;
import io.berth.sys.Fd;
import io.berth.sys.Syscalls;
import io.berth.volume.Volume;
import io.berth.volume.VolumeException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A container's volumes, binds and tmpfs mounts: resolved and checked at create (named
 * volumes made when missing, anonymous ones for {@code -v /path} and the image's VOLUMEs),
 * held while the container runs (a volume is acquired at start and released at stop, and
 * referenced as long as the container exists so {@code docker volume rm} refuses it), and
 * given up at removal ({@code rm -v} removes the anonymous ones).
 */
final class ContainerMounts {
    private static final Logger LOG = LoggerFactory.getLogger(ContainerMounts.class);
    static final String ANONYMOUS_LABEL = "com.docker.volume.anonymous";
    private static final Set<String> BIND_MODES = Set.of("ro", "rw", "z", "Z", "nocopy", "private", "rprivate", "shared", "rshared",
            "slave", "rslave", "consistent", "cached", "delegated");
    private static final Set<String> PROPAGATIONS = Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");

    private final VolumeService volumes;

    ContainerMounts(VolumeService volumes) {
        this.volumes = volumes;
    }

    // ================================================================ create

    /**
     * Resolves what a create asks into mount points, in dockerd's order of precedence:
     * {@code --volumes-from} first, replaced by binds and {@code --mount} at the same
     * destination, then {@code --tmpfs}, then anonymous volumes for the image's VOLUMEs (and
     * {@code -v /path}) not covered. Makes missing named volumes and the anonymous ones and
     * references them for the container.
     *
     * @param mountsOf the mount points of another container, by name or ID (for --volumes-from)
     */
    List<MountPoint> create(String containerId, ImageConfig.ContainerConfig config, HostConfig host,
                            Function<String, List<MountPoint>> mountsOf) throws IOException {
        Map<String, MountPoint> byDest = new LinkedHashMap<>();
        if (host.volumesFrom() != null) {
            for (String from : host.volumesFrom()) {
                String ref = from;
                String mode = null;
                int colon = from.lastIndexOf(':');
                if (colon > 0) {
                    ref = from.substring(0, colon);
                    mode = from.substring(colon + 1);
                    if (!mode.equals("ro") && !mode.equals("rw")) throw ContainerException.invalid("invalid mode for volumes-from: " + mode);
                }
                for (MountPoint m : mountsOf.apply(ref)) {
                    if (m.isTmpfs()) continue;
                    MountPoint copy = mode == null ? m : m.withRw(mode.equals("rw"), mode);
                    byDest.put(clean(m.destination()), new MountPoint(copy.type(), copy.name(), copy.source(), copy.destination(), copy.mode(),
                            copy.rw(), copy.propagation(), false, true, copy.createHostPath(), List.of(), true));
                }
            }
        }
        Map<String, MountPoint> asked = new LinkedHashMap<>();
        if (host.binds() != null) {
            for (String bind : host.binds()) put(asked, parseBind(bind));
        }
        if (host.mounts() != null) {
            for (HostConfig.MountSpec m : host.mounts()) put(asked, parseMount(m));
        }
        if (host.tmpfs() != null) {
            for (Map.Entry<String, String> t : host.tmpfs().entrySet()) put(asked, parseTmpfs(t.getKey(), t.getValue()));
        }
        byDest.putAll(asked);
        if (config.volumes() != null) {
            for (String dest : config.volumes().keySet()) {
                String d = clean(dest);
                if (!d.startsWith("/")) throw ContainerException.invalid("invalid volume specification: '" + dest + "': the mount path must be absolute");
                if (byDest.containsKey(d)) continue;
                byDest.put(d, new MountPoint("volume", null, null, d, "", true, "", true, false, false, List.of(), true));
            }
        }
        List<MountPoint> out = new ArrayList<>();
        List<String> madeAnonymous = new ArrayList<>();
        try {
            for (MountPoint m : byDest.values()) {
                if (m.isVolume() && m.source() == null) {
                    Volume v;
                    try {
                        v = m.anonymous()
                                ? volumes.create(null, "local", Map.of(ANONYMOUS_LABEL, ""), Map.of())
                                : volumes.create(m.name(), "local", Map.of(), Map.of());
                    } catch (VolumeException e) {
                        throw ContainerException.invalid(e.getMessage());
                    }
                    if (m.anonymous()) madeAnonymous.add(v.name());
                    m = new MountPoint("volume", v.name(), v.mountpoint().toString(), m.destination(), m.mode(), m.rw(), "", m.anonymous(),
                            m.noCopy(), false, List.of(), true);
                }
                out.add(m);
            }
        } catch (IOException | RuntimeException e) {
            for (String name : madeAnonymous) {
                try {
                    volumes.remove(name, true);
                } catch (IOException | RuntimeException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
        for (MountPoint m : out) if (m.isVolume()) volumes.store().reference(m.name(), containerId);
        return out;
    }

    private static void put(Map<String, MountPoint> asked, MountPoint m) {
        String d = clean(m.destination());
        if (asked.containsKey(d)) throw ContainerException.invalid("Duplicate mount point: " + d);
        asked.put(d, m);
    }

    /** One {@code -v} / Binds entry: {@code src:dst[:mode]}, a name or an absolute host path as source. */
    static MountPoint parseBind(String spec) {
        String[] p = spec.split(":", -1);
        if (p.length == 1) {
            String dest = checkDestination(p[0], spec);
            return new MountPoint("volume", null, null, dest, "", true, "", true, false, false, List.of(), true);
        }
        if (p.length > 3 || p[0].isEmpty() || p[1].isEmpty()) throw ContainerException.invalid("invalid volume specification: '" + spec + "'");
        String dest = checkDestination(p[1], spec);
        String mode = p.length == 3 ? p[2] : "";
        boolean rw = true;
        boolean noCopy = false;
        String propagation = null;
        for (String o : mode.isEmpty() ? new String[0] : mode.split(",")) {
            if (!BIND_MODES.contains(o)) throw ContainerException.invalid("invalid volume specification: '" + spec + "': invalid mode: " + mode);
            if (o.equals("ro")) rw = false;
            if (o.equals("nocopy")) noCopy = true;
            if (PROPAGATIONS.contains(o)) propagation = o;
        }
        if (p[0].startsWith("/")) {
            if (noCopy) throw ContainerException.invalid("invalid volume specification: '" + spec + "': invalid mode: " + mode);
            return new MountPoint("bind", null, clean(p[0]), dest, mode, rw, propagation == null ? "rprivate" : propagation, false, false,
                    true, List.of(), true);
        }
        if (propagation != null) {
            throw ContainerException.invalid("invalid volume specification: '" + spec + "': propagation mode is only valid for binds");
        }
        return new MountPoint("volume", p[0], null, dest, mode.isEmpty() ? "z" : mode, rw, "", false, noCopy, false, List.of(), true);
    }

    private static String checkDestination(String dest, String spec) {
        if (!dest.startsWith("/")) {
            throw ContainerException.invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"volume\": invalid mount path: '"
                    + dest + "' mount path must be absolute");
        }
        String d = clean(dest);
        if (d.equals("/")) {
            throw ContainerException.invalid("invalid volume specification: '" + spec + "': invalid mount config for type \"bind\": invalid specification: destination can't be '/'");
        }
        return d;
    }

    /** One {@code --mount}: bind, volume or tmpfs. */
    static MountPoint parseMount(HostConfig.MountSpec m) {
        String type = m.type() == null || m.type().isEmpty() ? "volume" : m.type();
        String prefix = "invalid mount config for type \"" + type + "\": ";
        if (m.target() == null || m.target().isEmpty()) throw ContainerException.invalid(prefix + "field Target must not be empty");
        if (!m.target().startsWith("/")) throw ContainerException.invalid(prefix + "invalid mount path: '" + m.target() + "' mount path must be absolute");
        String dest = clean(m.target());
        boolean rw = !Boolean.TRUE.equals(m.readOnly());
        return switch (type) {
            case "bind" -> {
                if (m.source() == null || m.source().isEmpty()) throw ContainerException.invalid(prefix + "field Source must not be empty");
                if (!m.source().startsWith("/")) throw ContainerException.invalid(prefix + "invalid mount path: '" + m.source() + "' mount path must be absolute");
                if (!Files.exists(Path.of(m.source()))) throw ContainerException.invalid(prefix + "bind source path does not exist: " + m.source());
                String propagation = "rprivate";
                if (m.bindOptions() != null && m.bindOptions().get("Propagation") instanceof String p && !p.isEmpty()) propagation = p;
                boolean recursiveReadOnly = m.bindOptions() != null && Boolean.TRUE.equals(m.bindOptions().get("ReadOnlyForceRecursive"));
                if (recursiveReadOnly && rw) throw ContainerException.invalid(prefix + "option ReadOnlyForceRecursive requires the mount to be read-only");
                if (recursiveReadOnly && !propagation.equals("rprivate")) {
                    throw ContainerException.invalid(prefix + "option ReadOnlyForceRecursive requires propagation to be rprivate");
                }
                yield new MountPoint("bind", null, clean(m.source()), dest, "", rw, propagation, false, false, false, List.of(), true,
                        recursiveReadOnly);
            }
            case "volume" -> {
                boolean anonymous = m.source() == null || m.source().isEmpty();
                yield new MountPoint("volume", anonymous ? null : m.source(), null, dest, "", rw, "", anonymous, false, false, List.of(), true);
            }
            case "tmpfs" -> {
                if (m.source() != null && !m.source().isEmpty()) throw ContainerException.invalid(prefix + "field Source must not be specified");
                List<String> opts = new ArrayList<>(List.of("nosuid", "nodev", "noexec"));
                if (m.tmpfsOptions() != null && m.tmpfsOptions().sizeBytes() != null && m.tmpfsOptions().sizeBytes() > 0) {
                    opts.add("size=" + m.tmpfsOptions().sizeBytes());
                }
                if (m.tmpfsOptions() != null && m.tmpfsOptions().mode() != null && m.tmpfsOptions().mode() != 0) {
                    opts.add("mode=" + Integer.toOctalString(m.tmpfsOptions().mode()));
                }
                if (!rw) opts.add("ro");
                yield new MountPoint("tmpfs", null, "", dest, "", rw, "", false, false, false, opts, true);
            }
            default -> throw ContainerException.invalid("mount type unknown: " + type);
        };
    }

    /** One {@code --tmpfs path[:opts]}: dockerd's defaults (noexec, nosuid, nodev) then the options given. */
    static MountPoint parseTmpfs(String dest, String options) {
        if (!dest.startsWith("/")) throw ContainerException.invalid("invalid tmpfs mount path: '" + dest + "' mount path must be absolute");
        List<String> opts = new ArrayList<>(List.of("noexec", "nosuid", "nodev"));
        boolean rw = true;
        for (String o : options == null || options.isEmpty() ? new String[0] : options.split(",")) {
            switch (o) {
                case "exec" -> opts.remove("noexec");
                case "suid" -> opts.remove("nosuid");
                case "dev" -> opts.remove("nodev");
                case "ro" -> { rw = false; opts.add(o); }
                case "rw" -> { }
                default -> {
                    opts.remove(o);
                    opts.add(o);
                }
            }
        }
        return new MountPoint("tmpfs", null, "", clean(dest), options == null ? "" : options, rw, "", false, false, false, opts, false);
    }

    static String clean(String path) {
        String p = path.replaceAll("/+", "/");
        while (p.length() > 1 && p.endsWith("/")) p = p.substring(0, p.length() - 1);
        return p;
    }

    // ================================================================ start, stop, remove

    /**
     * At start, with the container's rootfs mounted: acquires the volumes (an empty one is
     * first filled from the image's content at its destination, as dockerd copies it), makes
     * missing {@code -v} host folders, and returns the runtime's mounts, parents first.
     */
    List<ContainerSpec.Mount> start(String containerId, List<MountPoint> mounts, Path rootfs) throws IOException {
        List<ContainerSpec.Mount> out = new ArrayList<>();
        List<String> acquired = new ArrayList<>();
        try {
            for (MountPoint m : mounts) {
                switch (m.type()) {
                    case "volume" -> {
                        Path data;
                        try {
                            data = volumes.store().acquire(m.name(), containerId);
                        } catch (VolumeException e) {
                            throw ContainerException.invalid("error while mounting volume '" + m.name() + "': " + e.getMessage());
                        }
                        acquired.add(m.name());
                        if (!m.noCopy()) populate(rootfs, m.destination(), data);
                        out.add(bind(data, m.destination(), m.rw(), "rprivate"));
                    }
                    case "bind" -> {
                        Path source = Path.of(m.source());
                        if (!Files.exists(source)) {
                            if (!m.createHostPath()) {
                                throw ContainerException.invalid("invalid mount config for type \"bind\": bind source path does not exist: " + m.source());
                            }
                            try {
                                Files.createDirectories(source);
                            } catch (IOException e) {
                                throw ContainerException.invalid("error while creating mount source path '" + m.source() + "': " + e.getMessage());
                            }
                        }
                        ContainerSpec.Mount b = bind(source, m.destination(), m.rw(), m.propagation().isEmpty() ? "rprivate" : m.propagation());
                        if (m.recursiveReadOnly()) b = b.withOption("rro"); // submounts read-only too (mount_setattr)
                        out.add(b);
                    }
                    case "tmpfs" -> out.add(ContainerSpec.Mount.tmpfs(m.destination(), m.tmpfsOptions()));
                    default -> throw ContainerException.invalid("mount type unknown: " + m.type());
                }
            }
        } catch (IOException | RuntimeException e) {
            for (String name : acquired) volumes.store().release(name, containerId);
            for (String name : acquired) volumes.store().reference(name, containerId);
            throw e;
        }
        out.sort(Comparator.comparingInt(m -> depth(m.destination())));
        return out;
    }

    private static ContainerSpec.Mount bind(Path source, String dest, boolean rw, String propagation) {
        List<String> opts = new ArrayList<>(List.of("rbind", propagation));
        if (!rw) opts.add("ro");
        return new ContainerSpec.Mount(dest, "bind", source.toString(), opts);
    }

    private static int depth(String path) {
        return (int) path.chars().filter(ch -> ch == '/').count();
    }

    /** The container stopped: releases its volumes (the last user unmounts one that needs a mount) and keeps the references. */
    void stopped(String containerId, List<MountPoint> mounts) {
        for (MountPoint m : mounts) {
            if (!m.isVolume()) continue;
            volumes.store().release(m.name(), containerId);
            volumes.store().reference(m.name(), containerId);
        }
    }

    /** The container is removed: drops its references; with {@code removeAnonymous}, removes its anonymous volumes no one else uses. */
    void removed(String containerId, List<MountPoint> mounts, boolean removeAnonymous) {
        for (MountPoint m : mounts) {
            if (!m.isVolume()) continue;
            volumes.store().release(m.name(), containerId);
            if (removeAnonymous && m.anonymous() && volumes.store().usersOf(m.name()).isEmpty()) {
                try {
                    volumes.remove(m.name(), false);
                } catch (IOException | RuntimeException e) {
                    LOG.warn("cannot remove anonymous volume {} of container {}: {}", m.name(), containerId, e.getMessage());
                }
            }
        }
    }

    /** At daemon start: every container's volumes are referenced again (the store keeps users in memory only). */
    void restore(String containerId, List<MountPoint> mounts) {
        for (MountPoint m : mounts) {
            if (m.isVolume() && volumes.store().find(m.name()).isPresent()) volumes.store().reference(m.name(), containerId);
        }
    }

    // ================================================================ populate

    /**
     * Fills an empty volume with what the image holds at {@code dest}, owners, modes and times
     * kept. The image's tree is read as a container's root: {@code dest} resolved inside it with
     * openat2 and copied descriptor to descriptor ({@link TreeCopy#copyContents}), so a symlink
     * in the image cannot make the copy read or write outside the rootfs and the volume.
     */
    static void populate(Path rootfs, String dest, Path volume) throws IOException {
        if (!isEmpty(volume)) return;
        try (Fd root = TreeCopy.openRoot(rootfs); Fd target = Fd.openHost(volume, Fd.O_RDONLY | Fd.O_DIRECTORY)) {
            Fd source;
            try {
                source = root.resolve(dest, Fd.O_RDONLY | Fd.O_DIRECTORY);
            } catch (Syscalls.ErrnoException e) {
                if (e.errno() == Fd.ENOENT || e.errno() == Fd.ENOTDIR) return; // nothing to copy up
                throw e;
            }
            try (source) {
                TreeCopy.copyContents(source, target);
                TreeCopy.copyAttributes(source.stat(), target);
            }
        }
    }

    private static boolean isEmpty(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) return false;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            return !ds.iterator().hasNext();
        }
    }
}
