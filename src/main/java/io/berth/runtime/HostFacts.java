package io.berth.runtime;

import io.berth.sys.Cgroups;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * What the host and this daemon allow a container, read once: the cgroup version and knobs,
 * the capabilities the daemon holds, and its own hard resource limits (a runtime started by
 * a caller without CAP_SYS_RESOURCE cannot raise a hard limit).
 *
 * @param cgroupVersion 1 or 2
 * @param capabilities the daemon's bounding set: no container gets more
 * @param swapLimit the memory controller can limit swap (memory.memsw.* on v1)
 * @param blkioWeight the block I/O controller has a weight knob
 * @param hardLimits the daemon's hard limits by RLIMIT_ name (-1: unlimited)
 */
public record HostFacts(int cgroupVersion, Set<String> capabilities, boolean swapLimit, boolean blkioWeight,
                        Map<String, Long> hardLimits) {
    public HostFacts {
        capabilities = Set.copyOf(capabilities);
        hardLimits = Map.copyOf(hardLimits);
    }

    public static HostFacts detect() {
        Cgroups cg = Cgroups.detect();
        Set<String> caps = Set.copyOf(Capabilities.ALL);
        String effective = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("CapBnd:")) caps = Capabilities.fromMask(line.substring(7));
                if (line.startsWith("CapEff:")) effective = line.substring(7);
            }
        } catch (IOException ignored) {
            // keep all
        }
        if (effective != null) {
            Set<String> eff = Capabilities.fromMask(effective);
            caps = caps.stream().filter(eff::contains).collect(java.util.stream.Collectors.toUnmodifiableSet());
        }
        boolean swap;
        boolean blkio;
        if (cg.version() == 2) {
            swap = cg.hasController("memory");
            blkio = cg.hasController("io");
        } else {
            swap = cg.hasFile("memory", "memory.memsw.limit_in_bytes");
            blkio = cg.hasFile("blkio", "blkio.weight") || cg.hasFile("blkio", "blkio.bfq.weight");
        }
        return new HostFacts(cg.version(), caps, swap, blkio, readHardLimits());
    }

    /** The daemon may set a hard limit above its own only with CAP_SYS_RESOURCE. */
    public boolean canRaiseLimits() {
        return capabilities.contains("CAP_SYS_RESOURCE");
    }

    private static final Map<String, String> LIMIT_NAMES = Map.ofEntries(
            Map.entry("Max cpu time", "RLIMIT_CPU"), Map.entry("Max file size", "RLIMIT_FSIZE"),
            Map.entry("Max data size", "RLIMIT_DATA"), Map.entry("Max stack size", "RLIMIT_STACK"),
            Map.entry("Max core file size", "RLIMIT_CORE"), Map.entry("Max resident set", "RLIMIT_RSS"),
            Map.entry("Max processes", "RLIMIT_NPROC"), Map.entry("Max open files", "RLIMIT_NOFILE"),
            Map.entry("Max locked memory", "RLIMIT_MEMLOCK"), Map.entry("Max address space", "RLIMIT_AS"),
            Map.entry("Max file locks", "RLIMIT_LOCKS"), Map.entry("Max pending signals", "RLIMIT_SIGPENDING"),
            Map.entry("Max msgqueue size", "RLIMIT_MSGQUEUE"), Map.entry("Max nice priority", "RLIMIT_NICE"),
            Map.entry("Max realtime priority", "RLIMIT_RTPRIO"), Map.entry("Max realtime timeout", "RLIMIT_RTTIME"));

    /** The hard limits in /proc/self/limits (columns: name, soft, hard, units). */
    static Map<String, Long> readHardLimits() {
        Map<String, Long> limits = new LinkedHashMap<>();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.length() < 47) continue;
                String name = line.substring(0, 26).trim();
                String key = LIMIT_NAMES.get(name);
                if (key == null) continue;
                String hard = line.substring(47).trim().split("\\s+")[0];
                limits.put(key, hard.equals("unlimited") ? -1L : Long.parseLong(hard));
            }
        } catch (IOException | NumberFormatException ignored) {
            // unknown: no checks
        }
        return limits;
    }
}
