package io.berth.container;

import java.util.Set;

/**
 * Values dockerd refuses at create (issue 13, point 5), and a few it takes but that cannot
 * work here: each is refused with a 400 before anything is made.
 */
public final class CreateChecks {
    private static final Set<String> PROPAGATIONS = Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");

    private CreateChecks() {}

    public static void check(ContainerSettings settings) {
        ContainerSettings.Resources h = settings.resources();
        int cpus = Runtime.getRuntime().availableProcessors();
        if (h.memory() < 0) throw ContainerException.invalid("Minimum memory limit allowed is 6MB");
        if (settings.process().shmSize() < 0) throw ContainerException.invalid("SHM size can not be less than 0");
        if (h.nanoCpus() < 0) {
            throw ContainerException.invalid("Range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
        }
        // Without MemorySwap, memory+swap is twice the memory: it must fit in 64 bits.
        if (h.memory() > Long.MAX_VALUE / 2 && h.memorySwap() == 0) {
            throw ContainerException.invalid("Memory limit " + h.memory() + " is too large: twice it (the default memory+swap limit) overflows;"
                    + " give a smaller Memory, or MemorySwap -1 for unlimited swap");
        }
        for (String part : h.cgroupParent().split("/", -1)) {
            if (part.equals("..")) {
                throw ContainerException.invalid("invalid CgroupParent \"" + h.cgroupParent() + "\": it may not contain \"..\"");
            }
        }
        for (ContainerSettings.MountRequest m : settings.mounts().mounts()) {
            if (m == null || m.bindOptions() == null) continue;
            Object p = m.bindOptions().get("Propagation");
            if (p == null || (p instanceof String s && s.isEmpty())) continue;
            if (!(p instanceof String s) || !PROPAGATIONS.contains(s)) {
                throw ContainerException.invalid("invalid mount config for type \"" + m.type() + "\": invalid propagation mode: " + p);
            }
        }
    }

    /** Resource values dockerd refuses at create, with its messages. */
    public static void checkResources(ContainerSettings.Resources h) {
        int cpus = Runtime.getRuntime().availableProcessors();
        if (h.memory() > 0 && h.memory() < 6L * 1024 * 1024) throw ContainerException.invalid("Minimum memory limit allowed is 6MB");
        if (h.memory() > 0 && h.memorySwap() > 0 && h.memorySwap() < h.memory()) {
            throw ContainerException.invalid("Minimum memoryswap limit should be larger than memory limit, see usage");
        }
        if (h.memory() == 0 && h.memorySwap() > 0) {
            throw ContainerException.invalid("You should always set the Memory limit when using Memoryswap limit, see usage");
        }
        if (h.nanoCpus() > 0 && (h.cpuQuota() > 0 || h.cpuPeriod() > 0)) {
            throw ContainerException.invalid("Conflicting options: Nano CPUs and CPU Period cannot both be set");
        }
        if (h.nanoCpus() > (long) cpus * 1_000_000_000L) {
            throw ContainerException.invalid("Range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
        }
        if (h.cpuShares() < 0) throw ContainerException.invalid("invalid CPU shares: must not be negative");
        if (h.blkioWeight() != 0 && (h.blkioWeight() < 10 || h.blkioWeight() > 1000)) {
            throw ContainerException.invalid("Range of blkio weight is from 10 to 1000");
        }
    }
}
