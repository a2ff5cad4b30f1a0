package io.berth.sys;

import java.nio.file.Files;
import java.nio.file.Path;

/** How this host mounts cgroups: v1, v2, or v1 with a v2 mount beside it (hybrid). */
public record Cgroups(int version, boolean hybridWithControllers, Path root) {
    public static final Path DEFAULT_ROOT = Path.of("/sys/fs/cgroup");

    public static Cgroups detect() {
        return detect(DEFAULT_ROOT);
    }

    static Cgroups detect(Path root) {
        if (Files.exists(root.resolve("cgroup.controllers"))) return new Cgroups(2, false, root);
        Path unified = root.resolve("unified/cgroup.controllers");
        boolean hybrid = false;
        if (Files.exists(unified)) {
            hybrid = !HostInfo.readTrimmed(unified, "").isEmpty();
        }
        return new Cgroups(1, hybrid, root);
    }

    /** Whether a v1 controller is mounted (memory, cpu, pids, ...); on v2, whether it is enabled. */
    public boolean hasController(String name) {
        if (version == 2) {
            return (" " + HostInfo.readTrimmed(root.resolve("cgroup.controllers"), "") + " ").contains(" " + name + " ");
        }
        return Files.isDirectory(root.resolve(name));
    }

    /** Whether a v1 controller offers the given knob, e.g. memory / memory.memsw.limit_in_bytes. */
    public boolean hasFile(String controller, String file) {
        if (version == 2) return Files.exists(root.resolve(file));
        return Files.exists(root.resolve(controller).resolve(file));
    }
}
