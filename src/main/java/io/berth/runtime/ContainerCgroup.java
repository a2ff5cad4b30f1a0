package io.berth.runtime;

import io.berth.sys.Cgroups;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A container's cgroup as the cgroupfs driver lays it out: {@code /sys/fs/cgroup/CONTROLLER/PATH}
 * on v1 (every hierarchy, the v2 one of a hybrid host included), {@code /sys/fs/cgroup/PATH}
 * on v2. Reads knobs and counters, and removes what a runtime left behind.
 */
public final class ContainerCgroup {
    private final String path;
    private final Cgroups cgroups;

    public ContainerCgroup(String cgroupsPath) {
        this(cgroupsPath, Cgroups.detect());
    }

    public ContainerCgroup(String cgroupsPath, Cgroups cgroups) {
        String p = cgroupsPath.startsWith("/") ? cgroupsPath.substring(1) : cgroupsPath;
        if (p.isEmpty() || Path.of(p).normalize().startsWith("..")) throw new IllegalArgumentException("invalid cgroup path " + cgroupsPath);
        this.path = p;
        this.cgroups = cgroups;
    }

    /** The directory of {@code controller} ("memory", "cpu", "pids"); on v2 the one directory. */
    public Path dir(String controller) {
        if (cgroups.version() == 2) return cgroups.root().resolve(path);
        return cgroups.root().resolve(controller).resolve(path);
    }

    /** A knob's content, trimmed, or empty when the cgroup or file does not exist. */
    public Optional<String> read(String controller, String file) {
        try {
            return Optional.of(Files.readString(dir(controller).resolve(file)).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    /** How many processes the kernel killed for lack of memory in this cgroup (0 if unknown). */
    public long oomKillCount() {
        String file = cgroups.version() == 2 ? "memory.events" : "memory.oom_control";
        return read("memory", file).map(text -> {
            for (String line : text.split("\n")) {
                String[] kv = line.trim().split("\\s+");
                if (kv.length == 2 && kv[0].equals("oom_kill")) {
                    try {
                        return Long.parseLong(kv[1]);
                    } catch (NumberFormatException ignored) {
                        return 0L;
                    }
                }
            }
            return 0L;
        }).orElse(0L);
    }

    /** Every directory of this cgroup that exists, in all hierarchies. */
    public List<Path> existing() {
        List<Path> out = new ArrayList<>();
        if (cgroups.version() == 2) {
            Path d = cgroups.root().resolve(path);
            if (Files.isDirectory(d)) out.add(d);
            return out;
        }
        try (DirectoryStream<Path> hierarchies = Files.newDirectoryStream(cgroups.root())) {
            for (Path h : hierarchies) {
                if (Files.isSymbolicLink(h)) continue;
                Path d = h.resolve(path);
                if (Files.isDirectory(d)) out.add(d);
            }
        } catch (IOException ignored) {
            // none
        }
        return out;
    }

    /**
     * Removes the cgroup's directories (rmdir: only empty cgroups go); returns those that
     * could not be removed.
     */
    public List<Path> remove() {
        List<Path> left = new ArrayList<>();
        for (Path d : existing()) {
            try {
                removeTree(d);
            } catch (IOException e) {
                left.add(d);
            }
        }
        return left;
    }

    private static void removeTree(Path d) throws IOException {
        try (DirectoryStream<Path> children = Files.newDirectoryStream(d, Files::isDirectory)) {
            for (Path c : children) removeTree(c);
        }
        Files.delete(d);
    }
}
