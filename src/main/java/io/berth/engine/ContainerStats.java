package io.berth.engine;

import io.berth.container.Container;
import io.berth.container.ContainerException;
import io.berth.container.ContainerRecord;
import io.berth.container.HostConfig;
import io.berth.container.Operation;
import io.berth.runtime.ContainerCgroup;
import io.berth.sys.Cgroups;
import io.berth.sys.HostInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Resource use of running containers from their cgroup files (v1 and v2), top, and live resource updates. */
public final class ContainerStats {
    private final ContainerService containers;
    private final Cgroups cgroups = Cgroups.detect();

    ContainerStats(ContainerService containers) {
        this.containers = containers;
    }

    /** One reading of a container's counters; -1 where the host does not tell. */
    public record Sample(Instant read, long cpuTotalNanos, long cpuUserNanos, long cpuKernelNanos, List<Long> perCpuNanos, long systemCpuNanos,
                         int onlineCpus, long memoryUsage, long memoryMaxUsage, long memoryLimit, Map<String, Long> memoryStat,
                         long pidsCurrent, long pidsLimit, long blkioRead, long blkioWrite, boolean cgroupV2) {}

    private ContainerCgroup cgroupOf(ContainerRecord r) {
        return new ContainerCgroup(containers.lifecycle().cgroupsPathOf(r), cgroups);
    }

    public Sample sample(String ref) {
        Container c = containers.get(ref);
        ContainerRecord r = c.record();
        Instant now = Instant.now();
        long system = systemCpuNanos();
        int cpus = HostInfo.cpuCount();
        if (!r.state().status().hasProcess()) {
            return new Sample(now, 0, 0, 0, List.of(), system, cpus, 0, 0, 0, Map.of(), 0, 0, 0, 0, cgroups.version() == 2);
        }
        ContainerCgroup cg = cgroupOf(r);
        long hostMem = HostInfo.memTotalBytes();
        if (cgroups.version() == 2) {
            Map<String, Long> cpu = keyed(cg.read("cpu", "cpu.stat").orElse(""));
            long limit = num(cg.read("memory", "memory.max"), Long.MAX_VALUE);
            long[] io = ioStatV2(cg.read("io", "io.stat").orElse(""));
            return new Sample(now, cpu.getOrDefault("usage_usec", 0L) * 1000, cpu.getOrDefault("user_usec", 0L) * 1000,
                    cpu.getOrDefault("system_usec", 0L) * 1000, List.of(), system, cpus, num(cg.read("memory", "memory.current"), 0),
                    num(cg.read("memory", "memory.peak"), 0), Math.min(limit, hostMem), keyed(cg.read("memory", "memory.stat").orElse("")),
                    num(cg.read("pids", "pids.current"), 0), num(cg.read("pids", "pids.max"), 0), io[0], io[1], true);
        }
        Map<String, Long> cpuacct = keyed(cg.read("cpuacct", "cpuacct.stat").orElse(""));
        long tick = 10_000_000L; // USER_HZ 100
        List<Long> per = new ArrayList<>();
        for (String p : cg.read("cpuacct", "cpuacct.usage_percpu").orElse("").split("\\s+")) {
            if (!p.isEmpty()) per.add(Long.parseLong(p));
        }
        long limit = num(cg.read("memory", "memory.limit_in_bytes"), Long.MAX_VALUE);
        long[] io = blkioV1(cg.read("blkio", "blkio.throttle.io_service_bytes").orElse(""));
        return new Sample(now, num(cg.read("cpuacct", "cpuacct.usage"), 0), cpuacct.getOrDefault("user", 0L) * tick,
                cpuacct.getOrDefault("system", 0L) * tick, per, system, cpus, num(cg.read("memory", "memory.usage_in_bytes"), 0),
                num(cg.read("memory", "memory.max_usage_in_bytes"), 0), Math.min(limit, hostMem),
                keyed(cg.read("memory", "memory.stat").orElse("")), num(cg.read("pids", "pids.current"), 0),
                num(cg.read("pids", "pids.max"), 0), io[0], io[1], false);
    }

    private static long num(Optional<String> v, long fallback) {
        if (v.isEmpty() || v.get().isEmpty() || v.get().equals("max")) return fallback;
        try {
            return Long.parseLong(v.get().trim());
        } catch (NumberFormatException e) {
            return fallback;
        }
    }

    private static Map<String, Long> keyed(String text) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            String[] kv = line.trim().split("\\s+");
            if (kv.length == 2) {
                try {
                    m.put(kv[0], Long.parseLong(kv[1]));
                } catch (NumberFormatException ignored) {
                    // not a counter
                }
            }
        }
        return m;
    }

    private static long[] blkioV1(String text) {
        long r = 0;
        long w = 0;
        for (String line : text.split("\n")) {
            String[] p = line.trim().split("\\s+");
            if (p.length == 3) {
                if (p[1].equals("Read")) r += Long.parseLong(p[2]);
                if (p[1].equals("Write")) w += Long.parseLong(p[2]);
            }
        }
        return new long[] {r, w};
    }

    private static long[] ioStatV2(String text) {
        long r = 0;
        long w = 0;
        for (String line : text.split("\n")) {
            for (String kv : line.trim().split("\\s+")) {
                if (kv.startsWith("rbytes=")) r += Long.parseLong(kv.substring(7));
                if (kv.startsWith("wbytes=")) w += Long.parseLong(kv.substring(7));
            }
        }
        return new long[] {r, w};
    }

    /** The host's CPU time (all CPUs, all states) in nanoseconds, from /proc/stat. */
    static long systemCpuNanos() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/stat"))) {
                if (line.startsWith("cpu ")) {
                    long ticks = 0;
                    String[] p = line.trim().split("\\s+");
                    for (int i = 1; i < Math.min(p.length, 9); i++) ticks += Long.parseLong(p[i]);
                    return ticks * 10_000_000L;
                }
            }
        } catch (IOException | NumberFormatException ignored) {
            // no /proc/stat
        }
        return 0;
    }

    // ================================================================ top

    public record Top(List<String> titles, List<List<String>> processes) {}

    /** The container's processes as {@code ps} on the host shows them (its cgroup lists their pids). */
    public Top top(String ref, String psArgs) throws IOException, InterruptedException {
        Container c = containers.get(ref);
        ContainerRecord r = c.check(Operation.TOP);
        Set<String> pids = new LinkedHashSet<>();
        for (String p : cgroupOf(r).read("pids", "cgroup.procs").orElse("").split("\\s+")) if (!p.isEmpty()) pids.add(p);
        if (pids.isEmpty()) pids.add(Long.toString(r.state().pid()));
        List<String> cmd = new ArrayList<>(List.of("ps"));
        cmd.addAll(List.of((psArgs == null || psArgs.isBlank() ? "-ef" : psArgs).trim().split("\\s+")));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw ContainerException.invalid("ps: " + out.trim());
        }
        String[] lines = out.split("\n");
        if (lines.length == 0) return new Top(List.of(), List.of());
        List<String> titles = List.of(lines[0].trim().split("\\s+"));
        int pidCol = titles.indexOf("PID");
        if (pidCol < 0) throw ContainerException.invalid("Couldn't find PID field in ps output");
        List<List<String>> procs = new ArrayList<>();
        for (int i = 1; i < lines.length; i++) {
            String[] f = lines[i].trim().split("\\s+", titles.size());
            if (f.length < titles.size()) continue;
            if (pids.contains(f[pidCol])) procs.add(List.of(f));
        }
        return new Top(titles, procs);
    }

    // ================================================================ update

    /** docker update: new resource limits, applied to the running container's cgroup, and kept for its next start. */
    public List<String> update(String ref, HostConfig changes) throws IOException {
        Container c = containers.get(ref);
        c.check(Operation.UPDATE);
        if (changes.restartPolicy() != null) {
            io.berth.container.RestartPolicies.validate(changes.restartPolicy(), c.record().hostConfig().isAutoRemove());
        }
        ContainerRecord r = c.reconfigure(x -> x.withHostConfig(x.hostConfig().withResources(changes)));
        List<String> warnings = new ArrayList<>();
        if (!r.state().status().hasProcess()) return warnings;
        ContainerCgroup cg = cgroupOf(r);
        HostConfig h = r.hostConfig();
        if (cgroups.version() == 2) {
            if (set(changes.cpuShares())) write(cg.dir("cpu").resolve("cpu.weight"), Long.toString(1 + ((h.cpuShares() - 2) * 9999) / 262142));
            if (set(changes.memory())) write(cg.dir("memory").resolve("memory.max"), Long.toString(h.memory()));
            if (set(changes.pidsLimit())) write(cg.dir("pids").resolve("pids.max"), h.pidsLimit() < 0 ? "max" : Long.toString(h.pidsLimit()));
            if (set(changes.nanoCpus()) || set(changes.cpuQuota())) {
                long[] qp = quota(h);
                write(cg.dir("cpu").resolve("cpu.max"), (qp[0] <= 0 ? "max" : Long.toString(qp[0])) + " " + qp[1]);
            }
        } else {
            if (set(changes.cpuShares())) write(cg.dir("cpu").resolve("cpu.shares"), Long.toString(h.cpuShares()));
            if (set(changes.nanoCpus()) || set(changes.cpuQuota()) || set(changes.cpuPeriod())) {
                long[] qp = quota(h);
                write(cg.dir("cpu").resolve("cpu.cfs_period_us"), Long.toString(qp[1]));
                write(cg.dir("cpu").resolve("cpu.cfs_quota_us"), Long.toString(qp[0] <= 0 ? -1 : qp[0]));
            }
            if (set(changes.memory()) || set(changes.memorySwap())) {
                Path mem = cg.dir("memory");
                long limit = h.memory();
                long swap = h.memorySwap() == null || h.memorySwap() == 0 ? 2 * limit : h.memorySwap();
                Path memsw = mem.resolve("memory.memsw.limit_in_bytes");
                // the kernel wants memory <= memsw at every step: raise memsw first when growing
                if (Files.exists(memsw) && swap > 0 && swap >= num(Optional.of(Files.readString(memsw).trim()), 0)) {
                    write(memsw, Long.toString(swap));
                    write(mem.resolve("memory.limit_in_bytes"), Long.toString(limit));
                } else {
                    write(mem.resolve("memory.limit_in_bytes"), Long.toString(limit));
                    if (Files.exists(memsw) && swap != 0) write(memsw, Long.toString(swap));
                }
            }
            if (set(changes.memoryReservation())) write(cg.dir("memory").resolve("memory.soft_limit_in_bytes"), Long.toString(h.memoryReservation()));
            if (set(changes.pidsLimit())) write(cg.dir("pids").resolve("pids.max"), h.pidsLimit() < 0 ? "max" : Long.toString(h.pidsLimit()));
            if (changes.blkioWeight() != null && changes.blkioWeight() > 0) write(cg.dir("blkio").resolve("blkio.weight"), Integer.toString(h.blkioWeight()));
            if (changes.cpusetCpus() != null && !changes.cpusetCpus().isEmpty()) write(cg.dir("cpuset").resolve("cpuset.cpus"), h.cpusetCpus());
        }
        return warnings;
    }

    private static long[] quota(HostConfig h) {
        if (h.nanoCpus() != null && h.nanoCpus() > 0) return new long[] {h.nanoCpus() * 100_000L / 1_000_000_000L, 100_000L};
        long period = h.cpuPeriod() != null && h.cpuPeriod() > 0 ? h.cpuPeriod() : 100_000L;
        return new long[] {h.cpuQuota() == null ? 0 : h.cpuQuota(), period};
    }

    private static boolean set(Number n) {
        return n != null && n.longValue() != 0;
    }

    private static void write(Path file, String value) throws IOException {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new IOException("cannot set " + file + " to " + value + ": " + e.getMessage(), e);
        }
    }
}
