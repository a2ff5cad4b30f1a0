package io.berth.container;

import java.util.Set;

/**
 * Values dockerd refuses at create (issue 13, point 5), and a few it takes but that cannot
 * work here: each is refused with a 400 before anything is made.
 */
public final class CreateChecks {
    private static final Set<String> PROPAGATIONS = Set.of("private", "rprivate", "shared", "rshared", "slave", "rslave");

    private CreateChecks() {}

    public static void check(HostConfig h) {
        int cpus = Runtime.getRuntime().availableProcessors();
        if (h.memory() != null && h.memory() < 0) throw ContainerException.invalid("Minimum memory limit allowed is 6MB");
        if (h.shmSize() != null && h.shmSize() < 0) throw ContainerException.invalid("SHM size can not be less than 0");
        if (h.nanoCpus() != null && h.nanoCpus() < 0) {
            throw ContainerException.invalid("Range of CPUs is from 0.01 to " + cpus + ".00, as there are only " + cpus + " CPUs available");
        }
        // Without MemorySwap, memory+swap is twice the memory: it must fit in 64 bits.
        if (h.memory() != null && h.memory() > Long.MAX_VALUE / 2 && (h.memorySwap() == null || h.memorySwap() == 0)) {
            throw ContainerException.invalid("Memory limit " + h.memory() + " is too large: twice it (the default memory+swap limit) overflows;"
                    + " give a smaller Memory, or MemorySwap -1 for unlimited swap");
        }
        if (h.cgroupParent() != null) {
            for (String part : h.cgroupParent().split("/", -1)) {
                if (part.equals("..")) {
                    throw ContainerException.invalid("invalid CgroupParent \"" + h.cgroupParent() + "\": it may not contain \"..\"");
                }
            }
        }
        if (h.mounts() != null) {
            for (HostConfig.MountSpec m : h.mounts()) {
                if (m == null || m.bindOptions() == null) continue;
                Object p = m.bindOptions().get("Propagation");
                if (p == null || (p instanceof String s && s.isEmpty())) continue;
                if (!(p instanceof String s) || !PROPAGATIONS.contains(s)) {
                    throw ContainerException.invalid("invalid mount config for type \"" + m.type() + "\": invalid propagation mode: " + p);
                }
            }
        }
    }
}
